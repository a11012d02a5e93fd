#!/usr/bin/env bash
# The OpenAPI document makes a working client: dump it with `ipcp-api openapi` (no database
# needed), generate a Python client with openapi-python-client (any generator warning fails),
# install that client and import every module of it. A broken schema fails the build.
#
# openapi-python-client is installed into a throwaway virtualenv, never the project's.
# Environment:
#   VENV            the project's virtualenv (default .venv)
#   CLIENT_OUT      keep the dump and the generated client here (default: a temporary folder,
#                   removed at the end)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
GENERATOR='openapi-python-client>=0.29,<0.30'

[ -x "$VENV/bin/ipcp-api" ] || { echo "client: $VENV/bin/ipcp-api not found (set VENV)" >&2; exit 2; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
OUT=${CLIENT_OUT:-$WORK/out}
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

echo "client: dumping the OpenAPI document"
# A scratch data folder: `openapi` needs no database, and must not touch the developer's.
env -u DATABASE_URL IPCP_DATA_DIR="$WORK/data" "$VENV/bin/ipcp-api" openapi >"$OUT/openapi.json"

echo "client: installing $GENERATOR into a throwaway virtualenv"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q --disable-pip-version-check "$GENERATOR"
# Its post-generation hooks run the ruff it ships: put that venv first on PATH.
export PATH="$WORK/venv/bin:$PATH"

echo "client: openapi-python-client $(openapi-python-client --version | awk '{print $NF}')"
(cd "$WORK" && openapi-python-client generate --fail-on-warning \
  --path "$OUT/openapi.json" --output-path "$OUT/client")

echo "client: installing and importing the generated package"
"$WORK/venv/bin/pip" install -q --disable-pip-version-check "$OUT/client"
(cd "$WORK" && "$WORK/venv/bin/python" - <<'PYEOF'
import importlib
import inspect
import pkgutil

import ipcp_api_client
from ipcp_api_client import AuthenticatedClient
from ipcp_api_client.api.reports import get_programme_report
from ipcp_api_client.models import ProgrammeReport

modules = [
    importlib.import_module(info.name)
    for info in pkgutil.walk_packages(ipcp_api_client.__path__, "ipcp_api_client.")
]
operations = [m for m in modules if hasattr(m, "sync_detailed")]
client = AuthenticatedClient(base_url="http://127.0.0.1:8000", token="unused")
parameters = inspect.signature(get_programme_report.sync_detailed).parameters
assert {"programme_id", "client", "as_of"} <= set(parameters), parameters
assert hasattr(ProgrammeReport, "from_dict")
print(f"client: imported {len(modules)} modules, {len(operations)} operations")
PYEOF
)
echo "client: ok"
