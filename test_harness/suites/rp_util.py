"""Helpers for suites that start RADICAL-Pilot (directly or through EnTK, Parsl, PSI/J)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from test_harness import reaper


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


@contextmanager
def pilot_scope(path: Path) -> Iterator[Path]:
    """Where a fixture runs a pilot (or a Parsl or PSI/J executor that starts one): ``path`` is the
    working directory, and on exit every process started inside is ended. RP's agent and its
    Flux instances outlive ``session.close(terminate=True)`` in their own sessions otherwise."""
    with reaper.ends_what_it_starts(), working_directory(path):
        yield path


def pilot_diagnostics(pilot: Any, tail: int = 40, limit: int = 20_000) -> str:
    """What the pilot's agent said about its failure: the tails of the ``*.err``/``*.out`` files in
    its sandbox and the error lines of its logs. RP's client only sees the pilot state; the
    reason (a crash in the agent) is in these files."""
    sandbox = Path(urlparse(str(getattr(pilot, "pilot_sandbox", "") or "")).path or "/nonexistent")
    if not sandbox.is_dir():
        return f"(no pilot sandbox at {sandbox})"
    parts = []
    for path in sorted(sandbox.glob("*")):
        if not path.is_file():
            continue
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        if path.suffix in (".err", ".out") and lines:
            parts.append(f"--- {path.name} (last {tail} lines)\n" + "\n".join(lines[-tail:]))
        elif path.suffix == ".log":
            errors = [ln for ln in lines if "ERROR" in ln or "Error" in ln or "Traceback" in ln]
            if errors:
                parts.append(f"--- {path.name} (error lines)\n" + "\n".join(errors[-tail:]))
    text = "\n".join(parts) or f"(nothing in {sandbox})"
    return text[-limit:]
