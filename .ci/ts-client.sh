#!/usr/bin/env bash
# The OpenAPI document makes a typed TypeScript client and passes a linter:
#   1. dump it with `ipcp-api openapi` (no database needed);
#   2. `npm ci` in .ci/ts-client (versions pinned in package.json and package-lock.json:
#      openapi-typescript, openapi-fetch, typescript 5, @redocly/cli; Node 20.19 or later);
#   3. generate the types with openapi-typescript and type-check a front end's script against
#      them (`tsc --noEmit --strict`: sign in, list with a cursor, the report as JSON and CSV,
#      a 412 handled as a typed problem) — a change of the document that breaks a client fails;
#   4. lint the document with Redocly's recommended rules: any error fails (warnings are shown).
# Environment:
#   VENV   the project's virtualenv (default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
DIR=.ci/ts-client
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

[ -x "$VENV/bin/ipcp-api" ] || { echo "ts-client: $VENV/bin/ipcp-api not found (set VENV)" >&2; exit 2; }
command -v node >/dev/null && command -v npm >/dev/null || {
  echo "ts-client: node and npm are needed (Node 20.19 or later)" >&2; exit 2;
}
echo "ts-client: node $(node --version), npm $(npm --version)"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "ts-client: dumping the OpenAPI document"
env -u DATABASE_URL IPCP_DATA_DIR="$WORK/data" "$VENV/bin/ipcp-api" openapi >"$DIR/openapi.json"

echo "ts-client: npm ci"
(cd "$DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

echo "ts-client: openapi-typescript $(cd "$DIR" && npx --no-install openapi-typescript --version)"
# --default-non-nullable=false: a field with a default stays optional in what a client sends
(cd "$DIR" && npx --no-install openapi-typescript openapi.json --default-non-nullable=false \
  -o src/ipcp-api.d.ts)

echo "ts-client: tsc $(cd "$DIR" && npx --no-install tsc --version) --noEmit --strict"
(cd "$DIR" && npx --no-install tsc --noEmit --strict -p tsconfig.json)

echo "ts-client: redocly lint (recommended rules; errors fail)"
(cd "$DIR" && npx --no-install redocly lint openapi.json --format=stylish)
echo "ts-client: ok"
