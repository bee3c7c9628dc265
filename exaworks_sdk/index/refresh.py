"""Refreshing the committed indexes: from a spack-packages checkout, and through pip.

Neither imports Spack nor talks to an index directly: Spack recipes are parsed statically
(``recipes.py``); PyPI versions come from ``pip index versions``, so pip's own
configuration (index URL, proxy, certificates) applies.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from packaging.utils import canonicalize_name

from exaworks_sdk.index.data import PypiIndex, SpackIndex
from exaworks_sdk.index.names import pip_names, spack_names
from exaworks_sdk.index.recipes import BUILTIN, read_recipes
from exaworks_sdk.manifest import Facility, Manifest

Runner = Callable[[list[str]], subprocess.CompletedProcess[str]]
_AVAILABLE = re.compile(r"^Available versions:\s*(.*)$", re.MULTILINE)


class RefreshError(Exception):
    exit_code = 1


def _git(checkout: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(["git", "-C", str(checkout), *args], capture_output=True, text=True,
                                check=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def spack_index(checkout: Path, root: Path, manifest: Manifest, sites: dict[str, Facility]) -> tuple[SpackIndex, list[str]]:
    """The index of every Spack package the SDK names, and a note for each name not found."""
    if not (checkout / BUILTIN / "repo.yaml").is_file():
        raise RefreshError(f"{checkout} is not a spack-packages checkout (no {BUILTIN}/repo.yaml)")
    wanted = sorted({n.package for n in spack_names(root, manifest, sites)})
    source = {"repository": "https://github.com/spack/spack-packages",
              "commit": _git(checkout, "rev-parse", "HEAD"),
              "date": _git(checkout, "log", "-1", "--format=%cI")}
    index = SpackIndex(source)
    missing = []
    for name, recipe, why in read_recipes(checkout, wanted):
        index.packages[name] = recipe
        if why:
            missing.append(why)
    return index, missing


def _pip(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, check=False, timeout=300)


def pip_versions(distribution: str, index_url: str | None = None, run: Runner = _pip) -> list[str] | None:
    """Every release of a distribution, newest first, pre-releases included; None if the index has none."""
    args = ["index", "versions", distribution, "--pre"] + (["--index-url", index_url] if index_url else [])
    result = run(args)
    if match := _AVAILABLE.search(result.stdout):
        return [v.strip() for v in match.group(1).split(",") if v.strip()]
    if "No matching distribution" in result.stderr + result.stdout:
        return None
    raise RefreshError(f"pip index versions {distribution} failed (exit {result.returncode}): "
                       f"{(result.stderr or result.stdout).strip()[-400:]}")


def pypi_index(root: Path, manifest: Manifest, index_url: str | None = None, run: Runner = _pip) -> PypiIndex:
    wanted = sorted({canonicalize_name(n.distribution) for n in pip_names(root, manifest)})
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    index = PypiIndex({"index": index_url, "date": now})
    for dist in wanted:
        index.distributions[dist] = pip_versions(dist, index_url, run)
    return index
