"""What a Debian-family image carries for the payload's sake; run inside the image, standard library only.

    docker run -i --rm IMAGE python3 - < bench/image_payload.py

``ci/scripts/docker-selftest.sh`` runs it and stores the JSON it prints in ``sizes.json``;
``bench/image_size.py`` turns it into the image's floor. The payload is the venv ``/opt/sdk``
and what it needs at run time from the OS: the dependency closure (Depends and Pre-Depends,
first installed alternative) of

- the OS's Python run time: the package named after the venv's interpreter (``python3.11``),
  and the package that owns the interpreter itself;
- every package that owns a shared library which an ELF file in the venv, or the MPI launcher
  (``mpiexec``), loads (``ldd``), and the package that owns the launcher.

A package's size is what it has on disk here: the files its dpkg file list names that exist (a
slim image leaves documentation out, whatever ``Installed-Size`` says), plus the bytecode its
maintainer scripts compiled next to its ``.py`` files (the Python standard library's). Printed:
the venv's bytes, every installed package's bytes, the roots and the run-time closure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

VENV = Path(sys.argv[1] if len(sys.argv) > 1 else "/opt/sdk")
ELF = b"\x7fELF"


def _tree_bytes(root: Path) -> int:
    total = 0
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.lstat().st_size
    return total


def _packages() -> dict[str, dict[str, object]]:
    fmt = "${Package}\t${Provides}\t${Pre-Depends}\t${Depends}\t${db:Status-Abbrev}\n"
    out = subprocess.run(["dpkg-query", "-W", "-f", fmt], capture_output=True, text=True, check=True).stdout
    found: dict[str, dict[str, object]] = {}
    for line in out.splitlines():
        name, provides, pre, depends, status = (line.split("\t") + [""] * 5)[:5]
        if status.startswith("ii"):
            found[name] = {"bytes": _bytes_on_disk(name), "provides": _names(provides), "depends": f"{pre}, {depends}"}
    return found


def _bytes_on_disk(package: str) -> int:
    """The package's files as they are here (dpkg's file list), and the bytecode compiled beside its .py files."""
    info = Path("/var/lib/dpkg/info")
    lists = [info / f"{package}.list", *info.glob(f"{package}:*.list")]
    total = 0
    for listed in (p for p in lists if p.exists()):
        for name in listed.read_text(errors="replace").splitlines():
            path = Path(name)
            if path.is_file() and not path.is_symlink():
                total += path.lstat().st_size
                if path.suffix == ".py":
                    cache = path.parent / "__pycache__"
                    total += sum(c.lstat().st_size for c in cache.glob(f"{path.stem}.*.pyc")) if cache.is_dir() else 0
    return total


def _names(field: str) -> list[str]:
    return [re.split(r"[\s(:]", alt.strip(), maxsplit=1)[0] for alt in field.split(",") if alt.strip()]


def _owners(paths: set[str]) -> set[str]:
    """Packages owning these files (dpkg -S), also by their path without /usr (merged /usr)."""
    candidates = sorted({c for p in paths for c in (p, re.sub(r"^/usr(?=/(lib|bin|sbin)/)", "", p))})
    out = subprocess.run(["dpkg-query", "-S", *candidates], capture_output=True, text=True).stdout
    owners: set[str] = set()
    for line in out.splitlines():
        if ": " in line:
            owners.update(p.split(":")[0].strip() for p in line.split(": ", 1)[0].split(","))
    return owners


def _elf_files(root: Path) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and (path.suffix == ".so" or ".so." in path.name
                                                         or os.access(path, os.X_OK)):
            with path.open("rb") as fh:
                if fh.read(4) == ELF:
                    found.append(path)
    return found


def _loaded_libraries(files: list[Path]) -> set[str]:
    libraries: set[str] = set()
    for path in files:
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True).stdout
        libraries.update(m.group(1) for m in re.finditer(r"=>\s+(/\S+)", out))
        libraries.update(m.group(1) for m in re.finditer(r"^\s+(/\S+)\s+\(", out, re.MULTILINE))
    return {os.path.realpath(lib) for lib in libraries}


def _closure(roots: set[str], packages: dict[str, dict[str, object]]) -> set[str]:
    providers: dict[str, list[str]] = {}
    for name, info in packages.items():
        for virtual in [name, *info["provides"]]:  # type: ignore[misc]
            providers.setdefault(virtual, []).append(name)
    seen: set[str] = set()
    todo = [r for r in roots if r in packages]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for group in str(packages[name]["depends"]).split(","):
            for alternative in _names(group.replace("|", ",")):
                if alternative in providers:
                    todo.extend(providers[alternative])
                    break
    return seen


def main() -> None:
    packages = _packages()
    interpreter = os.path.realpath(VENV / "bin" / "python")
    launcher = shutil.which("mpiexec")
    executables = [Path(os.path.realpath(launcher))] if launcher else []
    files = _elf_files(VENV) + executables + [Path(interpreter)]
    roots = _owners(_loaded_libraries(files) | {interpreter, *(str(p) for p in executables)})
    roots |= {Path(interpreter).name} & packages.keys()  # python3.11: the interpreter and its stdlib
    runtime = _closure(roots, packages)
    print(json.dumps({
        "venv_bytes": _tree_bytes(VENV), "interpreter": interpreter, "launcher": launcher,
        "roots": sorted(roots), "runtime_packages": sorted(runtime),
        "package_bytes": {name: info["bytes"] for name, info in sorted(packages.items())},
    }))


if __name__ == "__main__":
    main()
