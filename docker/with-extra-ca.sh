#!/bin/sh
# Run a command trusting the image's CA bundle plus the build secret
# "extra_ca" (docker/build.sh --extra-ca FILE), e.g. an intercepting proxy's
# CA. The Dockerfile bind-mounts this script for single RUN steps; the merged
# bundle is a temporary file deleted before the step ends, so neither this
# script nor any CA data ends up in an image layer.
set -eu
secret=/run/secrets/extra_ca
if [ -s "$secret" ]; then
    bundle=$(mktemp)
    trap 'rm -f "$bundle"' EXIT
    cat /etc/ssl/certs/ca-certificates.crt "$secret" >"$bundle" 2>/dev/null \
        || cat "$secret" >"$bundle"
    export PIP_CERT="$bundle" SSL_CERT_FILE="$bundle" \
        REQUESTS_CA_BUNDLE="$bundle" CURL_CA_BUNDLE="$bundle"
fi
"$@"
