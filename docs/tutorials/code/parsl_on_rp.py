"""Parsl apps that run through RADICAL-Pilot: Parsl's RadicalPilotExecutor on a local pilot.

Run it from a scratch directory, in an activated environment (the pilot finds RADICAL-Pilot's
agent through $VIRTUAL_ENV).
"""

import os
from pathlib import Path

# RADICAL-Pilot keeps its state under $RADICAL_BASE and its pilot sandboxes under
# $HOME/radical.pilot.sandbox by default. Keep both in the scratch directory: set
# RADICAL_BASE before RADICAL-Pilot is imported, and give the pilot a `sandbox` below.
workdir = Path.cwd()
os.environ.setdefault("RADICAL_BASE", str(workdir))

import parsl  # noqa: E402
from parsl import bash_app, python_app  # noqa: E402
from parsl.config import Config  # noqa: E402
from parsl.executors.radical import RadicalPilotExecutor, ResourceConfig  # noqa: E402

print(f"RADICAL_BASE: {os.environ['RADICAL_BASE']}")


@python_app
def square(x: int) -> int:
    return x * x


@python_app
def total(*values: int) -> int:
    return sum(values)


@bash_app
def hostname(stdout: str = "hostname.out") -> str:
    return "hostname"


# One pilot on this machine ("local.localhost") with 2 cores for at most 15 minutes. Extra
# keyword arguments go to RADICAL-Pilot's PilotDescription: `sandbox` replaces $HOME as the
# directory that holds radical.pilot.sandbox/.
config = Config(
    executors=[RadicalPilotExecutor(
        label="rpex",
        rpex_cfg=ResourceConfig(),
        resource="local.localhost",
        cores=2,
        runtime=15,
        working_dir=str(workdir),
        sandbox=str(workdir),
    )],
    run_dir=str(workdir / "runinfo"),
)

with parsl.load(config):
    squares = [square(i) for i in range(5)]
    # total() waits for the five squares: Parsl passes futures along as dataflow.
    print(f"sum of squares: {total(*squares).result()}")
    hostname().result()
    print(f"bash app ran on: {(workdir / 'hostname.out').read_text().strip()}")
sessions = sorted((workdir / "radical.pilot.sandbox").glob("rpex.session.*"))
print(f"pilot sandbox: {sessions[0].relative_to(workdir)}")
