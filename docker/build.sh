#!/usr/bin/env bash
# Build (and optionally run) an ExaWorks SDK image from docker/Dockerfile.<os>, which `sdk render`
# generates from components/ together with docker/images.env (the image matrix, sourced below).
#
# Steps, in order:
#   1. ensure_daemon      use $DOCKER_HOST if it answers, else start a private
#                         dockerd whose whole state lives under --state-dir
#   2. ensure_base_image  the OS's base image: already present, `docker pull`
#                         (with a timeout), or, for Debian, built locally with
#                         debootstrap
#   3. build_image        BuildKit build of --target, with the extra CA bundle
#                         passed as a build secret (never stored in a layer)
#   4. run_image          with --run: `docker run --rm <tag> [cmd...]`
#   5. cleanup (trap)     stop the dockerd started in step 1 by its PID and
#                         unmount anything left under the state dir
#
# Run `docker/build.sh --help` for the options. Exit status: that of the
# build, or of the container with --run; 2 for a usage/configuration error.
set -euo pipefail

readonly REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly IMAGE_SOURCE="https://github.com/ExaWorks/SDK"   # label set by the Dockerfile
# The image matrix (generated): SDK_IMAGE_NAME, SDK_RELEASE, SDK_COMBINATIONS, defaults and
# SDK_BASE_IMAGE_<os> / SDK_OS_FAMILY_<os> / SDK_DEFAULT_{MPI,PYTHON}_<os>.
# shellcheck source=images.env
source "$REPO_ROOT/docker/images.env"

# ---------------------------------------------------------------- defaults --
STATE_DIR="${SDK_DOCKER_STATE:-/var/tmp/exaworks-docker}"
TARGET="python-stack"
OS="$SDK_DEFAULT_OS"
MPI=""                                     # default: SDK_DEFAULT_MPI_<os>
PYTHON=""                                  # default: SDK_DEFAULT_PYTHON_<os>
TAG=""
EXTRA_CA="${SDK_EXTRA_CA:-}"
BASE_IMAGE=""                              # default: $SDK_BASE_IMAGE, else SDK_BASE_IMAGE_<os>
DEBIAN_SUITE=""                            # default: $SDK_DEBIAN_SUITE, else the OS id
DEBIAN_MIRROR="${SDK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PULL_TIMEOUT="${SDK_PULL_TIMEOUT:-20}"     # seconds; 0 skips the pull
DAEMON_TIMEOUT="${SDK_DAEMON_TIMEOUT:-60}" # seconds to wait for `docker info`
DO_RUN=0
KEEP_DAEMON=0
STOP_ONLY=0
BUILD_EXTRA=()
RUN_CMD=()

STARTED_DAEMON_PID=""                      # set only if this run started it
CHILD_PID=""                               # docker build/run in progress
BUILD_CLIENT=""                            # docker CLI that speaks BuildKit

