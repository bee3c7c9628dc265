"""Engine and session handling.

SQLite runs in WAL mode with a busy timeout. Write transactions on SQLite start with
``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing on a stale snapshot.
On either database a write that loses a race (unique key, deadlock) is retried as a whole.
"""

from __future__ import annotations

import contextvars
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import orjson
from flask import current_app, g
from sqlalchemy import ColumnElement, Integer, any_, bindparam, create_engine, event, func, literal_column, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

T = TypeVar("T")
_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("sqlite_immediate", default=False)


def json_text(value: Any) -> str:
    """The text of a JSON column's value: written by orjson (a test's phases, a run's environment:
    json.dumps took a twentieth of an upload's CPU), or by json.dumps for what orjson refuses
    (an integer beyond 64 bits)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError included
        return json.dumps(value)


IN_LIST = 500  # values per IN (...) list: under SQLite's old limit of 999 bound parameters
IN_CELLS = 300  # (site, variant, suite) cells per IN (...) list: three values each


def chunks(items: Sequence[T], size: int = IN_LIST) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``: one IN (...) list each."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def among(column: ColumnElement[int] | InstrumentedAttribute[int], ids: Iterable[int], dialect: str) -> ColumnElement[bool]:
    """``column IN ids`` with the ids as one parameter: an array on PostgreSQL, a JSON array read by
    ``json_each`` on SQLite. An IN list of hundreds of values costs more to render, send and plan
    than the read it makes (250 run ids: 4.2 ms against 1.3 on PostgreSQL, 1.3 against 0.5 on SQLite)."""
    values = sorted(ids)
    if dialect == "postgresql":
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(Integer)))
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam(None, json_text(values)))))


def plain_rows(result: CursorResult[Any]) -> list[tuple[Any, ...]]:
    """A result's rows as the driver returns them (plain tuples), without SQLAlchemy's per-row
    processing, which costs more than reading the row: for reads of hundreds of rows whose
    columns need no conversion (numbers, text, ``models.raw_time``)."""
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def make_engine(url: str, busy_timeout_ms: int = 15000) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000}, json_serializer=json_text)
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, json_serializer=json_text)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


def is_retryable(exc: DBAPIError) -> bool:
    """Unique-key races, deadlocks and serialization failures succeed when tried again."""
    if isinstance(exc, IntegrityError):
        return True
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in {"40001", "40P01"}


def run_write(factory: sessionmaker[Session], work: Callable[[Session], T], attempts: int = 4) -> T:
    """Run ``work`` in one write transaction, retrying it whole when it loses a race."""
    for attempt in range(attempts):
        token = _immediate.set(True)
        try:
            with factory() as session, session.begin():
                return work(session)
        except DBAPIError as exc:
            if attempt == attempts - 1 or not is_retryable(exc):
                raise
            time.sleep(0.05 * (attempt + 1))
        finally:
            _immediate.reset(token)
    raise AssertionError("unreachable")


def is_unavailable(exc: BaseException) -> bool:
    """True for errors meaning 'database not reachable or busy' rather than a bug."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def session() -> Session:
    """The request's read session."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["sdk_dashboard"]["sessionmaker"]()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


def write(work: Callable[[Session], T]) -> T:
    return run_write(current_app.extensions["sdk_dashboard"]["sessionmaker"], work)


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
