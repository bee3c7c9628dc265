"""``store.BulkInsert`` (driver executemany, or COPY on PostgreSQL) stores what SQLAlchemy's own
insert stores, and a unique-key race still surfaces as an IntegrityError, which writes retry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from dashboard_server.ingest.store import LEDGER_COLUMNS, TEST_COLUMNS, bulk_insert
from dashboard_server.models import Run, SeenRecord, Site, TestResultRow
from tests.support.dashboard import write

PHASES = {"setup": {"status": "passed", "duration": 0.01, "message": "tab\\t \u00e9 \U0001f600"}, "call": {}}


def _run(session: Any) -> Run:
    site = Site(name="bulk-site", facility="local")
    session.add(site)
    session.flush()
    run = Run(site_id=site.id, run_id="bulk-run-0001", key_branch="", key_variant="", variant="pip",
              started_at=datetime(2026, 11, 20, 12, tzinfo=UTC), environment={}, components={})
    session.add(run)
    session.flush()
    return run


def test_same_rows_as_sqlalchemy(app) -> None:
    def work(session: Any) -> list[Any]:
        run = _run(session)
        dialect = session.get_bind().dialect
        tests = bulk_insert(dialect, TestResultRow, TEST_COLUMNS)
        rows = []
        for number, (started, phases) in enumerate([(datetime(2026, 11, 20, 13, 0, 0, 123456, tzinfo=UTC), PHASES),
                                                    (None, {}), (datetime(2026, 11, 20, 14, tzinfo=UTC), {"x": [1, 2.5]})]):
            rows.append({"run_id": run.id, "record_id": f"r{number}", "suite": "s", "test_id": f"t{number}",
                         "status": "failed", "duration": 1.5 + number, "started_at": started,
                         "message": "m\\n'\"", "output": "o\u2028", "phases": phases, "fingerprint": None})
        session.execute(insert(TestResultRow), [dict(row, record_id="a" + row["record_id"]) for row in rows])
        processors = dict(zip(TEST_COLUMNS, tests.processors, strict=True))
        tests.execute(session, [tuple(processors[c](row[c]) if processors[c] else row[c] for c in TEST_COLUMNS)
                                for row in [dict(row, record_id="b" + row["record_id"]) for row in rows]])
        return session.execute(select(TestResultRow).order_by(TestResultRow.id)).scalars().all()

    stored = write(app, work)
    columns = [c for c in TEST_COLUMNS if c != "record_id"]
    by_copy = {row.record_id[1:]: [getattr(row, c) for c in columns] for row in stored if row.record_id[0] == "b"}
    by_orm = {row.record_id[1:]: [getattr(row, c) for c in columns] for row in stored if row.record_id[0] == "a"}
    assert by_copy == by_orm and len(by_copy) == 3


def test_unique_key_race_is_an_integrity_error(app) -> None:
    def work(session: Any) -> None:
        run = _run(session)
        ledger = bulk_insert(session.get_bind().dialect, SeenRecord, LEDGER_COLUMNS)
        now = datetime(2026, 11, 20, 12)
        row = (run.site_id, "same-record-id", run.id, "test_result", "h", now)
        ledger.execute(session, [row, row])

    with pytest.raises(IntegrityError):
        write(app, work)
