#!/usr/bin/env python3
"""The two commands, for a fresh clone with nothing but Python >= 3.11:

    python3 tasks.py serve     # set up, then serve the API with demo data (embedded PostgreSQL)
    python3 tasks.py test      # set up, then run the whole test suite

Set-up creates ``.venv`` beside this file and installs the project into it (again only when
pyproject.toml changes). Extra arguments go to ``ipcp-api serve`` or to ``pytest``.
Standard library only: it has to run before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("IPCP_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".ipcp-installed"


def setup() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - runs before anything checks the version
        sys.exit("ipcp-api needs Python 3.11 or newer")
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("installing ipcp-api and its test tools into .venv", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test,dev]"], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"serve", "test", "setup"}:
        print(__doc__)
        return 2
    command, rest = sys.argv[1], sys.argv[2:]
    setup()
    if command == "setup":
        return 0
    if command == "serve":
        args = [str(BIN / "ipcp-api"), "serve", "--demo", *rest]
    else:
        args = [str(PYTHON), "-m", "pytest", *rest]
    os.chdir(ROOT)
    if os.name == "nt":
        return subprocess.run(args).returncode
    os.execv(args[0], args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
