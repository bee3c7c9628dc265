"""Refreshing the indexes: from a spack-packages checkout, and through pip (offline in tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from exaworks_sdk.index.data import SpackIndex
from exaworks_sdk.index.refresh import RefreshError, pip_versions, pypi_index
from exaworks_sdk.manifest import load_manifest

CHECKOUT = Path(__file__).resolve().parents[1] / "fixtures" / "spack-packages"


def sdk(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "exaworks_sdk.cli", "--root", str(root), *args],
                          capture_output=True, text=True, check=False)


def fake_pip(answers: dict[str, tuple[int, str, str]]):  # type: ignore[no-untyped-def]
    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        code, out, err = answers.get(args[2], (1, "", "ERROR: No matching distribution found"))
        return subprocess.CompletedProcess(args, code, out, err)
    return run


def test_spack_index_from_a_checkout_records_commit_and_absent_packages(sdk_tree: Path, tmp_path: Path) -> None:
    checkout = tmp_path / "spack-packages"
    subprocess.run(["cp", "-R", str(CHECKOUT), str(checkout)], check=True)
    for args in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(checkout), *args], check=True)
    result = sdk(sdk_tree, "spack-index", "--from", str(checkout))
    assert result.returncode == 0, result.stderr
    assert "warning: no package 'py-parsl'" in result.stderr  # the fixture has none of the real packages
    index = SpackIndex.load(sdk_tree / "components/index/spack.json")
    assert index.source["commit"] and len(index.source["commit"]) == 40
    assert index.packages["py-parsl"] is None
    problems = sdk(sdk_tree, "validate")
    assert problems.returncode == 2 and "there is no package 'py-parsl'" in problems.stderr


def test_spack_index_refuses_a_directory_that_is_not_spack_packages(sdk_tree: Path, tmp_path: Path) -> None:
    result = sdk(sdk_tree, "spack-index", "--from", str(tmp_path))
    assert result.returncode == 1 and "is not a spack-packages checkout" in result.stderr


def test_pip_versions_are_read_from_pips_answer() -> None:
    run = fake_pip({"demo": (0, "demo (2.0)\nAvailable versions: 2.0, 1.1rc1, 1.0\n", ""),
                    "broken": (2, "", "ERROR: Could not reach the index (network unreachable)")})
    assert pip_versions("demo", run=run) == ["2.0", "1.1rc1", "1.0"]
    assert pip_versions("missing", run=run) is None
    with pytest.raises(RefreshError, match="network unreachable"):
        pip_versions("broken", run=run)


def test_pypi_index_asks_for_every_pin_and_constraint(repo_root: Path) -> None:
    asked: list[str] = []

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        asked.append(args[2])
        return subprocess.CompletedProcess(args, 0, "Available versions: 1.0\n", "")

    index = pypi_index(repo_root, load_manifest(repo_root), run=run)
    assert {"parsl", "radical-utils", "packaging", "balsam"} <= set(asked)
    assert index.distributions["parsl"] == ["1.0"] and index.source["index"] is None


def test_real_pip_against_a_local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pip itself, offline: a PEP 503 index in a directory."""
    project = tmp_path / "simple" / "demo-dist"
    project.mkdir(parents=True)
    links = "".join(f'<a href="demo_dist-{v}.tar.gz">demo_dist-{v}.tar.gz</a>' for v in ("1.0", "1.1rc1"))
    (project / "index.html").write_text(f"<html><body>{links}</body></html>")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    assert pip_versions("demo-dist", index_url=(tmp_path / "simple").as_uri()) == ["1.1rc1", "1.0"]
