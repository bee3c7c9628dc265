#!/usr/bin/env bash
# Install the Debian packages the SDK's tools and tests need. Idempotent: apt
# runs only when something is missing. Needs root (or sudo) on Debian/Ubuntu.
set -euo pipefail

PACKAGES=(
  python3-venv python3-dev build-essential git   # the Python environment
  mpich libmpich-dev                             # MPI for mpi4py, PSI/J's MPI launcher
  postgresql                                     # the dashboard's production database, tested beside SQLite;
                                                 # the balsam suite runs its Balsam server on a cluster of its own
  redis-server                                   # Balsam's event stream (optional: the suite uses it when present)
  chromium chromium-driver                       # browser tests of the dashboard pages
  rsync                                          # gitlab-ci-local runs the generated pipeline
  docker.io debootstrap                          # image builds (docker/build.sh)
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Node.js may come from another distribution channel that bundles npm; only
# ask Debian for it when there is no npm at all.
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then
  echo "system-deps: all ${#PACKAGES[@]} Debian packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "system-deps: need root to install: ${missing[*]}" >&2; exit 2; }
  SUDO=sudo
fi
echo "system-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system-deps: done"
