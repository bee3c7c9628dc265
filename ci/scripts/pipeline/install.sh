#!/usr/bin/env bash
# Install job: build this pipeline's own SDK environment under $SDK_PIPELINE_DIR/$SDK_VARIANT.
#   spack      copy of spack/, `spack env create` from this site's environment, concretize,
#              check the site's externals were used, `spack install`
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
    # The package repository is copied so the environment outlives this checkout; the
    # environment is created from the rendered file, so spack.lock, .spack-env/ and the
    # install tree land in $ENV_DIR, never in the source tree.
    log "copying spack/ into $ENV_DIR/spack"
    cp -R spack "$ENV_DIR/spack"
    log "spack env create -d $SPACK_ENV_DIR $SDK_SPACK_ENV/spack.yaml"
    spack env create -d "$SPACK_ENV_DIR" "$SDK_SPACK_ENV/spack.yaml"
    spack env activate "$SPACK_ENV_DIR"
    spack repo add "$ENV_DIR/spack/spack_repo/exaworks"
    spack concretize --fresh --force 2>&1 | tee "$ENV_DIR/concretized.txt"
    log "checking that the site's externals (MPI, Flux, compiler) are used, not rebuilt"
    spack python ci/scripts/pipeline/check_externals.py "$SPACK_ENV_DIR/spack.yaml" "$ENV_DIR/concretized.txt" \
      || die "the concretizer replaced a site external (see above)" 1
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
