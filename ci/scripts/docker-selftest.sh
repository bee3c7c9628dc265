#!/usr/bin/env bash
# The image tests itself, here: build the python-stack target of the default image (from
# docker/images.env: Debian bookworm + MPICH + Python 3.11) with docker/build.sh, run its default
# command (the harness's smoke and pair suites must end as the image's `sdk-test list --json`
# expects; Flux and Swift/T are not in this target, so their suites and the pairs must skip with
# reasons), check that the tag tells the truth (tests/docker, marked `docker`), record image sizes
# per target, the base image and the payload (bench/image_payload.py) in
# $SDK_DOCKER_STATE/sizes.json, print the image against its floor (bench/image_size.py), and stop
# the daemon if it started one.
#
# Env: SDK_DOCKER_STATE (default /var/tmp/exaworks-docker), SDK_EXTRA_CA (default: the host's CA
# bundle, so an intercepting proxy's CA is trusted during the build), SDK_SELFTEST_{OS,MPI,PYTHON}.
# Cached re-runs take seconds; a fresh machine about 12 minutes (most of it the mpi4py compile).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../../docker/images.env
source docker/images.env

STATE="${SDK_DOCKER_STATE:-/var/tmp/exaworks-docker}"
OS="${SDK_SELFTEST_OS:-$SDK_DEFAULT_OS}"
MPI="${SDK_SELFTEST_MPI:-$SDK_DEFAULT_MPI}"
PY="${SDK_SELFTEST_PYTHON:-$SDK_DEFAULT_PYTHON}"
TAG="$(sdk_image_tag "$OS" "$MPI" "$PY" python-stack)"
# Stages below python-stack are built only to be measured; they get a local name, not a product tag.
size_tag() { echo "exaworks-sdk-size/$1:$OS-$MPI-$PY"; }
# Sizes are measured for these targets; all but python-stack come from its cache in seconds.
SIZE_TARGETS=(base build-base python-env python-stack)
if [[ -z "${SDK_EXTRA_CA:-}" && -r /etc/ssl/certs/ca-certificates.crt ]]; then
    export SDK_EXTRA_CA=/etc/ssl/certs/ca-certificates.crt
fi

