#!/bin/sh
# The image's default command (installed as /usr/local/bin/sdk-smoke): run the harness's smoke
# suites and the integration pairs (Parsl, RP and PSI/J with Flux, Swift/T in Flux), print the
# summary table, exit with the harness's status (non-zero on any failure). In an image without
# Flux or Swift/T (the python-stack target) their suites skip, each with its reason.
#
#   docker run IMAGE                                   smoke and pair suites
#   docker run IMAGE sdk-smoke -j 1 -x slow            extra `sdk-test run` options
#   docker run -e SDK_DASHBOARD_URL=https://… -e SDK_DASHBOARD_TOKEN=… IMAGE
#                                                      ... and upload the run: site "container",
#                                                      variant = the image's tag (SDK_IMAGE_TAG)
#   docker run -it IMAGE bash                          a shell instead
set -eu
export SDK_SITE="${SDK_SITE:-container}"
export SDK_VARIANT="${SDK_VARIANT:-${SDK_IMAGE_TAG:-container}}"
export SDK_RESULTS_DIR="${SDK_RESULTS_DIR:-/tmp/sdk-results}"

set -- sdk-test run -t smoke -t pair "$@"
if [ -n "${SDK_DASHBOARD_URL:-}" ]; then
    if [ -z "${SDK_DASHBOARD_TOKEN:-}" ]; then
        echo "sdk-smoke: SDK_DASHBOARD_URL is set but SDK_DASHBOARD_TOKEN is not; cannot upload" >&2
        exit 2
    fi
    set -- "$@" --upload
fi
echo "sdk-smoke: site $SDK_SITE, variant $SDK_VARIANT: $*" >&2
exec "$@"
