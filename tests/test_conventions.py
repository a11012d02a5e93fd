"""Cheap checks of the conventions in CONTRIBUTING.md (DESIGN.md, convention 15)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "ipcp_api"


def _files(name: str) -> list[Path]:
    return sorted(SRC.glob(f"*/{name}"))


def test_services_never_commit() -> None:
    offenders = [str(p) for p in _files("service.py") if re.search(r"\.commit\(", p.read_text())]
    assert offenders == [], "services flush; the request dependency commits"


def test_routers_run_no_queries() -> None:
    pattern = re.compile(
        r"(?<![.\w])(select|insert|update|delete)\(|session\.(execute|scalar|scalars)\("
    )
    offenders = [str(p) for p in _files("router.py") if pattern.search(p.read_text())]
    assert offenders == [], "routers are thin: queries live in service.py"


def test_relationships_are_lazy_raise() -> None:
    for path in (SRC / "models").glob("*.py"):
        for match in re.finditer(r"relationship\((.*?)\)", path.read_text(), re.S):
            assert 'lazy="raise"' in match.group(1), (
                f"{path.name}: relationship without lazy='raise'"
            )


def test_every_create_route_honours_idempotency_keys() -> None:
    from fastapi.routing import APIRoute, iter_route_contexts

    from ipcp_api.app import create_app
    from ipcp_api.common.idempotency import ApiRoute
    from ipcp_api.config import load_settings

    app = create_app(load_settings(secret_key="conventions-" + "x" * 40))
    checked, missing = [], []
    for context in iter_route_contexts(app.router.routes):
        route, path = context.route, context.path
        if (
            isinstance(route, APIRoute)
            and "POST" in (context.methods or route.methods)
            and path.startswith("/api/v1/")
            and path != "/api/v1/auth/token"
        ):
            checked.append(path)
            if not isinstance(route, ApiRoute):
                missing.append(path)
    assert len(checked) >= 7
    assert missing == [], "POST routes must use route_class=ApiRoute (Idempotency-Key)"
