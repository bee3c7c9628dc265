#!/usr/bin/env bash
# Publish job (one per image matrix entry): build the SDK image with docker/build.sh and push
#   $SDK_IMAGE_NAME:$SDK_RELEASE-$SDK_OS-$SDK_MPI-py$SDK_PYTHON_VERSION   (+ :latest for $SDK_LATEST)
# Registry login: SDK_REGISTRY_USER / SDK_REGISTRY_PASSWORD (masked CI/CD variables), optional
# SDK_REGISTRY (default Docker Hub). SDK_DRY_RUN=1 prints the commands instead of running them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

: "${SDK_IMAGE_NAME:?}" "${SDK_RELEASE:?}" "${SDK_OS:?}" "${SDK_MPI:?}" "${SDK_PYTHON_VERSION:?}" "${SDK_LATEST:?}"
base_var="SDK_BASE_IMAGE_$SDK_OS"
base=${!base_var:?no base image for $SDK_OS}
tag="$SDK_IMAGE_NAME:$SDK_RELEASE-$SDK_OS-$SDK_MPI-py$SDK_PYTHON_VERSION"
tags=("$tag")
[ "$SDK_OS-$SDK_MPI-$SDK_PYTHON_VERSION" = "$SDK_LATEST" ] && tags+=("$SDK_IMAGE_NAME:latest")

run() { echo "+ $*"; [ "${SDK_DRY_RUN:-0}" = 1 ] || "$@"; }

if [ -z "${DOCKER_HOST:-}" ]; then
  # build.sh starts a private dockerd; keep it for the push and stop it on the way out.
  export DOCKER_HOST="unix://${SDK_DOCKER_STATE:-/var/tmp/exaworks-docker}/docker.sock"
  keep=(--keep-daemon)
  trap 'run docker/build.sh --stop-daemon' EXIT
else
  keep=()
fi

echo "publish: ${tags[*]} (base $base)"
run docker/build.sh --target sdk --tag "$tag" "${keep[@]}" \
  --build-arg "BASE_IMAGE=$base" --build-arg "MPI=$SDK_MPI" --build-arg "PYTHON_VERSION=$SDK_PYTHON_VERSION" \
  --build-arg "SDK_VERSION=$SDK_RELEASE" --build-arg "SDK_REVISION=${CI_COMMIT_SHA:-unknown}"
for extra in "${tags[@]:1}"; do run docker tag "$tag" "$extra"; done
if [ -n "${SDK_REGISTRY_USER:-}" ]; then
  echo "+ docker login ${SDK_REGISTRY:-docker.io} -u $SDK_REGISTRY_USER --password-stdin"
  [ "${SDK_DRY_RUN:-0}" = 1 ] || printf '%s' "${SDK_REGISTRY_PASSWORD:?}" \
    | docker login "${SDK_REGISTRY:-docker.io}" -u "$SDK_REGISTRY_USER" --password-stdin
fi
for t in "${tags[@]}"; do run docker push "$t"; done
