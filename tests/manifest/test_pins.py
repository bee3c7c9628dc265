"""Each pin is stated once per channel; every copy that remains is checked, with file, field, line and both values."""

from __future__ import annotations

from pathlib import Path

import pytest

from exaworks_sdk.manifest import load_manifest
from exaworks_sdk.manifest.model import Component
from exaworks_sdk.manifest.pins import pip_requirement, source_problems, spack_pin
from tests.support.manifest import edit, line_of, problems_of


def test_real_manifest_derives_its_specs_and_requirements(repo_root: Path) -> None:
    comps = load_manifest(repo_root).components
    assert comps["libensemble"].pip.requirements == ["libensemble==1.6.1"]  # type: ignore[union-attr]
    assert comps["libensemble"].spack.specs == ["py-libensemble@1.5.0"]  # type: ignore[union-attr]
    assert comps["flux-core"].spack.specs == [f"flux-core@{comps['flux-core'].version}"]  # type: ignore[union-attr]
    assert comps["swift-t"].spack.specs == [  # type: ignore[union-attr]
        "stc@0.9.0", "turbine@1.3.0", "adlbx@1.0.0", "exmcutils@0.6.0"]
    assert comps["mpi"].providers["mpich"].spack.specs == ["mpich@4.3.2"]


def test_channel_that_differs_without_a_reason_names_both_versions(sdk_tree: Path) -> None:
    path = sdk_tree / "components/maestrowf.yaml"
    edit(path, "  differs: Spack's builtin repo trails PyPI; 1.1.9 is its newest py-maestrowf.\n", "")
    (problem,) = problems_of(sdk_tree)
    line = line_of(path, '"1.1.9"')
    assert f"maestrowf.yaml:{line} [spack.version]" in problem
    assert "Spack pins 1.1.9 but the SDK pin ('version') is 1.2.1" in problem and "spack.differs" in problem


def test_channel_that_restates_the_sdk_pin_is_a_copy(sdk_tree: Path) -> None:
    path = sdk_tree / "components/flux-sched.yaml"
    edit(path, "  package: flux-sched", '  package: flux-sched\n  version: "0.48.0"')
    (problem,) = problems_of(sdk_tree)
    assert "flux-sched.yaml:" in problem and "[spack.version]" in problem
    assert "restates the SDK pin 0.48.0" in problem


def test_stale_reason_is_reported(sdk_tree: Path) -> None:
    edit(sdk_tree / "components/mpi4py.yaml", '  version: "4.1.1"\n', "")
    (problem,) = problems_of(sdk_tree)
    assert "mpi4py.yaml:" in problem and "[spack.differs]" in problem and "it is the SDK pin 4.1.2" in problem


def test_pip_constraint_that_disagrees_with_the_pin_names_both_files(sdk_tree: Path) -> None:
    edit(sdk_tree / "components/radical-pilot.yaml", "package: radical.pilot\n  companions",
         'package: radical.pilot\n  version: "1.91.0"\n  differs: testing a disagreeing constraint\n  companions')
    problems = problems_of(sdk_tree)
    parsl = next(p for p in problems if "parsl.yaml" in p)
    assert "[constraints.0.requirement]" in parsl
    assert "'radical.pilot==1.90.0' disagrees with the pin in radical-pilot.yaml [pip.version]" in parsl
    assert "radical.pilot 1.91.0" in parsl
    assert any("radical-pilot.yaml" in p and "[constraints.0.requirement]" in p for p in problems)


def test_spack_constraint_that_disagrees_with_the_pin(sdk_tree: Path) -> None:
    path = sdk_tree / "components/swift-t.yaml"
    edit(path, 'requirement: "turbine@1.3.0 ^tcl@:8.6"', 'requirement: "turbine@1.2.3 ^tcl@:8.6"')
    (problem,) = problems_of(sdk_tree)
    assert f"swift-t.yaml:{line_of(path, 'turbine@1.2.3')} [constraints.0.requirement]" in problem
    assert "disagrees with the pin in swift-t.yaml [spack.companions]: turbine 1.3.0" in problem


def test_source_tarball_that_disagrees_with_the_sdk_pin(sdk_tree: Path) -> None:
    path = sdk_tree / "components/flux-sched.yaml"
    text = path.read_text()
    path.write_text(text.replace('      version: "0.48.0"', '      version: "0.47.0"').replace(
        "v0.48.0/flux-sched-0.48.0.tar.gz", "v0.47.0/flux-sched-0.47.0.tar.gz"))
    (problem,) = problems_of(sdk_tree)
    line = line_of(path, '"0.47.0"')
    assert f"flux-sched.yaml:{line} [image.sources.0.version]" in problem
    assert "source tarball flux-sched 0.47.0 disagrees with [version] 0.48.0" in problem


def test_source_tarball_of_a_spack_companion_agrees_with_its_pin() -> None:
    comp = Component.model_validate({
        "name": "swift-t", "summary": "a thing", "homepage": "https://x.org", "license": "MIT", "version": "0.9.0",
        "spack": {"package": "stc", "companions": {"turbine": "1.3.0"}},
        "image": {"sources": [{"name": "turbine", "version": "1.2.3", "sha256": "0" * 64,
                               "url": "https://x.org/turbine-1.2.3.tar.gz"}]},
        "detect": {"executable": "swift-t"}, "policies": {},
    })
    assert list(source_problems(comp)) == [
        (("image", "sources", 0, "version"), "source tarball turbine 1.2.3 disagrees with [spack.companions.turbine] 1.3.0")]


def test_source_tarball_whose_url_names_another_version(sdk_tree: Path) -> None:
    path = sdk_tree / "components/flux-core.yaml"
    edit(path, 'version: "0.81.0"\nvariant', 'version: "0.82.0"\nvariant')
    edit(path, '      version: "0.81.0"', '      version: "0.82.0"')
    problems = problems_of(sdk_tree)
    assert any("[image.sources.0.url]" in p and "does not mention version 0.82.0" in p for p in problems)
    assert any("[constraints.0.requirement]" in p and "'flux-core@0.81.0' disagrees" in p for p in problems)


@pytest.mark.parametrize("text, expected", [
    ("radical.pilot==1.90.0", "radical.pilot"), ("packaging<=25", "packaging"),
    ("flux-core@0.81.0", None), ("--no-binary mpi4py", None), ("maestro run -s 1", None),
    ("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1", None),
])
def test_constraints_are_read_as_pip_requirements_only_when_they_are_one(text: str, expected: str | None) -> None:
    req = pip_requirement(text)
    assert (req.name if req else None) == expected


def test_spack_pins_are_read_from_the_root_of_a_spec() -> None:
    assert spack_pin("turbine@1.3.0 ^tcl@:8.6") == ("turbine", "1.3.0")
    assert spack_pin("flux-core@=0.81.0") == ("flux-core", "0.81.0")
    assert spack_pin("turbine@:1.3") is None and spack_pin("radical.pilot==1.9") is None
