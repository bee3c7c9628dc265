from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from exaworks_sdk.manifest import Component
from test_harness.suite import Suite

FIXTURES = Path(__file__).parent / "fixtures"
SUITES = FIXTURES / "suites"
collect_ignore = ["fixtures"]


def _make_component(name: str, timeout: int = 60, **detect: Any) -> Component:
    return Component.model_validate({
        "name": name, "summary": f"{name} for harness tests", "homepage": "https://example.org",
        "license": "MIT", "version": "1.0", "pip": {"package": name},
        "detect": detect, "suite_timeout": timeout, "policies": {},
    })


@pytest.fixture(name="make_component")
def make_component_fixture() -> Any:
    return _make_component


@pytest.fixture
def components() -> dict[str, Component]:
    """A tiny manifest: one component that is here (Python's json), one whose executable is not."""
    return {
        "pyjson": _make_component("pyjson", timeout=60, **{"import": "json"}),
        "ghost-tool": _make_component("ghost-tool", timeout=60, executable="sdk-ghost-tool-not-installed"),
        "sleepy": _make_component("sleepy", timeout=10, **{"import": "time"}),
    }


def fixture_suite(name: str, module: str, requires: tuple[str, ...], tags: tuple[str, ...] = ()) -> Suite:
    return Suite(name=name, path=SUITES / module, requires=requires, description=f"{name} fixture",
                 tags=frozenset(tags))


@pytest.fixture
def fixture_suites() -> dict[str, Suite]:
    return {
        "ok": fixture_suite("ok", "suite_ok.py", ("pyjson",), ("smoke",)),
        "fails": fixture_suite("fails", "suite_fails.py", ("pyjson",)),
        "needs-tool": fixture_suite("needs-tool", "suite_needs_tool.py", ("ghost-tool",)),
        "sleepy": fixture_suite("sleepy", "suite_sleepy.py", ("sleepy",), ("slow",)),
    }


RP_RACE = FIXTURES / "rp_race"
RP_WORKER = "rpex.worker.000000"
RP_SESSION = "rpex.session.e80d7934-eed9-11f1-8083-02fc00000001"


@pytest.fixture
def clean_pilot_sandbox(tmp_path: Path) -> Path:
    """A pilot sandbox as Parsl's RadicalPilotExecutor leaves it under ``tmp_path/work`` after a good
    run: the master's and the worker's logs (excerpts of a real run), the worker task's empty .out
    and .err, an installed env/, and a user's task whose output mentions the race (no worker file)."""
    pilot = tmp_path / "work" / "radical.pilot.sandbox" / RP_SESSION / "pilot.0000"
    (pilot / RP_WORKER).mkdir(parents=True)
    for name in (f"{RP_WORKER}.log", "rpex.master.000000.log"):
        (pilot / name).write_text((RP_RACE / "clean" / name).read_text())
    for suffix in ("out", "err", "launch.out"):
        (pilot / RP_WORKER / f"{RP_WORKER}.{suffix}").write_text("")
    (pilot / "env").mkdir()
    (pilot / "env" / "worker_env.log").write_text((RP_RACE / "raced" / f"{RP_WORKER}.log").read_text())
    (pilot / "task.000007").mkdir()
    (pilot / "task.000007" / "task.000007.out").write_text(
        "AttributeError: 'DefaultWorker' object has no attribute '_rlock'\n")
    return pilot


@pytest.fixture
def raced_pilot_sandbox(clean_pilot_sandbox: Path) -> Path:
    """The same after one worker rank lost the raptor race: what RP's code writes then (staged by
    fixtures/rp_race/stage_race.py) appended to the worker's log (its ranks share it), and the
    worker task's .out and .err."""
    pilot = clean_pilot_sandbox
    with (pilot / f"{RP_WORKER}.log").open("a") as log:
        log.write((RP_RACE / "raced" / f"{RP_WORKER}.log").read_text())
    for suffix in ("out", "err"):
        (pilot / RP_WORKER / f"{RP_WORKER}.{suffix}").write_text((RP_RACE / "raced" / f"{RP_WORKER}.{suffix}").read_text())
    return pilot
