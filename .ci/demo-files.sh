#!/usr/bin/env bash
# Serve the demo on a fresh database, download the Bahrain IPCP report as of 2017-06-30 as
# PDF (ar, en, fr) and XLSX, and render page 1 of each PDF to PNG for a person to look at.
# Output in $OUT (default .ci/artifacts/demo-files; not committed).
#   VENV=.venv PORT=8790 DB=ipcp_ci_demo bash .ci/demo-files.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PORT=${PORT:-8790}
DB=${DB:-ipcp_ci_demo}
OUT=${OUT:-.ci/artifacts/demo-files}
PG=${PG:-postgresql://postgres@127.0.0.1:5432}
mkdir -p "$OUT"

psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
export DATABASE_URL="$PG/$DB"
"$VENV/bin/ipcp-api" serve --demo --host 127.0.0.1 --port "$PORT" >"$OUT/server.log" 2>&1 &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" || true
}
trap cleanup EXIT

BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 60); do
  curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "$BASE/readyz" >/dev/null

TOKEN=$(curl -fsS -X POST "$BASE/api/v1/auth/token" \
  -d username=demo-admin -d password=demo-admin-password |
  "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
AUTH="Authorization: Bearer $TOKEN"
ID=$(curl -fsS -H "$AUTH" "$BASE/api/v1/programmes?code=BHR-IPCP-2016" |
  "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')
URL="$BASE/api/v1/programmes/$ID/report?as_of=2017-06-30"

for lang in ar en fr; do
  curl -fsS -H "$AUTH" -D "$OUT/programme-$lang.pdf.headers" -o "$OUT/programme-$lang.pdf" \
    "$URL&format=pdf&lang=$lang"
  pdftoppm -png -r 60 "$OUT/programme-$lang.pdf" "$OUT/programme-$lang"
done
# against the approval baseline (the demo programme has one)
curl -fsS -H "$AUTH" -o "$OUT/programme-en-baseline.pdf" "$URL&format=pdf&lang=en&baseline=approval"
pdftoppm -png -r 60 "$OUT/programme-en-baseline.pdf" "$OUT/programme-en-baseline"
curl -fsS -H "$AUTH" -o "$OUT/programme-en-baseline.xlsx" "$URL&format=xlsx&lang=en&baseline=approval"
curl -fsS -H "$AUTH" -o "$OUT/programme-ar.xlsx" "$URL&format=xlsx&lang=ar"
curl -fsS -H "$AUTH" -o "$OUT/programme-en.xlsx" "$URL&format=xlsx&lang=en"
"$VENV/bin/python" - "$OUT" <<'EOF'
import sys
from pathlib import Path

import openpyxl

for path in sorted(Path(sys.argv[1]).glob("*.xlsx")):
    book = openpyxl.load_workbook(path)
    print(path.name, [(s.title, s.max_row - 1, len(s._charts)) for s in book])
EOF
ls -l "$OUT"
