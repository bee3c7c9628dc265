"""What a statement reads, for tests that hold a page's cost to what it shows: a synthetic
history bulk loaded (``bench.generate``) with the planner's statistics, and the rows an
executed PostgreSQL plan touched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event, text

from bench.generate import load, open_database
from bench.synth import Matrix, Spec


@contextmanager
def loaded(db_url: str, spec: Spec) -> Iterator[Engine]:
    """An engine on ``db_url`` holding ``spec``'s history, analysed on PostgreSQL."""
    engine = open_database(db_url)
    load(engine, Matrix.build(spec))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    try:
        yield engine
    finally:
        engine.dispose()


def rows_touched(plan: dict[str, Any], table: str) -> int:
    """Rows of ``table`` that an executed plan's nodes (``EXPLAIN (ANALYZE, FORMAT JSON)``)
    produced or filtered away."""
    touched = 0
    if plan.get("Relation Name") == table:
        per_loop = (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
                    + plan.get("Rows Removed by Index Recheck", 0))
        touched += per_loop * plan.get("Actual Loops", 1)
    return touched + sum(rows_touched(child, table) for child in plan.get("Plans", []))


@contextmanager
def statements_run(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The (SQL, parameters) of every statement ``engine`` runs inside the block."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        statements.append((sql, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def sqlite_plan(conn: Connection, sql: str, params: Any = None) -> str:
    """SQLite's ``EXPLAIN QUERY PLAN`` of a statement, its steps joined by " / "."""
    return " / ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))


def executed_plan(conn: Connection, sql: str, params: Any = None) -> dict[str, Any]:
    """PostgreSQL's executed plan of a statement (``EXPLAIN (ANALYZE, FORMAT JSON)``), its top node."""
    (raw,) = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params).one()
    return dict((json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"])
