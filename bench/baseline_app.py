"""The ingest baseline: the least a Flask endpoint can do to store the same rows.

``POST /records`` takes the same ``{"records": [...]}`` body and, in one transaction, inserts
the ``runs`` and ``test_results`` rows with bare SQLAlchemy core inserts into the real
schema. No auth, validation, idempotency ledger or derived tables: what is left of the real
endpoint's cost once those are gone. SQLite gets the dashboard's connection settings (WAL,
``synchronous=NORMAL``, ``BEGIN IMMEDIATE``, busy timeout) so only the endpoint differs.

    BENCH_DATABASE_URL=sqlite:///… gunicorn -w 2 'bench.baseline_app:create_app()'
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from flask import Flask, request
from sqlalchemy import create_engine, event, insert, select, update
from sqlalchemy.engine import Engine

from dashboard_server.models import Run, TestResultRow


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
