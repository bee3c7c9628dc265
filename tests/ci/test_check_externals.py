"""The spack install job's check that the site's externals were used, against captured Spack output."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "tests/fixtures/spack-output"
SCRIPT = ROOT / "ci/scripts/pipeline/check_externals.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_externals", SCRIPT)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["check_externals"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


check_externals = _module()


def env(site: str) -> dict:
    return yaml.safe_load((ROOT / "spack/environments" / site / "spack.yaml").read_text())


def test_script_keeps_to_the_python_spack_runs_on() -> None:
    """Spack 1.x runs on Python 3.6, and `spack python` runs the check."""
    text = SCRIPT.read_text()
    tree = ast.parse(text, feature_version=(3, 6))
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not modules & {"__future__", "dataclasses"}
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"\b(list|dict|set|tuple)\[|\| None", code)  # evaluated at definition on 3.6


def test_nodes_are_read_from_concretize_output_with_hashes() -> None:
    nodes = check_externals.parse_nodes((OUTPUT / "tioga-concretize.txt").read_text())
    by_name = {n.name: n for n in nodes}
    assert by_name["exaworks-sdk"].version == "2026.11" and not by_name["exaworks-sdk"].external
    assert by_name["cray-mpich"].external and by_name["cray-mpich"].version == "8.1.29"
    assert by_name["flux-sched"].external and by_name["gcc"].external
    assert not by_name["py-libensemble"].external and by_name["py-libensemble"].version == "1.5.0"


def test_nodes_are_read_from_spec_output_without_hashes() -> None:
    text = " -   exaworks-sdk@2026.11+flux build_system=bundle\n[e]      ^gcc@12.2.0+binutils languages:='c,c++'\n" \
           " -       ^openmpi@5.0.10+atomics build_system=autotools\n==> Warning: x@1\n"
    assert [(n.name, n.external) for n in check_externals.parse_nodes(text)] == [
        ("exaworks-sdk", False), ("gcc", True), ("openmpi", False)]


def test_nodes_are_read_from_find_output() -> None:
    text = (OUTPUT / "tioga-find.txt").read_text()
    by_name = {n.name: n for n in check_externals.parse_nodes(text)}
    assert by_name["cray-mpich"].external and by_name["flux-core"].external and by_name["gcc"].external
    assert not by_name["exaworks-sdk"].external and not by_name["python"].external
    assert check_externals.check(env("llnl-tioga"), text).errors == []


def test_what_the_environment_expects() -> None:
    declared, mpi = check_externals.expectations(env("llnl-tioga"))
    assert declared == {"gcc", "cray-mpich", "flux-core", "flux-sched"} and mpi == "cray-mpich"
    assert check_externals.expectations({"spack": {"packages": {"mpi": {"require": [{"one_of": ["mvapich2"]}]}}}}) \
        == (set(), "mvapich2")


def test_tioga_uses_its_mpi_flux_and_compiler() -> None:
    report = check_externals.check(env("llnl-tioga"), (OUTPUT / "tioga-concretize.txt").read_text())
    assert report.errors == []
    assert report.used == ["[e] cray-mpich@8.1.29", "[e] flux-core@0.81.0", "[e] flux-sched@0.48.0", "[e] gcc@12.2.0"]


def test_rebuilt_mpi_and_flux_fail_with_a_clear_message() -> None:
    report = check_externals.check(env("llnl-tioga"), (OUTPUT / "tioga-before-concretize.txt").read_text())
    joined = "\n".join(report.errors)
    assert "the site's MPI, cray-mpich, is declared as an external but is not in the environment: " \
           "another MPI was chosen (openmpi@5.0.10)" in joined
    assert "flux-core@0.81.0 will be built, but spack.yaml declares flux-core as an external" in joined


def test_unused_externals_are_only_noted() -> None:
    environment = {"spack": {"packages": {"mpi": {"require": ["openmpi"]}, "openmpi": {"externals": [{"spec": "x"}]},
                                          "cmake": {"externals": [{"spec": "cmake@3.25"}]}}}}
    report = check_externals.check(environment, "[e]  abcdefg  ^openmpi@4.1.6 build_system=autotools\n")
    assert report.errors == []
    assert report.notes == ["cmake is declared as an external but nothing in the environment uses it"]


def test_output_without_specs_is_an_error() -> None:
    report = check_externals.check(env("uo-frank"), "==> Error: failed to concretize\n")
    assert report.errors and "no concretized specs" in report.errors[0]


def test_script_exit_codes(tmp_path: Path) -> None:
    spack_yaml = ROOT / "spack/environments/llnl-tioga/spack.yaml"
    good = subprocess.run([sys.executable, str(SCRIPT), str(spack_yaml), str(OUTPUT / "tioga-concretize.txt")],
                          capture_output=True, text=True, check=False)
    assert good.returncode == 0 and "external used: [e] cray-mpich@8.1.29" in good.stdout
    bad = subprocess.run([sys.executable, str(SCRIPT), str(spack_yaml), str(OUTPUT / "tioga-before-concretize.txt")],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and "error: the site's MPI, cray-mpich" in bad.stderr


FAKE_SPACK = r'''
spack() {
  echo "spack $*" >> "$FAKE_SPACK_LOG"
  case "$1 ${2:-}" in
    "env create") mkdir -p "$4" && cp "$5" "$4/spack.yaml" ;;
    "env activate") ;;
    "repo add") ;;
    "concretize --fresh") cat "$FAKE_CONCRETIZED" ;;
    python*) shift; "$FAKE_PYTHON" "$@" ;;
    "install --fail-fast") exit 3 ;;  # stop before the harness venv
  esac
}
'''


@pytest.mark.parametrize("output, code", [("tioga-concretize.txt", 3), ("tioga-before-concretize.txt", 1)])
def test_install_job_creates_the_environment_outside_the_tree_and_checks_externals(
        tmp_path: Path, output: str, code: int) -> None:
    spack_root = tmp_path / "spack-root"
    (spack_root / "share/spack").mkdir(parents=True)
    (spack_root / "share/spack/setup-env.sh").write_text(FAKE_SPACK)
    site_dir = tmp_path / "exaworks-sdk-ci/7/llnl-tioga"
    log = tmp_path / "spack.log"
    before = sorted(p.relative_to(ROOT) for p in (ROOT / "spack").rglob("*"))
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SDK_", "CI_"))}
    environ.update({"SDK_SITE": "llnl-tioga", "SDK_VARIANT": "spack", "SDK_PIPELINE_DIR": str(site_dir),
                    "SDK_SPACK_ROOT": str(spack_root), "SDK_SPACK_ENV": "spack/environments/llnl-tioga",
                    "FAKE_SPACK_LOG": str(log), "FAKE_CONCRETIZED": str(OUTPUT / output),
                    "FAKE_PYTHON": sys.executable})
    result = subprocess.run(["bash", str(ROOT / "ci/scripts/pipeline/install.sh")], env=environ, cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == code, result.stdout + result.stderr
    calls = log.read_text().splitlines()
    env_dir = site_dir / "spack" / "env"
    assert calls[:4] == [f"spack env create -d {env_dir} spack/environments/llnl-tioga/spack.yaml",
                         f"spack env activate {env_dir}",
                         f"spack repo add {site_dir}/spack/spack/spack_repo/exaworks",
                         "spack concretize --fresh --force"]
    assert calls[4].startswith("spack python ci/scripts/pipeline/check_externals.py")
    assert ("spack install --fail-fast" in calls) == (code == 3)
    if code == 1:
        assert "the concretizer replaced a site external" in result.stderr
    assert sorted(p.relative_to(ROOT) for p in (ROOT / "spack").rglob("*")) == before
    shutil.rmtree(site_dir, ignore_errors=True)
