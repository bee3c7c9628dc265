"""`sdk validate` against the committed indexes: unknown versions and variants are rejected by name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from exaworks_sdk.index.check import known, nearest, pypi_problems, spack_problems
from exaworks_sdk.index.data import PypiIndex, SpackIndex
from exaworks_sdk.index.names import PipName, SpackName, parse_spec
from exaworks_sdk.index.recipes import Recipe
from tests.support.manifest import edit, line_of


def validate(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "exaworks_sdk.cli", "--root", str(root), "validate"],
                          capture_output=True, text=True, check=False)


INDEX = SpackIndex({"repository": "x", "commit": "0123456789abcdef", "date": "2026-07-01T00:00:00"}, {
    "py-demo": Recipe(["develop", "2.0.0", "1.6.0", "1.5.0", "1.0.0"], ["1.0.0"],
                      {"mpi": "bool", "backend": ["tcp", "zmq"], "targets": "any"}),
    "gone": None,
})


def name(version: str | None = None, *variants: str, package: str = "py-demo") -> SpackName:
    return SpackName(package, version, variants, Path("/nonexistent.yaml"), ("spack", "version"), "demo")


def test_spack_versions_are_ranges_like_spack() -> None:
    assert known("1.6.0", ["1.6.0"]) and known("1.6", ["1.6.0"]) and not known("1.6.1", ["1.6.0", "1.6.10"])
    assert nearest("1.6.1", ["develop", "2.0.0", "1.6.0", "1.5.0"]) == "1.6.0 below, 2.0.0 above"
    assert nearest("9", ["1.0"]) == "1.0 below, none above"


def test_unknown_spack_version_names_component_and_nearest_versions() -> None:
    (problem,) = spack_problems(INDEX, [name("1.6.1")])
    assert "[spack.version]" in str(problem)
    assert "demo: py-demo@1.6.1 is not a version in Spack's builtin repo (spack-packages 0123456789, 2026-07-01)" \
        in problem.message
    assert "nearest: 1.6.0 below, 2.0.0 above" in problem.message


def test_deprecated_missing_and_absent_packages() -> None:
    deprecated, absent, missing = spack_problems(INDEX, [name("1.0.0"), name("1.0", package="gone"),
                                                         name("1", package="new-thing")])
    assert "is deprecated" in deprecated.message
    assert "there is no package 'gone'" in absent.message
    assert "new-thing is not in components/index/spack.json" in missing.message and "sdk spack-index" in missing.message


def test_unknown_or_misused_variants() -> None:
    assert spack_problems(INDEX, [name(None, "+mpi", "~mpi", "backend=zmq", "targets=x,y")]) == []
    problems = [p.message for p in spack_problems(INDEX, [name(None, "+cuda"), name(None, "+backend"),
                                                          name(None, "backend=udp")])]
    assert "py-demo has no variant 'cuda' (it has: backend, mpi, targets)" in problems[0]
    assert "'+backend': py-demo's 'backend' is not a boolean variant (values: tcp, zmq)" in problems[1]
    assert "'backend=udp': udp not among py-demo's 'backend' values (tcp, zmq)" in problems[2]


def test_specs_written_in_site_files_are_parsed_for_their_variants() -> None:
    assert parse_spec("gcc@12.3.0 languages:='c,c++,fortran'") == ("gcc", "12.3.0", ("languages:='c,c++,fortran'",))
    assert parse_spec("cray-mpich@8.1.28+wrappers ~cuda") == ("cray-mpich", "8.1.28", ("+wrappers", "~cuda"))
    assert parse_spec("turbine@1.3.0 +python ^tcl@:8.6 +x") == ("turbine", "1.3.0", ("+python",))


def test_pypi_pins_and_constraints_against_the_index() -> None:
    index = PypiIndex({"index": None, "date": "2026-11-01"}, {"demo": ["2.0", "1.1", "1.0"], "gone": None})
    pins = [PipName("demo", "demo==1.1", True, Path("/x.yaml"), ("version",), "demo"),
            PipName("Demo", "Demo==1.2", True, Path("/x.yaml"), ("version",), "demo"),
            PipName("demo", "demo<=0.5", False, Path("/x.yaml"), ("constraints", 0, "requirement"), "demo"),
            PipName("gone", "gone==1", True, Path("/x.yaml"), ("version",), "gone"),
            PipName("other", "other==1", True, Path("/x.yaml"), ("version",), "other")]
    problems = [p.message for p in pypi_problems(index, pins)]
    assert len(problems) == 4
    assert "demo: Demo==1.2 is not a release on the package index" in problems[0]
    assert "nearest: 1.1 below, 2.0 above" in problems[0]
    assert "no release on the package index satisfies 'demo<=0.5'" in problems[1]
    assert "gone: gone==1 is not a release" in problems[2]
    assert "other is not in components/index/pypi.json" in problems[3]


def test_validate_rejects_an_unknown_spack_version(sdk_tree: Path) -> None:
    path = sdk_tree / "components/libensemble.yaml"
    edit(path, 'version: "1.5.0"', 'version: "1.6.1"\n  # PyPI-only')
    edit(path, 'version: "1.6.1"\nvariant', 'version: "1.6.2"\nvariant')
    result = validate(sdk_tree)
    assert result.returncode == 2, result.stdout + result.stderr
    line = line_of(path, '"1.6.1"')
    assert f"libensemble.yaml:{line} [spack.version]: libensemble: py-libensemble@1.6.1 is not a version" \
        in result.stderr
    assert "nearest: 1.6.0 below, none above" in result.stderr


def test_validate_rejects_an_unknown_spack_variant(sdk_tree: Path) -> None:
    edit(sdk_tree / "components/parsl.yaml", "  package: py-parsl", '  package: py-parsl\n  variants: ["+mpi"]')
    edit(sdk_tree / "ci/sites/llnl.yaml", '"flux-core@0.81.0"', '"flux-core@0.81.0 +docz"')
    result = validate(sdk_tree)
    assert result.returncode == 2
    assert "parsl.yaml:" in result.stderr and "[spack.variants.0]: parsl: py-parsl has no variant 'mpi'" in result.stderr
    assert "[machines.tioga.spack.externals.flux-core.0.spec]: llnl-tioga: flux-core has no variant 'docz'" \
        in result.stderr


def test_validate_rejects_an_unknown_pypi_pin_and_an_unsatisfiable_constraint(sdk_tree: Path) -> None:
    edit(sdk_tree / "components/balsam.yaml", 'version: "0.7.0a24"', 'version: "0.7.0a99"')
    edit(sdk_tree / "components/balsam.yaml", 'requirement: "balsam==0.7.0a24"', 'requirement: "balsam==0.7.0a99"')
    edit(sdk_tree / "components/psij-python.yaml", '"packaging<=25"', '"packaging<=0.1"')
    result = validate(sdk_tree)
    assert result.returncode == 2
    assert "balsam.yaml:" in result.stderr and "[version]: balsam: balsam==0.7.0a99 is not a release" in result.stderr
    assert "[constraints.0.requirement]: psij-python: no release on the package index satisfies 'packaging<=0.1'" \
        in result.stderr


def test_validate_passes_and_says_what_it_checked(repo_root: Path) -> None:
    result = validate(repo_root)
    assert result.returncode == 0, result.stderr
    assert "Spack names checked against spack-packages" in result.stdout
    assert "PyPI pins and constraints checked against" in result.stdout


def test_committed_spack_index_covers_every_name_the_sdk_uses(repo_root: Path) -> None:
    data = json.loads((repo_root / "components/index/spack.json").read_text())
    assert data["source"]["commit"] and len(data["source"]["commit"]) == 40
    lib = data["packages"]["py-libensemble"]
    assert "1.5.0" in lib["versions"] and "1.6.1" not in lib["versions"]
    assert {"flux-core", "flux-sched", "stc", "turbine", "adlbx", "cray-mpich", "mvapich2", "gcc", "python"} \
        <= set(data["packages"])
