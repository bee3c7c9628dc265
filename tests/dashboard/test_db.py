"""``db.plain_rows``: a result's rows as the driver returns them, on each database."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select

from dashboard_server import db
from dashboard_server.models import Site, from_raw_time, raw_time


def test_plain_rows_are_the_driver_tuples_of_the_same_rows(app: Flask) -> None:
    created = datetime(2026, 12, 3, 12, 0, 0, 250000, tzinfo=UTC)
    with app.app_context():
        session = db.session()
        session.add_all([Site(name="a-site", created_at=created), Site(name="b-site", created_at=created)])
        session.commit()
        statement = select(Site.id, Site.name, raw_time(Site.created_at)).order_by(Site.name)
        result = session.connection().execute(statement)
        rows = db.plain_rows(result)
        assert result.closed
        assert [type(r) for r in rows] == [tuple, tuple]
        assert rows == [tuple(r) for r in session.connection().execute(statement)]
        assert [(name, from_raw_time(raw)) for _, name, raw in rows] == [("a-site", created), ("b-site", created)]
        assert db.plain_rows(session.connection().execute(statement.where(Site.name == "none"))) == []


def test_chunks_are_consecutive_slices_within_the_size() -> None:
    ids = list(range(1, 1202))
    parts = list(db.chunks(ids))
    assert [len(p) for p in parts] == [db.IN_LIST, db.IN_LIST, 201] and [i for p in parts for i in p] == ids
    assert list(db.chunks([], 3)) == [] and list(db.chunks([(1, "a", "b")] * 4, 3)) == [[(1, "a", "b")] * 3,
                                                                                      [(1, "a", "b")]]


def test_among_selects_the_rows_whose_id_is_one_of_the_ids(app: Flask) -> None:
    with app.app_context():
        session = db.session()
        session.add_all([Site(name=f"site-{n}") for n in range(6)])
        session.commit()
        conn = session.connection()
        ids = conn.scalars(select(Site.id).order_by(Site.id)).all()
        chosen = {ids[0], ids[3], ids[5], max(ids) + 1000}  # one that no row has
        statement = select(Site.name).order_by(Site.name)
        assert conn.scalars(statement.where(db.among(Site.id, chosen, conn.dialect.name))).all() == [
            "site-0", "site-3", "site-5"]
        assert conn.scalars(statement.where(db.among(Site.id, [], conn.dialect.name))).all() == []
