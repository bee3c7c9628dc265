#!/usr/bin/env bash
# Ask the local dashboard what it holds, through the JSON API behind its pages.
set -euo pipefail
URL=${1:-http://127.0.0.1:8000}
curl -fsS "$URL/api/v1/health"
echo
curl -fsS "$URL/api/v1/sites/local-linux" | python3 -m json.tool
curl -fsS -o /dev/null -w "summary page: HTTP %{http_code}\n" "$URL/"
curl -fsS -o /dev/null -w "site page: HTTP %{http_code}\n" "$URL/sites/local-linux"
