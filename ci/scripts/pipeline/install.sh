#!/usr/bin/env bash
# Install job: build this pipeline's own SDK environment under $SDK_PIPELINE_DIR/$SDK_VARIANT.
#   spack      copy of spack/ (repo + this site's environment), `spack env activate` + `spack install`
#   pip        venv + ci/generated/pip/requirements.txt + this checkout (the harness, sdk-test)
#   container  pull exaworks/sdk:<release>-<os>-<mpi>-py<ver> with the machine's runtime
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
start=$SECONDS

if [ -e "$ENV_DIR" ]; then
  log "removing a leftover $ENV_DIR (a retried job)"
  chmod -R u+w "$ENV_DIR" 2>/dev/null || true
  rm -rf "$ENV_DIR"
fi
mkdir -p "$ENV_DIR"
load_modules

case "$SDK_VARIANT" in
  pip)
    log "creating $ENV_DIR/venv with $SDK_PYTHON ($("$SDK_PYTHON" --version 2>&1))"
    "$SDK_PYTHON" -m venv "$ENV_DIR/venv"
    pip=("$ENV_DIR/venv/bin/python" -m pip --disable-pip-version-check)
    log "pip install -r ci/generated/pip/requirements.txt (the mpi4py build comes from pip's wheel cache after the first time)"
    "${pip[@]}" install -q -r ci/generated/pip/requirements.txt
    log "pip install . (the SDK tools and the sdk-test harness)"
    "${pip[@]}" install -q .
    "$ENV_DIR/venv/bin/sdk-test" --help >/dev/null
    ;;
  spack)
    spack_setup
    log "copying spack/ into $ENV_DIR/spack"
    cp -R spack "$ENV_DIR/spack"
    log "spack env activate $SPACK_ENV_DIR"
    spack env activate "$SPACK_ENV_DIR"
    spack concretize --fresh --force
    log "spack install"
    spack install --fail-fast
    # The harness is not part of the Spack package: give it a venv on top of the environment's view.
    log "installing the harness into $ENV_DIR/harness"
    "$SPACK_ENV_DIR/.spack-env/view/bin/python3" -m venv --system-site-packages "$ENV_DIR/harness"
    "$ENV_DIR/harness/bin/python" -m pip install -q --disable-pip-version-check .
    ;;
  container)
    log "$SDK_CONTAINER_RUNTIME pull $SDK_IMAGE"
    case "${SDK_CONTAINER_RUNTIME:?}" in
      apptainer|singularity) "$SDK_CONTAINER_RUNTIME" pull --force "$ENV_DIR/sdk.sif" "docker://$SDK_IMAGE" ;;
      podman|docker) "$SDK_CONTAINER_RUNTIME" pull "$SDK_IMAGE" ;;
      *) die "unknown container runtime $SDK_CONTAINER_RUNTIME" ;;
    esac
    ;;
  *) die "unknown variant $SDK_VARIANT" ;;
esac
log "installed in $((SECONDS - start)) s"
