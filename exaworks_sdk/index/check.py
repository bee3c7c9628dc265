"""Pins checked against the committed package indexes, without Spack and without a network.

Every problem names the file, field and line, the component (or machine) and, for an
unknown version, the nearest versions the index does know.
"""

from __future__ import annotations

import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from exaworks_sdk.index.data import PYPI_INDEX, SPACK_INDEX, PypiIndex, SpackIndex
from exaworks_sdk.index.names import PipName, SpackName, pip_names, spack_names
from exaworks_sdk.index.recipes import Recipe
from exaworks_sdk.manifest import Facility, Manifest, Problem
from exaworks_sdk.manifest.loader import problem_in

_VARIANT = re.compile(r"^(?P<sign>[+~]{1,2})(?P<name>[\w-]+)$|^(?P<key>[\w-]+):?==?(?P<value>.+)$")


def _key(version: str) -> tuple[int, tuple[int | str, ...]]:
    """Spack-like order: named branches (develop, main, master) above every release."""
    parts = tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\-_]", version))
    return (0 if version[:1].isdigit() else 1, parts)


def known(version: str, versions: list[str]) -> bool:
    """Spack's ``@1.6`` is a range: it matches 1.6 and every 1.6.x."""
    return any(v == version or v.startswith(version + ".") for v in versions)


def nearest(version: str, versions: list[str]) -> str:
    """The known releases just below and just above ``version``."""
    releases = sorted((v for v in versions if v[:1].isdigit()), key=_key)
    below = [v for v in releases if _key(v) < _key(version)]
    above = [v for v in releases if _key(v) > _key(version)]
    parts = [f"{below[-1]} below" if below else "none below", f"{above[0]} above" if above else "none above"]
    return ", ".join(parts)


def _variant_problem(token: str, package: str, recipe: Recipe) -> str | None:
    match = _VARIANT.match(token)
    if not match:
        return f"{token!r} is not a variant setting"
    name = match.group("name") or match.group("key")
    if name not in recipe.variants:
        have = ", ".join(sorted(recipe.variants)) or "none"
        return f"{package} has no variant {name!r} (it has: {have})"
    values = recipe.variants[name]
    if match.group("sign") and values != "bool":
        return f"{token!r}: {package}'s {name!r} is not a boolean variant (values: {_show(values)})"
    if match.group("value") is not None and isinstance(values, list):
        wanted = [v.strip() for v in match.group("value").strip("'\"").split(",")]
        bad = [v for v in wanted if v not in values]
        if bad:
            return f"{token!r}: {', '.join(bad)} not among {package}'s {name!r} values ({_show(values)})"
    return None


def _show(values: object) -> str:
    return ", ".join(values) if isinstance(values, list) else str(values)


def spack_problems(index: SpackIndex, names: list[SpackName]) -> list[Problem]:
    problems = []
    where = f"Spack's builtin repo ({index.describe()})"
    for n in names:
        if n.package not in index.packages:
            message = f"{n.package} is not in {SPACK_INDEX}; refresh it: sdk spack-index --from <spack-packages>"
        elif (recipe := index.packages[n.package]) is None:
            message = f"{n.owner}: there is no package {n.package!r} in {where}"
        elif n.version and not known(n.version, recipe.versions):
            message = (f"{n.owner}: {n.package}@{n.version} is not a version in {where}; "
                       f"nearest: {nearest(n.version, recipe.versions)}")
        elif n.version and any(v == n.version for v in recipe.deprecated):
            message = (f"{n.owner}: {n.package}@{n.version} is deprecated in {where}; "
                       "Spack will not concretize it unless config:deprecated is true")
        else:
            found = [m for m in (_variant_problem(t, n.package, recipe) for t in n.variants) if m]
            if not found:
                continue
            message = f"{n.owner}: " + "; ".join(found) + f" in {where}"
        problems.append(problem_in(n.file, n.loc, message))
    return problems


def _parse(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


def pypi_problems(index: PypiIndex, names: list[PipName]) -> list[Problem]:
    problems = []
    for n in names:
        dist = canonicalize_name(n.distribution)
        if dist not in index.distributions:
            problems.append(problem_in(n.file, n.loc, f"{n.distribution} is not in {PYPI_INDEX}; "
                                                      "refresh it: sdk pypi-index"))
            continue
        versions = index.distributions[dist] or []
        spec = Requirement(n.requirement).specifier
        if any(spec.contains(v, prereleases=True) for v in versions if _parse(v)):
            continue
        if n.pinned:
            pinned = n.requirement.split("==", 1)[1]
            message = (f"{n.owner}: {n.requirement} is not a release on the package index "
                       f"({index.describe()}); nearest: {nearest(pinned, versions)}")
        else:
            message = f"{n.owner}: no release on the package index satisfies {n.requirement!r} ({index.describe()})"
        problems.append(problem_in(n.file, n.loc, message))
    return problems


def check_channels(root: Path, manifest: Manifest, sites: dict[str, Facility]) -> tuple[list[Problem], list[str]]:
    """Problems, and one line per index saying what was checked against what."""
    problems: list[Problem] = []
    notes: list[str] = []
    spack_path, pypi_path = root / SPACK_INDEX, root / PYPI_INDEX
    if spack_path.is_file():
        spack_index = SpackIndex.load(spack_path)
        names = spack_names(root, manifest, sites)
        problems += spack_problems(spack_index, names)
        notes.append(f"{len(names)} Spack names checked against {spack_index.describe()}")
    else:
        problems.append(Problem(spack_path, "", "missing; create it: sdk spack-index --from <spack-packages>"))
    if pypi_path.is_file():
        pypi_index = PypiIndex.load(pypi_path)
        pnames = pip_names(root, manifest)
        problems += pypi_problems(pypi_index, pnames)
        notes.append(f"{len(pnames)} PyPI pins and constraints checked against {pypi_index.describe()}")
    else:
        notes.append(f"PyPI pins not checked: no {PYPI_INDEX} (create it where an index is reachable: "
                     "sdk pypi-index)")
    return problems, notes
