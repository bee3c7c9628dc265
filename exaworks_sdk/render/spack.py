"""The Spack package repository (BundlePackage ``exaworks-sdk``) and one environment per facility machine.

The repository uses Spack's package API v2 layout (Spack 1.0 and newer, with the
builtin repository from spack-packages): ``spack/spack_repo/<namespace>/repo.yaml`` and
``packages/<name_with_underscores>/package.py``. Each environment requires the site's
compiler for the ``c``, ``cxx`` and ``fortran`` virtuals (Spack 1.x), never ``%compiler``
on ``all``: externals have no compiler, and such a requirement rules them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from exaworks_sdk.manifest import Component, Machine, Manifest, all_sites
from exaworks_sdk.render.base import MARKER, Context, template
from exaworks_sdk.render.registry import renderer

REPO_NAMESPACE = "exaworks"
REPO_API = "v2.0"
REPO_ROOT = f"spack/spack_repo/{REPO_NAMESPACE}"
PACKAGE = "exaworks-sdk"
PACKAGE_PY = f"{REPO_ROOT}/packages/{PACKAGE.replace('-', '_')}/package.py"
# Spack's style check allows 99 characters a line, so the header wraps.
PY_HEADER = f"# {MARKER}. Do not edit:\n# change the manifest and run `sdk render`.\n"


@dataclass(frozen=True)
class Dep:
    spec: str
    variant: str | None


def _component_deps(comp: Component) -> list[Dep]:
    if comp.spack is None:
        return []
    return [Dep(spec, comp.variant) for spec in comp.spack.specs]


def releases(manifest: Manifest) -> dict[str, list[Dep]]:
    """Current release first, then frozen earlier ones; each maps to its pinned dependencies."""
    current = [d for c in manifest.components.values() for d in _component_deps(c)]
    result = {manifest.release.version: current}
    for version, frozen in sorted(manifest.release.previous_releases.items(), reverse=True):
        variant_of = {c.name: c.variant for c in manifest.components.values()}
        result[version] = [Dep(s, variant_of.get(name)) for name, specs in frozen.items() for s in specs]
    return result


def variants(manifest: Manifest) -> list[dict[str, str]]:
    described: dict[str, list[str]] = {}
    for comp in manifest.components.values():
        if comp.variant and (comp.spack or comp.providers):
            described.setdefault(comp.variant, []).append(comp.name)
    return [{"name": v, "description": "Include " + ", ".join(names)} for v, names in sorted(described.items())]


def conflicts(manifest: Manifest) -> list[dict[str, str]]:
    """A component whose dependency sits behind another variant needs that variant on."""
    found = set()
    for comp in manifest.components.values():
        for dep in comp.depends_on:
            other = manifest.components[dep].variant
            if comp.variant and other and other != comp.variant:
                found.add((comp.variant, other, f"{comp.name} needs {dep}"))
    return [{"variant": v, "needs": n, "msg": msg} for v, n, msg in sorted(found)]


def python_range(manifest: Manifest) -> str:
    versions = sorted(manifest.release.images.python, key=lambda v: tuple(map(int, v.split("."))))
    return f"{versions[0]}:{versions[-1]}"


def package_py(manifest: Manifest) -> str:
    return PY_HEADER + template("package.py.j2").render(
        release=manifest.release,
        releases=releases(manifest),
        variants=variants(manifest),
        conflicts=conflicts(manifest),
        python_range=python_range(manifest),
        pip_only=[c.name for c in manifest.components.values() if not (c.spack or c.providers)],
    )


def environment(manifest: Manifest, site: str, machine: Machine) -> dict[str, Any]:
    """A Spack environment for one machine, as a plain dict; YAML structure is built, not templated.

    It names no package repository: the SDK's is added to Spack once (``spack repo add``),
    or to the environment after ``spack env create -d DIR spack.yaml``, as the install job
    does. A path relative to the file would be read from the new directory first. The
    site's compiler is an external required for each language; the MPI provider is
    required for the ``mpi`` virtual.
    """
    assert machine.spack is not None
    spack_site = machine.spack
    packages: dict[str, dict[str, Any]] = {}
    if spack_site.target:
        packages["all"] = {"target": [spack_site.target]}
    packages["mpi"] = {"require": [spack_site.mpi_provider]}
    if compiler := spack_site.compiler:
        external = {"spec": compiler.spec, "prefix": compiler.prefix,
                    "extra_attributes": {"compilers": dict(compiler.compilers)}}
        if compiler.modules:
            external["modules"] = list(compiler.modules)
        packages[compiler.package()] = {"externals": [external], "buildable": False}
        for language in compiler.compilers:
            packages[language] = {"require": [compiler.requirement()]}
    for name, externals in sorted(spack_site.externals.items()):
        entries = [{k: v for k, v in e.model_dump().items() if v} for e in externals]
        packages[name] = {"externals": entries}
        if name in spack_site.buildable_false:
            packages[name]["buildable"] = False
    mpi = manifest.components.get("mpi")
    if mpi and spack_site.mpi_provider in mpi.providers and spack_site.mpi_provider not in spack_site.externals:
        provider = mpi.providers[spack_site.mpi_provider]
        packages[spack_site.mpi_provider] = {"require": [f"@{provider.spack.version}"]}
    release = manifest.release
    # Every variant spelled out: a component Spack cannot provide fails concretization
    # instead of being dropped quietly from a default.
    wanted = "".join(f"+{v['name']}" for v in variants(manifest))
    return {
        "spack": {
            "specs": [f"{PACKAGE}@{release.version}{wanted}"],
            "view": True,
            "concretizer": dict(release.spack_concretizer),
            "packages": packages,
            "config": {"install_tree": {"root": "$env/.spack-install"}},
        }
    }


@renderer("spack", outputs=[f"{REPO_ROOT}/repo.yaml", f"{REPO_ROOT}/packages/*/package.py",
                            "spack/environments/*/spack.yaml"])
def render(ctx: Context) -> dict[str, str]:
    repo = {"repo": {"namespace": REPO_NAMESPACE, "api": REPO_API}}
    out = {
        f"{REPO_ROOT}/repo.yaml": yaml.safe_dump(repo, sort_keys=False),
        PACKAGE_PY: package_py(ctx.manifest),
    }
    for site in all_sites(ctx.sites):
        if "spack" in site.machine.variants and site.machine.spack:
            env = environment(ctx.manifest, site.id, site.machine)
            out[f"spack/environments/{site.id}/spack.yaml"] = yaml.safe_dump(env, sort_keys=False)
    return out
