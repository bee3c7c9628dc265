#!/bin/sh
# Usage: runtime-packages.sh PREFIX [PACKAGE...]
#
# Print, sorted and one per line, the OS packages that the programs and libraries installed under
# PREFIX need at run time: the owners (dpkg or rpm) of every shared library they load from outside
# PREFIX, plus the PACKAGEs given (run-time needs ldd cannot see: interpreters, a JDK, lua modules).
# The flux and swift-t stages write this list; the sdk stage installs it next to their trees.
set -eu
prefix=${1:?usage: runtime-packages.sh PREFIX [PACKAGE...]}
shift

owner() {
    if command -v dpkg-query >/dev/null 2>&1; then
        # Merged /usr: a library may be registered under /lib or /usr/lib, or only by its real path.
        for path in "$1" "$(readlink -f "$1")" "/usr$1" "${1#/usr}"; do
            found=$(dpkg-query -S "$path" 2>/dev/null | head -n 1 | cut -d: -f1)
            if [ -n "$found" ]; then echo "$found"; return 0; fi
        done
    else
        rpm -qf --queryformat '%{NAME}\n' "$1" 2>/dev/null && return 0
    fi
    echo "runtime-packages: no package owns $1" >&2
}

{
    find "$prefix" -type f \( -perm -u+x -o -name '*.so*' \) -print0 \
        | xargs -0 -r ldd 2>/dev/null \
        | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' \
        | sort -u \
        | while read -r lib; do
            case "$lib" in "$prefix"/*) continue ;; esac
            owner "$lib"
        done
    for pkg in "$@"; do echo "$pkg"; done
} | grep -v '^$' | sort -u
