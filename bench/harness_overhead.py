"""Harness overhead: the same quick suites bare under pytest and through ``sdk-test run``.

Bare: one ``python -m pytest <suite file>`` per suite, one after another, with the suites'
own ``pytest.ini`` and the environment the harness gives a suite (its sandbox HOME/TMPDIR and
no third-party plugin autoload), so only the harness differs. Harness: ``sdk-test run <suites>
-j 1`` (suites one after another too), writing its JSON Lines record and JUnit XML. Both are
timed wall-clock from process start to exit; the two alternate, and medians are compared.

    python -m bench.harness_overhead [--suites psij,mpi,libensemble] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from test_harness import sandbox
from test_harness.runner import PYTEST_INI

from .common import loadavg, median

SUITES_DIR = PYTEST_INI.parent
QUICK = ("psij", "mpi", "libensemble")


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


def harness(suites: tuple[str, ...], work: Path) -> float:
    command = [str(Path(sys.executable).parent / "sdk-test"), "run", *suites, "-j", "1",
               "--results-dir", str(work / "results")]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, env={**os.environ, "SDK_SITE": "bench"})
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"sdk-test run: exit {done.returncode}\n{done.stdout.decode()[-2000:]}")
    if not list((work / "results").glob("*.jsonl")):
        raise RuntimeError("sdk-test run wrote no record")
    return elapsed


def run(suites: tuple[str, ...] = QUICK, repeats: int = 3) -> dict[str, Any]:
    bare_times, harness_times, loads = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-harness-") as tmp:
        for number in range(repeats + 1):  # the first pair warms caches and is not counted
            work = Path(tmp) / str(number)
            work.mkdir()
            order = (("bare", bare), ("harness", harness))
            for name, fn in order if number % 2 else order[::-1]:
                seconds = fn(suites, work)
                if number:
                    (bare_times if name == "bare" else harness_times).append(seconds)
            loads.append(loadavg()[0])
    b, h = median(bare_times), median(harness_times)
    return {"suites": list(suites), "repeats": repeats, "bare_s": round(b, 2), "harness_s": round(h, 2),
            "ratio": round(h / b, 3), "all_bare_s": [round(x, 2) for x in bare_times],
            "all_harness_s": [round(x, 2) for x in harness_times], "loadavg_1min": loads}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="sdk-test run against bare pytest on the same suites.")
    parser.add_argument("--suites", default=",".join(QUICK))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(run(tuple(args.suites.split(",")), args.repeats), indent=1))


if __name__ == "__main__":
    main()
