#!/usr/bin/env bash
# Test job: run the harness in this pipeline's environment, write JUnit for GitLab, upload the
# record to the dashboard. CI/CD variables: SDK_DASHBOARD_URL, and this machine's own token in
# the variable the job names in SDK_DASHBOARD_TOKEN_VARIABLE (e.g. SDK_DASHBOARD_TOKEN_LLNL_DANE;
# sdk-test reads it, falling back to SDK_DASHBOARD_TOKEN).
# SDK_TEST_SELECT holds extra `sdk-test run` arguments, e.g. "psij parsl flux" or "-t smoke".
# Exit status: the harness's (failed suites fail the job), else the upload's.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ -d "$ENV_DIR" ] || die "$ENV_DIR is missing: did the install job run in this pipeline?"
load_modules
harness() {
  case "$SDK_VARIANT" in
    pip) "$ENV_DIR/venv/bin/sdk-test" "$@" ;;
    spack) spack_setup; spack env activate "$SPACK_ENV_DIR"; "$ENV_DIR/harness/bin/sdk-test" "$@" ;;
    container) container_run sdk-test "$@" ;;
  esac
}

read -r -a select <<< "${SDK_TEST_SELECT:-}"
rm -rf "$SDK_RESULTS_DIR"
mkdir -p "$SDK_RESULTS_DIR"
log "sdk-test run --site $SDK_SITE --variant $SDK_VARIANT --junit ${select[*]}"
status=0
harness run --site "$SDK_SITE" --variant "$SDK_VARIANT" --results-dir "$SDK_RESULTS_DIR" --junit "${select[@]}" \
  || status=$?
log "harness exit status $status"

shopt -s nullglob
records=("$SDK_RESULTS_DIR"/*.jsonl)
if [ ${#records[@]} -eq 0 ]; then
  die "the harness wrote no record in $SDK_RESULTS_DIR" "$(( status ? status : 1 ))"
elif [ -z "${SDK_DASHBOARD_URL:-}" ]; then
  log "SDK_DASHBOARD_URL is not set: not uploading (set it and ${SDK_DASHBOARD_TOKEN_VARIABLE:-SDK_DASHBOARD_TOKEN} as CI/CD variables)"
else
  if [ -n "${SDK_DASHBOARD_TOKEN_VARIABLE:-}" ] && [ -z "${!SDK_DASHBOARD_TOKEN_VARIABLE:-}" ]; then
    log "$SDK_DASHBOARD_TOKEN_VARIABLE is not set: falling back to SDK_DASHBOARD_TOKEN (which writes for one site only)"
  fi
  log "sdk-test upload ${records[*]} → $SDK_DASHBOARD_URL"
  harness upload "${records[@]}" || { upload=$?; log "upload failed ($upload)"; status=$(( status ? status : upload )); }
fi
exit "$status"
