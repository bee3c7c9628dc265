"""A test's history page reads the runs it shows, not the test's whole history
(``queries.history_page``): the plan walks the suite's runs newest first and probes each run's
rows, on either database, whatever the planner believes about the test's number of rows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.synth import Spec
from dashboard_server import queries
from dashboard_server.models import TestResultRow
from tests.support.plans import executed_plan, loaded, rows_touched, sqlite_plan

PER_PAGE = 50
# Ten suites: a test id belongs to one suite, but PostgreSQL's planner takes ``suite = s AND
# test_id = t`` as independent and expects a tenth of the test's rows (a tenth of the runs).
SPEC = Spec(sites=2, suites=10, days=100, runs_per_day=2, max_variants=2, tests_per_suite=(3, 5))


@pytest.fixture
def history(db_url: str) -> Any:
    with loaded(db_url, SPEC) as engine:
        yield engine


def _a_test(session: Session) -> tuple[str, str, int]:
    """The suite and test with the most stored results, and their number."""
    suite, test, n = session.execute(
        select(TestResultRow.suite, TestResultRow.test_id, func.count()).group_by(TestResultRow.suite,
                                                                                  TestResultRow.test_id)
        .order_by(func.count().desc()).limit(1)).one()
    return suite, test, n


def test_a_page_of_history_reads_only_the_runs_it_shows(history):
    with Session(history) as session:
        suite, test, stored = _a_test(session)
        assert stored > 4 * PER_PAGE  # a long history: reading all of it would show
        page = queries.test_history(session, suite, test, per_page=PER_PAGE)
        assert page.total == stored and len(page.entries) == PER_PAGE
        assert [e.started_at for e in page.entries] == sorted((e.started_at for e in page.entries), reverse=True)
        statement = queries.history_page(session, suite, test, 1, PER_PAGE)
        sql = str(statement.compile(dialect=history.dialect, compile_kwargs={"literal_binds": True}))
        conn = session.connection()
        if history.dialect.name == "sqlite":
            plan = sqlite_plan(conn, sql)
            assert "ix_test_results_suite_test" not in plan, plan
            assert plan.startswith("SEARCH suite_runs USING INDEX ix_suite_runs_suite_started"), plan
            assert "USING INDEX ix_test_results_run_suite" in plan, plan
        else:
            plan = executed_plan(conn, sql)
            touched = rows_touched(plan, "test_results")
            most_tests_in_a_run = SPEC.tests_per_suite[1]
            assert touched <= (PER_PAGE + 1) * most_tests_in_a_run < stored, (touched, stored)  # a run past the page
