#!/usr/bin/env bash
# Several machines, one credential each, through the generated pipeline: the pip test job of
# every machine of the given facilities (default: LLNL's three and ANL's two) runs under
# gitlab-ci-local as rendered, with every machine's token set at once, as a facility sets them
# in its mirror. Each job must upload with its own token (SDK_DASHBOARD_TOKEN_<SITE>); then a
# machine given another machine's token, of its own facility and of another, must be refused.
#
#   ci/scripts/facility-pipeline.sh [FACILITY ...]
#
# Steps: 1. gitlab-ci-local  2. dashboard, then `sdk-dashboard tokens issue --facility` per
# facility  3. a private copy of the checkout  4. each machine's <site>-pip-test job  5. the
# runs, each under its own key  6. a machine with another's token: 403, nothing stored.
#
# Local runner settings, for what a facility's runner has and this machine has not:
#   SDK_MODULES is emptied (no `module` command here); SDK_PIPELINE_DIR points into the work
#   directory; the install jobs are not run: each machine's pip environment is a link to this
#   checkout's .venv, which holds the same harness (local-pipeline.sh runs a real install).
#
# Settings (environment):
#   SDK_TEST_SELECT    suites each machine runs             [psij maestro]
#   SDK_KEEP_WORK=1    keep the work directory (checkout copy, database, job logs)
# Needs: .venv (make setup), Node.js + npm, rsync, git.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
if [ $# -gt 0 ]; then FACILITIES=("$@"); else FACILITIES=(llnl anl); fi
SELECT=${SDK_TEST_SELECT-psij maestro}

# shellcheck source=ci/scripts/lib/dashboard.sh
source "$ROOT/ci/scripts/lib/dashboard.sh"
begin_pipeline facility-pipeline rsync git node npm curl

step "1/6 gitlab-ci-local"
GCL=$(bash ci/scripts/pipeline/gitlab-ci-local.sh --path)
echo "gitlab-ci-local $("$GCL" --version)"

step "2/6 dashboard on SQLite; one token per machine of: ${FACILITIES[*]}"
serve_local_dashboard "$WORK" || fail "the dashboard did not start"
echo "dashboard at $DASHBOARD_URL (pid $DASHBOARD_PID)"
declare -A TOKEN=()   # CI/CD variable name → token, as the facility would set them in its mirror
SITES=()
for facility in "${FACILITIES[@]}"; do
  while IFS='=' read -r name value; do
    TOKEN[$name]=$value
  done < <("$VENV/bin/sdk-dashboard" tokens issue --facility "$facility" --label "facility-pipeline" --expires-days 1 \
             2> >(sed 's/^/  /' >&2))
  while read -r site; do SITES+=("$site"); done < <(
    "$VENV/bin/python" -c "import sys; from exaworks_sdk.manifest import load_sites
print('\n'.join(e.id for e in load_sites()[sys.argv[1]].sites() if 'pip' in e.machine.variants))" "$facility")
done
echo "${#TOKEN[@]} token variables: ${!TOKEN[*]}"
echo "${#SITES[@]} machines: ${SITES[*]}"
token_var() { "$VENV/bin/python" -c "import sys; from exaworks_sdk.manifest import token_variable; print(token_variable(sys.argv[1]))" "$1"; }

step "3/6 private copy of the checkout"
# shellcheck source=ci/scripts/lib/checkout.sh
source "$ROOT/ci/scripts/lib/checkout.sh"
private_checkout "$ROOT" "$WORK/checkout"

common=(--variable "SDK_DASHBOARD_URL=$DASHBOARD_URL" --variable "SDK_TEST_SELECT=$SELECT" --variable "SDK_MODULES="
        --variable COLUMNS=250 --no-color --max-job-name-padding 0 --home "$WORK/gcl-home")
for name in "${!TOKEN[@]}"; do common+=(--variable "$name=${TOKEN[$name]}"); done
run_job() {  # run_job SITE LOG [extra gitlab-ci-local args]: that machine's pip test job, as rendered
  local site=$1 log=$2 facility=${1%%-*}
  local dir="$WORK/exaworks-sdk-ci/run/$site"
  mkdir -p "$dir/pip"
  ln -sfn "$VENV" "$dir/pip/venv"   # what the install job would have built
  ( cd "$WORK/checkout" && "$GCL" "${common[@]}" --variable "SDK_FACILITY=$facility" \
      --variable "SDK_PIPELINE_DIR=$dir" "${@:3}" "$site-pip-test" ) >"$log" 2>&1
}

step "4/6 each machine's test job, with every machine's token set (SDK_TEST_SELECT='$SELECT')"
declare -A RUN=()
for site in "${SITES[@]}"; do
  log="$WORK/$site.log"
  run_job "$site" "$log" || { tail -n 40 "$log"; fail "$site-pip-test failed"; }
  used=$(grep -o 'with the token from \$[A-Z0-9_]*' "$log" | tail -n 1 | sed 's/.*\$//')
  [ "$used" = "$(token_var "$site")" ] || { tail -n 40 "$log"; fail "$site uploaded with '${used:-no token}', not $(token_var "$site")"; }
  record=$(ls -t "$WORK"/checkout/sdk-results/*.jsonl | head -n 1)
  RUN[$site]=$(basename "$record" .jsonl)
  echo "$site-pip-test: succeeded, uploaded run ${RUN[$site]} with \$$used"
done

step "5/6 every run on the dashboard, each under its own machine's key"
# each suite's expected outcome here (passed, known or skipped), as the harness works it out
# shellcheck disable=SC2086
"$VENV/bin/sdk-test" list --json $SELECT > "$WORK/suites.json"
for site in "${SITES[@]}"; do
  "$VENV/bin/python" ci/scripts/pipeline/check_run.py "$DASHBOARD_URL" "$site" "${RUN[$site]}" --expect "$WORK/suites.json" \
    || fail "the run of $site is not on the dashboard as expected"
done
"$VENV/bin/sdk-dashboard" tokens list 2>/dev/null | awk -F'\t' '{print "  " $2 ": key " $1 ", " $5}'
unused=$("$VENV/bin/sdk-dashboard" tokens list 2>/dev/null | grep -c 'last used never' || true)
[ "$unused" = 0 ] || fail "$unused machine key(s) were never used"

step "6/6 a machine given another machine's token is refused, and nothing is stored"
count_runs() { curl -fsS "$DASHBOARD_URL/api/v1/sites/$1/runs" | "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["total"])'; }
first=${SITES[0]}
refused=0
for victim in "${SITES[@]:1}"; do
  # one other machine of the same facility, and every machine of another facility
  if [ "${victim%%-*}" = "${first%%-*}" ] && [ "$refused" -gt 0 ]; then continue; fi
  before=$(count_runs "$victim")
  log="$WORK/$victim.borrowed.log"
  if run_job "$victim" "$log" --variable "$(token_var "$victim")=${TOKEN[$(token_var "$first")]}"; then
    tail -n 40 "$log"; fail "$victim uploaded with $first's token"
  fi
  grep -q "HTTP 403" "$log" && grep -q "this token writes for site '$first', not '$victim'" "$log" \
    || { tail -n 40 "$log"; fail "$victim's job did not fail with the dashboard's 403"; }
  [ "$(count_runs "$victim")" = "$before" ] || fail "a run was stored for $victim with $first's token"
  echo "$victim with $first's token: HTTP 403 (this token writes for site '$first', not '$victim'); runs stay at $before"
  refused=$((refused + 1))
done

step "done in $((SECONDS - T0)) s: ${#SITES[@]} machines uploaded with their own tokens; $refused borrowed-token uploads refused"
