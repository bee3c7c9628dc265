"""Run every benchmark, print one table, and record it.

    python -m bench                 # small scale, a few minutes
    python -m bench --full          # 3K / 300K / 3M stored results, larger ingest rounds
    python -m bench --full --postgres postgresql+psycopg://user@host:5432/db

Writes ``bench/results/latest.json`` and ``bench/results/latest.md`` and refreshes the table
in ``docs/benchmarks.md`` between its ``bench:begin``/``bench:end`` markers. The steps are,
in order: the loader check (``bench.verify``), ingest (``bench.ingest``), page latency
(``bench.pages``, which also reports the loader's rate), the summary against its floor
(``bench.summary_floor``), the shared views under one site's
flood of failing suites (``bench.flood``), a bulk JUnit report (``bench.junit_bulk``), the
compatibility matrix at two and 24 runs a day (``bench.run_frequency``), harness
start-up and overhead on the quick suites and on every suite runnable here
(``bench.harness_overhead``; the latter takes about 25 minutes) and image size against its
floor (``bench.image_size``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import flood, harness_overhead, image_size, ingest, junit_bulk, pages, run_frequency, summary_floor, verify
from .common import ROOT, busiest_processes, loadavg, machine
from .report import markdown, update_docs

RESULTS = ROOT / "bench" / "results"


def _step(name: str, results: dict[str, Any], fn: Any, *args: Any, **kwargs: Any) -> None:
    print(f"== {name}", flush=True)
    started = time.perf_counter()
    try:
        results[name] = fn(*args, **kwargs)
    except Exception as exc:  # one failed benchmark must not lose the others' figures
        results[name] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
    results[name]["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(f"   {name} done in {results[name]['elapsed_s']} s; load {loadavg()}", flush=True)


def _verify(postgres: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out: dict[str, Any] = {}
        counts, problems = verify.verify(f"sqlite:///{tmp}/a.sqlite", f"sqlite:///{tmp}/b.sqlite")
        out["sqlite"] = {"identical": not problems, "rows": counts, "problems": problems}
        if postgres:
            counts, problems = verify.verify(f"sqlite:///{tmp}/c.sqlite", postgres)
            out["postgresql"] = {"identical": not problems, "rows": counts, "problems": problems}
        return out


def _ingest(url_a: str | None, url_b: str | None, records: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        return ingest.run(url_a or f"sqlite:///{tmp}/dashboard.sqlite", url_b or f"sqlite:///{tmp}/baseline.sqlite",
                          records=records, rounds=rounds, log_dir=Path(tmp) / "logs")


def run(full: bool, postgres: str | None, workdir: Path | None) -> dict[str, Any]:
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "scale": "full" if full else "small",
        "machine": machine(), "loadavg_start": loadavg(), "other_processes_start": busiest_processes(),
        "command": "python -m bench" + (" --full" if full else "") + (" --postgres URL" if postgres else ""),
    }
    scales = pages.FULL_SCALES if full else pages.SMALL_SCALES
    repeats = 20 if full else 8
    _step("verify", results, _verify, postgres)
    _step("ingest_sqlite", results, _ingest, None, None, 20_000 if full else 6_000, 3)
    if postgres:
        _step("ingest_postgresql", results, _ingest, *ingest_postgres_urls(postgres), 20_000 if full else 6_000, 3)
    _step("pages_sqlite", results, pages.run, scales, repeats, None, workdir and workdir / "sqlite", bool(workdir))
    if postgres:
        _step("pages_postgresql", results, pages.run, scales, repeats, postgres, workdir and workdir / "postgresql",
              bool(workdir))
    floor_results = summary_floor.FULL_RESULTS if full else summary_floor.SMALL_RESULTS
    _step("summary_floor_sqlite", results, summary_floor.run, floor_results, repeats, None,
          workdir and workdir / "sqlite", bool(workdir))
    if postgres:
        _step("summary_floor_postgresql", results, summary_floor.run, floor_results, repeats, postgres,
              workdir and workdir / "postgresql", bool(workdir))
    suites, cases = (10_000, 100_000) if full else (2_000, 20_000)
    _step("flood_sqlite", results, flood.run, suites, 30_000 if full else 3_000, repeats)
    _step("junit_bulk_sqlite", results, junit_bulk.run, cases)
    if postgres:
        _step("flood_postgresql", results, flood.run, suites, 30_000 if full else 3_000, repeats, postgres)
        _step("junit_bulk_postgresql", results, junit_bulk.run, cases, postgres)
    frequency = run_frequency.SPEC if full else run_frequency.SMALL
    _step("run_frequency_sqlite", results, run_frequency.run, repeats, None, None, False, frequency)
    if postgres:
        _step("run_frequency_postgresql", results, run_frequency.run, repeats, postgres, None, False, frequency)
    _step("harness_overhead", results, harness_overhead.run, harness_overhead.QUICK, 3)
    # every suite runnable here, each side 2 (4 with --full) times: harness, bare, bare, harness, ...
    _step("harness_overhead_all", results, lambda: harness_overhead.run(harness_overhead.runnable(), 4 if full else 2,
                                                                         warm_up=False))
    _step("image_size", results, image_size.run)
    results["loadavg_end"] = loadavg()
    results["other_processes_end"] = busiest_processes()
    return results


def ingest_postgres_urls(url: str) -> tuple[str, str]:
    """Two databases next to ``url`` for the dashboard and the baseline."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    urls = []
    with admin.connect() as conn:
        for name in ("bench_ingest_dashboard", "bench_ingest_baseline"):
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            urls.append(base.set(database=name).render_as_string(hide_password=False))
    admin.dispose()
    return urls[0], urls[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="3K/300K/3M stored results (tens of minutes)")
    parser.add_argument("--postgres", help="also run on PostgreSQL (databases bench_* are created on this server)")
    parser.add_argument("--workdir", type=Path, help="keep page databases here and reuse them on the next run")
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.workdir:
        for sub in ("sqlite", "postgresql"):
            (args.workdir / sub).mkdir(parents=True, exist_ok=True)
    results = run(args.full, args.postgres, args.workdir)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=1) + "\n")
    text = markdown(results)
    (RESULTS / "latest.md").write_text(text)
    if not args.no_docs:
        update_docs(ROOT / "docs" / "benchmarks.md", text)
    print(text)
    return 1 if any(isinstance(v, dict) and "error" in v for v in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
