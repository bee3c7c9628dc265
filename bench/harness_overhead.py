"""Harness overhead: the same suites bare under pytest and through ``sdk-test run``, and the
harness's fixed start-up.

Bare: one ``python -m pytest <suite file>`` per suite, one after another, with the suites' own
``pytest.ini`` and the environment the harness gives a suite (its sandbox HOME/TMPDIR and no
third-party plugin autoload), so only the harness differs. Harness: ``sdk-test run <suites> -j 1``
(suites one after another too), writing its JSON Lines record and JUnit XML. Both are timed
wall-clock from process start to exit.

Start-up: from the start of ``sdk-test run`` to the start of its first suite's pytest, both read
from ``/proc/<pid>/stat`` (10 ms ticks), in every harness run; beside it the interpreter alone
(``python -c pass``), timed between runs: what any Python program pays on this machine now.

    python -m bench.harness_overhead [--suites psij,mpi,libensemble] [--repeats 3]
    python -m bench.harness_overhead --runnable [--repeats 1]   # every suite that can run here
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from test_harness import sandbox
from test_harness.runner import PYTEST_INI

from .common import loadavg, median

SUITES_DIR = PYTEST_INI.parent
QUICK = ("psij", "mpi", "libensemble")
SDK_TEST = Path(sys.executable).parent / "sdk-test"
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def runnable() -> tuple[str, ...]:
    """Every suite this machine can run (``sdk-test list --json``): what ``make demo`` runs, less the
    suites that would only skip for a missing tool."""
    out = subprocess.run([str(SDK_TEST), "list", "--json"], capture_output=True, text=True, check=True,
                         stdin=subprocess.DEVNULL).stdout
    return tuple(row["name"] for row in json.loads(out) if row["runnable"])


def bare(suites: tuple[str, ...], work: Path) -> float:
    started = time.perf_counter()
    for name in suites:
        box = work / f"bare-{name}"
        env = sandbox.suite_environment(box)
        path = SUITES_DIR / f"test_{name.replace('-', '_')}.py"
        done = subprocess.run(
            [sys.executable, "-m", "pytest", str(path), "-c", str(PYTEST_INI), "--rootdir", str(SUITES_DIR),
             "--basetemp", str(box / "pytest"), "-v"],
            cwd=box, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        if done.returncode not in (0, 1):
            raise RuntimeError(f"bare pytest {name}: exit {done.returncode}\n{done.stdout.decode()[-2000:]}")
    return time.perf_counter() - started


def _start_tick(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat[stat.rindex(")") + 2:].split()[19])  # field 22, starttime
    except (OSError, ValueError, IndexError):
        return None


def _first_suite_start(pid: int, found: dict[str, float]) -> None:
    """Watch the harness's children (its main thread's: detection probes run in other threads) until a
    pytest appears; record how long after the harness it started."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    own = _start_tick(pid)
    while own is not None and children.exists():
        for child in children.read_text().split():
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            start = _start_tick(int(child))
            if b"pytest" in command and start is not None:
                found["startup_s"] = (start - own) / TICKS
                return
        time.sleep(0.01)


def harness(suites: tuple[str, ...], work: Path) -> tuple[float, float | None]:
    """Wall-clock seconds of ``sdk-test run``, and its start-up (None where /proc cannot tell)."""
    command = [str(SDK_TEST), "run", *suites, "-j", "1", "--results-dir", str(work / "results")]
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env={**os.environ, "SDK_SITE": "bench"})
    found: dict[str, float] = {}
    watcher = threading.Thread(target=_first_suite_start, args=(proc.pid, found), daemon=True)
    watcher.start()
    output, _ = proc.communicate()
    elapsed = time.perf_counter() - started
    watcher.join(5)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"sdk-test run: exit {proc.returncode}\n{output.decode()[-2000:]}")
    if not list((work / "results").glob("*.jsonl")):
        raise RuntimeError("sdk-test run wrote no record")
    return elapsed, found.get("startup_s")


def interpreter() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def run(suites: tuple[str, ...] = QUICK, repeats: int = 3, warm_up: bool = True) -> dict[str, Any]:
    """``repeats`` runs a side. With ``warm_up``, one more pair first (not counted) and the sides
    alternate; without, the order is harness, bare, bare, harness, ... (the harness goes first, cold)."""
    times: dict[str, list[float]] = {"bare": [], "harness": []}
    startups: list[float] = []
    pythons: list[float] = []
    loads = [loadavg()]
    if warm_up:
        order = [("bare", "harness") if n % 2 else ("harness", "bare") for n in range(repeats + 1)]
    else:
        order = [("harness", "bare") if n % 2 == 0 else ("bare", "harness") for n in range(repeats)]
    with tempfile.TemporaryDirectory(prefix="bench-harness-") as tmp:
        for number, pair in enumerate(order):
            counted = not warm_up or number > 0
            for side in pair:
                work = Path(tmp) / f"{number}-{side}"
                work.mkdir()
                if side == "bare":
                    seconds = bare(suites, work)
                else:
                    seconds, startup = harness(suites, work)
                    if startup is not None:
                        startups.append(startup)
                    pythons.append(interpreter())
                if counted:
                    times[side].append(seconds)
            loads.append(loadavg())
    b, h = median(times["bare"]), median(times["harness"])
    return {"suites": list(suites), "repeats": repeats, "bare_s": round(b, 2), "harness_s": round(h, 2),
            "ratio": round(h / b, 3), "all_bare_s": [round(x, 2) for x in times["bare"]],
            "all_harness_s": [round(x, 2) for x in times["harness"]],
            "startup_s": round(median(startups), 2) if startups else None,
            "all_startup_s": [round(x, 2) for x in startups],
            "python_s": round(median(pythons), 3), "loadavg": loads,
            "loadavg_1min": [x[0] for x in loads]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="sdk-test run against bare pytest on the same suites.")
    parser.add_argument("--suites", default=",".join(QUICK))
    parser.add_argument("--runnable", action="store_true", help="every suite that can run here (minutes a run)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.runnable:
        print(json.dumps(run(runnable(), args.repeats, warm_up=False), indent=1))
    else:
        print(json.dumps(run(tuple(args.suites.split(",")), args.repeats), indent=1))


if __name__ == "__main__":
    main()
