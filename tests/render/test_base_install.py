"""``sdk render --check`` needs only the base install: no Flask, SQLAlchemy or other dashboard extra.

The harness and the dashboard describe themselves for the docs through entry points; this proves
those descriptions import without the dashboard's dependencies, in a fresh virtualenv.
"""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import pytest


@pytest.mark.slow
def test_render_check_in_a_venv_with_only_the_base_install(repo_root: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "base-venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", str(repo_root)], check=True, timeout=900,
                   cwd=tmp_path, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    missing = subprocess.run([python, "-c", "import flask"], capture_output=True, cwd=tmp_path)
    assert missing.returncode != 0, "the base install must not bring Flask"
    done = subprocess.run([env_dir / "bin" / "sdk", "render", "--check"], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "SDK_ROOT": str(repo_root)}, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "up to date" in done.stdout
