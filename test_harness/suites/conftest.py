"""Fixtures the suites share. Suites import their tools inside fixtures and tests, so a module
whose component is missing still collects (and its tests are skipped with the reason)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from test_harness import reaper


def run(command: list[str], timeout: float = 120, check: bool = True, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure the assertion shows its output."""
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)  # type: ignore[call-overload]
    if check:
        assert proc.returncode == 0, (
            f"`{' '.join(command)}` exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def flux_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Flux instance for the session: the enclosing one when already under Flux, else our own.

    ``flux start --test-size=1`` runs an initial program; ours writes $FLUX_URI and then waits on
    stdin, so closing stdin ends the initial program and the instance shuts down cleanly.
    """
    if os.environ.get("FLUX_URI"):
        yield os.environ["FLUX_URI"]
        return
    flux = shutil.which("flux")
    assert flux, "flux is not on PATH"
    workdir = tmp_path_factory.mktemp("flux")
    uri_file = workdir / "uri"
    script = f'printf "%s" "$FLUX_URI" > {uri_file}.tmp && mv {uri_file}.tmp {uri_file} && read _'
    with reaper.ends_what_it_starts():
        # its own process group, so that teardown reaches the broker and every job shell it started
        proc = subprocess.Popen([flux, "start", "--test-size=1", "sh", "-c", script], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=workdir,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while not uri_file.exists():
                if proc.poll() is not None:
                    pytest.fail(f"flux start exited {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}")
                if time.monotonic() > deadline:
                    pytest.fail("flux start did not come up within 60 s")
                time.sleep(0.2)
            uri = uri_file.read_text().strip()
            os.environ["FLUX_URI"] = uri
            try:
                yield uri
            finally:
                del os.environ["FLUX_URI"]
        finally:
            assert proc.stdin is not None
            proc.stdin.close()  # ends the initial program: the instance shuts down cleanly
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
            kill_process_group(proc)


def kill_process_group(proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """SIGTERM the process group ``proc`` leads (it was started with start_new_session=True), then
    SIGKILL whatever is left in it; a leader that already exited still names its group."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
