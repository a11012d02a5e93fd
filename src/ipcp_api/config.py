"""Settings, read from the environment (and an optional ``.env``) on first use."""

from __future__ import annotations

import functools
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlsplit

import platformdirs
from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}$")


def parse_languages(value: str) -> tuple[str, ...]:
    """``IPCP_LANGUAGES``: comma-separated ISO 639 codes, the first one the default."""
    codes = tuple(part.strip() for part in value.split(",") if part.strip())
    if not codes:
        raise ValueError("name at least one language, e.g. en,fr,ar")
    for code in codes:
        if not LANGUAGE_TAG.match(code):
            raise ValueError(f"{code!r} is not a two- or three-letter lowercase language code")
    if len(set(codes)) != len(codes):
        raise ValueError("a language is listed twice")
    return codes


PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "placeholder"})


class Environment(StrEnum):
    development = "development"
    production = "production"


class KeepToken(StrEnum):
    """Where Swagger UI keeps the signed-in token (``IPCP_SWAGGER_PERSIST_AUTHORIZATION``)."""

    session = "session"  # for the browser tab: a reload keeps it, closing the tab drops it
    local = "local"  # in the browser's storage until sign-out (Swagger UI's own option)
    off = "off"  # in the page's memory only: a reload signs out


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("ipcp-api", appauthor=False))


def _split_hosts(value: str) -> str:
    """libpq's several hosts, ``postgresql://u@db1:5432,db2:5432/ipcp``, in the form SQLAlchemy
    and asyncpg take: ``postgresql://u@/ipcp?host=db1:5432&host=db2:5432`` (SQLAlchemy cannot
    parse the comma-separated form), with ``target_session_attrs=read-write`` unless the URL
    names one: the service connects to the host that accepts writes. A host without a port
    gets 5432, as in libpq. One host: unchanged."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        return value
    authority, slash, path = rest.partition("/")
    userinfo, at, hostlist = authority.rpartition("@")
    if "," not in hostlist:
        return value
    hosts = hostlist.split(",")
    if any(not host or host.startswith(":") for host in hosts):
        raise ValueError("an empty host in the host list (expected host1:port1,host2:port2)")
    database, _, query = path.partition("?")
    # SQLAlchemy wants a port for every host of a list; libpq's default is 5432.
    hosts = [host if re.search(r":\d+$", host) else f"{host}:5432" for host in hosts]
    params = [f"host={quote(host, safe=':[]')}" for host in hosts]
    if query:
        params.append(query)
    if "target_session_attrs=" not in query:
        params.append("target_session_attrs=read-write")
    return f"{scheme}://{userinfo}{at}{slash}{database}?{'&'.join(params)}"


def normalise_database_url(value: str) -> str:
    """Accept ``postgresql://`` and ``postgresql+asyncpg://``, with one host or libpq's
    comma-separated list; return the asyncpg form."""
    try:
        url = make_url(_split_hosts(value))
    except ArgumentError:
        raise ValueError("not a database URL (expected postgresql://user@host/dbname)") from None
    if url.drivername in {"postgresql", "postgres", "postgresql+asyncpg"}:
        if not url.database:
            raise ValueError("the URL names no database (expected postgresql://user@host/dbname)")
        return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(
        f"unsupported scheme {url.drivername!r}: use postgresql:// or postgresql+asyncpg://"
    )


def parse_origins(value: str) -> list[str]:
    """``IPCP_CORS_ORIGINS``: ``scheme://host[:port]`` items, as a browser sends ``Origin``."""
    origins = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        if item == "*":
            raise ValueError("list the origins one by one (`*` is not accepted)")
        parts = urlsplit(item)
        if (
            parts.scheme.lower() not in {"http", "https"}
            or not parts.hostname
            or parts.path
            or parts.query
            or parts.fragment
            or parts.username
        ):
            raise ValueError(
                f"{item!r} is not an origin: write scheme://host[:port], e.g."
                " https://app.example.org (no path, no trailing slash)"
            )
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"{item!r} has an invalid port") from None
        host = parts.hostname.lower()
        host = f"[{host}]" if ":" in host else host
        scheme = parts.scheme.lower()
        if (scheme, port) in {("http", 80), ("https", 443)}:
            port = None  # a browser leaves the default port out of Origin
        origins.append(f"{scheme}://{host}" + (f":{port}" if port else ""))
    return origins


