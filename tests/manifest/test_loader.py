"""The loader: the real manifest loads, and every kind of mistake is reported with file, field and line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from exaworks_sdk.manifest import ManifestError, load_manifest, load_sites
from exaworks_sdk.manifest.loader import parse_policies
from tests.support.manifest import edit, problems_of

REQUIRED = {"parsl", "psij-python", "radical-pilot", "radical-entk", "flux-core", "flux-sched",
            "swift-t", "balsam", "maestrowf", "libensemble", "mpi"}


def test_real_manifest_loads_every_required_component(repo_root: Path) -> None:
    manifest = load_manifest(repo_root)
    assert REQUIRED <= set(manifest.components)
    assert manifest.release.version == "2026.11"


def test_components_come_in_dependency_order(repo_root: Path) -> None:
    order = list(load_manifest(repo_root).components)
    for name, comp in load_manifest(repo_root).components.items():
        for dep in comp.depends_on:
            assert order.index(dep) < order.index(name)


def test_every_policy_heading_is_parsed(repo_root: Path) -> None:
    policies = parse_policies(repo_root / "POLICIES.md")
    assert policies["M1"] == "Open-source license"
    assert {"M1", "M9", "R1", "R6"} <= set(policies)


def test_unknown_dependency_names_file_and_field(sdk_tree: Path) -> None:
    edit(sdk_tree / "components/radical-entk.yaml", "depends_on: [radical-pilot]", "depends_on: [radical-pilots]")
    (problem,) = problems_of(sdk_tree)
    assert "radical-entk.yaml" in problem and "[depends_on.0]" in problem and "'radical-pilots'" in problem


def test_pin_that_is_not_exact_is_reported(sdk_tree: Path) -> None:
    edit(sdk_tree / "components/parsl.yaml", 'package: "parsl[radical-pilot]"', 'package: "parsl[radical-pilot]>=2026.1"')
    (problem,) = problems_of(sdk_tree)
    assert "parsl.yaml:" in problem and "[pip.package]" in problem and "should match pattern" in problem


def test_missing_spack_package_is_reported(sdk_tree: Path) -> None:
    edit(sdk_tree / "components/flux-core.yaml", "  package: flux-core", "  name: flux-core")
    problems = problems_of(sdk_tree)
    assert any("[spack.package]" in p and "Field required" in p for p in problems)


def test_bad_sha256_names_file_field_and_line(sdk_tree: Path) -> None:
    path = sdk_tree / "components/flux-sched.yaml"
    edit(path, "sha256: 8f8de89e", "sha256: XYZ")
    (problem,) = problems_of(sdk_tree)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "sha256: XYZ" in text)
    assert f"flux-sched.yaml:{line} [image.sources.0.sha256]" in problem


def test_duplicate_name_is_reported(sdk_tree: Path) -> None:
    text = (sdk_tree / "components/parsl.yaml").read_text()
    (sdk_tree / "components/parsl-copy.yaml").write_text(text)
    problems = problems_of(sdk_tree)
    assert any("duplicate component name 'parsl'" in p for p in problems)


def test_invalid_yaml_reports_its_line(sdk_tree: Path) -> None:
    path = sdk_tree / "components/maestrowf.yaml"
    lines = path.read_text().splitlines()
    lines[3] = "license: [MIT"
    path.write_text("\n".join(lines) + "\n")
    (problem,) = problems_of(sdk_tree)
    assert "maestrowf.yaml:" in problem and "invalid YAML" in problem


def test_all_problems_are_reported_at_once(sdk_tree: Path) -> None:
    edit(sdk_tree / "components/libensemble.yaml", "license: BSD-3-Clause", "license: Proprietary")
    edit(sdk_tree / "components/maestrowf.yaml", "suite_timeout: 120", "suite_timeout: -1")
    edit(sdk_tree / "components/mpi4py.yaml", "  M9: ", "  M99: ")
    problems = problems_of(sdk_tree)
    joined = "\n".join(problems)
    assert "libensemble.yaml" in joined and "not a known SPDX identifier" in joined
    assert "maestrowf.yaml" in joined and "[suite_timeout]" in joined
    assert "[policies.M99]" in joined and "no compliance entry for M9" in joined


def test_unknown_key_is_an_error_not_ignored(sdk_tree: Path) -> None:
    edit(sdk_tree / "components/parsl.yaml", "suite_timeout: 300", "suite_timeout: 300\nsuite_timout: 20")
    (problem,) = problems_of(sdk_tree)
    assert "[suite_timout]" in problem and "Extra inputs are not permitted" in problem


def test_site_registry_covers_the_facilities(repo_root: Path) -> None:
    sites = load_sites(repo_root)
    assert {"llnl", "ornl", "anl", "nersc", "uo", "local"} <= set(sites)
    schedulers = {m.scheduler for f in sites.values() for m in f.machines.values()}
    assert {"slurm", "lsf", "pbs", "flux"} <= schedulers


def test_spack_variant_without_spack_section_is_rejected(sdk_tree: Path) -> None:
    edit(sdk_tree / "ci/sites/local.yaml", "variants: [pip, container]", "variants: [spack, pip]")
    with pytest.raises(ManifestError) as info:
        load_sites(sdk_tree)
    assert "local.yaml" in str(info.value) and "needs a 'spack' section" in str(info.value)


@pytest.mark.parametrize("content", ["", "\n# nothing here yet\n"])
def test_an_empty_component_file_is_an_error_not_a_silent_pass(sdk_tree: Path, content: str) -> None:
    (sdk_tree / "components/newtool.yaml").write_text(content)
    (problem,) = problems_of(sdk_tree)
    assert "newtool.yaml" in problem and "the file is empty" in problem


def test_an_empty_site_file_is_an_error(sdk_tree: Path) -> None:
    (sdk_tree / "ci/sites/acme.yaml").write_text("")
    with pytest.raises(ManifestError) as info:
        load_sites(sdk_tree)
    assert "acme.yaml" in str(info.value.problems[0]) and "the file is empty" in str(info.value.problems[0])


def test_a_valid_manifest_is_parsed_once(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The YAML node tree only places a problem on its line; a valid file is not composed as well."""
    def compose(*args: object, **kwargs: object) -> None:
        raise AssertionError("a valid manifest file was parsed twice")

    monkeypatch.setattr(yaml, "compose", compose)
    assert load_manifest(repo_root).components
