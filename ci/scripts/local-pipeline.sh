#!/usr/bin/env bash
# A facility runner's whole story, on this machine: run the `local` site's pip pipeline from
# the generated .gitlab-ci.yml with gitlab-ci-local (shell executor), uploading to a dashboard
# started here on SQLite, then check through the dashboard's JSON API that the run arrived.
#
#   ci/scripts/local-pipeline.sh
#
# Steps: 1. gitlab-ci-local (npm, pinned)  2. dashboard + site + token  3. a private copy of the
# checkout  4. install → test → cleanup jobs  5. API check  6. (on exit) stop the dashboard.
#
# Settings (environment):
#   SDK_TEST_SELECT    suites to run      [psij parsl flux]
#   SDK_EXPECT_PASSED  suites that must pass on the dashboard
#   SDK_EXPECT_SKIPPED suites that must be skipped
#                      [both: what `sdk-test list --json` expects here for the selected suites:
#                       a machine with Flux expects flux to pass, one without to skip]
#   SDK_KEEP_WORK=1    keep the work directory (checkout copy, database, logs) for a look
# Needs: .venv (make setup), Node.js + npm, rsync, git.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
SITE=local-linux
VARIANT=pip
SELECT=${SDK_TEST_SELECT-psij parsl flux}
EXPECT_PASSED=${SDK_EXPECT_PASSED-}
EXPECT_SKIPPED=${SDK_EXPECT_SKIPPED-}

# shellcheck source=ci/scripts/lib/dashboard.sh
source "$ROOT/ci/scripts/lib/dashboard.sh"
begin_pipeline local-pipeline rsync git node npm

step "1/5 gitlab-ci-local"
GCL=$(bash ci/scripts/pipeline/gitlab-ci-local.sh --path)
echo "gitlab-ci-local $("$GCL" --version) at $GCL"

step "2/5 dashboard on SQLite ($WORK/dashboard.sqlite)"
start_local_dashboard "$WORK" "$SITE" || fail "the dashboard did not start"
URL=$DASHBOARD_URL
TOKEN=$DASHBOARD_TOKEN
echo "dashboard at $URL (pid $DASHBOARD_PID), site $SITE, token issued"

step "3/5 private copy of the checkout"
# gitlab-ci-local runs shell jobs in its working directory and reads only tracked files, so
# the jobs get a copy: the checkout stays clean and uncommitted changes are included.
# shellcheck source=ci/scripts/lib/checkout.sh
source "$ROOT/ci/scripts/lib/checkout.sh"
private_checkout "$ROOT" "$WORK/checkout"
echo "$WORK/checkout"

step "4/5 pipeline: SDK_FACILITY=local, the $VARIANT variant, SDK_TEST_SELECT='$SELECT'"
jobs=("$SITE-$VARIANT-install" "$SITE-$VARIANT-test" "$SITE-$VARIANT-cleanup")
# gitlab-ci-local numbers pipelines per checkout from 1000, so two runs on one machine would
# share /tmp/exaworks-sdk-ci/1000/: give this run's pipeline directory a unique parent instead.
PIPELINE_DIR="$WORK/exaworks-sdk-ci/$(basename "$WORK")/$SITE"
# The token goes in this machine's own variable (SDK_DASHBOARD_TOKEN_LOCAL_LINUX), as a facility sets it.
TOKEN_VARIABLE=$("$VENV/bin/python" -c "import sys; from exaworks_sdk.manifest import token_variable; print(token_variable(sys.argv[1]))" "$SITE")
gcl_args=(--variable SDK_FACILITY=local --variable "SDK_DASHBOARD_URL=$URL" --variable "$TOKEN_VARIABLE=$TOKEN"
          --variable "SDK_TEST_SELECT=$SELECT" --variable "SDK_PIPELINE_DIR=$PIPELINE_DIR"
          --no-color --timestamps --max-job-name-padding 0)
( cd "$WORK/checkout" && "$GCL" "${gcl_args[@]}" --list ) | sed -n '1,/^$/p' | grep -E "^(name|$SITE)" || true
pipeline=0
( cd "$WORK/checkout" && "$GCL" "${gcl_args[@]}" "${jobs[@]}" ) || pipeline=$?
# gitlab-ci-local runs named jobs without evaluating their rules, so `when: always` is ours to honour.
if [ "$pipeline" -ne 0 ] && [ -d "$PIPELINE_DIR" ]; then
  echo "local-pipeline: the pipeline failed ($pipeline); running the cleanup job anyway"
  ( cd "$WORK/checkout" && "$GCL" "${gcl_args[@]}" "$SITE-$VARIANT-cleanup" ) || true
fi
[ "$pipeline" -eq 0 ] || fail "the pipeline failed (exit $pipeline)"

step "5/5 the run on the dashboard"
record=$(ls -t "$WORK"/checkout/sdk-results/*.jsonl 2>/dev/null | head -n 1)
[ -n "$record" ] || fail "the test job left no record in sdk-results/"
RUN_ID=$(basename "$record" .jsonl)
expect=()
if [ -z "$EXPECT_PASSED$EXPECT_SKIPPED" ]; then
  # shellcheck disable=SC2086
  "$VENV/bin/sdk-test" list --json $SELECT > "$WORK/suites.json"
  expect=(--expect "$WORK/suites.json")
fi
# shellcheck disable=SC2086
"$VENV/bin/python" ci/scripts/pipeline/check_run.py "$URL" "$SITE" "$RUN_ID" \
  --passed $EXPECT_PASSED --skipped $EXPECT_SKIPPED "${expect[@]}"
[ ! -e "$PIPELINE_DIR" ] || fail "the cleanup job left $PIPELINE_DIR behind"
echo "cleanup removed $PIPELINE_DIR"

step "done in $((SECONDS - T0)) s: run $RUN_ID of $SITE is on the dashboard ($URL/sites/$SITE while it ran)"
