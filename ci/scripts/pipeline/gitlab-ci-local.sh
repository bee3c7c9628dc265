#!/usr/bin/env bash
# Run gitlab-ci-local (pinned), installing it from npm into a cache directory on first use.
#
#   ci/scripts/pipeline/gitlab-ci-local.sh [gitlab-ci-local args...]
#   ci/scripts/pipeline/gitlab-ci-local.sh --print-schema   # GitLab's CI JSON schema, as the package ships it
#   ci/scripts/pipeline/gitlab-ci-local.sh --path           # where the executable is
#
# Needs Node.js with npm; the shell executor also needs rsync and git.
# SDK_CACHE_DIR (default ~/.cache/exaworks-sdk) holds the install.
set -euo pipefail

VERSION=4.64.0
CACHE=${SDK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/exaworks-sdk}
PREFIX="$CACHE/gitlab-ci-local-$VERSION"
BIN="$PREFIX/node_modules/.bin/gitlab-ci-local"
PACKAGE="$PREFIX/node_modules/gitlab-ci-local"

if [ ! -x "$BIN" ]; then
  command -v npm >/dev/null || { echo "gitlab-ci-local.sh: npm not found (install Node.js 18+)" >&2; exit 2; }
  echo "gitlab-ci-local.sh: installing gitlab-ci-local@$VERSION into $PREFIX" >&2
  mkdir -p "$PREFIX"
  npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "gitlab-ci-local@$VERSION" >&2
fi

case "${1:-}" in
  --path) echo "$BIN" ;;
  --print-schema)
    # The package vendors GitLab's app/assets/javascripts/editor/schema/ci.json
    # (with its `pattern` keywords removed) as an ES module.
    node --input-type=module -e \
      "import {schema} from 'file://$PACKAGE/src/schema/schema.js'; process.stdout.write(JSON.stringify(schema));" ;;
  *) exec "$BIN" "$@" ;;
esac
