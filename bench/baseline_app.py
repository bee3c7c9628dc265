"""Floors: the least a Flask endpoint can do to store the same rows, or to read the summary.

``POST /records`` takes the same ``{"records": [...]}`` body and, in one transaction, inserts
the ``runs`` and ``test_results`` rows with bare SQLAlchemy core inserts into the real
schema. No auth, validation, idempotency ledger or derived tables: what is left of the real
endpoint's cost once those are gone. SQLite gets the dashboard's connection settings (WAL,
``synchronous=NORMAL``, ``BEGIN IMMEDIATE``, busy timeout) so only the endpoint differs.

``GET /summary`` is the summary's floor (``bench/summary_floor.py``): hand-written SQL for the
summary's cells (the known suites' ``latest_results`` with their counters, run and stored
streak) and each cell's newest 20 ``suite_runs``, returned as nested lists with ``json.dumps``.
No models, no status rule, no template: what any implementation of the page must at least do.

    BENCH_DATABASE_URL=sqlite:///… gunicorn -w 2 'bench.baseline_app:create_app()'
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

from flask import Flask, Response, request
from sqlalchemy import bindparam, create_engine, event, insert, select, text, update
from sqlalchemy.engine import Engine

from dashboard_server.folding import known_suites
from dashboard_server.models import Run, TestResultRow

HISTORY = 20
COUNTS = "s.passed, s.failed, s.skipped, s.error, s.known, s.fixed"
LATEST = text(f"""
    SELECT l.site_id, l.variant, l.suite, l.failing_since, l.first_failing_run_id, l.last_passing_run_id,
           {COUNTS}, r.id, r.run_id, r.started_at, r.finished_at
    FROM latest_results l
    JOIN runs r ON r.id = l.run_id
    JOIN suite_runs s ON s.run_id = l.run_id AND s.suite = l.suite
    WHERE l.suite IN :suites
    ORDER BY l.site_id, l.variant, l.suite""").bindparams(bindparam("suites", expanding=True))
# The newest HISTORY suite_runs of each cell through ix_suite_runs_cell: LATERAL on PostgreSQL,
# a correlated IN (... LIMIT) on SQLite, which has no LATERAL.
_NEWEST = f"""SELECT n.id FROM suite_runs n
              WHERE n.site_id = l.site_id AND n.variant = l.variant AND n.suite = l.suite
              ORDER BY n.started_at DESC, n.id DESC LIMIT {HISTORY}"""
_HISTORY_TAIL = """JOIN runs r ON r.id = s.run_id
    WHERE l.suite IN :suites
    ORDER BY s.site_id, s.variant, s.suite, s.started_at, s.id"""
HISTORIES = {
    "postgresql": text(f"""
        SELECT s.site_id, s.variant, s.suite, r.finished_at IS NOT NULL, {COUNTS}
        FROM latest_results l CROSS JOIN LATERAL ({_NEWEST}) recent
        JOIN suite_runs s ON s.id = recent.id {_HISTORY_TAIL}""").bindparams(bindparam("suites", expanding=True)),
    "sqlite": text(f"""
        SELECT s.site_id, s.variant, s.suite, r.finished_at IS NOT NULL, {COUNTS}
        FROM latest_results l JOIN suite_runs s ON s.id IN ({_NEWEST}) {_HISTORY_TAIL}""")
    .bindparams(bindparam("suites", expanding=True)),
}


def _engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_size=5, max_overflow=10)
    engine = create_engine(url, connect_args={"timeout": 15})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        for pragma in ("journal_mode=WAL", "busy_timeout=15000", "foreign_keys=ON", "synchronous=NORMAL"):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


def create_app() -> Flask:
    app = Flask(__name__)
    engine = _engine(os.environ["BENCH_DATABASE_URL"])

    @app.get("/api/v1/health")
    def health() -> Any:
        return {"status": "ok"}

    suites = sorted(known_suites())

    @app.get("/summary")
    def summary() -> Any:
        with engine.connect() as conn:
            sites = [list(row) for row in conn.execute(text("SELECT id, name FROM sites ORDER BY facility, name"))]
            latest = conn.execute(LATEST, {"suites": suites}).all()
            histories: dict[tuple[Any, ...], list[list[Any]]] = {}
            for site_id, variant, suite, *point in conn.execute(HISTORIES[engine.dialect.name], {"suites": suites}):
                histories.setdefault((site_id, variant, suite), []).append(point)
        cells = [[*row, histories.get(tuple(row[:3]), [])] for row in latest]
        return Response(json.dumps({"sites": sites, "cells": cells}, default=str), mimetype="application/json")

    @app.post("/records")
    def records() -> Any:
        items = request.get_json()["records"]
        with engine.begin() as conn:
            run_pk: dict[str, int] = {}
            for item in items:
                if item["type"] == "run_start":
                    run_pk[item["run_id"]] = conn.execute(insert(Run).values(
                        site_id=1, run_id=item["run_id"], key_branch="", key_variant="", variant=item["variant"],
                        environment=item["environment"], components=item["components"],
                        started_at=_time(item["started_at"])).returning(Run.id)).scalar_one()
            missing = {i["run_id"] for i in items if i["run_id"] not in run_pk}
            if missing:
                run_pk.update(dict(conn.execute(select(Run.run_id, Run.id).where(Run.run_id.in_(missing))).tuples().all()))
            rows = [dict(run_id=run_pk[i["run_id"]], record_id=i["id"], suite=i["suite"], test_id=i["test_id"],
                         status=i["status"], duration=i["duration"], started_at=_time(i["started_at"]),
                         message=i["message"], output=i["output"], phases=i["phases"])
                    for i in items if i["type"] == "test_result"]
            if rows:
                conn.execute(insert(TestResultRow), rows)
            for item in items:
                if item["type"] == "run_finish":
                    conn.execute(update(Run).where(Run.id == run_pk[item["run_id"]]).values(
                        finished_at=_time(item["finished_at"]), reported_status=item["status"]))
        return {"accepted": len(items)}

    return app
