"""The summary page against its floor: ``summary.json`` and the HTML summary beside a bare route.

One database holds 30 sites × 16 suites (1–3 install variants each) with deep history: every
cell has more runs than its 20-point sparkline shows. Two gunicorn servers (1 worker each) read
it: the dashboard, and ``bench.baseline_app``, whose ``GET /summary`` runs hand-written SQL for
the same cells and their 20-point histories and returns them with ``json.dumps``. One client
requests the floor, ``/api/v1/summary`` and ``/`` in turn, so whatever else loads the machine
hits all three alike; the figures are the ratios of medians to the floor's.

    python -m bench.summary_floor [--results 200000] [--repeats 20] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import requests
from sqlalchemy.engine import make_url

from .common import gunicorn, loadavg, median, p95
from .pages import fill, postgres_database
from .synth import Matrix, Spec

SPEC = Spec(sites=30, suites=16, runs_per_day=2, seed=17)
SMALL_RESULTS, FULL_RESULTS = 200_000, 1_000_000
PAGES = {"floor": "/summary", "summary.json": "/api/v1/summary", "summary": "/"}
TARGETS = {"summary.json": 2.0, "summary": 2.5}  # median over the floor's median


def database_url(tmp: Path, postgres: str | None, reuse: bool) -> str:
    if not postgres:
        return f"sqlite:///{tmp / 'summary-floor.sqlite'}"
    return postgres_database(postgres, "bench_summary_floor", reuse)


def _cells(page: str, body: bytes) -> int:
    """How many cells a response holds: the floor and the JSON summary must hold the same."""
    data = json.loads(body)
    if page == "floor":
        return len(data["cells"])
    return sum(len(row["cells"]) for row in data["rows"])


def measure(bases: dict[str, str], repeats: int, warmup: int = 3) -> tuple[dict[str, list[float]], dict[str, int]]:
    times: dict[str, list[float]] = {page: [] for page in PAGES}
    cells: dict[str, int] = {}
    with requests.Session() as http:
        for rep in range(warmup + repeats):
            order = list(PAGES) if rep % 2 == 0 else list(PAGES)[::-1]
            for page in order:
                started = time.perf_counter()
                response = http.get(bases[page] + PAGES[page], timeout=300)
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise RuntimeError(f"{page}: {response.status_code} {response.text[:300]}")
                if rep == 0 and page != "summary":
                    cells[page] = _cells(page, response.content)
                if rep >= warmup:
                    times[page].append(elapsed * 1000)
    return times, cells


def run(results: int = SMALL_RESULTS, repeats: int = 20, postgres: str | None = None,
        workdir: Path | None = None, reuse: bool = False) -> dict[str, Any]:
    with ExitStack() as stack:
        tmp = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-summary-floor-")))
        url = database_url(tmp, postgres, reuse)
        filled = fill(url, results, reuse, SPEC)
        print(f"  summary floor: {filled['results']:,} results", flush=True)
        real = stack.enter_context(gunicorn("dashboard_server:create_app()", {"SDK_DASHBOARD_DATABASE_URL": url},
                                            tmp / "summary-dashboard.log", workers=1))
        floor = stack.enter_context(gunicorn("bench.baseline_app:create_app()", {"BENCH_DATABASE_URL": url},
                                             tmp / "summary-floor.log", workers=1))
        load_before = loadavg()
        times, cells = measure({"floor": floor, "summary.json": real, "summary": real}, repeats)
        if cells["floor"] != cells["summary.json"]:
            raise RuntimeError(f"the floor returned {cells['floor']} cells, the summary {cells['summary.json']}")
        matrix = Matrix.build(SPEC)
        floor_ms = median(times["floor"])
        return {
            "database": make_url(url).get_backend_name(),
            "client": "real HTTP, one client, gunicorn with 1 worker per server, requests interleaved",
            "matrix": {"sites": SPEC.sites, "site_variant_rows": len(matrix.rows), "suites": len(matrix.tests)},
            "stored": filled, "cells": cells["floor"], "repeats": repeats,
            "median_ms": {page: round(median(v), 2) for page, v in times.items()},
            "p95_ms": {page: round(p95(v), 2) for page, v in times.items()},
            "ratio": {page: round(median(times[page]) / floor_ms, 2) for page in TARGETS},
            "targets": TARGETS,
            "loadavg_1min": [load_before[0], loadavg()[0]],
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The summary page against a bare-SQL floor.")
    parser.add_argument("--results", type=int, default=SMALL_RESULTS, help="stored test results")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--postgres", help="server URL; database bench_summary_floor is (re)created on it")
    parser.add_argument("--workdir", type=Path, help="keep the SQLite file and logs here")
    parser.add_argument("--reuse", action="store_true", help="keep a database that already holds the history")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    result = run(args.results, args.repeats, args.postgres, args.workdir, args.reuse)
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
