"""Graceful shutdown of the real server process (``ipcp-api serve`` on the embedded database).

tests/test_cli.py already checks that SIGTERM on an idle server exits 0 and stops the embedded
database. Here the server is busy when the signal arrives:

- SIGTERM while a request body is still being uploaded: new connections are refused at once,
  the request in flight finishes (201) and its write is durable, the process exits 0 and the
  embedded PostgreSQL is stopped cleanly;
- SIGINT while an upload hangs for good: after the 20 s grace period the request is cancelled
  (nothing written), and still the process exits 0 with the database stopped — shutdown never
  hangs on a client.

What is observable from outside (documented in docs/operations.md): uvicorn closes its
listening socket and idle keep-alive connections as soon as the signal arrives, so a load
balancer's probe fails with "connection refused" from that moment — no request can reach
``/readyz`` over HTTP any more. ``app.state.shutting_down`` (readyz → 503) is set when the
lifespan shuts down, which in-process callers and servers that keep serving during shutdown
can see; the last test checks it.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ipcp_api.app import create_app
from ipcp_api.config import Settings
from ipcp_api.db import embedded
from tests.test_cli import _env, _free_port, _status, _wait_for

PASSWORD = "shutdown test password"
GRACE_SECONDS = 20  # cli.py: uvicorn's timeout_graceful_shutdown


@dataclass
class Served:
    process: subprocess.Popen[str]
    port: int
    data_dir: Path
    token: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def upload_started(self, body: bytes, sent: int) -> socket.socket:
        """A POST whose headers and first ``sent`` bytes of body are on the wire."""
        connection = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        head = (
            "POST /api/v1/frameworks HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        connection.sendall(head.encode() + body[:sent])
        return connection

    def refuses_new_connections(self, within: float = 5) -> bool:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except ConnectionRefusedError:
                return True
            time.sleep(0.05)
        return False

    def wait(self, timeout: float) -> tuple[int, str, float]:
        started = time.monotonic()
        output, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, output, time.monotonic() - started


def _read_response(connection: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def _frameworks_named(data_dir: Path, code: str) -> int:
    """Count rows in the stopped server's data directory (starts it, then stops it)."""
    server, _ = embedded.start(data_dir)
    try:
        dsn = f"postgresql://postgres@/{embedded.DATABASE_NAME}?host={embedded.socket_dir(server)}"

        async def count() -> int:
            connection = await asyncpg.connect(dsn)
            try:
                return int(
                    await connection.fetchval(
                        "SELECT count(*) FROM frameworks WHERE code = $1", code
                    )
                )
            finally:
                await connection.close()

        return asyncio.run(count())
    finally:
        embedded.stop(server)


@pytest.fixture
def served() -> Iterator[Served]:
    # Not under pytest's tmp_path: the database runs as another user when the tests run as
    # root, and every pytest run resets /tmp/pytest-of-<user> to mode 0700.
    root = Path(tempfile.mkdtemp(prefix="ipcp-shutdown-"))
    data_dir = root / "data"
    env = _env(data_dir)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ipcp_api.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/readyz", 200) == 200
        created = subprocess.run(
            [
                *(sys.executable, "-m", "ipcp_api.cli", "create-user", "shut.admin"),
                *("--role", "admin", "--password-stdin"),
            ],
            env=env,
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert created.returncode == 0, created.stderr
        form = urllib.parse.urlencode({"username": "shut.admin", "password": PASSWORD}).encode()
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/v1/auth/token", data=form, timeout=30
        ) as response:
            token = json.load(response)["access_token"]
        yield Served(process=process, port=port, data_dir=data_dir, token=token)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
        if (data_dir / "pgdata" / "postmaster.pid").exists():
            server, _ = embedded.start(data_dir)
            embedded.stop(server)
        shutil.rmtree(root, ignore_errors=True)


def _body(code: str) -> bytes:
    # valid JSON, padded with whitespace so the upload takes a while to send
    return (
        json.dumps({"code": code, "name": f"Sent during shutdown {code}"}).encode()[:-1]
        + b" " * 500_000
        + b"}"
    )


def test_sigterm_lets_the_request_in_flight_finish(served: Served) -> None:
    body = _body("INFLIGHT")
    upload = served.upload_started(body, 100_000)
    try:
        time.sleep(0.5)  # the request is being served: its body is half read
        served.process.send_signal(signal.SIGTERM)
        assert served.refuses_new_connections(), "still accepting new connections"
        assert _status(f"{served.base}/readyz") == 0  # refused: a probe fails at once
        upload.sendall(body[100_000:])
        status, headers, payload = _read_response(upload)
    finally:
        upload.close()
    assert status == 201, payload
    assert headers["connection"] == "close"
    assert json.loads(payload)["code"] == "INFLIGHT"
    code, output, elapsed = served.wait(timeout=60)
    assert code == 0, output
    assert elapsed < GRACE_SECONDS
    assert "Traceback" not in output
    assert not (served.data_dir / "pgdata" / "postmaster.pid").exists()
    # committed before the response was sent, and durable across the stop
    assert _frameworks_named(served.data_dir, "INFLIGHT") == 1


def test_sigint_does_not_wait_forever_for_a_hung_upload(served: Served) -> None:
    body = _body("HUNG")
    upload = served.upload_started(body, 1_000)  # and never the rest
    try:
        time.sleep(0.5)
        signalled = time.monotonic()
        served.process.send_signal(signal.SIGINT)
        assert served.refuses_new_connections()
        code, output, _ = served.wait(timeout=GRACE_SECONDS + 40)
        took = time.monotonic() - signalled
    finally:
        upload.close()
    assert code == 0, output
    assert GRACE_SECONDS - 1 < took < GRACE_SECONDS + 30, took
    assert "timeout graceful shutdown exceeded" in output
    assert not (served.data_dir / "pgdata" / "postmaster.pid").exists()
    assert _frameworks_named(served.data_dir, "HUNG") == 0


async def test_readyz_is_503_once_shutdown_begins(settings: Settings, engine: AsyncEngine) -> None:
    app: Any = create_app(settings)
    app.state.engine = engine  # not owned by the lifespan: left open for the session
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        async with app.router.lifespan_context(app):
            assert (await client.get("/readyz")).status_code == 200
        assert app.state.shutting_down is True
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"]
        assert "shutting down" in response.json()["detail"]
        assert (await client.get("/healthz")).status_code == 200
