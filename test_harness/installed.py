"""What is installed, beyond the components the harness detects: the run's lockfile.

``RunStart.environment["installed"]`` carries it, and ``sdk release check`` copies it into the
release attestation, so that an attested cell says exactly what ran:

* ``pip``: every distribution of the harness's own environment, name → version (a freeze). Read
  from the ``.dist-info`` directory names on ``sys.path``: opening each METADATA costs 0.2 s
  for the SDK's 120 distributions, and the run's record is written before its first suite.
* ``spack``: in an active Spack environment (``$SPACK_ENV``) with ``spack`` on PATH, every
  installed package of it (``spack find --json``), name → version; and ``spack_error`` when
  the command failed.
* ``image``: inside the SDK's image, its tag (``$SDK_IMAGE_TAG``, set by the Dockerfile).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

SPACK_TIMEOUT = 120  # seconds; `spack find` reads the environment's lockfile and database
_DIST_INFO = re.compile(r"^(?P<name>.+?)-(?P<version>[^-]+?)\.(?:dist|egg)-info$")


def normalize_name(name: str) -> str:
    """PEP 503: ``Foo_bar.baz`` → ``foo-bar-baz``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pip_freeze(paths: Iterable[str] = sys.path) -> dict[str, str]:
    """Distribution name (PEP 503 form) → version, the first found on ``paths`` winning as for
    imports."""
    out: dict[str, str] = {}
    for entry in paths:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in sorted(names):
            match = _DIST_INFO.match(name)
            if match:
                out.setdefault(normalize_name(match["name"]), match["version"])
    return dict(sorted(out.items()))


def parse_spack_find(text: str) -> dict[str, str]:
    """``spack find --json`` output (a list of spec dicts) → package name → version. A package
    installed at several versions lists them all, sorted, joined by ``, ``."""
    found: dict[str, set[str]] = {}
    for spec in json.loads(text):
        found.setdefault(spec["name"], set()).add(str(spec["version"]))
    return {name: ", ".join(sorted(versions)) for name, versions in sorted(found.items())}


def spack_find(env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The active Spack environment's installed packages, or why they could not be listed; {}
    outside a Spack environment."""
    environment = env.get("SPACK_ENV")
    spack = shutil.which("spack", path=env.get("PATH"))
    if not environment or spack is None:
        return {}
    command = [spack, "-e", environment, "find", "--json"]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=SPACK_TIMEOUT,
                              stdin=subprocess.DEVNULL, env=dict(env))
        if proc.returncode != 0:
            raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
        return {"spack": parse_spack_find(proc.stdout or "[]")}
    except (OSError, subprocess.TimeoutExpired, RuntimeError, ValueError, KeyError, TypeError) as exc:
        return {"spack_error": f"`{' '.join(command[1:])}` failed: {exc}"}


def installed(env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    out: dict[str, Any] = {"pip": pip_freeze()}
    out.update(spack_find(env))
    if env.get("SDK_IMAGE_TAG"):
        out["image"] = {"tag": env["SDK_IMAGE_TAG"]}
    return out


def start(env: Mapping[str, str] = os.environ) -> Future[dict[str, Any]]:
    """``installed`` in a thread, so that ``spack find`` overlaps component detection."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="installed")
    future = pool.submit(installed, dict(env))
    pool.shutdown(wait=False)
    return future


def spack_versions(components: Mapping[str, str | None], packages: Mapping[str, str],
                   spack_pins: Mapping[str, str]) -> dict[str, str | None]:
    """Fill the versions detection could not read (None) from Spack: ``spack_pins`` maps a
    component to its Spack package."""
    return {name: version if version is not None else packages.get(spack_pins.get(name, ""))
            for name, version in components.items()}

