"""RADICAL-Pilot: one local.localhost pilot for the module, several tasks, then sandbox cleanup.

The pilot takes ~25 s to become active here, so it is started once (module scope). RP writes
``~/radical.pilot.sandbox`` and ``~/.radical``; the harness points $HOME into the suite's
sandbox, and the last test checks that the pilot's sandbox lived there and was cleaned up.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from test_harness.suites.rp_util import pilot_scope

PILOT_TIMEOUT = 180


@pytest.fixture(scope="module")
def rp_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import radical.pilot as rp

    workdir = tmp_path_factory.mktemp("rp")
    with pilot_scope(workdir):  # the client session directory (rp.session.*) is created in $PWD
        session = rp.Session()
        try:
            pmgr = rp.PilotManager(session=session)
            tmgr = rp.TaskManager(session=session)
            pilot = pmgr.submit_pilots(rp.PilotDescription(
                {"resource": "local.localhost", "cores": 2, "runtime": 15, "exit_on_error": False}))
            tmgr.add_pilots(pilot)
            yield {"rp": rp, "session": session, "pilot": pilot, "tmgr": tmgr, "workdir": workdir}
        finally:
            session.close(terminate=True, download=False)


def _task(rp: Any, command: str, **extra: Any) -> Any:
    return rp.TaskDescription({"executable": "/bin/sh", "arguments": ["-c", command], **extra})


def test_pilot_becomes_active(rp_session: dict[str, Any]) -> None:
    rp, pilot = rp_session["rp"], rp_session["pilot"]
    pilot.wait(state=[rp.PMGR_ACTIVE, *rp.FINAL], timeout=PILOT_TIMEOUT)
    assert pilot.state == rp.PMGR_ACTIVE, f"pilot is {pilot.state}"


def test_several_tasks_run(rp_session: dict[str, Any]) -> None:
    rp, tmgr = rp_session["rp"], rp_session["tmgr"]
    tasks = tmgr.submit_tasks([_task(rp, f"echo task {i} $RP_TASK_ID") for i in range(6)])
    tmgr.wait_tasks(uids=[t.uid for t in tasks], timeout=PILOT_TIMEOUT)
    for i, task in enumerate(tasks):
        assert task.state == rp.DONE, f"{task.uid}: {task.state} {task.stderr}"
        assert task.exit_code == 0
        assert task.stdout.strip() == f"task {i} {task.uid}"


def test_failing_task_reports_exit_code(rp_session: dict[str, Any]) -> None:
    rp, tmgr = rp_session["rp"], rp_session["tmgr"]
    task = tmgr.submit_tasks(_task(rp, "echo doomed >&2; exit 3"))
    tmgr.wait_tasks(uids=[task.uid], timeout=PILOT_TIMEOUT)
    assert task.state == rp.FAILED
    assert task.exit_code == 3
    assert "doomed" in task.stderr


def test_task_environment_and_sandbox(rp_session: dict[str, Any]) -> None:
    rp, tmgr = rp_session["rp"], rp_session["tmgr"]
    task = tmgr.submit_tasks(_task(rp, 'echo "$SDK_RP_VALUE" > value.txt; pwd',
                                   environment={"SDK_RP_VALUE": "seven"}))
    tmgr.wait_tasks(uids=[task.uid], timeout=PILOT_TIMEOUT)
    assert task.state == rp.DONE, task.stderr
    sandbox = Path(task.stdout.strip().splitlines()[-1])
    assert (sandbox / "value.txt").read_text().strip() == "seven"
    home = Path(os.environ["HOME"]).resolve()
    assert home in sandbox.resolve().parents, f"task sandbox {sandbox} is outside $HOME={home}"


def test_sandbox_cleanup(rp_session: dict[str, Any]) -> None:
    """Everything RP wrote is inside this suite's $HOME and cwd, and removing it leaves nothing.

    (RP's own ``cleanup`` flag runs at the end of the pilot's bootstrap, which a cancelled
    local pilot never reaches, so the suite cleans up itself.)"""
    rp, session, pilot = rp_session["rp"], rp_session["session"], rp_session["pilot"]
    sid = session.uid
    home = Path(os.environ["HOME"])
    pilot_sandbox = Path(ru_path(pilot.pilot_sandbox))
    session_sandbox = pilot_sandbox.parent
    assert session_sandbox.name == sid
    assert home.resolve() in pilot_sandbox.resolve().parents, f"{pilot_sandbox} is outside $HOME={home}"
    assert (rp_session["workdir"] / sid).is_dir(), "the client session directory is not in the cwd"
    pilot.cancel()
    pilot.wait(state=rp.FINAL, timeout=PILOT_TIMEOUT)
    assert pilot.state in (rp.DONE, rp.CANCELED), f"pilot ended {pilot.state}"
    session.close(terminate=True, download=False)
    shutil.rmtree(session_sandbox)
    shutil.rmtree(rp_session["workdir"] / sid)
    assert not session_sandbox.exists() and not (rp_session["workdir"] / sid).exists()
    real_home = os.environ.get("SDK_REAL_HOME")
    if real_home:
        assert not (Path(real_home) / "radical.pilot.sandbox" / sid).exists(), "RP wrote into the real $HOME"


def ru_path(url: Any) -> str:
    """The local path of an RP sandbox URL such as ``file://localhost/tmp/...``."""
    import radical.utils as ru

    return ru.Url(str(url)).path
