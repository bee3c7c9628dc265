"""The Alembic migration builds exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from dashboard_server import migrate
from dashboard_server.models import Base


def test_migration_matches_models_and_downgrades(db_url):
    engine = create_engine(db_url)
    try:
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                    Base.metadata)
        assert diff == [], f"models and migrations differ; add a migration: {diff}"
        migrate.upgrade(engine)  # idempotent
        migrate.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(engine)
        assert "test_results" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_summary_indexes_exist(db_url):
    engine = create_engine(db_url)
    try:
        migrate.upgrade(engine)
        names = {ix["name"] for ix in inspect(engine).get_indexes("suite_runs")}
        assert "ix_suite_runs_cell" in names
        pk = inspect(engine).get_pk_constraint("latest_results")["constrained_columns"]
        assert pk == ["site_id", "variant", "suite"]
    finally:
        engine.dispose()


def test_0004_keeps_every_row_and_names_runs_by_columns(db_url):
    """Rows written under the string keys survive the rebuild of ``runs`` (on SQLite its old
    table is dropped: with foreign keys on, that would cascade to every test row)."""
    from sqlalchemy import text

    from dashboard_server.db import make_engine

    engine = make_engine(db_url)  # the app's engine: SQLite with foreign keys on
    try:
        migrate.upgrade(engine, "0003")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO sites (id, name, facility, machine, scheduler, expected_interval_hours,"
                              " created_at, last_seen_at) VALUES (1, 'llnl-dane', 'llnl', 'dane', 'slurm', 24,"
                              " '2025-01-01 00:00:00', '2025-01-02 00:00:00')"))
            runs = [(1, "r1", "r1", "records", "pip", None), (2, "1187345#master[pip]", "1187345", "legacy", "pip", "master"),
                    (3, "7#main", "7", "legacy", "default", "main")]
            for pk, key, run_id, source, variant, branch in runs:
                conn.execute(text("INSERT INTO runs (id, site_id, key, run_id, source, variant, branch, sdk_version,"
                                  " environment, components, started_at, created_at) VALUES (:id, 1, :key, :run_id,"
                                  " :source, :variant, :branch, '', '{}', '{}', '2025-01-01 00:00:00',"
                                  " '2025-01-01 00:00:00')"),
                             {"id": pk, "key": key, "run_id": run_id, "source": source, "variant": variant,
                              "branch": branch})
                conn.execute(text("INSERT INTO test_results (run_id, record_id, suite, test_id, status, duration,"
                                  " message, output, phases) VALUES (:id, :rid, 's', 't', 'passed', 0, '', '', '{}')"),
                             {"id": pk, "rid": f"rec-{pk}"})
        migrate.upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM test_results")).scalar() == 3
            rows = conn.execute(text("SELECT id, run_id, key_branch, key_variant, generated_id FROM runs ORDER BY id"))
            assert [tuple(r) for r in rows] == [(1, "r1", "", "", False), (2, "1187345", "master", "pip", False),
                                                 (3, "7", "main", "default", False)]
            assert conn.execute(text("SELECT last_contact_at FROM sites")).scalar() is not None
        migrate.downgrade(engine, "0003")
        with engine.connect() as conn:
            keys = [r[0] for r in conn.execute(text("SELECT key FROM runs ORDER BY id"))]
            assert keys == ["r1", "1187345#master[pip]", "7#main"]
            assert conn.execute(text("SELECT count(*) FROM test_results")).scalar() == 3
    finally:
        engine.dispose()
