"""The real server bounds request heads and cuts off slow clients (issue 14, item 3).

Black-box: ``ipcp-api serve`` in a child process, spoken to over raw sockets. Timeouts are
lowered through the settings so that the whole module takes a few seconds.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_cli import _env, _wait_for

HEAD_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
KEEPALIVE_TIMEOUT = 1
MAX_CONNECTIONS = 8
PORTS = range(18300, 18400)  # this project's test port range


def _port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18300-18399")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Server:
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process, self.port = process, port

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def closed_within(self, connection: socket.socket, seconds: float) -> float | None:
        """Seconds until the server closed ``connection`` (reading what it sent), or None."""
        started = time.monotonic()
        connection.settimeout(seconds)
        try:
            while connection.recv(65536):
                pass
        except TimeoutError:
            return None
        except ConnectionResetError:
            pass
        return time.monotonic() - started


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = _env(tmp_path_factory.mktemp("http-limits"))
    env |= {
        "DATABASE_URL": database_url,
        "IPCP_SECRET_KEY": "http-limits-test-" + "k" * 40,
        "IPCP_HTTP_HEAD_TIMEOUT": str(HEAD_TIMEOUT),
        "IPCP_HTTP_BODY_TIMEOUT": str(BODY_TIMEOUT),
        "IPCP_HTTP_KEEPALIVE_TIMEOUT": str(KEEPALIVE_TIMEOUT),
        "IPCP_HTTP_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "IPCP_LOG_LEVEL": "WARNING",
    }
    port = _port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ipcp_api.cli", "serve", "--port", str(port), "--no-migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/healthz", 200) == 200
        yield Server(process, port)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _exchange(server: Server, raw: bytes) -> bytes:
    with server.connect() as connection:
        connection.sendall(raw)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_head_under_16_kib_is_served(server: Server) -> None:
    pad = "x" * (15 * 1024)
    answer = _exchange(
        server,
        f"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: {pad}\r\nConnection: close\r\n\r\n".encode(),
    )
    assert answer.startswith(b"HTTP/1.1 200")


def test_a_head_over_16_kib_is_refused(server: Server) -> None:
    pad = "x" * (17 * 1024)
    answer = _exchange(
        server,
        f"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: {pad}\r\nConnection: close\r\n\r\n".encode(),
    )
    assert answer.split(b" ", 2)[1] in {b"400", b"431"}, answer[:200]


def test_ten_30_mb_heads_do_not_grow_the_worker(server: Server) -> None:
    """What the review did: ten unfinished 30 MB heads at once (on main: +360 MB)."""
    before = _rss_kib(server.process.pid)
    chunk = b"a" * (1024 * 1024)
    connections = [server.connect() for _ in range(10)]
    answers = []
    for connection in connections:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ")
    for connection in connections:
        try:
            for _ in range(30):
                connection.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused part-way: what we want
    for connection in connections:
        try:
            answers.append(connection.recv(64))
        except ConnectionResetError:
            answers.append(b"reset")
        connection.close()
    grown_mib = (_rss_kib(server.process.pid) - before) / 1024
    print(f"worker RSS {before / 1024:.0f} MiB -> +{grown_mib:.0f} MiB")  # noqa: T201
    assert grown_mib < 20, f"worker grew by {grown_mib:.0f} MiB"
    assert all(a.startswith((b"HTTP/1.1 400", b"HTTP/1.1 431", b"reset")) for a in answers)


def test_a_slow_head_is_cut_off(server: Server) -> None:
    """Slowloris: a header byte every 0.2 s never completes the head; the server closes the
    connection after the head timeout, however long the client keeps trickling."""
    with server.connect() as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < HEAD_TIMEOUT + 3:
            try:
                connection.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            connection.settimeout(0.2)
            try:
                if connection.recv(1024) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except ConnectionResetError:
                closed = True
                break
        elapsed = time.monotonic() - started
    assert closed, "the slow head was never cut off"
    assert HEAD_TIMEOUT * 0.8 <= elapsed < HEAD_TIMEOUT + 2


def test_a_silent_connection_is_closed(server: Server) -> None:
    with server.connect() as connection:
        took = server.closed_within(connection, HEAD_TIMEOUT + 3)
    assert took is not None
    assert took < HEAD_TIMEOUT + 2


def test_a_slow_body_is_cut_off(server: Server) -> None:
    with server.connect() as connection:
        connection.sendall(
            b"POST /api/v1/frameworks HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"code":'
        )
        took = server.closed_within(connection, BODY_TIMEOUT + 3)
    assert took is not None
    assert took < BODY_TIMEOUT + 2


def test_an_idle_kept_alive_connection_is_closed(server: Server) -> None:
    with server.connect() as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        assert connection.recv(65536).startswith(b"HTTP/1.1 200")
        took = server.closed_within(connection, KEEPALIVE_TIMEOUT + 3)
    assert took is not None
    assert took < KEEPALIVE_TIMEOUT + 2


def test_connections_per_worker_are_capped(server: Server) -> None:
    idle = [server.connect() for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.2)
        answer = _exchange(server, b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 503"), answer[:100]
    finally:
        for connection in idle:
            connection.close()
    time.sleep(0.3)
    answer = _exchange(server, b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200")
