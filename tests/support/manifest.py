"""Editing a copy of the manifest and reading what the loader says about it."""

from __future__ import annotations

from pathlib import Path

import pytest

from exaworks_sdk.manifest import ManifestError, load_manifest


def problems_of(root: Path) -> list[str]:
    """Every problem the loader reports for the manifest under ``root`` (it must report some)."""
    with pytest.raises(ManifestError) as info:
        load_manifest(root)
    return [str(p) for p in info.value.problems]


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in ``path``; fails when the file no longer says ``old``."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, text: str) -> int:
    """The 1-based number of the first line of ``path`` containing ``text``."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)