class Settings(BaseSettings):
    """Every setting of the service. All are prefixed ``IPCP_`` except ``DATABASE_URL``."""

    model_config = SettingsConfigDict(
        env_prefix="IPCP_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: Annotated[
        str | None,
        Field(validation_alias=AliasChoices("DATABASE_URL", "database_url")),
    ] = None
    # A streaming standby for the reports (db/replica.py), and the replay lag it may have.
    database_read_url: str | None = None
    read_max_lag_seconds: Annotated[float, Field(ge=0, le=3600)] = 10.0
    data_dir: Path = Field(default_factory=default_data_dir)
    environment: Environment = Environment.development
    secret_key: str | None = None
    # Key rotation: comma-separated, newest first (signs); every one is accepted.
    secret_keys: str | None = None
    log_level: LogLevel = LogLevel.INFO
    token_expire_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    db_pool_size: Annotated[int, Field(ge=1, le=100)] = 10
    db_max_overflow: Annotated[int, Field(ge=0, le=100)] = 5
    db_pool_timeout: Annotated[float, Field(gt=0, le=60)] = 3.0
    db_connect_timeout: Annotated[float, Field(gt=0, le=60)] = 3.0
    db_statement_timeout_ms: Annotated[int, Field(ge=100, le=600_000)] = 15_000
    swagger_persist_authorization: KeepToken = KeepToken.session
    report_concurrency: Annotated[int, Field(ge=1, le=64)] = 4
    # Comma-separated origins (``https://app.example.org``) whose pages may call the API.
    cors_origins: str = ""
    # Login throttle (auth/throttle.py): failures per window, then a lock.
    login_max_failures: Annotated[int, Field(ge=1, le=1000)] = 5
    login_window_seconds: Annotated[int, Field(ge=1, le=24 * 3600)] = 15 * 60
    login_lock_seconds: Annotated[int, Field(ge=1, le=24 * 3600)] = 5 * 60
    # Every this many login attempts, a process deletes a batch of expired throttle rows.
    login_purge_every: Annotated[int, Field(ge=1, le=1_000_000)] = 64
    # Password checks (argon2) running at once per process, in worker threads.
    password_concurrency: Annotated[int, Field(ge=1, le=64)] = 2
    # Every this many new Idempotency-Keys, a process deletes a batch older than 7 days.
    idempotency_purge_every: Annotated[int, Field(ge=1, le=1_000_000)] = 100
    # The HTTP server's limits (server.py): seconds for a request head to arrive, for its body
    # after the head, between requests on a kept-alive connection; connections per worker.
    http_head_timeout: Annotated[float, Field(gt=0, le=600)] = 10.0
    http_body_timeout: Annotated[float, Field(gt=0, le=3600)] = 30.0
    http_keepalive_timeout: Annotated[int, Field(ge=1, le=600)] = 5
    http_max_connections: Annotated[int, Field(ge=1, le=100_000)] = 1000
    # When set, GET /metrics needs "Authorization: Bearer <this>".
    metrics_token: str | None = None
    # comma-separated language codes, the first the default (common/i18n.py)
    languages: str = "en,fr,ar"

    @field_validator("database_url", "database_read_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        return normalise_database_url(value)

    @field_validator("swagger_persist_authorization", mode="before")
    @classmethod
    def _keep_token(cls, value: object) -> object:
        # the earlier boolean form: true kept the token in localStorage, false nowhere
        if isinstance(value, bool):
            return "local" if value else "off"
        if isinstance(value, str):
            lowered = value.strip().lower()
            return {"true": "local", "1": "local", "false": "off", "0": "off"}.get(lowered, lowered)
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: str) -> str:
        return ",".join(parse_origins(value))

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin for origin in self.cors_origins.split(",") if origin]

    @field_validator("metrics_token")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("languages")
    @classmethod
    def _check_languages(cls, value: str) -> str:
        return ",".join(parse_languages(value))

    @property
    def language_codes(self) -> tuple[str, ...]:
        return tuple(self.languages.split(","))

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    def require_url(self) -> URL:
        if self.database_url is None:
            raise RuntimeError("no database URL: start the embedded server first")
        return make_url(self.database_url)


class SettingsError(Exception):
    """A setting has a bad value; ``str()`` is one line naming it."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        name = "DATABASE_URL" if field in {"database_url", "DATABASE_URL"} else f"IPCP_{field}"
        raise SettingsError(f"invalid setting {name.upper()}: {first['msg']}") from None


@functools.cache
def get_settings() -> Settings:
    return load_settings()
