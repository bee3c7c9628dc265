#!/usr/bin/env bash
# The main job. Until the dashboard and harness land, it validates the
# manifest and shows what it renders.
set -euo pipefail
cd "$(dirname "$0")/../.."
.venv/bin/sdk validate
.venv/bin/sdk render --check
