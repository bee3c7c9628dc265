#!/usr/bin/env bash
# Publish job (one per image matrix entry): build the sdk target of docker/Dockerfile.$SDK_OS with
# docker/build.sh, prove the image, then push
#   $SDK_IMAGE_NAME:$SDK_RELEASE-$SDK_OS-$SDK_MPI-py$SDK_PYTHON_VERSION   (+ :latest for $SDK_LATEST)
# Proof before the push: the image's default command (the harness's smoke suites, Flux and Swift/T
# included) passes, and tests/docker finds the OS, MPI and Python the tag names.
# Registry login: SDK_REGISTRY_USER / SDK_REGISTRY_PASSWORD (masked CI/CD variables), optional
# SDK_REGISTRY (default Docker Hub). SDK_DRY_RUN=1 prints the commands instead of running them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

: "${SDK_IMAGE_NAME:?}" "${SDK_RELEASE:?}" "${SDK_OS:?}" "${SDK_MPI:?}" "${SDK_PYTHON_VERSION:?}" "${SDK_LATEST:?}"
base_var="SDK_BASE_IMAGE_$SDK_OS"
base=${!base_var:?no base image for $SDK_OS}
# The job's variables and docker/ are rendered from the same manifest; a mismatch means a stale render.
matrix=$(source docker/images.env && echo "$SDK_IMAGE_NAME $SDK_RELEASE")
[ "$matrix" = "$SDK_IMAGE_NAME $SDK_RELEASE" ] \
  || { echo "publish: the job says $SDK_IMAGE_NAME $SDK_RELEASE, docker/images.env says $matrix; run sdk render" >&2; exit 2; }
tag=$(source docker/images.env && sdk_image_tag "$SDK_OS" "$SDK_MPI" "$SDK_PYTHON_VERSION") \
  || { echo "publish: $SDK_OS-$SDK_MPI-$SDK_PYTHON_VERSION is not in docker/images.env; run sdk render" >&2; exit 2; }
tags=("$tag")
[ "$SDK_OS-$SDK_MPI-$SDK_PYTHON_VERSION" = "$SDK_LATEST" ] && tags+=("$SDK_IMAGE_NAME:latest")

run() { echo "+ $*"; [ "${SDK_DRY_RUN:-0}" = 1 ] || "$@"; }

if [ -z "${DOCKER_HOST:-}" ]; then
  # build.sh starts a private dockerd; keep it for the checks and the push, stop it on the way out.
  export DOCKER_HOST="unix://${SDK_DOCKER_STATE:-/var/tmp/exaworks-docker}/docker.sock"
  keep=(--keep-daemon)
  trap 'run docker/build.sh --stop-daemon' EXIT
else
  keep=()
fi

echo "publish: ${tags[*]} (base $base)"
export SDK_BASE_IMAGE="$base" SDK_REVISION="${CI_COMMIT_SHA:-unknown}"
run docker/build.sh --target sdk --os "$SDK_OS" --mpi "$SDK_MPI" --python "$SDK_PYTHON_VERSION" \
  --tag "$tag" "${keep[@]}" --build-arg "BASE_IMAGE=$base"
run docker run --rm --network host "$tag"
python="${SDK_PYTHON:-.venv/bin/python}"
[ -x "$python" ] || python=python3
SDK_DOCKER_IMAGE="$tag" run "$python" -m pytest tests/docker -m docker -q -p no:cacheprovider
for extra in "${tags[@]:1}"; do run docker tag "$tag" "$extra"; done
if [ -n "${SDK_REGISTRY_USER:-}" ]; then
  echo "+ docker login ${SDK_REGISTRY:-docker.io} -u $SDK_REGISTRY_USER --password-stdin"
  [ "${SDK_DRY_RUN:-0}" = 1 ] || printf '%s' "${SDK_REGISTRY_PASSWORD:?}" \
    | docker login "${SDK_REGISTRY:-docker.io}" -u "$SDK_REGISTRY_USER" --password-stdin
fi
for t in "${tags[@]}"; do run docker push "$t"; done
