"""Fill a dashboard database with synthetic history through the real models' tables.

    python -m bench.generate sqlite:////tmp/bench.sqlite --results 3000000
    python -m bench.generate postgresql+psycopg://…/db --results 300000 --sites 12 --suites 10

The schema comes from the real Alembic migrations. Rows go in with SQLAlchemy core
``executemany`` in chunks, one transaction per chunk, and the derived tables are filled the
way the upload path fills them: ``suite_runs`` counters per (run, suite), ``latest_results``
moved forward with the same ``ON CONFLICT … DO UPDATE WHERE started_at <= excluded`` upsert,
a failing test's fingerprint computed as ingest computes it (``Writer.add_test_row``), and one
``seen_records`` ledger row (with the same content hash) per record.
``bench.verify`` checks that, on a small history, the result equals a real upload.

Loading days further back into an existing database grows its history without touching the
newest runs (``load(engine, matrix, first_day, last_day)``); ``bench.pages`` relies on that.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session

from dashboard_server import migrate
from dashboard_server.db import make_engine
from dashboard_server.folding import refresh_folded
from dashboard_server.latest_sets import refresh_latest_sets
from dashboard_server.models import LatestResult, Run, SeenRecord, Site, SuiteRun, TestResultRow
from dashboard_server.streaks import refresh_streaks
from exaworks_sdk import status as rule
from exaworks_sdk.fingerprint import fingerprint
from exaworks_sdk.status import COUNTERS

from .synth import Matrix, Spec, SynthRun, content_hash, days_for, runs

CHUNK_RESULTS = 20_000  # test rows per transaction


@dataclass
class LoadStats:
    runs: int = 0
    results: int = 0
    rows: int = 0  # every row written, all tables
    seconds: float = 0.0

    @property
    def results_per_s(self) -> float:
        return self.results / self.seconds if self.seconds else 0.0

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def open_database(url: str, *, reset: bool = False) -> Engine:
    """An engine on ``url`` (the dashboard's own engine set-up) with the schema at head."""
    if reset:
        reset_database(url)
    engine = make_engine(url)
    migrate.upgrade(engine)
    return engine


def reset_database(url: str) -> None:
    """Empty the database: delete a SQLite file, or drop PostgreSQL's public schema."""
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            for suffix in ("", "-wal", "-shm", ".migrate-lock"):
                Path(path + suffix).unlink(missing_ok=True)
        return
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def ensure_sites(conn: Connection, spec: Spec) -> dict[str, int]:
    ids = {}
    for row in spec.site_rows():
        found = conn.scalar(select(Site.id).where(Site.name == row["name"]))
        if found is None:
            found = conn.execute(insert(Site).values(created_at=spec.end, **row).returning(Site.id)).scalar_one()
        ids[row["name"]] = found
    return ids


def _upsert(dialect: str, table: Any) -> Any:
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _naive(value: Any) -> Any:
    return value.replace(tzinfo=None)  # UTCDateTime stores naive UTC; skip its per-value conversion


class _Ids:
    """Next primary keys, taken once from the tables (the loader is the only writer)."""

    def __init__(self, conn: Connection) -> None:
        self.run = (conn.scalar(select(func.max(Run.id))) or 0) + 1
        self.test = (conn.scalar(select(func.max(TestResultRow.id))) or 0) + 1
        self.suite_run = (conn.scalar(select(func.max(SuiteRun.id))) or 0) + 1


def _rows(batch: list[SynthRun], site_ids: dict[str, int], ids: _Ids) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {"runs": [], "tests": [], "suite_runs": [], "seen": [], "latest": []}
    latest: dict[tuple[int, str, str], dict[str, Any]] = {}
    for run in batch:
        site_id, run_pk = site_ids[run.site], ids.run
        ids.run += 1
        started = _naive(run.started_at)
        received = _naive(run.finished_at)
        out["runs"].append(dict(
            id=run_pk, site_id=site_id, run_id=run.run_id, key_branch="", key_variant="", source="records",
            variant=run.variant, pipeline_id=run.pipeline_id, branch=run.branch, commit=run.commit,
            hostname=run.hostname, sdk_version=run.sdk_version, environment=run.environment,
            components=run.components, started_at=started, finished_at=received,
            reported_status=run.status, exit_code=run.exit_code, start_record_id=run.start_record_id,
            finish_record_id=run.finish_record_id, created_at=received,
        ))
        seen = out["seen"]
        seen.append(dict(record_id=run.start_record_id, site_id=site_id, run_id=run_pk, kind="run_start",
                         content_hash=content_hash(run.start_record()), received_at=received))
        counts: dict[str, dict[str, int]] = {}
        for test in run.tests:
            record = run.test_record(test)
            out["tests"].append(dict(
                id=ids.test, run_id=run_pk, record_id=test.record_id, suite=test.suite, test_id=test.test_id,
                status=test.status, duration=test.duration, started_at=_naive(test.started_at),
                message=test.message, output=test.output, phases=record["phases"],
                fingerprint=fingerprint(test.message, test.output) if rule.is_failing(test.status) else None,
            ))
            ids.test += 1
            seen.append(dict(record_id=test.record_id, site_id=site_id, run_id=run_pk, kind="test_result",
                             content_hash=content_hash(record), received_at=received))
            counts.setdefault(test.suite, dict.fromkeys(COUNTERS, 0))[test.status] += 1
        seen.append(dict(record_id=run.finish_record_id, site_id=site_id, run_id=run_pk, kind="run_finish",
                         content_hash=content_hash(run.finish_record()), received_at=received))
        for suite, n in counts.items():
            out["suite_runs"].append(dict(id=ids.suite_run, run_id=run_pk, site_id=site_id, variant=run.variant,
                                          suite=suite, started_at=started, **n))
            ids.suite_run += 1
            cell = (site_id, run.variant, suite)
            if cell not in latest or latest[cell]["started_at"] <= started:
                latest[cell] = dict(site_id=site_id, variant=run.variant, suite=suite, run_id=run_pk,
                                    started_at=started)
    out["latest"] = list(latest.values())
    return out


def _write(conn: Connection, rows: dict[str, list[dict[str, Any]]], dialect: str) -> int:
    conn.execute(insert(Run), rows["runs"])
    conn.execute(insert(TestResultRow), rows["tests"])
    conn.execute(insert(SuiteRun), rows["suite_runs"])
    conn.execute(insert(SeenRecord), rows["seen"])
    latest = _upsert(dialect, LatestResult)
    latest = latest.on_conflict_do_update(
        index_elements=["site_id", "variant", "suite"],
        set_={"run_id": latest.excluded.run_id, "started_at": latest.excluded.started_at},
        where=LatestResult.started_at <= latest.excluded.started_at,
    )
    conn.execute(latest, rows["latest"])
    return sum(len(v) for v in rows.values())


def _chunks(items: Iterable[SynthRun], size: int) -> Iterable[list[SynthRun]]:
    batch: list[SynthRun] = []
    count = 0
    for run in items:
        batch.append(run)
        count += len(run.tests)
        if count >= size:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch


def load(engine: Engine, matrix: Matrix, first_day: int = 0, last_day: int | None = None,
         progress: bool = False) -> LoadStats:
    """Insert the runs of days ``first_day``..``last_day`` (0 = newest) and their derived rows."""
    stats = LoadStats()
    dialect = engine.dialect.name
    started = time.perf_counter()
    with engine.connect() as conn:
        if dialect == "sqlite":  # a bulk load only: this connection is discarded afterwards
            raw = conn.connection.dbapi_connection  # outside any transaction
            raw.execute("PRAGMA synchronous=OFF")  # type: ignore[union-attr]
            raw.execute("PRAGMA cache_size=-1000000")  # type: ignore[union-attr]
        with conn.begin():
            site_ids = ensure_sites(conn, matrix.spec)
            ids = _Ids(conn)
        newest: dict[int, Any] = {}
        for batch in _chunks(runs(matrix, first_day, last_day), CHUNK_RESULTS):
            rows = _rows(batch, site_ids, ids)
            with conn.begin():
                stats.rows += _write(conn, rows, dialect)
            stats.runs += len(batch)
            stats.results += len(rows["tests"])
            for run in rows["runs"]:
                if run["finished_at"] > newest.get(run["site_id"], run["finished_at"].min):
                    newest[run["site_id"]] = run["finished_at"]
            if progress:
                rate = stats.results / (time.perf_counter() - started)
                print(f"\r  {stats.results:>10,} results  {rate:>9,.0f}/s", end="", flush=True)
        with conn.begin():  # the streak, version sets and other cell of every cell, as the upload path stores them
            cells = list(conn.execute(select(LatestResult.site_id, LatestResult.variant, LatestResult.suite)).tuples())
            session = Session(bind=conn)
            refresh_streaks(session, cells)
            refresh_latest_sets(session, cells)
            refresh_folded(session, {(site_id, variant) for site_id, variant, _ in cells})
            session.flush()
        with conn.begin():
            for site_id, seen in newest.items():
                conn.execute(update(Site).where(Site.id == site_id)
                             .where((Site.last_seen_at.is_(None)) | (Site.last_seen_at < seen))
                             .values(last_seen_at=seen))
        if dialect == "postgresql":
            _after_postgres_load(conn)
        if dialect == "sqlite":
            conn.invalidate()  # do not hand the unsafe pragmas back to the pool
    if progress:
        print()
    stats.seconds = time.perf_counter() - started
    return stats


def _after_postgres_load(conn: Connection) -> None:
    """Explicit ids leave the sequences behind; ANALYZE stands in for autovacuum catching up."""
    with conn.begin():
        for table in ("runs", "test_results", "suite_runs", "sites"):
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
    conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def count_results(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(TestResultRow)) or 0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="SQLAlchemy URL, e.g. sqlite:////tmp/bench.sqlite")
    parser.add_argument("--results", type=int, default=300_000, help="about this many test results")
    parser.add_argument("--sites", type=int, default=Spec.sites)
    parser.add_argument("--suites", type=int, default=Spec.suites)
    parser.add_argument("--runs-per-day", type=int, default=Spec.runs_per_day)
    parser.add_argument("--seed", type=int, default=Spec.seed)
    parser.add_argument("--keep", action="store_true", help="add to the database instead of emptying it")
    args = parser.parse_args(argv)
    spec = days_for(Spec(sites=args.sites, suites=args.suites, runs_per_day=args.runs_per_day, seed=args.seed),
                    args.results)
    matrix = Matrix.build(spec)
    print(f"{len(matrix.rows)} site×variant rows, {spec.suites} suites, {matrix.results_per_round} results "
          f"per round, {spec.days} days × {spec.runs_per_day} runs/day")
    engine = open_database(args.url, reset=not args.keep)
    stats = load(engine, matrix, progress=True)
    print(json.dumps({"runs": stats.runs, "results": stats.results, "rows": stats.rows,
                      "seconds": round(stats.seconds, 1), "results_per_s": round(stats.results_per_s),
                      "rows_per_s": round(stats.rows_per_s)}))


if __name__ == "__main__":
    main()
