"""Fixtures shared by every test package."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def sdk_tree(tmp_path: Path) -> Path:
    """A private copy of the manifest, site registry and generated files, safe to edit."""
    for rel in ("components", "ci", "spack", "docs/generated", "docker"):
        src = ROOT / rel
        if src.is_dir():
            shutil.copytree(src, tmp_path / rel, ignore=shutil.ignore_patterns("__pycache__"))
    for rel in ("POLICIES.md", ".gitlab-ci.yml"):
        if (ROOT / rel).is_file():
            shutil.copy2(ROOT / rel, tmp_path / rel)
    return tmp_path
