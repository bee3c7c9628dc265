"""Fixtures the suites share. Suites import their tools inside fixtures and tests, so a module
whose component is missing still collects (and its tests are skipped with the reason)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest


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
    proc = subprocess.Popen([flux, "start", "--test-size=1", "sh", "-c", script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=workdir)
    deadline = time.monotonic() + 60
    while not uri_file.exists():
        if proc.poll() is not None:
            pytest.fail(f"flux start exited {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("flux start did not come up within 60 s")
        time.sleep(0.2)
    uri = uri_file.read_text().strip()
    os.environ["FLUX_URI"] = uri
    try:
        yield uri
    finally:
        del os.environ["FLUX_URI"]
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
