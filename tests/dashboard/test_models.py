"""``models.raw_time``: a time read as the driver returns it sorts as the time does, and
``from_raw_time`` gives what ``UTCDateTime`` returns, on each database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from dashboard_server import db
from dashboard_server.models import Site, from_raw_time, raw_time

TIMES = [datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC), datetime(2026, 12, 3, 12, 0, 0, 1, tzinfo=UTC),
         datetime(2026, 12, 3, 11, 59, 59, 999999, tzinfo=UTC), datetime(1999, 1, 2, 3, 4, 5, 600000, tzinfo=UTC),
         datetime(2026, 12, 3, 23, 0, tzinfo=UTC) - timedelta(days=400)]


def test_a_raw_time_sorts_and_converts_as_the_stored_time(app: Flask) -> None:
    with app.app_context():
        session = db.session()
        session.add_all(Site(name=f"site-{n}", created_at=t) for n, t in enumerate(TIMES))
        session.commit()
        rows = session.execute(select(Site.created_at, raw_time(Site.created_at).label("raw"))).all()
        assert sorted(t for t, _ in rows) == sorted(TIMES)
        assert all(from_raw_time(raw) == t for t, raw in rows)
        assert [t for t, _ in sorted(rows, key=lambda r: r[1])] == sorted(TIMES)
