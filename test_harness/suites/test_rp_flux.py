"""RADICAL-Pilot launching its tasks through Flux: a user resource config (in the sandboxed $HOME)
derives ``local.localhost_flux`` from ``local.localhost`` with RP's FLUX scheduler, spawner and
launch method, the way RP's own Flux resource configs do.

Three things the pilot agent needs, all derived from the Flux found here, none hard-coded:
* Flux's ``bin`` and Python path. The agent starts through ``bash -l``, whose profile resets
  PATH, so both go into ``pre_bootstrap_0`` (the agent) and the launch method's
  ``pre_exec_cached`` (the task launcher): neither alone is enough.
* A way to reach ``ssh://<this host>/...``: radical.utils rewrites the agent's Flux URI to it.
  Flux's ssh connector runs the remote shell named by ``FLUX_SSH``; here that is a small
  script that runs the command on this host only, so no sshd is needed for the agent to reach
  its own Flux instance.

RP 1.61 to 1.102 crash in the Flux launch method before any of that matters: the manifest
records it as a known incompatibility, and the harness reports these tests as ``known``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from test_harness.suites.flux_util import flux_pythonpath, import_flux
from test_harness.suites.rp_util import pilot_diagnostics, pilot_scope

RESOURCE = "local.localhost_flux"
LOCAL_SHELL = """#!/bin/sh
# FLUX_SSH for the rp-flux suite: Flux's ssh connector calls this as `$0 [-p PORT] [USER@]HOST CMD...`.
# It runs CMD on this host, and refuses any other host.
[ "$1" = "-p" ] && shift 2
host=${1#*@}
shift
case "$host" in
  localhost|127.0.0.1|%(names)s) exec "$@" ;;
esac
echo "rp-flux local shell: $host is not this host" >&2
exit 255
"""


def _local_shell(directory: Path) -> Path:
    names = sorted({socket.gethostname(), socket.getfqdn(), socket.gethostname().split(".")[0]})
    path = directory / "flux-local-shell"
    path.write_text(LOCAL_SHELL % {"names": "|".join(n for n in names if n)})
    path.chmod(0o755)
    return path


def _flux_exports(local_shell: Path) -> list[str]:
    flux = shutil.which("flux")
    assert flux, "flux is not on PATH"
    return [f'export PATH="{Path(flux).parent}:$PATH"',
            f'export PYTHONPATH="{flux_pythonpath()}${{PYTHONPATH:+:$PYTHONPATH}}"',
            f'export FLUX_SSH="{local_shell}"']


@pytest.fixture(scope="module")
def rp_flux(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import_flux()
    import radical.pilot as rp

    workdir = tmp_path_factory.mktemp("rp-flux")
    exports = _flux_exports(_local_shell(workdir))
    configs = Path(os.environ["HOME"]) / ".radical" / "pilot" / "configs"
    configs.mkdir(parents=True, exist_ok=True)
    (configs / "resource_local.json").write_text(json.dumps({"localhost_flux": {
        "description": "local machine, tasks scheduled and launched by Flux (ExaWorks SDK harness)",
        "default_schema": "local",
        "schemas": {"local": {"job_manager_endpoint": "fork://localhost/",
                              "filesystem_endpoint": "file://localhost/"}},
        "default_remote_workdir": "$HOME",
        "resource_manager": "FORK",
        "agent_scheduler": "FLUX",
        "agent_spawner": "FLUX",
        "launch_methods": {"order": ["FLUX"], "FLUX": {"pre_exec_cached": exports}},
        "pre_bootstrap_0": exports,
        "rp_version": "installed",
        "virtenv_mode": "local",
        "python_dist": "default",
        "cores_per_node": 2,
        "gpus_per_node": 0,
        "fake_resources": True,
    }}))
    with pilot_scope(workdir):
        session = rp.Session()
        try:
            pmgr = rp.PilotManager(session=session)
            tmgr = rp.TaskManager(session=session)
            pilot = pmgr.submit_pilots(rp.PilotDescription(
                {"resource": RESOURCE, "cores": 2, "runtime": 15, "exit_on_error": False}))
            tmgr.add_pilots(pilot)
            pilot.wait(state=[rp.PMGR_ACTIVE, *rp.FINAL], timeout=240)
            yield {"rp": rp, "pilot": pilot, "tmgr": tmgr}
        finally:
            session.close(terminate=True, download=False)


def test_pilot_active_with_flux(rp_flux: dict[str, Any]) -> None:
    pilot = rp_flux["pilot"]
    assert pilot.state == rp_flux["rp"].PMGR_ACTIVE, f"pilot is {pilot.state}\n{pilot_diagnostics(pilot)}"


def test_tasks_are_flux_jobs(rp_flux: dict[str, Any]) -> None:
    rp, tmgr, pilot = rp_flux["rp"], rp_flux["tmgr"], rp_flux["pilot"]
    assert pilot.state == rp.PMGR_ACTIVE, f"pilot is {pilot.state}\n{pilot_diagnostics(pilot)}"
    tasks = tmgr.submit_tasks([rp.TaskDescription({"executable": "/bin/sh",
                                                   "arguments": ["-c", "echo job=$FLUX_JOB_ID"]})
                               for _ in range(3)])
    tmgr.wait_tasks(uids=[t.uid for t in tasks], timeout=240)
    for task in tasks:
        assert task.state == rp.DONE, f"{task.uid}: {task.state} {task.stderr}\n{pilot_diagnostics(pilot)}"
        line = task.stdout.strip()
        assert line.startswith("job=") and len(line) > len("job="), f"not launched by Flux: {line!r}"
