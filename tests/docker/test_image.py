"""A built image is what its tag says: OS, MPI, Python and release, in the content and the labels.

The image and daemon come from conftest.py (``SDK_DOCKER_IMAGE``, ``DOCKER_HOST``).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from exaworks_sdk.manifest import load_manifest

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
Docker = Callable[..., subprocess.CompletedProcess[str]]
TAG = re.compile(r"^(?P<name>.+):(?P<release>[^-]+)-(?P<os>[a-z0-9]+)-(?P<mpi>[a-z]+)-py(?P<python>\d+\.\d+)"
                 r"(?:-(?P<target>[a-z-]+))?$")
# What each MPI flavour's own tool prints, and what mpi4py reports for the library it was built on.
MPI_PROBE = {"mpich": (["mpichversion"], "MPICH Version"), "openmpi": (["ompi_info", "--version"], "Open MPI")}
MPI4PY_LIBRARY = {"mpich": "MPICH", "openmpi": "Open MPI"}


@pytest.fixture(scope="module")
def parts(image: str) -> dict[str, str]:
    match = TAG.match(image)
    assert match, f"{image} does not follow <name>:<release>-<os>-<mpi>-py<python>[-<target>]"
    return match.groupdict()


def test_tag_names_the_manifest_release_and_a_matrix_combination(parts: dict[str, str]) -> None:
    manifest = load_manifest(ROOT)
    assert parts["release"] == manifest.release.version
    combo = {"os": parts["os"], "mpi": parts["mpi"], "python": parts["python"]}
    assert combo in manifest.release.images.combinations()


def test_python_inside_matches_the_tag(run_in: Docker, parts: dict[str, str]) -> None:
    out = run_in("python3", "--version")
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(rf"Python {re.escape(parts['python'])}\.\d+", out.stdout.strip()), out.stdout


def test_mpi_inside_matches_the_tag(run_in: Docker, parts: dict[str, str]) -> None:
    command, expected = MPI_PROBE[parts["mpi"]]
    out = run_in(*command)
    assert out.returncode == 0 and expected in out.stdout, (out.stdout, out.stderr)
    for other, (other_cmd, _) in MPI_PROBE.items():
        if other != parts["mpi"]:
            assert run_in("sh", "-c", f"command -v {other_cmd[0]}").returncode != 0, f"{other} is installed too"
    lib = run_in("python3", "-c", "from mpi4py import MPI; print(MPI.Get_library_version())")
    assert lib.returncode == 0 and MPI4PY_LIBRARY[parts["mpi"]] in lib.stdout, (lib.stdout, lib.stderr)


def test_os_inside_matches_the_tag(run_in: Docker, parts: dict[str, str]) -> None:
    out = run_in("cat", "/etc/os-release")
    fields = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    fields = {k: v.strip('"') for k, v in fields.items()}
    names = {fields.get("VERSION_CODENAME", ""), fields.get("ID", "") + fields.get("VERSION_ID", "").split(".")[0]}
    assert parts["os"] in names, fields


def test_labels_match_the_tag(docker: Docker, image: str, parts: dict[str, str]) -> None:
    labels = json.loads(docker("image", "inspect", "--format", "{{json .Config.Labels}}", image).stdout)
    assert labels["org.opencontainers.image.version"] == parts["release"]
    assert labels["org.exaworks.sdk.os"] == parts["os"]
    assert labels["org.exaworks.sdk.mpi"] == parts["mpi"]
    assert labels["org.exaworks.sdk.python"] == parts["python"]
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", labels["org.opencontainers.image.revision"])
    assert labels["org.exaworks.sdk.component.mpi4py.version"]


def test_no_caches_build_trees_or_build_secrets_in_the_image(run_in: Docker) -> None:
    out = run_in("sh", "-c",
                 "ls -A /var/lib/apt/lists /var/cache/dnf 2>/dev/null | grep -v -e '^partial$' -e '^lock$' -e ':$' -e '^$';"
                 " for p in /root/.cache/pip /wheels /tmp/src /run/secrets/extra_ca /usr/local/bin/with-extra-ca"
                 " /mnt/requirements.txt; do [ -e $p ] && echo $p; done; true")
    assert out.stdout.strip() == "", out.stdout


def test_a_shell_is_one_argument_away(run_in: Docker) -> None:
    out = run_in("bash", "-c", "echo $SDK_ROOT; command -v sdk-test sdk-smoke")
    assert out.returncode == 0
    assert out.stdout.split() == ["/opt/sdk-root", "/opt/sdk/bin/sdk-test", "/usr/local/bin/sdk-smoke"]


def test_upload_settings_make_the_run_a_container_site_with_the_tag_as_variant(run_in: Docker, image: str) -> None:
    """No dashboard listens on port 1, so the record is spooled (exit 75); its RunStart shows how it
    would have been filed."""
    out = run_in("sh", "-c", "sdk-smoke -k maestro; echo rc=$?; head -n 1 /tmp/sdk-results/*.jsonl",
               env={"SDK_DASHBOARD_URL": "http://127.0.0.1:1", "SDK_DASHBOARD_TOKEN": "not-a-token"})
    assert "rc=75" in out.stdout, out.stdout + out.stderr
    start = json.loads(out.stdout.strip().splitlines()[-1])
    assert start["site"] == "container"
    assert start["variant"] == image


def test_upload_url_without_token_is_a_config_error(run_in: Docker) -> None:
    out = run_in(env={"SDK_DASHBOARD_URL": "http://127.0.0.1:1"})
    assert out.returncode == 2 and "SDK_DASHBOARD_TOKEN" in out.stderr
