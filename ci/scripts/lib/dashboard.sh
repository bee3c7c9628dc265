# shellcheck shell=bash
# Source me. Start a dashboard on SQLite for one site of the registry, for scripts
# that need a live one (the demo, the local facility pipeline, the multi-machine pipeline).
#
#   start_local_dashboard STATE_DIR SITE [PORT]   sets DASHBOARD_URL, DASHBOARD_TOKEN, DASHBOARD_PID
#   serve_local_dashboard STATE_DIR [PORT]        the same without a site or token
#   dashboard_admin_env STATE_DIR                 exports what `sdk-dashboard` needs to act on it
#   stop_local_dashboard                          stops it (safe to call twice, and from a trap)
#   begin_pipeline NAME TOOL...                   the pipeline scripts' common start, below
#
# The site's facility, machine, scheduler and reporting interval come from ci/sites/ (sites sync).
# Expects ROOT (the checkout) and VENV (its virtualenv) to be set.

start_local_dashboard() {
  local state=$1 site=$2 port=${3:-0}
  dashboard_admin_env "$state"
  "$VENV/bin/sdk-dashboard" db upgrade --create >/dev/null
  "$VENV/bin/sdk-dashboard" sites sync --only "$site"
  DASHBOARD_TOKEN=$("$VENV/bin/sdk-dashboard" tokens issue "$site" --label "local $(date -u +%FT%TZ)" --expires-days 1 2>/dev/null)
  export DASHBOARD_TOKEN
  serve_local_dashboard "$state" "$port"
}

dashboard_admin_env() {  # dashboard_admin_env STATE_DIR: the environment the admin CLI and the server share
  mkdir -p "$1"
  export SDK_DASHBOARD_DATABASE_URL="sqlite:///$1/dashboard.sqlite"
  export SDK_DASHBOARD_SECRET_KEY=${SDK_DASHBOARD_SECRET_KEY:-"local-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"}
  export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
}

serve_local_dashboard() {  # serve_local_dashboard STATE_DIR [PORT]: create the database if needed, serve it
  local state=$1 port=${2:-0}
  dashboard_admin_env "$state"
  "$VENV/bin/sdk-dashboard" db upgrade --create >/dev/null
  if [ "$port" = 0 ]; then
    port=$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  fi
  DASHBOARD_URL="http://127.0.0.1:$port"
  "$VENV/bin/gunicorn" --workers 2 --bind "127.0.0.1:$port" --access-logfile - 'dashboard_server:create_app()' \
    >"$state/dashboard.log" 2>&1 &
  DASHBOARD_PID=$!
  local _
  for _ in $(seq 1 60); do
    curl -fsS "$DASHBOARD_URL/api/v1/health" >/dev/null 2>&1 && break
    kill -0 "$DASHBOARD_PID" 2>/dev/null || { tail -n 20 "$state/dashboard.log" >&2; echo "the dashboard exited at start-up" >&2; return 1; }
    sleep 0.5
  done
  curl -fsS "$DASHBOARD_URL/api/v1/health" >/dev/null || { echo "the dashboard did not answer on $DASHBOARD_URL" >&2; return 1; }
  export DASHBOARD_URL DASHBOARD_PID
}

stop_local_dashboard() {
  if [ -n "${DASHBOARD_PID:-}" ] && kill -0 "$DASHBOARD_PID" 2>/dev/null; then
    kill "$DASHBOARD_PID" 2>/dev/null || true
    wait "$DASHBOARD_PID" 2>/dev/null || true
  fi
  DASHBOARD_PID=""
}

# Trap action for scripts that serve a dashboard from a work directory:
#   trap 'finish_with_dashboard NAME "$WORK"' EXIT
# stops the dashboard, shows its log's last lines when the script failed, and removes WORK
# (kept with SDK_KEEP_WORK=1). Exits with the script's own status.
finish_with_dashboard() {
  local status=$? name=$1 work=$2
  [ -z "${DASHBOARD_PID:-}" ] || { echo "$name: stopping the dashboard (pid $DASHBOARD_PID)"; stop_local_dashboard; }
  if [ "$status" -ne 0 ] && [ -f "$work/dashboard.log" ]; then
    echo "--- last lines of the dashboard log ---"; tail -n 20 "$work/dashboard.log"
  fi
  if [ "${SDK_KEEP_WORK:-0}" = 1 ]; then echo "$name: kept $work"; else rm -rf "$work"; fi
  exit "$status"
}

# begin_pipeline NAME TOOL...: what the pipeline scripts do first. Defines `step` (a timed
# heading) and `fail` (a red message, exit 1), checks that each TOOL and the venv are there,
# makes the work directory WORK, and on exit stops the dashboard and removes WORK.
begin_pipeline() {
  PIPELINE_NAME=$1; shift
  T0=$SECONDS
  step() { printf '\n\033[1m==> [%3ss] %s\033[0m\n' "$((SECONDS - T0))" "$*"; }
  fail() { printf '\033[31m%s: %s\033[0m\n' "$PIPELINE_NAME" "$*" >&2; exit 1; }
  local tool
  for tool in "$@"; do command -v "$tool" >/dev/null || fail "$tool is missing (make setup installs it)"; done
  [ -x "$VENV/bin/sdk-test" ] || fail "$VENV is missing: run 'make setup' first"
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/exaworks-$PIPELINE_NAME.XXXXXX")
  DASHBOARD_PID=""
  trap 'finish_with_dashboard "$PIPELINE_NAME" "$WORK"' EXIT
  trap 'exit 130' INT TERM
}