say() { printf '[docker-selftest %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# One private dockerd for all the steps: build.sh starts it (--keep-daemon) unless one answers
# already; only a daemon this script started is stopped at the end.
export SDK_DOCKER_STATE="$STATE"
if [[ -n "${DOCKER_HOST:-}" ]] && timeout 10 docker info >/dev/null 2>&1; then
    OWN_DAEMON=0
else
    export DOCKER_HOST="unix://$STATE/docker.sock"
    if timeout 10 docker info >/dev/null 2>&1; then OWN_DAEMON=0; else OWN_DAEMON=1; fi
fi
stop_daemon() {
    local rc=$?
    if ((OWN_DAEMON)); then bash docker/build.sh --state-dir "$STATE" --stop-daemon || true; fi
    exit "$rc"
}
trap stop_daemon EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

build() {  # build TARGET TAG: prints the seconds taken
    local start=$SECONDS
    bash docker/build.sh --keep-daemon --state-dir "$STATE" --os "$OS" --mpi "$MPI" --python "$PY" \
        --target "$1" --tag "$2" >&2
    echo $((SECONDS - start))
}

say "building $TAG"
declare -A SECS
SECS[python-stack]="$(build python-stack "$TAG")"
say "python-stack built in ${SECS[python-stack]}s"
for target in "${SIZE_TARGETS[@]}"; do
    [[ "$target" == python-stack ]] || SECS[$target]="$(build "$target" "$(size_tag "$target")")"
done

say "docker run $TAG (the default command: smoke suites)"
# The records go to a host directory, so the suites' statuses can be read after the run.
results="$STATE/selftest-results"
rm -rf "$results" && mkdir -p "$results"
rc=0
docker run --rm --network host -v "$results:/tmp/sdk-results" "$TAG" || rc=$?
if ((rc != 0)); then
    say "FAIL: the smoke run exited with $rc (records in $results)"
    exit 1
fi
# What the image says it can run (its own `sdk-test list --json`), checked against the records:
# every suite ends as the image expected, and in python-stack, which has neither Flux nor
# Swift/T, every suite that needs them (flux, swift-t and the integration pairs) skips with its
# reason. The second list comes from the manifest: components built in the flux/swift-t stages.
docker run --rm "$TAG" sdk-test list --json -t smoke -t pair > "$results/suites.json"
.venv/bin/python - "$results" <<'PY'
import json, pathlib, sys
from exaworks_sdk.manifest import load_manifest
from exaworks_sdk.status import worst
results = pathlib.Path(sys.argv[1])
listed = json.loads((results / "suites.json").read_text())
records = [json.loads(line) for f in results.glob("*.jsonl") for line in f.read_text().splitlines() if line]
not_in_target = {n for n, c in load_manifest().components.items() if c.image.stage in ("flux", "swift-t")}
problems = []
for suite in listed:
    rows = [r for r in records if r.get("type") == "test_result" and r.get("suite") == suite["name"]]
    got = worst(r["status"] for r in rows) if rows else "nothing"
    if got != suite["expect"] or (got == "skipped" and not all(r.get("message") for r in rows)):
        problems.append(f"suite {suite['name']}: expected {suite['expect']}, records say {got}")
    if set(suite["requires"]) & not_in_target and suite["expect"] != "skipped":
        problems.append(f"suite {suite['name']} needs {sorted(set(suite['requires']) & not_in_target)}, "
                        "which python-stack does not have, yet the image expects it to run")
    print(f"  {suite['name']:<16} {got:<8} {(suite['reason'] or '').splitlines()[0] if suite['reason'] else ''}")
if problems:
    sys.exit("FAIL: " + "; ".join(problems))
PY
say "smoke and pair suites as the image expected; those needing Flux or Swift/T skipped"

say "checking the tag against the image (tests/docker)"
SDK_DOCKER_IMAGE="$TAG" .venv/bin/python -m pytest tests/docker -m docker -q -p no:cacheprovider

say "image sizes"
args=()
for target in "${SIZE_TARGETS[@]}"; do
    t="$(size_tag "$target")"
    [[ "$target" == python-stack ]] && t="$TAG"
    args+=("$target" "$t" "$(docker image inspect --format '{{.Size}}' "$t")" "${SECS[$target]}")
done
# The floor the image is measured against (bench/image_size.py): the base image (a minbase
# debootstrap, as debian:bookworm-slim is) plus the payload, measured inside the image by
# bench/image_payload.py: the venv /opt/sdk and the OS packages it and the MPI launcher need
# at run time. Debian family only (the script reads dpkg's database).
base_var="SDK_BASE_IMAGE_$OS"
base_ref="${SDK_BASE_IMAGE:-${!base_var}}"
floor="$results/floor.json"
if docker run --rm "$TAG" sh -c 'command -v dpkg-query' >/dev/null; then
    docker run -i --rm "$TAG" python3 - < bench/image_payload.py > "$results/payload.json"
    docker run --rm "$base_ref" dpkg-query -W -f '${Package}\n' > "$results/base-packages.txt"
    .venv/bin/python - "$base_ref" "$(docker image inspect --format '{{.Size}}' "$base_ref")" \
        "$results/payload.json" "$results/base-packages.txt" > "$floor" <<'PY'
import json, pathlib, sys
ref, size, payload, packages = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3]), pathlib.Path(sys.argv[4])
print(json.dumps({"base_image": {"ref": ref, "bytes": size, "packages": packages.read_text().split()},
                  "payload": json.loads(payload.read_text())}))
PY
else
    echo '{}' > "$floor"
fi
.venv/bin/python - "$STATE/sizes.json" "$OS-$MPI-$PY" "$floor" "${args[@]}" <<'PY'
import json, sys, time
path, combo, floor, rest = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3])), sys.argv[4:]
targets = {rest[i]: {"tag": rest[i + 1], "bytes": int(rest[i + 2]), "build_seconds": int(rest[i + 3])}
           for i in range(0, len(rest), 4)}
run = {"combination": combo, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "targets": targets,
       **floor}
# Top level: this run (what bench/image_size.py reads). "combinations" keeps the latest run of
# every combination measured here, so selftests of several (SDK_SELFTEST_MPI=openmpi) add up.
try:
    with open(path) as f:
        combinations = json.load(f).get("combinations", {})
except (OSError, ValueError, AttributeError):
    combinations = {}
combinations[combo] = run
with open(path, "w") as f:
    json.dump({**run, "combinations": combinations}, f, indent=2, sort_keys=True)
for name, t in targets.items():
    print(f"  {name:<14} {t['bytes'] / 1e6:8.0f} MB  (build {t['build_seconds']}s)  {t['tag']}")
print(f"  written to {path}")
PY
.venv/bin/python -m bench.image_size --sizes "$STATE/sizes.json" --brief
say "ok"
