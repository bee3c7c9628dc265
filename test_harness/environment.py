"""What machine is this? Host, OS, Python, component versions, variant, schedulers, MPI, CI."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from test_harness.detect import Detection

SCHEDULER_COMMANDS = {  # a scheduler is "detected" when its client command is on PATH
    "slurm": "sbatch",
    "pbs": "qsub",
    "lsf": "bsub",
    "flux": "flux",
    "cobalt": "cqsub",
}
MPI_PROBES = (  # first match wins: (flavour, command)
    ("mpich", ["mpichversion"]),
    ("openmpi", ["ompi_info", "--version"]),
    ("intel-mpi", ["mpiexec", "--version"]),
    ("unknown", ["mpiexec", "--version"]),
)
GITLAB_VARIABLES = (
    "CI_PIPELINE_ID", "CI_PIPELINE_URL", "CI_JOB_ID", "CI_JOB_URL", "CI_JOB_NAME", "CI_COMMIT_SHA",
    "CI_COMMIT_REF_NAME", "CI_RUNNER_TAGS", "CI_RUNNER_DESCRIPTION", "CI_PROJECT_PATH", "CI_SERVER_URL",
)


def _run(command: list[str]) -> str | None:
    if shutil.which(command[0]) is None:
        return None
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (proc.stdout + proc.stderr).strip()


def install_variant(env: Mapping[str, str] = os.environ, root: Path = Path("/")) -> str:
    """How the SDK got here, as far as this machine tells (``--variant``/SDK_VARIANT override it)."""
    if (root / ".dockerenv").exists() or (root / "run" / ".containerenv").exists() or env.get("APPTAINER_NAME"):
        return "container"
    if env.get("SPACK_ENV"):
        return "spack"
    return "pip"


def mpi_flavour() -> dict[str, str] | None:
    for flavour, command in MPI_PROBES:
        text = _run(command)
        if not text:
            continue
        if flavour == "intel-mpi" and "Intel" not in text:
            continue
        if flavour == "unknown":
            flavour = "openmpi" if "Open MPI" in text or "OpenRTE" in text else (
                "mpich" if "HYDRA" in text or "MPICH" in text else "unknown")
        version = re.search(r"(\d+(?:\.\d+)+)", text)
        return {"flavour": flavour, "version": version.group(1) if version else "", "probe": " ".join(command)}
    return None


def os_description() -> str:
    try:
        fields = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
        return fields.get("PRETTY_NAME", "").strip('"') or platform.platform()
    except OSError:
        return platform.platform()


def component_versions(detections: Mapping[str, Detection]) -> dict[str, str | None]:
    """Detected components and their versions (None: found, version unknown); ``RunStart.components``."""
    return {name: d.version for name, d in detections.items() if d.found}


def capture(detections: Mapping[str, Detection], env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Facts about this machine, JSON-ready; ``RunStart.environment`` carries them. The run's own
    fields (site, variant, hostname, components) are not repeated here."""
    return {
        "os": os_description(),
        "kernel": platform.release(),
        "arch": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "missing": {name: d.reason for name, d in detections.items() if not d.found},
        "schedulers": sorted(name for name, cmd in SCHEDULER_COMMANDS.items() if shutil.which(cmd)),
        "mpi": mpi_flavour(),
        "ci": {name: env[name] for name in GITLAB_VARIABLES if name in env},
    }
