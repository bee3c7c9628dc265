"""Run every tutorial's code for real, as a reader would, and check what it prints.

Each script under docs/tutorials/code/ is included in its page with ``literalinclude``; the
last test checks that every script there is both shown in a page and run here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from test_harness import races, reaper

ROOT = Path(__file__).resolve().parents[2]
CODE = ROOT / "docs" / "tutorials" / "code"
VENV_BIN = Path(sys.executable).parent
POLL = 5.0  # seconds between looks at a running tutorial's files (stop_if)


def _env(home: Path, **extra: str) -> dict[str, str]:
    """An activated environment (VIRTUAL_ENV and PATH) with HOME in the test's directory."""
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HOME=str(home), VIRTUAL_ENV=sys.prefix,
               PATH=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]),
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost", COLUMNS="120")
    env.pop("RADICAL_BASE", None)
    env.update(extra)
    return env


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float,
         stop_if: Callable[[], str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run in its own process group; on timeout kill the whole group (pilots, workers) and fail.
    ``stop_if`` is asked every few seconds while it runs: a non-empty answer (why the run can never
    finish) ends it the same way at once, with that answer in the failure message."""
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            out, _ = proc.communicate(timeout=max(0.0, min(left, POLL) if stop_if else left))
            return subprocess.CompletedProcess(command, proc.returncode, out, "")
        except subprocess.TimeoutExpired:  # no output is lost: communicate() picks up where it was
            why = stop_if() if stop_if else ""
            if why or time.monotonic() >= deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                out, _ = proc.communicate()
                cause = f"was stopped after {timeout - left:.0f} s: {why}" if why else f"did not finish within {timeout} s"
                pytest.fail(f"{' '.join(command)} {cause}\n--- its output:\n{out[-5000:]}")


def _needs(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")


def test_psij_job(tmp_path: Path) -> None:
    _needs("psij")
    work = tmp_path / "work"
    work.mkdir()
    proc = _run([sys.executable, str(CODE / "submit_job.py")], work, _env(tmp_path / "home"), timeout=120)
    assert proc.returncode == 0, proc.stdout
    assert "state: COMPLETED, exit code: 0" in proc.stdout
    assert "stdout: hello from PSI/J" in proc.stdout
    assert "failing job: state FAILED, exit code 1" in proc.stdout
    assert (work / "psij-tutorial" / "hello.out").read_text().strip() == "hello from PSI/J"


@contextmanager
def _upstream_races_xfail(root: Path) -> Iterator[None]:
    """A failure (a time-out too) with a known upstream race's trace under ``root`` is that race, not
    the tutorial: the test xfails naming the race, its link and the evidence (file:line). Any
    other failure stays a failure."""
    try:
        yield
    except (AssertionError, pytest.fail.Exception) as failure:
        found = races.explain(races.find(root))
        if found:
            pytest.xfail(f"{found}\n--- the failure:\n{str(failure)[-3000:]}")
        raise


def _race_in(root: Path) -> Callable[[], str]:
    """For ``_run(stop_if=...)``: a race that lost a task has lost it for good."""
    return lambda: next((f"an upstream race's trace is in {e.where}" for e in races.find(root)), "")


@pytest.mark.slow
def test_parsl_on_radical_pilot(tmp_path: Path) -> None:
    _needs("parsl")
    _needs("radical.pilot")
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    # The pilot's agent, raptor master and workers run in sessions of their own: a killpg at a
    # time-out misses them, so the test process reaps and ends them.
    with reaper.subreaper(), reaper.ends_what_it_starts(), _upstream_races_xfail(tmp_path):
        proc = _run([sys.executable, str(CODE / "parsl_on_rp.py")], work, _env(home, PWD=str(work)), timeout=600,
                    stop_if=_race_in(tmp_path))
        assert proc.returncode == 0, proc.stdout[-5000:]
    assert "sum of squares: 30" in proc.stdout
    assert f"bash app ran on: {socket.gethostname()}" in proc.stdout
    assert "pilot sandbox: radical.pilot.sandbox/rpex.session." in proc.stdout
    # The tutorial promises the pilot's files stay in the working directory, not in $HOME.
    assert not (home / "radical.pilot.sandbox").exists()
    assert not (home / ".radical").exists()


STAGE_RACE = ROOT / "tests" / "harness" / "fixtures" / "rp_race" / "stage_race.py"


def test_a_run_that_loses_the_rp_race_stops_early_and_xfails(tmp_path: Path) -> None:
    """The path above that a passing run never takes: RP's own code writes the race's trace (staged,
    see stage_race.py) into a pilot sandbox, and the run then hangs as Parsl's client would."""
    _needs("radical.pilot")
    pilot = tmp_path / "work" / "radical.pilot.sandbox" / "rpex.session.x" / "pilot.0000"
    script = f'"{sys.executable}" "{STAGE_RACE}" "{pilot}" && echo staged && exec sleep 600'
    started = time.monotonic()
    with pytest.raises(pytest.xfail.Exception) as xfailed, _upstream_races_xfail(tmp_path):
        _run(["sh", "-c", script], tmp_path, _env(tmp_path / "home"), timeout=300, stop_if=_race_in(tmp_path))
    assert time.monotonic() - started < 60, "the run was not stopped when the race showed"
    reason = str(xfailed.value)
    assert reason.startswith("upstream race: RADICAL-Pilot raptor worker starts taking requests before it can run them")
    assert "blob/v1.90.0/src/radical/pilot/raptor/worker_default.py#L46-L60" in reason
    assert f"{pilot}/rpex.worker.000000/rpex.worker.000000.err:1: listener died" in reason
    assert "was stopped after" in reason and "staged" in reason  # the failure and the run's output


def test_a_failure_without_a_race_stays_a_failure(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="no pilot here"), _upstream_races_xfail(tmp_path):
        proc = _run(["sh", "-c", "echo no pilot here; exit 1"], tmp_path, _env(tmp_path / "home"), timeout=60,
                    stop_if=_race_in(tmp_path))
        assert proc.returncode == 0, proc.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served_demo(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """local_dashboard.sh, serving until the test ends (SIGTERM, as Ctrl-C would)."""
    port = _free_port()
    log = tmp_path / "demo.out"
    env = _env(tmp_path / "home", SDK_DEMO_DIR=str(tmp_path / "demo"), SDK_DEMO_PORT=str(port))
    with log.open("w") as out:
        proc = subprocess.Popen(["bash", str(CODE / "local_dashboard.sh")], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while "Ctrl-C stops it" not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the demo did not start serving (exit {proc.poll()}):\n{log.read_text()[-5000:]}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.mark.slow
def test_local_dashboard(served_demo: tuple[str, Path], tmp_path: Path) -> None:
    url, log = served_demo
    demo_output = log.read_text()
    assert re.search(r"11\s+accepted, 0 already there", demo_output), demo_output[-5000:]  # rich may wrap
    assert f"compatibility matrix: {url}/compat/" in demo_output
    # the local site's release check: psij and maestro of the pip variant reported, and they are
    # green ("known" is accepted); the container variant never reported
    assert re.search(r"green +local-linux pip +maestro", demo_output)
    assert re.search(r"green +local-linux pip +psij +known", demo_output)
    assert re.search(r"missing +local-linux container", demo_output)
    assert re.search(r"\d+ required cells: 2 green, 0 red, 0 pin mismatch, 0 stale, \d+ missing; \d+ excluded\. Not ready\.",
                     demo_output)
    proc = _run(["bash", str(CODE / "query_dashboard.sh"), url], tmp_path, _env(tmp_path / "home"), timeout=60)
    assert proc.returncode == 0, proc.stdout
    lines = proc.stdout.splitlines()
    assert json.loads(lines[0])["status"] == "ok"
    site = json.loads("\n".join(lines[lines.index("{"):lines.index("}") + 1]))  # the json.tool block
    assert site["site"]["name"] == "local-linux"
    assert {r["suite"]: r["status"] for r in site["latest"]} == {"psij": "known", "maestro": "passed"}
    assert "summary page: HTTP 200" in proc.stdout
    assert "site page: HTTP 200" in proc.stdout


def test_every_tutorial_script_is_shown_and_run() -> None:
    pages = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "tutorials").glob("*.md"))
    tests = Path(__file__).read_text(encoding="utf-8")
    for script in sorted(CODE.iterdir()):
        assert f"code/{script.name}" in pages, f"{script.name} is not included in any tutorial page"
        assert f'CODE / "{script.name}"' in tests, f"{script.name} is not run by {Path(__file__).name}"
