#!/usr/bin/env bash
# Run two quick suites, upload their record to a dashboard on this machine, and keep
# serving it. Run it from the repository root after `make setup`; Ctrl-C stops it.
set -euo pipefail
SDK_DEMO_SELECT="psij maestro" bash ci/scripts/demo.sh
