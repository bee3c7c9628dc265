"""Helpers for suites that start RADICAL-Pilot (directly or through EnTK, Parsl, PSI/J)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def working_directory(path: Path) -> Iterator[Path]:
    """chdir and $PWD together: RP and EnTK put their session directories in $PWD."""
    cwd, pwd = os.getcwd(), os.environ.get("PWD")
    os.chdir(path)
    os.environ["PWD"] = str(path)
    try:
        yield path
    finally:
        os.chdir(cwd)
        if pwd is None:
            os.environ.pop("PWD", None)
        else:
            os.environ["PWD"] = pwd
