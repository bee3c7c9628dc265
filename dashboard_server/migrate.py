"""Apply Alembic migrations, serialised so several gunicorn workers can start at once."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK_ID = 0x5D6B_0001


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def _lock(engine: Engine, conn: Connection) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_ID})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_ID})
            conn.commit()
    elif engine.url.database not in (None, "", ":memory:"):
        lock_path = Path(str(engine.url.database) + ".migrate-lock")
        with lock_path.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    else:
        yield


@contextmanager
def _sqlite_foreign_keys_off(engine: Engine, conn: Connection) -> Iterator[None]:
    """SQLite rebuilds a table to change its constraints (Alembic's batch mode): it copies the
    rows, drops the old table and renames the new one. With foreign keys on, that DROP deletes
    every row that refers to the table (ON DELETE CASCADE), so they are off while migrating and
    checked afterwards. The pragma only takes effect outside a transaction."""
    if engine.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration left rows whose references are broken: {broken[:5]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; a no-op when it is already there."""
    with engine.connect() as conn, _lock(engine, conn):
        if revision == "head" and MigrationContext.configure(conn).get_current_revision() == head_revision():
            return
        conn.rollback()
        with _sqlite_foreign_keys_off(engine, conn):
            command.upgrade(alembic_config(conn), revision)
            conn.commit()


def downgrade(engine: Engine, revision: str) -> None:
    with engine.connect() as conn, _lock(engine, conn):
        conn.rollback()
        with _sqlite_foreign_keys_off(engine, conn):
            command.downgrade(alembic_config(conn), revision)
            conn.commit()
