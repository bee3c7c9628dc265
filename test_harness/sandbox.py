"""Where a suite's subprocess may write: a throwaway directory, never the user's $HOME.

RADICAL-Pilot writes ``~/radical.pilot.sandbox`` and ``~/.radical``, PSI/J ``~/.psij/work``,
Parsl ``./runinfo``; pointing HOME, RADICAL_BASE, XDG_* and TMPDIR into the sandbox (and
running each test in its own directory) keeps all of it inside, and removing the sandbox
cleans it up.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from exaworks_sdk.manifest.sites import TOKEN_VARIABLE

# The harness's own credentials: suites never need them, and a failing test that prints its
# environment would carry them into the uploaded record and onto the dashboard's pages. That is
# SDK_DASHBOARD_TOKEN and every machine's own SDK_DASHBOARD_TOKEN_<SITE> (a CI job has them all).
WITHHELD = (TOKEN_VARIABLE,)


def withheld(name: str) -> bool:
    return any(name == w or name.startswith(w + "_") for w in WITHHELD)


def suite_environment(sandbox: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in (os.environ if base is None else base).items() if not withheld(k)}
    home = sandbox / "home"
    tmp = sandbox / "tmp"
    for directory in (home, tmp):
        directory.mkdir(parents=True, exist_ok=True)
    env.update({
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "RADICAL_BASE": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "SDK_SUITE_SANDBOX": str(sandbox),
        "PWD": str(sandbox),  # RADICAL-Pilot puts its client session directory in $PWD
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        # only the harness plugin: third-party pytest plugins cost seconds per suite to import
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    })
    if sys.prefix != sys.base_prefix:
        # Tools that start their own shells (RP's pilot bootstrap runs `bash -l`, which resets
        # PATH) find this environment through VIRTUAL_ENV; without it RP's agent is not found.
        env.setdefault("VIRTUAL_ENV", sys.prefix)
        bin_dir = str(Path(sys.executable).parent)
        if bin_dir not in env.get("PATH", "").split(os.pathsep):
            env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    # The real home stays known (read-only use: e.g. a Balsam site config the facility set up).
    env.setdefault("SDK_REAL_HOME", os.environ.get("HOME", ""))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Open MPI refuses to start as root without both; PSI/J's mpirun launcher then exits 1
        # with an empty stderr. MPICH ignores them.
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    return env


def remove(sandbox: Path) -> None:
    shutil.rmtree(sandbox, ignore_errors=True)
