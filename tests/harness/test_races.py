"""Races recognised in a pilot's sandbox: laid out as Parsl's RadicalPilotExecutor leaves it.

The clean files are excerpts of a real run of docs/tutorials/code/parsl_on_rp.py (RP 1.90.0); the
raced ones were written by RADICAL-Pilot's own worker, logger and ZMQ code with the race staged
(fixtures/rp_race/stage_race.py, which the last test runs against the installed RP).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from test_harness import races
from test_harness.races import RP_RAPTOR_WORKER_RLOCK
from tests.harness.conftest import RP_RACE, RP_SESSION, RP_WORKER


@pytest.fixture
def clean_run(clean_pilot_sandbox: Path, tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def raced_run(raced_pilot_sandbox: Path, tmp_path: Path) -> Path:
    return tmp_path


def test_a_clean_run_has_no_race(clean_run: Path) -> None:
    assert races.find(clean_run) == []
    assert races.explain(races.find(clean_run)) == ""


def test_the_race_is_found_in_the_workers_log_out_and_err(raced_run: Path) -> None:
    pilot = raced_run / "work" / "radical.pilot.sandbox" / RP_SESSION / "pilot.0000"
    clean_lines = len((RP_RACE / "clean" / f"{RP_WORKER}.log").read_text().splitlines())
    found = {(e.path, e.line): e.text for e in races.find(raced_run)}
    assert found == {
        (pilot / f"{RP_WORKER}.log", clean_lines + 9): "AttributeError: 'DefaultWorker' object has no attribute '_rlock'",
        (pilot / RP_WORKER / f"{RP_WORKER}.err", 1):
            "listener died: default : tcp://192.0.2.2:10001 : AttributeError(\"'DefaultWorker' object has no attribute "
            "'_rlock'\")",
        (pilot / RP_WORKER / f"{RP_WORKER}.out", 12): "AttributeError: 'DefaultWorker' object has no attribute '_rlock'",
    }
    assert all(e.race is RP_RAPTOR_WORKER_RLOCK for e in races.find(raced_run))


def test_the_explanation_names_the_race_the_link_and_the_evidence(raced_run: Path) -> None:
    text = races.explain(races.find(raced_run))
    assert text.startswith("upstream race: RADICAL-Pilot raptor worker starts taking requests before it can run them")
    assert "https://github.com/radical-cybertools/radical.pilot/blob/v1.90.0/src/radical/pilot/raptor/worker_default.py" in text
    assert f"radical.pilot {races.installed_version(RP_RAPTOR_WORKER_RLOCK)} here" in text
    assert f"/pilot.0000/{RP_WORKER}.log:43: AttributeError" in text
    assert text.count("upstream race:") == 1  # one race, three files


def test_only_the_tail_of_a_long_log_is_read_and_its_line_number_is_the_files(tmp_path: Path) -> None:
    log = tmp_path / f"{RP_WORKER}.log"
    clean = (RP_RACE / "clean" / f"{RP_WORKER}.log").read_text()
    raced = (RP_RACE / "raced" / f"{RP_WORKER}.log").read_text()
    log.write_text(clean * 300 + raced)  # ~1.2 MB of real lines before the trace
    clean_lines = len(clean.splitlines()) * 300
    [found] = races.find(tmp_path, tail=64 * 1024)
    assert (found.path, found.line) == (log, clean_lines + 9)
    log.write_text(raced + clean * 300)  # the trace long before the tail: not read
    assert races.find(tmp_path, tail=64 * 1024) == []


@pytest.mark.skipif(importlib.util.find_spec("radical.pilot") is None, reason="radical.pilot is not installed")
def test_the_installed_radical_pilot_writes_what_the_race_is_recognised_by(tmp_path: Path) -> None:
    pilot = tmp_path / "radical.pilot.sandbox" / RP_SESSION / "pilot.0000"
    proc = subprocess.run([sys.executable, str(RP_RACE / "stage_race.py"), str(pilot)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = sorted(e.path.name for e in races.find(tmp_path))
    assert found == [f"{RP_WORKER}.err", f"{RP_WORKER}.log", f"{RP_WORKER}.out"], found
