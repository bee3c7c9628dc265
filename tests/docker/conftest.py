"""Fixtures for tests that need a Docker daemon and a built image.

The image is named by ``SDK_DOCKER_IMAGE`` (default: the matrix default's python-stack tag).
``ci/scripts/docker-selftest.sh`` builds it, starts a private daemon (``DOCKER_HOST``) and runs
these tests; elsewhere they skip and say why.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from exaworks_sdk.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[2]
Docker = Callable[..., subprocess.CompletedProcess[str]]


def _docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def docker() -> Docker:
    return _docker


@pytest.fixture(scope="session")
def image() -> str:
    manifest = load_manifest(ROOT)
    default = manifest.release.images.default
    tag = os.environ.get("SDK_DOCKER_IMAGE") or manifest.release.image_tag(
        default["os"], default["mpi"], default["python"], target="python-stack")
    try:
        info = _docker("info", "--format", "{{.ServerVersion}}", timeout=15)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"no docker client or daemon ({exc}); ci/scripts/docker-selftest.sh starts one")
    if info.returncode != 0:
        pytest.skip(f"no Docker daemon answers at DOCKER_HOST={os.environ.get('DOCKER_HOST', '(default)')}; "
                    "ci/scripts/docker-selftest.sh starts a private one")
    if _docker("image", "inspect", tag).returncode != 0:
        pytest.skip(f"image {tag} is not built; ci/scripts/docker-selftest.sh builds it")
    return tag


@pytest.fixture(scope="session")
def run_in(image: str) -> Docker:
    """``run_in(*command, env={...})``: ``docker run --rm --network host`` of the image."""
    def run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        flags = [arg for k, v in (env or {}).items() for arg in ("-e", f"{k}={v}")]
        return _docker("run", "--rm", "--network", "host", *flags, image, *command, timeout=600)
    return run
