# The production image: the installed wheel, no compilers, a non-root user.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md CHANGELOG.md alembic.ini ./
COPY alembic ./alembic
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 IPCP_ENVIRONMENT=production
RUN useradd --system --create-home --uid 10001 ipcp
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER ipcp
EXPOSE 8000
# `serve` migrates first (under an advisory lock, so replicas may start together), then serves.
CMD ["ipcp-api", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
