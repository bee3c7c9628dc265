"""The Spack package and environments parse back and carry the manifest's pins."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from exaworks_sdk.manifest import load_manifest, load_sites
from exaworks_sdk.render.spack import package_py

PACKAGE = Path("spack/packages/exaworks-sdk/package.py")


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == name]


def _kw(call: ast.Call, key: str) -> object:
    return next((ast.literal_eval(k.value) for k in call.keywords if k.arg == key), None)


def test_package_is_a_bundle_with_a_version_per_release(repo_root: Path) -> None:
    tree = ast.parse((repo_root / PACKAGE).read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert cls.name == "ExaworksSdk" and [b.id for b in cls.bases] == ["BundlePackage"]  # type: ignore[attr-defined]
    versions = [ast.literal_eval(c.args[0]) for c in _calls(tree, "version")]
    assert load_manifest(repo_root).release.version in versions
    assert _calls(tree, "maintainers")


def test_every_spack_pin_is_a_dependency_of_the_release(repo_root: Path) -> None:
    manifest = load_manifest(repo_root)
    tree = ast.parse((repo_root / PACKAGE).read_text())
    deps = {ast.literal_eval(c.args[0]): _kw(c, "when") for c in _calls(tree, "depends_on")}
    for comp in manifest.components.values():
        for spec in comp.spack.specs if comp.spack else []:
            assert deps[spec] == f"@{manifest.release.version} +{comp.variant}", spec


def test_variants_cover_the_optional_components(repo_root: Path) -> None:
    tree = ast.parse((repo_root / PACKAGE).read_text())
    variants = {ast.literal_eval(c.args[0]) for c in _calls(tree, "variant")}
    assert {"flux", "swift", "rp", "parsl", "psij"} <= variants
    conflicts = {(ast.literal_eval(c.args[0]), _kw(c, "when")) for c in _calls(tree, "conflicts")}
    assert ("+swift", "~mpi") in conflicts


def test_package_renders_frozen_earlier_releases(repo_root: Path) -> None:
    manifest = load_manifest(repo_root)
    release = manifest.release.model_copy(update={"previous_releases": {"2026.05": {"parsl": ["py-parsl@2025.12.01"]}}})
    text = package_py(manifest.model_copy(update={"release": release}))
    tree = ast.parse(text)
    assert "2026.05" in [ast.literal_eval(c.args[0]) for c in _calls(tree, "version")]
    assert ("py-parsl@2025.12.01", "@2026.05 +parsl") in {
        (ast.literal_eval(c.args[0]), _kw(c, "when")) for c in _calls(tree, "depends_on")}


def test_one_environment_per_spack_machine_with_its_externals(repo_root: Path) -> None:
    sites = load_sites(repo_root)
    spack_machines = {f"{f.facility}-{n}": m for f in sites.values() for n, m in f.machines.items()
                      if "spack" in m.variants}
    envs = {p.parent.name for p in (repo_root / "spack/environments").glob("*/spack.yaml")}
    assert envs == set(spack_machines)
    tioga = yaml.safe_load((repo_root / "spack/environments/llnl-tioga/spack.yaml").read_text())["spack"]
    assert tioga["specs"] == [f"exaworks-sdk@{load_manifest(repo_root).release.version}"]
    assert tioga["packages"]["cray-mpich"]["buildable"] is False
    assert tioga["packages"]["cray-mpich"]["externals"][0]["spec"] == "cray-mpich@8.1.29"
    assert tioga["packages"]["all"]["providers"]["mpi"] == ["cray-mpich"]
    assert tioga["concretizer"] == {"unify": True, "reuse": "dependencies"}


def test_environment_pins_the_mpi_provider_when_the_site_builds_it(repo_root: Path) -> None:
    frank = yaml.safe_load((repo_root / "spack/environments/uo-frank/spack.yaml").read_text())["spack"]
    assert frank["packages"]["openmpi"]["externals"][0]["spec"] == "openmpi@4.1.6"
    dane = yaml.safe_load((repo_root / "spack/environments/llnl-dane/spack.yaml").read_text())["spack"]
    assert dane["packages"]["all"]["require"] == ["%gcc@12.1.1"]
