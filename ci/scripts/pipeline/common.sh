# Sourced by the pipeline scripts. Everything they need comes from the job's variables,
# which `sdk render` writes into ci/generated/gitlab/<facility>.yml from ci/sites/<facility>.yaml:
#   SDK_SITE, SDK_VARIANT, SDK_PIPELINE_DIR (per pipeline, per site), SDK_MODULES, SDK_PYTHON,
#   SDK_DASHBOARD_TOKEN_VARIABLE (the name of this machine's own token variable),
#   SDK_SPACK_ROOT + SDK_SPACK_ENV (spack), SDK_CONTAINER_RUNTIME + SDK_IMAGE (container).
set -euo pipefail

cd "${CI_PROJECT_DIR:-$(dirname "${BASH_SOURCE[0]}")/../../..}"

log() { printf '\033[1m[%s %s]\033[0m %s\n' "${SDK_SITE:-?}" "${SDK_VARIANT:-?}" "$*"; }
die() { log "error: $1" >&2; exit "${2:-2}"; }

: "${SDK_SITE:?set by the generated job}" "${SDK_VARIANT:?set by the generated job}"
: "${SDK_PIPELINE_DIR:?set by the generated job}"
case "$SDK_PIPELINE_DIR" in
  */exaworks-sdk-ci/*/"$SDK_SITE") ;;
  *) die "SDK_PIPELINE_DIR=$SDK_PIPELINE_DIR does not look like <workdir>/exaworks-sdk-ci/<pipeline>/$SDK_SITE" ;;
esac
# This job's private environment: nothing here is shared with another pipeline.
ENV_DIR="$SDK_PIPELINE_DIR/$SDK_VARIANT"
SDK_RESULTS_DIR=${SDK_RESULTS_DIR:-sdk-results}
SDK_PYTHON=${SDK_PYTHON:-python3}

load_modules() {
  [ -n "${SDK_MODULES:-}" ] || return 0
  if ! type module >/dev/null 2>&1; then
    local init
    for init in "${LMOD_PKG:-/nonexistent}/init/bash" /usr/share/lmod/lmod/init/bash /etc/profile.d/lmod.sh \
                /etc/profile.d/modules.sh /usr/share/Modules/init/bash; do
      # shellcheck disable=SC1090
      [ -f "$init" ] && { set +u; source "$init"; set -u; break; }
    done
  fi
  type module >/dev/null 2>&1 || die "SDK_MODULES is set but this machine has no 'module' command"
  log "module load $SDK_MODULES"
  set +u
  # shellcheck disable=SC2086
  module load $SDK_MODULES
  set -u
}

spack_setup() {
  : "${SDK_SPACK_ROOT:?the spack variant needs SDK_SPACK_ROOT}" "${SDK_SPACK_ENV:?}"
  set +u
  # shellcheck disable=SC1091
  source "$SDK_SPACK_ROOT/share/spack/setup-env.sh"
  set -u
  # The pipeline's own environment, created by the install job from the rendered file;
  # the package repository it uses is the job's copy, $ENV_DIR/spack/spack_repo/exaworks.
  SPACK_ENV_DIR="$ENV_DIR/env"
}

container_run() {  # container_run <command...>: run in the SDK image with the checkout at /work
  local passthrough=(SDK_SITE SDK_VARIANT SDK_RESULTS_DIR SDK_DASHBOARD_URL SDK_DASHBOARD_TOKEN
                     ${SDK_DASHBOARD_TOKEN_VARIABLE:+"$SDK_DASHBOARD_TOKEN_VARIABLE"}
                     CI_PIPELINE_ID CI_COMMIT_SHA CI_COMMIT_REF_NAME CI_JOB_URL)
  case "${SDK_CONTAINER_RUNTIME:?}" in
    apptainer|singularity)
      for v in "${passthrough[@]}"; do
        [ -n "${!v:-}" ] && export "APPTAINERENV_$v=${!v}" "SINGULARITYENV_$v=${!v}"
      done
      "$SDK_CONTAINER_RUNTIME" exec --cleanenv --bind "$PWD:/work" --pwd /work "$ENV_DIR/sdk.sif" "$@" ;;
    podman|docker)
      local envs=()
      for v in "${passthrough[@]}"; do [ -n "${!v:-}" ] && envs+=(-e "$v"); done
      "$SDK_CONTAINER_RUNTIME" run --rm --network host -v "$PWD:/work" -w /work "${envs[@]}" "$SDK_IMAGE" "$@" ;;
    *) die "unknown container runtime $SDK_CONTAINER_RUNTIME" ;;
  esac
}
