"""Leave no process behind: suites whose tests leave processes running (in their own sessions,
re-parented, or with their suite killed at its timeout), run by the harness for real."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from exaworks_sdk.manifest import Component
from exaworks_sdk.records import RunStart, TestResult, new_id, read_records, utcnow
from test_harness import reaper
from test_harness.detect import detect_all
from test_harness.runner import Runner, RunResult
from test_harness.suite import Suite
from tests.harness.conftest import fixture_suite

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="child subreapers are Linux only")


def _marked(token: str) -> list[int]:
    """Live processes whose environment carries the probe token."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f"SDK_LEAK_PROBE={token}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> str:
    token = uuid.uuid4().hex
    monkeypatch.setenv("SDK_LEAK_PROBE", token)  # the suites inherit it, and so does all they start
    return token


def _run(components: dict[str, Component], suite: Suite, tmp_path: Path, **kwargs: object) -> RunResult:
    start = RunStart(id=new_id(), run_id=new_id(), site="harness-test", started_at=utcnow())
    return Runner(components, detect_all(components), **kwargs).run(  # type: ignore[arg-type]
        [suite], tmp_path / "run.jsonl", start)


def test_the_suite_ends_what_its_tests_left_running(components: dict, probe: str, tmp_path: Path) -> None:
    result = _run(components, fixture_suite("leaky", "suite_leaky.py", ("pyjson",)), tmp_path)
    assert result.exit_code == 0
    assert _marked(probe) == [], "processes outlived their suite"
    log = (tmp_path / "run.logs" / "leaky.log").read_text()
    assert "sdk harness: ended 2 process(es) the suite left running" in log, log
    assert "sleep 301" in log and "sleep 302" in log


def test_a_killed_suites_orphans_are_ended_by_the_harness(components: dict, probe: str, tmp_path: Path) -> None:
    """The suite is killed at its timeout (its pytest cannot clean up); the harness reaps its daemon."""
    code = (
        "import sys; from pathlib import Path\n"
        "from tests.harness.conftest import _make_component, fixture_suite\n"
        "from tests.harness.test_reaper import _run\n"
        "comps = {'sleepy': _make_component('sleepy', timeout=10, **{'import': 'time'})}\n"
        "suite = fixture_suite('leaky-hangs', 'suite_leaky_hangs.py', ('sleepy',))\n"
        "result = _run(comps, suite, Path(sys.argv[1]), timeout_factor=0.4, reap=True)\n"
        "print(result.outcomes[0].timed_out)\n"
    )
    root = Path(__file__).resolve().parents[2]
    # a process of its own, like `sdk-test run`: becoming a subreaper must not touch this test process
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, cwd=root,
                          env={**os.environ, "PYTHONPATH": str(root)}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("True"), proc.stdout
    assert _marked(probe) == [], "a killed suite's daemon outlived the harness"


def test_without_the_harness_the_same_suite_leaks(probe: str, tmp_path: Path) -> None:
    """The leak is real: the same fixture suite under plain pytest leaves both processes running."""
    suite = Path(__file__).parent / "fixtures" / "suites" / "suite_leaky.py"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    leaked = _marked(probe)
    try:
        assert len(leaked) == 2, f"expected the two sleeps to outlive plain pytest, found {leaked}"
    finally:
        for pid in leaked:
            os.kill(pid, 9)


def test_sdk_test_run_leaves_no_process_behind(probe: str, tmp_path: Path) -> None:
    """The real `sdk-test run` command (its own process, as a user runs it), with the two leaky
    fixture suites in place of the registry: one leaves processes behind when it passes, the
    other is killed at its deadline with a daemon running."""
    code = (
        "import sys\n"
        "from test_harness import cli\n"
        "from tests.harness.conftest import fixture_suite\n"
        "cli.default_suites = lambda manifest=None: [fixture_suite('leaky', 'suite_leaky.py', ()),\n"
        "                              fixture_suite('leaky-hangs', 'suite_leaky_hangs.py', ())]\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", code, "run", "leaky", "leaky-hangs", "--timeout-factor", "0.03",
                           "--results-dir", str(tmp_path), "--no-junit"],
                          capture_output=True, text=True, cwd=root, timeout=180,
                          env={**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200"})
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the killed suite is an error
    (records,) = tmp_path.glob("*.jsonl")
    statuses = {r.suite: r.status.value for r in read_records(records) if isinstance(r, TestResult)}
    assert statuses == {"leaky": "passed", "leaky-hangs": "error"}, statuses
    assert _marked(probe) == [], "`sdk-test run` left processes running"


def test_a_kept_child_keeps_its_exit_status() -> None:
    """Ending what a finished suite left must not reap a suite that is still the runner's: its
    Popen would read exit status 0 instead of its own."""
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # a zombie now, its status not yet collected
    assert reaper.end_descendants(keep=frozenset({proc.pid})) == []
    assert proc.wait(timeout=30) == 3


def test_a_process_is_a_subreaper_for_a_block_only(probe: str) -> None:
    """What a test that starts a pilot itself uses (tests/docs): orphans of the block, in their own
    session, are ended; afterwards the process is no subreaper again. In a process of its own, as
    becoming a subreaper must not touch this test process."""
    code = (
        "import subprocess\n"
        "from test_harness import reaper\n"
        "assert not reaper.is_subreaper()\n"
        "with reaper.subreaper() as became, reaper.ends_what_it_starts():\n"
        "    assert became and reaper.is_subreaper()\n"
        "    subprocess.run(['setsid', 'sh', '-c', 'sleep 303 >/dev/null 2>&1 &'], check=True)\n"
        "    assert any(p.command == 'sleep 303' for p in reaper.descendants()), 'the orphan is not below'\n"
        "print(reaper.is_subreaper())\n"
    )
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
                          env={**os.environ, "PYTHONPATH": str(root)}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
    assert _marked(probe) == [], "the block's orphan outlived it"
