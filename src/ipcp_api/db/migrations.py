"""Alembic, driven from code: works from a checkout and from an installed wheel."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

import ipcp_api

# A fixed key for pg_advisory_lock: several replicas starting at once migrate one at a time.
ADVISORY_LOCK_KEY = 0x49504350  # "IPCP"


def script_location() -> Path:
    packaged = Path(ipcp_api.__file__).parent / "alembic"
    if (packaged / "env.py").exists():
        return packaged
    return Path(__file__).resolve().parents[3] / "alembic"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.attributes["database_url"] = url
    return config


@functools.cache
def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("postgresql+asyncpg://unused/unused"))
    head = script.get_current_head()
    assert head is not None
    return head


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade under an advisory lock (taken in ``alembic/env.py``). Blocking: call off-loop."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
