#!/usr/bin/env bash
# Contract fuzzing: Schemathesis over every operation of a live server (positive and negative
# data, the stateful phase, every check), configured by schemathesis.toml at the project root.
#
# Creates a scratch database, migrates and seeds it with the demo data set, starts
# `ipcp-api serve` in the background, waits for /readyz, signs in as the demo admin and runs
# `schemathesis run`; then stops the server and drops the database. Exits non-zero on any
# failure. Environment:
#   VENV            the virtualenv to use (default .venv)
#   FUZZ_PG         PostgreSQL server URL without a database (default postgresql://postgres@127.0.0.1:5432)
#   FUZZ_DB         scratch database name (default ipcp_fuzz_<pid>)
#   FUZZ_ARTIFACTS  where the server log and the reports go (default .ci/artifacts/fuzz)
#   FUZZ_PORT       the port the server listens on (default: a free one)
#   FUZZ_LOG_LEVEL  the server's log level (default INFO: one access-log line per request,
#                   which the end of this script reads: any 5xx or logged error fails it)
# Extra arguments are passed to `schemathesis run` (e.g. --max-examples 5 for a quick run).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PY="$VENV/bin/python"
PG=${FUZZ_PG:-postgresql://postgres@127.0.0.1:5432}
DB=${FUZZ_DB:-ipcp_fuzz_$$}
ARTIFACTS=${FUZZ_ARTIFACTS:-.ci/artifacts/fuzz}
mkdir -p "$ARTIFACTS"
ARTIFACTS=$(cd "$ARTIFACTS" && pwd)

for tool in "$PY" "$VENV/bin/ipcp-api" "$VENV/bin/schemathesis"; do
  [ -x "$tool" ] || { echo "fuzz: $tool not found (set VENV)" >&2; exit 2; }
done

SERVER_PID=""
DATA_DIR=$(mktemp -d)

admin_sql() {
  # Runs one statement against the server's maintenance database (no psql needed).
  "$PY" - "$PG" "$1" <<'PYEOF'
import asyncio, sys
import asyncpg

async def main(url: str, sql: str) -> None:
    connection = await asyncpg.connect(url.rstrip("/") + "/postgres")
    try:
        await connection.execute(sql)
    finally:
        await connection.close()

asyncio.run(main(sys.argv[1], sys.argv[2]))
PYEOF
}

cleanup() {
  local status=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  admin_sql "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" || status=1
  rm -rf "$DATA_DIR"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export DATABASE_URL="$PG/$DB"
export IPCP_DATA_DIR="$DATA_DIR"
export IPCP_SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')
export IPCP_LOG_LEVEL=${FUZZ_LOG_LEVEL:-INFO}  # INFO: one access-log line per request

echo "fuzz: scratch database $DB"
admin_sql "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)"
admin_sql "CREATE DATABASE \"$DB\""
"$VENV/bin/ipcp-api" migrate
"$VENV/bin/ipcp-api" seed --demo >/dev/null

PORT=${FUZZ_PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
BASE="http://127.0.0.1:$PORT"
"$VENV/bin/ipcp-api" serve --no-migrate --host 127.0.0.1 --port "$PORT" \
  >"$ARTIFACTS/server.log" 2>&1 &
SERVER_PID=$!

echo "fuzz: waiting for $BASE/readyz"
for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; then break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$ARTIFACTS/server.log" >&2; exit 1; }
  sleep 0.2
done
curl -fsS -o /dev/null "$BASE/readyz"

TOKEN=$(curl -fsS -X POST "$BASE/api/v1/auth/token" \
  --data-urlencode username=demo-admin --data-urlencode password=demo-admin-password |
  "$PY" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
export IPCP_FUZZ_TOKEN="$TOKEN"

echo "fuzz: schemathesis $("$VENV/bin/schemathesis" --version | awk '{print $NF}') on $BASE"
started=$(date +%s)
status=0
"$VENV/bin/schemathesis" --config-file schemathesis.toml run "$BASE/openapi.json" \
  --report junit,ndjson --report-dir "$ARTIFACTS" "$@" || status=$?
echo "fuzz: schemathesis finished in $(( $(date +%s) - started ))s with status $status"

# Every request the server saw (checks' probes included): no 5xx, no logged error.
"$PY" - "$ARTIFACTS/server.log" <<'PYEOF' || status=1
import collections, json, sys

by_status, errors = collections.Counter(), []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        event = json.loads(line)
    except ValueError:
        continue
    if event.get("level") in ("ERROR", "CRITICAL"):
        errors.append(line.strip()[:2000])
    if event.get("logger") == "ipcp_api.access":
        by_status[event["status"]] += 1
print("fuzz: server answered", sum(by_status.values()), "requests:",
      ", ".join(f"{code}x{n}" for code, n in sorted(by_status.items())))
server_errors = sum(n for code, n in by_status.items() if code >= 500)
if server_errors or errors:
    print(f"fuzz: {server_errors} 5xx answers, {len(errors)} logged errors:", *errors[:10],
          sep="\n", file=sys.stderr)
    sys.exit(1)
PYEOF
exit "$status"
