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
