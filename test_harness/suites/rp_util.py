"""Helpers for suites that start RADICAL-Pilot (directly or through EnTK, Parsl, PSI/J)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from test_harness import races, reaper

POLL = 5.0  # seconds between looks into a pilot's sandbox while waiting for a result


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


def pilot_sandbox(pilot: Any) -> Path:
    """The pilot's sandbox directory (RP gives it as a URL)."""
    return Path(urlparse(str(getattr(pilot, "pilot_sandbox", "") or "")).path or "/nonexistent")


def pilot_diagnostics(pilot: Any, tail: int = 40, limit: int = 20_000) -> str:
    """What the pilot's agent said about its failure: ``sandbox_diagnostics`` of its sandbox."""
    return sandbox_diagnostics(pilot_sandbox(pilot), tail, limit)


def sandbox_diagnostics(sandbox: Path, tail: int = 40, limit: int = 20_000) -> str:
    """What a pilot's agent said about its failure: a known upstream race whose trace is in its
    sandbox (first, named with its link and the evidence), then the tails of the ``*.err``/``*.out``
    files in the sandbox and the error lines of its logs. RP's client only sees the pilot state;
    the reason (a crash in the agent, a lost task) is in these files."""
    if not sandbox.is_dir():
        return f"(no pilot sandbox at {sandbox})"
    race = races.explain(races.find(sandbox))
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
    return f"{race}\n{text[-limit:]}" if race else text[-limit:]


def result(future: Any, timeout: float, sandbox: Path) -> Any:
    """``future.result(timeout)`` for a task that runs on the pilot whose sandbox is ``sandbox``,
    looking into it every few seconds: a task lost to a known upstream race never comes back, so
    the test fails at once, and a time-out fails too; both with ``sandbox_diagnostics`` (the race
    named first)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return future.result(timeout=max(0.0, min(POLL, deadline - time.monotonic())))
        except TimeoutError:  # concurrent.futures.TimeoutError is TimeoutError since Python 3.11
            if future.done():  # the task itself raised it
                raise
            lost = bool(races.find(sandbox))
            if lost or time.monotonic() >= deadline:
                why = "the task was lost to an upstream race" if lost else f"no result within {timeout} s"
                pytest.fail(f"{why}\n{sandbox_diagnostics(sandbox)}")
