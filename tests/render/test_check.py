"""The drift check: every kind of staleness is caught and named; render repairs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from exaworks_sdk.render import check, render_all
from exaworks_sdk.render.base import MARKER

PACKAGE_PY = "spack/spack_repo/exaworks/packages/exaworks_sdk/package.py"


def test_repository_is_up_to_date(repo_root: Path) -> None:
    assert check(repo_root) == []


def test_every_generated_file_carries_the_header(repo_root: Path, sdk_tree: Path) -> None:
    from exaworks_sdk.render import load_context, render_outputs

    for rel, text in render_outputs(load_context(sdk_tree)).items():
        assert MARKER in text[:400], rel
        assert "sdk render" in text[:400], rel


def test_a_pin_edit_fails_the_check_and_names_the_file(sdk_tree: Path) -> None:
    path = sdk_tree / "components/maestrowf.yaml"
    path.write_text(path.read_text().replace('version: "1.1.9"', 'version: "1.1.8"'))
    problems = check(sdk_tree)
    assert any(p.startswith(f"{PACKAGE_PY}: out of date") and
               'depends_on("py-maestrowf@1.1.8"' in p for p in problems)
    render_all(sdk_tree)
    assert check(sdk_tree) == []


def test_a_hand_edit_of_a_generated_file_is_caught(sdk_tree: Path) -> None:
    path = sdk_tree / "spack/environments/ornl-frontier/spack.yaml"
    path.write_text(path.read_text().replace("zen3", "zen4"))
    (problem,) = check(sdk_tree)
    assert problem.startswith("spack/environments/ornl-frontier/spack.yaml: out of date")


def test_stale_and_missing_outputs_are_reported_and_repaired(sdk_tree: Path) -> None:
    stale = sdk_tree / "spack/environments/gone-site/spack.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text(f"# {MARKER}.\nspack: {{}}\n")
    (sdk_tree / "ci/generated/pip/requirements.txt").unlink()
    problems = check(sdk_tree)
    assert "ci/generated/pip/requirements.txt: missing" in problems
    assert "spack/environments/gone-site/spack.yaml: generated file that nothing renders any more" in problems
    render_all(sdk_tree)
    assert not stale.exists() and check(sdk_tree) == []


def test_cli_check_exits_nonzero_with_a_diff(sdk_tree: Path) -> None:
    path = sdk_tree / "components/parsl.yaml"
    path.write_text(path.read_text().replace('version: "2026.02.16"', 'version: "2026.03.01"'))
    result = subprocess.run([sys.executable, "-m", "exaworks_sdk.cli", "--root", str(sdk_tree), "render", "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "package.py: out of date" in result.stderr and "py-parsl@2026.03.01" in result.stderr


def test_cli_reports_manifest_errors_with_exit_code_2(sdk_tree: Path) -> None:
    path = sdk_tree / "components/parsl.yaml"
    path.write_text(path.read_text().replace("license: Apache-2.0", "license: Nope"))
    result = subprocess.run([sys.executable, "-m", "exaworks_sdk.cli", "--root", str(sdk_tree), "validate"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "parsl.yaml" in result.stderr and "[license]" in result.stderr
