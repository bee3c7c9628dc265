"""What an RP suite says when a task does not come back: test_harness/suites/rp_util.py, on pilot
sandboxes laid out as Parsl's RadicalPilotExecutor leaves them (tests/harness/conftest.py)."""

from __future__ import annotations

import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from test_harness.suites import rp_util
from tests.harness.conftest import RP_WORKER


def test_a_task_lost_to_the_race_fails_at_once_and_names_it(raced_pilot_sandbox: Path) -> None:
    never: Future[int] = Future()  # the lost task: its result never comes
    started = time.monotonic()
    with pytest.raises(pytest.fail.Exception) as failed:
        rp_util.result(never, 240, raced_pilot_sandbox)
    assert time.monotonic() - started < rp_util.POLL + 5, "it waited for the time-out"
    message = str(failed.value)
    assert message.startswith("the task was lost to an upstream race\nupstream race: RADICAL-Pilot raptor worker")
    assert f"{raced_pilot_sandbox}/{RP_WORKER}/{RP_WORKER}.err:1: listener died" in message
    assert f"--- {RP_WORKER}.log (error lines)" in message  # the sandbox's own lines follow


def test_the_race_stays_first_when_the_diagnostics_are_cut(raced_pilot_sandbox: Path) -> None:
    text = rp_util.sandbox_diagnostics(raced_pilot_sandbox, limit=100)
    assert text.startswith("upstream race: ")
    assert "worker_default.py#L46-L60" in text


def test_a_time_out_without_the_race_is_a_plain_time_out(clean_pilot_sandbox: Path) -> None:
    never: Future[int] = Future()
    with pytest.raises(pytest.fail.Exception) as failed:
        rp_util.result(never, 0.5, clean_pilot_sandbox)
    message = str(failed.value)
    assert message.startswith("no result within 0.5 s\n")
    assert "upstream race" not in message


def test_results_and_task_errors_come_back_as_they_are(raced_pilot_sandbox: Path) -> None:
    done: Future[int] = Future()
    done.set_result(14)
    assert rp_util.result(done, 1, raced_pilot_sandbox) == 14  # another rank ran it: not lost
    failed: Future[int] = Future()
    failed.set_exception(TimeoutError("the task's own time-out"))
    with pytest.raises(TimeoutError, match="the task's own"):
        rp_util.result(failed, 1, raced_pilot_sandbox)