usage() {
    cat <<EOF
Usage: docker/build.sh [options] [-- command to run in the image]

  --target NAME      Dockerfile stage to build (default: $TARGET)
  --os OS            docker/Dockerfile.<OS> (default: $SDK_DEFAULT_OS)
  --mpi MPI          MPI flavour (default: the matrix default for the OS)
  --python VERSION   Python version (default: the matrix default for the OS)
                     OS-MPI-PYTHON must be one of: $SDK_COMBINATIONS
  --tag TAG          image tag (default: sdk_image_tag from images.env, i.e. <name>:<release>-<os>-<mpi>-py<python>,
                     with -<target> appended unless the target is sdk)
  --extra-ca FILE    extra CA bundle (PEM) trusted during the build only,
                     e.g. an intercepting proxy's CA (env: SDK_EXTRA_CA)
  --build-arg K=V    passed to docker build (repeatable)
  --no-cache         passed to docker build
  --run              run the image after building: docker run --rm <tag>
                     [command]; the exit status is the container's
  --state-dir DIR    private dockerd state, socket and caches
                     (default: $STATE_DIR, env: SDK_DOCKER_STATE)
  --keep-daemon      leave the private dockerd running on exit; later runs
                     reuse it (DOCKER_HOST=unix://<state-dir>/docker.sock)
  --stop-daemon      stop a private dockerd kept by --keep-daemon, then exit
  -h, --help         this text

Environment: DOCKER_HOST (use that daemon if it answers), SDK_BASE_IMAGE,
SDK_DEBIAN_MIRROR, SDK_PULL_TIMEOUT (0 = never pull), SDK_DAEMON_TIMEOUT.
EOF
}

say() { printf '[build.sh %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { say "error: $*"; exit 2; }

parse_args() {
    while (($#)); do
        case "$1" in
            --target) TARGET="${2:?--target needs a value}"; shift ;;
            --os) OS="${2:?--os needs a value}"; shift ;;
            --mpi) MPI="${2:?--mpi needs a value}"; shift ;;
            --python) PYTHON="${2:?--python needs a value}"; shift ;;
            --tag) TAG="${2:?--tag needs a value}"; shift ;;
            --extra-ca) EXTRA_CA="${2:?--extra-ca needs a file}"; shift ;;
            --build-arg) BUILD_EXTRA+=(--build-arg "${2:?--build-arg needs K=V}"); shift ;;
            --no-cache) BUILD_EXTRA+=(--no-cache) ;;
            --run) DO_RUN=1 ;;
            --state-dir) STATE_DIR="${2:?--state-dir needs a value}"; shift ;;
            --keep-daemon) KEEP_DAEMON=1 ;;
            --stop-daemon) STOP_ONLY=1 ;;
            -h|--help) usage; exit 0 ;;
            --) shift; RUN_CMD=("$@"); break ;;
            *) usage >&2; die "unknown option: $1" ;;
        esac
        shift
    done
    local mpi_var="SDK_DEFAULT_MPI_$OS" py_var="SDK_DEFAULT_PYTHON_$OS" base_var="SDK_BASE_IMAGE_$OS"
    [[ -f "$REPO_ROOT/docker/Dockerfile.$OS" && -n "${!base_var:-}" ]] \
        || die "no image for OS '$OS' (docker/Dockerfile.<os> for: $(sed -n 's/^SDK_BASE_IMAGE_//p' "$REPO_ROOT/docker/images.env" | cut -d= -f1 | tr '\n' ' '))"
    MPI="${MPI:-${!mpi_var}}"
    PYTHON="${PYTHON:-${!py_var}}"
    [[ " $SDK_COMBINATIONS " == *" $OS-$MPI-$PYTHON "* ]] \
        || die "$OS-$MPI-$PYTHON is not in the image matrix: $SDK_COMBINATIONS"
    BASE_IMAGE="${SDK_BASE_IMAGE:-${!base_var}}"
    local family_var="SDK_OS_FAMILY_$OS"
    OS_FAMILY="${!family_var}"
    DEBIAN_SUITE="${SDK_DEBIAN_SUITE:-$OS}"
    [[ -n "$TAG" ]] || TAG="$(sdk_image_tag "$OS" "$MPI" "$PYTHON" "$TARGET")" \
        || die "--target $TARGET has no image tag of its own; give --tag"
    if [[ -n "$EXTRA_CA" && ! -r "$EXTRA_CA" ]]; then
        die "extra CA bundle not readable: $EXTRA_CA"
    fi
    if ((${#RUN_CMD[@]})) && ((!DO_RUN)); then
        die "a command after -- needs --run"
    fi
}

# ------------------------------------------------------------------ daemon --
# Private daemon layout: everything under $STATE_DIR, nothing in the host's
# default /var/lib/docker, /var/run/docker*, docker0 or iptables.
sock_path() { echo "$STATE_DIR/docker.sock"; }
pid_file() { echo "$STATE_DIR/dockerd.pid"; }

daemon_answers() { timeout 10 docker info >/dev/null 2>&1; }

ensure_daemon() {
    if [[ -n "${DOCKER_HOST:-}" ]] && daemon_answers; then
        say "using the daemon at DOCKER_HOST=$DOCKER_HOST"
        return
    fi
    export DOCKER_HOST="unix://$(sock_path)"
    if daemon_answers; then
        say "reusing the private dockerd at $DOCKER_HOST (kept by an earlier --keep-daemon)"
        return
    fi
    start_daemon
}

start_daemon() {
    [[ $EUID -eq 0 ]] || die "starting a private dockerd needs root (or set DOCKER_HOST)"
    command -v dockerd >/dev/null || die "dockerd not found (apt-get install docker.io)"
    mkdir -p "$STATE_DIR"
    local log="$STATE_DIR/dockerd.log"
    say "starting a private dockerd (state in $STATE_DIR, log in $log)"
    # Networking: no bridge, no iptables rules, no ip_forward change. Builds
    # and runs use the host network, so there is nothing to tear down later
    # and no clash with another dockerd's docker0 on the same machine.
    # setsid: its own session, so a Ctrl-C meant for the build does not also
    # hit dockerd (matters with --keep-daemon); cleanup stops it by PID.
    setsid dockerd \
        --data-root "$STATE_DIR/data" \
        --exec-root "$STATE_DIR/exec" \
        --pidfile "$(pid_file)" \
        --host "unix://$(sock_path)" \
        --bridge none --iptables=false --ip-masq=false --ip-forward=false \
        >>"$log" 2>&1 &
    STARTED_DAEMON_PID=$!

    local waited=0
    until daemon_answers; do
        if ! kill -0 "$STARTED_DAEMON_PID" 2>/dev/null; then
            tail -n 20 "$log" >&2
            STARTED_DAEMON_PID=""
            die "dockerd exited during start-up (see $log)"
        fi
        ((waited++ < DAEMON_TIMEOUT)) || die "dockerd did not answer within ${DAEMON_TIMEOUT}s (see $log)"
        sleep 1
    done
    say "dockerd $STARTED_DAEMON_PID is up after ~${waited}s: $(docker version --format '{{.Server.Version}}')"
}

# Stop dockerd by PID, then anything it left behind under $STATE_DIR.
stop_daemon() {
    local pid="$1"
    say "stopping dockerd $pid"
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 30; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "dockerd $pid still running after 30s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    reap_leftovers
}

# containerd and its shims are dockerd's children and normally exit with it;
# this only catches the ones a crash or SIGKILL left behind. They are found
# by the state dir in their command line and stopped one PID at a time.
reap_leftovers() {
    local pid
    for pid in $(pgrep -f -- "$STATE_DIR/(exec|data)" || true); do
        say "stopping leftover process $pid: $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-100)"
        kill -TERM "$pid" 2>/dev/null || true
    done
    local mnt
    # Deepest first, so nested mounts (overlay, netns, shm) come off cleanly.
    while read -r mnt; do
        [[ -n "$mnt" ]] || continue
        say "unmounting $mnt"
        umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
    done < <(awk -v d="$STATE_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}

stop_kept_daemon() {
    local pid
    pid="$(cat "$(pid_file)" 2>/dev/null || true)"
    if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
        say "no private dockerd running for $STATE_DIR"
        reap_leftovers
        return
    fi
    stop_daemon "$pid"
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n "$CHILD_PID" ]] && kill -0 "$CHILD_PID" 2>/dev/null; then
        say "interrupted; stopping docker client $CHILD_PID"
        kill -TERM "$CHILD_PID" 2>/dev/null || true
        wait "$CHILD_PID" 2>/dev/null || true
    fi
    if [[ -n "$STARTED_DAEMON_PID" ]]; then
        if ((KEEP_DAEMON)); then
            say "keeping dockerd $STARTED_DAEMON_PID: export DOCKER_HOST=$DOCKER_HOST; stop it with: $0 --state-dir $STATE_DIR --stop-daemon"
        else
            stop_daemon "$STARTED_DAEMON_PID"
        fi
    fi
    exit "$rc"
}

# Run a long docker command in the background and wait for it: bash runs a
# trap only between commands, so this lets SIGTERM/SIGINT reach cleanup at
# once instead of after the build. Its stdin is /dev/null (no `docker run -i`).
run_child() {
    "$@" &
    CHILD_PID=$!
    local rc=0
    wait "$CHILD_PID" || rc=$?
    CHILD_PID=""
    return "$rc"
}

# -------------------------------------------------------------- base image --
ensure_base_image() {
    if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        local labels
        labels="$(docker image inspect --format '{{json .Config.Labels}}' "$BASE_IMAGE")"
        if [[ "$labels" != *'"org.exaworks.sdk.base.source":"debootstrap"'* \
              || "$labels" == *'"org.exaworks.sdk.base.variant":"slim"'* ]]; then
            say "base image $BASE_IMAGE: present"
            return
        fi
        say "base image $BASE_IMAGE: an earlier debootstrap import without the slim trimming; importing again"
        import_debootstrap_image
        return
    fi
    if ((PULL_TIMEOUT > 0)); then
        say "base image $BASE_IMAGE: trying docker pull (timeout ${PULL_TIMEOUT}s)"
        if timeout "$PULL_TIMEOUT" docker pull --quiet "$BASE_IMAGE" >&2; then
            return
        fi
        say "pull failed"
    fi
    [[ "$OS_FAMILY" == debian ]] \
        || die "cannot get $BASE_IMAGE: pull it, or load it with docker load (only Debian has a debootstrap fallback)"
    say "building $BASE_IMAGE with debootstrap instead"
    import_debootstrap_image
}

# debootstrap a minbase $DEBIAN_SUITE, cache it as a tarball under
# $STATE_DIR/cache (so a wiped data-root re-imports in seconds) and import it.
import_debootstrap_image() {
    local arch tarball
    arch="$(dpkg --print-architecture)"
    # "slim": the minbase tree trimmed as the official slim image is (slim_rootfs); an older
    # cached tarball, without that trimming, is not reused.
    tarball="$STATE_DIR/cache/debian-$DEBIAN_SUITE-slim-$arch.tar"
    if [[ ! -s "$tarball" ]]; then
        command -v debootstrap >/dev/null || die "debootstrap not found (apt-get install debootstrap)"
        [[ $EUID -eq 0 ]] || die "debootstrap needs root"
        local rootfs="$STATE_DIR/cache/rootfs-$DEBIAN_SUITE"
        rm -rf "$rootfs"
        mkdir -p "$rootfs"
        say "debootstrap --variant=minbase $DEBIAN_SUITE from $DEBIAN_MIRROR (a few minutes)"
        debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" \
            >"$STATE_DIR/cache/debootstrap.log" 2>&1 \
            || { tail -n 20 "$STATE_DIR/cache/debootstrap.log" >&2; die "debootstrap failed"; }
        slim_rootfs "$rootfs"
        tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
        mv "$tarball.tmp" "$tarball"
        rm -rf "$rootfs"
    fi
    say "importing $tarball as $BASE_IMAGE"
    docker import \
        --change 'CMD ["bash"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change "LABEL org.exaworks.sdk.base.source=debootstrap org.exaworks.sdk.base.variant=slim org.exaworks.sdk.base.mirror=$DEBIAN_MIRROR" \
        "$tarball" "$BASE_IMAGE" >/dev/null
}

# Make the debootstrap tree look like the official slim image: deb822
# sources with updates and security, no host files or apt caches, and the
# slim variant's trimming (debuerreotype's slimify and minimizing config):
# no documentation, manual pages, info pages or translations, now or in
# packages installed later (dpkg path excludes, copyright files kept), and
# apt deleting downloaded packages after each install.
slim_rootfs() {
    local root="$1"
    cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# The "slim" variant of the Debian base image: files that containers do not
# need are left out, and this keeps them out of packages installed later.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*
EOF
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
    find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
    rm -rf "$root"/usr/share/{groff,info,linda,man}/* "$root"/usr/share/lintian/overrides/*
    cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
    rm -f "$root/etc/apt/sources.list"
    cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: ${DEBIAN_MIRROR}
Suites: ${DEBIAN_SUITE} ${DEBIAN_SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${DEBIAN_MIRROR%/debian}/debian-security
Suites: ${DEBIAN_SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/log/*.log
    : >"$root/etc/resolv.conf"
    : >"$root/etc/hostname"
}

# ------------------------------------------------------------------- build --
# BuildKit is needed for the secret mount. Docker >= 23 CLIs do it through the
# buildx plugin; older CLIs (Debian's docker.io 20.10) have it built in.
pick_build_client() {
    local c major
    for c in "${SDK_DOCKER_CLIENT:-}" docker /usr/bin/docker; do
        [[ -n "$c" ]] && command -v "$c" >/dev/null || continue
        if "$c" buildx version >/dev/null 2>&1; then
            BUILD_CLIENT="$c"; return
        fi
        major="$("$c" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1)"
        if [[ "$major" =~ ^[0-9]+$ ]] && ((major < 23)); then
            BUILD_CLIENT="$c"; return
        fi
    done
    die "no BuildKit-capable docker client: install the buildx plugin, or a docker CLI < 23 (set SDK_DOCKER_CLIENT)"
}

build_image() {
    pick_build_client
    local revision
    revision="${SDK_REVISION:-$(git -C "$REPO_ROOT" rev-parse HEAD 2>/dev/null || echo unknown)}"
    local args=(
        build "$REPO_ROOT"
        --file "$REPO_ROOT/docker/Dockerfile.$OS"
        --target "$TARGET"
        --tag "$TAG"
        --network host
        --build-arg "BASE_IMAGE=$BASE_IMAGE"
        --build-arg "MPI=$MPI"
        --build-arg "PYTHON_VERSION=$PYTHON"
        --build-arg "SDK_REVISION=$revision"
        --build-arg "IMAGE_TAG=$TAG"
    )
    if [[ -n "$EXTRA_CA" ]]; then
        args+=(--secret "id=extra_ca,src=$(realpath "$EXTRA_CA")")
        say "extra CA bundle $EXTRA_CA is passed as build secret 'extra_ca'"
    fi
    args+=("${BUILD_EXTRA[@]}")
    say "building target $TARGET of docker/Dockerfile.$OS (MPI=$MPI, Python $PYTHON) as $TAG with $BUILD_CLIENT (BuildKit)"
    local start=$SECONDS
    export DOCKER_BUILDKIT=1
    run_child "$BUILD_CLIENT" "${args[@]}"
    say "built $TAG in $((SECONDS - start))s; size $(docker image inspect --format '{{.Size}}' "$TAG" | numfmt --to=si)B"
    # A new commit changes only the revision label, but leaves the previous
    # image untagged; drop such leftovers of this Dockerfile, nothing else.
    docker image prune --force --filter "label=org.opencontainers.image.source=$IMAGE_SOURCE" >/dev/null
}

run_image() {
    say "running $TAG ${RUN_CMD[*]}"
    local rc=0
    run_child docker run --rm --network host "$TAG" "${RUN_CMD[@]}" || rc=$?
    say "container exited with status $rc"
    return "$rc"
}

main() {
    parse_args "$@"
    if ((STOP_ONLY)); then
        stop_kept_daemon
        return
    fi
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    ensure_daemon
    ensure_base_image
    build_image
    if ((DO_RUN)); then
        run_image
    fi
}

main "$@"
