#!/usr/bin/env bash
# Create .venv with the SDK's pinned Python stack (ci/generated/pip/requirements.txt,
# rendered from components/) and this project's tools, then one venv per other
# pip environment of the manifest (ci/generated/pip/<name>-requirements.txt ->
# .venv-<name>, e.g. Balsam's, whose pins conflict with the stack). Re-runs are
# quick: pip skips what is installed, and the mpi4py source build is cached as a wheel.
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=${SDK_VENV:-.venv}
PYTHON=${PYTHON:-python3}

# Other pip environments: the harness finds each at .venv-<name> (or $SDK_VENV_<NAME>).
other_envs() {
  local file name venv venv_var
  for file in ci/generated/pip/*-requirements.txt; do
    [ -e "$file" ] || continue
    name=$(basename "$file" -requirements.txt)
    venv_var="SDK_VENV_$(echo "$name" | tr '[:lower:]-' '[:upper:]_')"
    venv=${!venv_var:-.venv-$name}
    if [ -f "$venv/.sdk-installed" ] && [ -z "$(find "$file" -newer "$venv/.sdk-installed")" ]; then
      echo "python-env: $venv is up to date"
      continue
    fi
    [ -x "$venv/bin/python" ] || { echo "python-env: creating $venv"; "$PYTHON" -m venv "$venv"; }
    "$venv/bin/python" -m pip install -q --upgrade pip
    echo "python-env: installing pip environment '$name' into $venv ($file)"
    "$venv/bin/python" -m pip install -q -r "$file"
    touch "$venv/.sdk-installed"
  done
}

stamp="$VENV/.sdk-installed"
inputs=(ci/generated/pip/requirements.txt pyproject.toml)

if [ -f "$stamp" ] && [ -z "$(find "${inputs[@]}" -newer "$stamp" 2>/dev/null)" ]; then
  echo "python-env: $VENV is up to date"
  other_envs
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
other_envs
