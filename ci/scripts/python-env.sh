#!/usr/bin/env bash
# Create .venv with the SDK's pinned Python stack (ci/generated/pip/requirements.txt,
# rendered from components/) and this project's tools. Re-runs are quick:
# pip skips what is installed, and the mpi4py source build is cached as a wheel.
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=${SDK_VENV:-.venv}
PYTHON=${PYTHON:-python3}
stamp="$VENV/.sdk-installed"
inputs=(ci/generated/pip/requirements.txt pyproject.toml)

if [ -f "$stamp" ] && [ -z "$(find "${inputs[@]}" -newer "$stamp" 2>/dev/null)" ]; then
  echo "python-env: $VENV is up to date"
  exit 0
fi
[ -x "$VENV/bin/python" ] || { echo "python-env: creating $VENV"; "$PYTHON" -m venv "$VENV"; }
"$VENV/bin/python" -m pip install -q --upgrade pip
echo "python-env: installing the SDK stack (mpi4py builds from source once, ~5 min)"
"$VENV/bin/python" -m pip install -q -r ci/generated/pip/requirements.txt
echo "python-env: installing the project's tools"
"$VENV/bin/python" -m pip install -q -e '.[dev]'
touch "$stamp"
echo "python-env: ready ($("$VENV/bin/python" --version))"
