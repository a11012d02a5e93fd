"""The real command line on the embedded PostgreSQL: serve, readiness, migrate, shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPCP_") and k != "DATABASE_URL"}
    env["IPCP_DATA_DIR"] = str(data_dir)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def _wait_for(url: str, want: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    status = 0
    while time.monotonic() < deadline:
        status = _status(url)
        if status == want:
            return status
        time.sleep(0.3)
    return status


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ipcp_api.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_serve_on_embedded_database(tmp_path: Path) -> None:
    env = _env(tmp_path / "data")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "ipcp_api.cli", "serve", "--port", str(port), "--no-migrate"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert _wait_for(f"{base}/healthz", 200) == 200
        # Not migrated yet: not ready, with a problem body.
        assert _status(f"{base}/readyz") == 503
        # A second process on the same data directory reuses the running server.
        migrated = _cli(env, "migrate")
        assert migrated.returncode == 0, migrated.stderr
        assert "embedded PostgreSQL" in migrated.stdout
        assert _wait_for(f"{base}/readyz", 200) == 200
        with urllib.request.urlopen(f"{base}/openapi.json", timeout=5) as response:
            assert json.load(response)["openapi"].startswith("3.1")
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    assert f"listening on http://127.0.0.1:{port}" in output
    assert "database: embedded PostgreSQL in" in output
    # The last holder stopped the embedded server cleanly.
    assert not (tmp_path / "data" / "pgdata" / "postmaster.pid").exists()


def test_openapi_command(tmp_path: Path) -> None:
    result = _cli(_env(tmp_path), "openapi")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["info"]["title"] == "IPCP API"
