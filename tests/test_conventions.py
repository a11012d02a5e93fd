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
