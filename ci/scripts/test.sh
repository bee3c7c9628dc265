#!/usr/bin/env bash
# Everything CI runs, in order, each stage announced and timed. Expects
# `make setup` to have run (the Makefile's `test` target does that).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=.venv/bin

stage() { printf '\n==> %s\n' "$*"; STAGE_START=$SECONDS; }
done_stage() { printf '<== %ss\n' "$((SECONDS - STAGE_START))"; }

stage "static checks: ruff (lint, import order, pyupgrade) and mypy (strict on exaworks_sdk)"
$BIN/ruff check .
$BIN/mypy
done_stage

stage "manifest: validate and drift check"
$BIN/sdk validate
$BIN/sdk render --check
done_stage

stage "PostgreSQL for the dashboard tests (SQLite needs nothing)"
SDK_TEST_POSTGRES_URL="$(bash tests/dashboard/start_postgres.sh "${SDK_PG_PORT:-5433}" "${SDK_PG_DIR:-/tmp/sdk-test-pg}")"
export SDK_TEST_POSTGRES_URL
echo "$SDK_TEST_POSTGRES_URL"
done_stage

stage "unit and integration tests (SQLite and PostgreSQL)"
$BIN/python -m pytest
done_stage

stage "docs: build with warnings as errors"
rm -rf docs/_build
$BIN/sphinx-build -W --keep-going -n -q docs docs/_build/html
done_stage

stage "main job: every suite run for real by the harness, uploaded to a local dashboard, checked through its API"
SDK_DEMO_EXIT=1 SDK_DEMO_DIR="$(mktemp -d)" SDK_DEMO_PORT=0 bash ci/scripts/demo.sh
done_stage

stage "facility pipeline: the local site's pipeline run by gitlab-ci-local, checked on a live dashboard"
bash ci/scripts/local-pipeline.sh
done_stage

stage "multi-machine facilities: every LLNL and ANL machine's test job under gitlab-ci-local, each with its own token"
bash ci/scripts/facility-pipeline.sh llnl anl
done_stage

stage "container image: build python-stack, run its smoke suites, check the tag against the image"
bash ci/scripts/docker-selftest.sh
done_stage
