#!/usr/bin/env bash
# The main job: a local dashboard on SQLite, with the local suites run by the
# harness and uploaded to it. It keeps serving until Ctrl-C.
#
# Settings (environment):
#   SDK_DEMO_DIR     where the database, records and logs go      [var/demo]
#   SDK_DEMO_PORT    the dashboard's port on 127.0.0.1             [8000]
#   SDK_DEMO_SELECT  arguments for `sdk-test run` (suites, -t TAG)  [all suites]
#   SDK_DEMO_EXIT=1  check the run through the API and stop instead of serving (CI)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
STATE=$(mkdir -p "${SDK_DEMO_DIR:-var/demo}" && cd "${SDK_DEMO_DIR:-var/demo}" && pwd)
PORT=${SDK_DEMO_PORT:-8000}
SITE=local-linux

T0=$SECONDS
step() { printf '\n\033[1m==> [%3ss] %s\033[0m\n' "$((SECONDS - T0))" "$*"; }

# shellcheck source=ci/scripts/lib/dashboard.sh
source "$ROOT/ci/scripts/lib/dashboard.sh"
trap stop_local_dashboard EXIT
trap 'exit 130' INT TERM

step "1/5 dashboard on SQLite ($STATE/dashboard.sqlite)"
start_local_dashboard "$STATE" "$SITE" "$PORT"
echo "serving $DASHBOARD_URL (pid $DASHBOARD_PID)"

step "2/5 the suites (sdk-test run ${SDK_DEMO_SELECT:-})"
# What this machine can run, and the outcome each suite should end with (passed, known or
# skipped with its reason), from the harness's own detection: a machine with Flux runs the Flux
# suites. The list is written before the run and checked against the dashboard after it.
"$VENV/bin/sdk-test" list
"$VENV/bin/sdk-test" list --json > "$STATE/suites.json"
run_status=0
# shellcheck disable=SC2086
"$VENV/bin/sdk-test" run --site "$SITE" --variant pip --results-dir "$STATE/results" ${SDK_DEMO_SELECT:-} \
  || run_status=$?
record=$(ls -t "$STATE"/results/*.jsonl | head -n 1)

step "3/5 upload $(basename "$record")"
SDK_DASHBOARD_URL=$DASHBOARD_URL SDK_DASHBOARD_TOKEN=$DASHBOARD_TOKEN SDK_SPOOL_DIR="$STATE/spool" \
  "$VENV/bin/sdk-test" upload "$record"

step "4/5 the run on the dashboard"
if [ -z "${SDK_DEMO_SELECT:-}" ]; then
  "$VENV/bin/python" ci/scripts/pipeline/check_run.py "$DASHBOARD_URL" "$SITE" "$(basename "$record" .jsonl)" \
    --expect "$STATE/suites.json"
fi
[ "$run_status" -eq 0 ] || echo "sdk-test run exited $run_status: see the run page for the failures"

step "5/5 compatibility and release readiness of the local site"
echo "compatibility matrix: $DASHBOARD_URL/compat/ (JSON: $DASHBOARD_URL/api/v1/compat)"
# Every cell ci/sites/local.yaml requires, against the manifest's pins. The demo runs one variant
# (pip) on this machine, so the container variant's cells stay missing: "Not ready" is expected.
"$VENV/bin/sdk" release check --dashboard "$DASHBOARD_URL" --facility local --days 1 \
  --json "$STATE/release-local.json" || echo "(the local site is not release-ready; $STATE/release-local.json has the cells)"
# The dashboard records the attestation once every run it cites agrees with its own records.
"$VENV/bin/sdk-dashboard" releases record --replace "$STATE/release-local.json"
version="$("$VENV/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' "$STATE/release-local.json")"
echo "release page: $DASHBOARD_URL/releases/$version (badge: $DASHBOARD_URL/badges/releases/$version.svg)"

if [ "${SDK_DEMO_EXIT:-0}" = 1 ]; then
  exit "$run_status"
fi
printf '\n\033[1mDashboard: %s/  (site page: %s/sites/%s). Ctrl-C stops it.\033[0m\n' \
  "$DASHBOARD_URL" "$DASHBOARD_URL" "$SITE"
wait "$DASHBOARD_PID"
