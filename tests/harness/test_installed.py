from __future__ import annotations

import importlib.metadata
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from test_harness.installed import installed, normalize_name, parse_spack_find, pip_freeze, spack_find, spack_versions

FIXTURES = Path(__file__).parent / "fixtures" / "spack"
# `spack -e ENV find --json` of Spack 1.1.0, captured from a real environment holding two
# externals (python@3.11.2, zlib@1.2.13); docs/compatibility.md "What a run records".
SPACK_FIND = FIXTURES / "find.json"


def test_pip_freeze_is_what_importlib_metadata_reads_from_each_distributions_metadata() -> None:
    frozen = pip_freeze()
    by_metadata: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        by_metadata.setdefault(normalize_name(dist.metadata["Name"]), dist.version)
    assert frozen == by_metadata
    assert frozen["pydantic"] == importlib.metadata.version("pydantic")


def test_pip_freeze_takes_the_first_distribution_on_the_path_like_imports(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    (first / "Foo_Bar-2.0.dist-info").mkdir(parents=True)
    (second / "foo_bar-1.0.dist-info").mkdir(parents=True)
    (second / "legacy.pkg-0.3.egg-info").mkdir()
    assert pip_freeze([str(first), str(second), str(tmp_path / "absent")]) == {"foo-bar": "2.0", "legacy-pkg": "0.3"}


def test_real_spack_find_output_becomes_name_to_version() -> None:
    assert parse_spack_find(SPACK_FIND.read_text()) == {"python": "3.11.2", "zlib": "1.2.13"}
    two = json.loads(SPACK_FIND.read_text())
    two.append({**two[0], "version": "1.3.1", "hash": "x" * 32})
    assert parse_spack_find(json.dumps(two))["zlib"] == "1.2.13, 1.3.1"


def _spack_on_path(tmp_path: Path, script: str) -> dict[str, str]:
    """A ``spack`` command on PATH that answers as the real one did (its captured output)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    spack = bin_dir / "spack"
    spack.write_text("#!/bin/sh\n" + script)
    spack.chmod(spack.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "SPACK_ENV": str(tmp_path / "env")}


def test_spack_find_runs_only_inside_an_active_spack_environment(tmp_path: Path) -> None:
    env = _spack_on_path(tmp_path, f'[ "$1 $3 $4" = "-e find --json" ] && cat {SPACK_FIND}\n')
    assert spack_find(env) == {"spack": {"python": "3.11.2", "zlib": "1.2.13"}}
    assert spack_find({"PATH": env["PATH"]}) == {}
    assert spack_find({"SPACK_ENV": "/x", "PATH": str(tmp_path / "nowhere")}) == {}


def test_a_failing_spack_is_recorded_not_raised(tmp_path: Path) -> None:
    env = _spack_on_path(tmp_path, 'echo "==> Error: no such environment" >&2; exit 1\n')
    out = spack_find(env)
    assert out.keys() == {"spack_error"} and "exit 1" in out["spack_error"] and "no such environment" in out["spack_error"]
    garbage = _spack_on_path(tmp_path / "g", "echo not json\n")
    assert "failed" in spack_find(garbage)["spack_error"]


def test_installed_names_the_image_tag_inside_the_image() -> None:
    assert installed({"SDK_IMAGE_TAG": "exaworks/sdk:2026.11-bookworm-mpich"})["image"] == {
        "tag": "exaworks/sdk:2026.11-bookworm-mpich"}
    assert "image" not in installed({})


def test_spack_fills_only_the_versions_detection_could_not_read() -> None:
    components = {"maestrowf": None, "parsl": "2026.10.26", "flux-core": None}
    packages = {"py-maestrowf": "1.1.10", "py-parsl": "2025.1.1"}
    pins = {"maestrowf": "py-maestrowf", "parsl": "py-parsl", "flux-core": "flux-core"}
    assert spack_versions(components, packages, pins) == {"maestrowf": "1.1.10", "parsl": "2026.10.26",
                                                          "flux-core": None}


def test_sdk_test_env_reports_the_freeze() -> None:
    proc = subprocess.run([str(Path(sys.executable).parent / "sdk-test"), "env", "--json"],
                          capture_output=True, text=True, check=True, timeout=120)
    data = json.loads(proc.stdout)
    assert data["installed"]["pip"]["parsl"] == importlib.metadata.version("parsl")
