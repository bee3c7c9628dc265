#!/usr/bin/env bash
# Cleanup job (when: always): remove this pipeline's environment for this site and variant,
# then the pipeline's directories if nothing else is left in them.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [ -e "$ENV_DIR" ]; then
  log "removing $ENV_DIR ($(du -sh "$ENV_DIR" 2>/dev/null | cut -f1))"
  chmod -R u+w "$ENV_DIR" 2>/dev/null || true   # Spack installs read-only files
  rm -rf "$ENV_DIR"
else
  log "$ENV_DIR is already gone"
fi
rmdir "$SDK_PIPELINE_DIR" "$(dirname "$SDK_PIPELINE_DIR")" 2>/dev/null || true
