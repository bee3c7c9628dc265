"""The Spack package and environments parse back, carry the manifest's pins and use Spack 1.x idioms."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from exaworks_sdk.manifest import load_manifest, load_sites
from exaworks_sdk.render.spack import PACKAGE_PY, REPO_ROOT, package_py

ENVS = Path("spack/environments")


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == name]


def _kw(call: ast.Call, key: str) -> object:
    return next((ast.literal_eval(k.value) for k in call.keywords if k.arg == key), None)


def _dependencies(tree: ast.AST) -> dict[str, tuple[tuple[str, ...], object, object]]:
    """depends_on spec → (enclosing ``with when(...)`` conditions, its own when=, its effective type=)."""
    found: dict[str, tuple[tuple[str, ...], object, object]] = {}

    def visit(node: ast.AST, whens: tuple[str, ...], dtype: object) -> None:
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "when":
                    whens = (*whens, ast.literal_eval(call.args[0]))
                elif isinstance(call, ast.Call) and getattr(call.func, "id", None) == "default_args":
                    dtype = _kw(call, "type")
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
                getattr(node.value.func, "id", None) == "depends_on":
            call = node.value
            found[ast.literal_eval(call.args[0])] = (whens, _kw(call, "when"), _kw(call, "type") or dtype)
        for child in ast.iter_child_nodes(node):
            visit(child, whens, dtype)

    visit(tree, (), None)
    return found


def test_repository_uses_the_package_api_v2_layout(repo_root: Path) -> None:
    repo = yaml.safe_load((repo_root / REPO_ROOT / "repo.yaml").read_text())["repo"]
    assert repo["namespace"] == "exaworks" and repo["api"].startswith("v2.")
    assert PACKAGE_PY == "spack/spack_repo/exaworks/packages/exaworks_sdk/package.py"
    assert not (repo_root / "spack/repo.yaml").exists() and not list(repo_root.glob("spack/packages/*/package.py"))
    tree = ast.parse((repo_root / PACKAGE_PY).read_text())
    imports = {(n.module, a.name) for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names}
    assert ("spack_repo.builtin.build_systems.bundle", "BundlePackage") in imports
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert cls.name == "ExaworksSdk" and [b.id for b in cls.bases] == ["BundlePackage"]  # type: ignore[attr-defined]


def test_package_lines_fit_spack_style(repo_root: Path) -> None:
    for number, line in enumerate((repo_root / PACKAGE_PY).read_text().splitlines(), 1):
        assert len(line) <= 99, f"line {number} has {len(line)} characters"


def test_package_has_a_version_per_release(repo_root: Path) -> None:
    tree = ast.parse((repo_root / PACKAGE_PY).read_text())
    versions = [ast.literal_eval(c.args[0]) for c in _calls(tree, "version")]
    assert load_manifest(repo_root).release.version in versions
    assert _calls(tree, "maintainers")


def test_every_spack_pin_is_a_run_time_dependency_of_the_release(repo_root: Path) -> None:
    manifest = load_manifest(repo_root)
    deps = _dependencies(ast.parse((repo_root / PACKAGE_PY).read_text()))
    for comp in manifest.components.values():
        for spec in comp.spack.specs if comp.spack else []:
            assert deps[spec] == ((f"@{manifest.release.version}",), f"+{comp.variant}", ("build", "run")), spec
    for name in ("flux-core", "flux-sched", "stc", "turbine", "adlbx"):
        assert next(v for k, v in deps.items() if k.startswith(f"{name}@"))[2] == ("build", "run")
    assert deps["mpi"][1:] == ("+mpi", ("build", "run"))


def test_default_spec_includes_libensemble_at_a_spack_version(repo_root: Path) -> None:
    manifest = load_manifest(repo_root)
    lib = manifest.components["libensemble"]
    assert lib.spack and lib.spack.version == "1.5.0" and lib.spack.differs
    tree = ast.parse((repo_root / PACKAGE_PY).read_text())
    defaults = {ast.literal_eval(c.args[0]): _kw(c, "default") for c in _calls(tree, "variant")}
    assert defaults["libensemble"] is True


def test_variants_cover_the_optional_components(repo_root: Path) -> None:
    tree = ast.parse((repo_root / PACKAGE_PY).read_text())
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
    assert _dependencies(tree)["py-parsl@2025.12.01"][:2] == (("@2026.05",), "+parsl")


def _env(repo_root: Path, site: str) -> dict:
    return yaml.safe_load((repo_root / ENVS / site / "spack.yaml").read_text())["spack"]


def test_one_environment_per_spack_machine_with_its_externals(repo_root: Path) -> None:
    sites = load_sites(repo_root)
    spack_machines = {f"{f.facility}-{n}": m for f in sites.values() for n, m in f.machines.items()
                      if "spack" in m.variants}
    envs = {p.parent.name for p in (repo_root / ENVS).glob("*/spack.yaml")}
    assert envs == set(spack_machines)
    tioga = _env(repo_root, "llnl-tioga")
    release = load_manifest(repo_root).release.version
    assert tioga["specs"] == [f"exaworks-sdk@{release}+flux+libensemble+maestro+mpi+parsl+psij+rp+swift"]
    assert tioga["packages"]["mpi"] == {"require": ["cray-mpich"]}
    assert tioga["packages"]["cray-mpich"]["externals"][0]["spec"] == "cray-mpich@8.1.29"
    for name in ("cray-mpich", "flux-core", "flux-sched"):
        assert tioga["packages"][name]["buildable"] is False, name
    assert tioga["concretizer"] == {"unify": True, "reuse": "dependencies"}


def test_environment_names_no_repository_path(repo_root: Path) -> None:
    """The repository is added after `spack env create` (see install.sh), never as a path
    relative to a file that gets copied elsewhere."""
    for path in (repo_root / ENVS).glob("*/spack.yaml"):
        assert "repos" not in yaml.safe_load(path.read_text())["spack"], path
    assert "repo add" in (repo_root / "ci/scripts/pipeline/install.sh").read_text()


def test_site_compiler_is_an_external_required_for_each_language(repo_root: Path) -> None:
    for site in ("anl-polaris", "llnl-dane", "llnl-tioga", "nersc-perlmutter", "ornl-frontier"):
        packages = _env(repo_root, site)["packages"]
        assert "require" not in packages.get("all", {}), f"{site}: a %compiler on 'all' rules out externals"
        (external,) = packages["gcc"]["externals"]
        assert packages["gcc"]["buildable"] is False
        assert set(external["extra_attributes"]["compilers"]) == {"c", "cxx", "fortran"}
        for language in ("c", "cxx", "fortran"):
            assert packages[language] == {"require": [external["spec"]]}, site
    dane = _env(repo_root, "llnl-dane")["packages"]
    assert dane["gcc"]["externals"][0]["spec"] == "gcc@12.1.1"
    frank = _env(repo_root, "uo-frank")["packages"]
    assert "gcc" not in frank and "c" not in frank  # no compiler declared: Spack detects the one on PATH


def test_environment_pins_the_mpi_provider_when_the_site_builds_it(repo_root: Path) -> None:
    frank = _env(repo_root, "uo-frank")["packages"]
    assert frank["openmpi"]["externals"][0]["spec"] == "openmpi@4.1.6"
    assert frank["mpi"] == {"require": ["openmpi"]}
