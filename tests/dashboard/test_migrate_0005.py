"""Migration 0005 on a database that already holds results: the ledger becomes per site, and
every cell's failure streak and each row's folded "other" cell are backfilled (issue #15)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import create_engine, inspect, text

from dashboard_server import migrate

T0 = datetime(2026, 11, 1, 12, 0, 0)


def test_upgrade_backfills_streaks_and_folded_cells(db_url):
    engine = create_engine(db_url)
    try:
        migrate.upgrade(engine, "0003")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO sites (id, name, facility, machine, scheduler, expected_interval_hours,"
                              " created_at) VALUES (1, 'llnl-dane', 'LLNL', 'dane', 'slurm', 24, :t)"), {"t": T0})
            # psij: pass, fail, fail; junk-1 (not a registry suite): fail
            for run, (psij, day) in enumerate([("pass", 0), ("fail", 1), ("fail", 2)], start=1):
                when = T0 + timedelta(days=day)
                conn.execute(text("INSERT INTO runs (id, site_id, key, run_id, source, variant, sdk_version,"
                                  " environment, components, started_at, finished_at, created_at) VALUES"
                                  " (:id, 1, :key, :key, 'records', 'pip', '', '{}', '{}', :t, :t, :t)"),
                             {"id": run, "key": f"run-{run:05d}", "t": when})
                conn.execute(text("INSERT INTO suite_runs (run_id, site_id, variant, suite, started_at, passed,"
                                  " failed, skipped, error, known, fixed) VALUES (:run, 1, 'pip', 'psij', :t,"
                                  " :p, :f, 0, 0, 0, 0)"),
                             {"run": run, "t": when, "p": int(psij == "pass"), "f": int(psij == "fail")})
                conn.execute(text("INSERT INTO seen_records (record_id, site_id, run_id, kind, content_hash,"
                                  " received_at) VALUES (:r, 1, :run, 'run_start', 'h', :t)"),
                             {"r": f"record-{run:04d}", "run": run, "t": when})
            conn.execute(text("INSERT INTO suite_runs (run_id, site_id, variant, suite, started_at, passed, failed,"
                              " skipped, error, known, fixed) VALUES (3, 1, 'pip', 'junk-1', :t, 0, 1, 0, 0, 0, 0)"),
                         {"t": T0 + timedelta(days=2)})
            for suite in ("psij", "junk-1"):
                conn.execute(text("INSERT INTO latest_results (site_id, variant, suite, run_id, started_at)"
                                  " VALUES (1, 'pip', :s, 3, :t)"), {"s": suite, "t": T0 + timedelta(days=2)})
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == "0005"
        with engine.connect() as conn:
            rows = {r.suite: r for r in conn.execute(text(
                "SELECT suite, failing_since, first_failing_run_id, last_passing_run_id FROM latest_results"))}
            folded = conn.execute(text("SELECT site_id, variant, suites, failing, status FROM folded_cells")).all()
        assert rows["psij"].first_failing_run_id == 2 and rows["psij"].last_passing_run_id == 1
        assert str(rows["psij"].failing_since).startswith("2026-11-02 12:00:00")
        assert rows["junk-1"].first_failing_run_id == 3 and rows["junk-1"].last_passing_run_id is None
        assert [tuple(r) for r in folded] == [(1, "pip", 1, 1, "failed")]
        assert inspect(engine).get_pk_constraint("seen_records")["constrained_columns"] == ["site_id", "record_id"]
        migrate.downgrade(engine, "0004")
        assert inspect(engine).get_pk_constraint("seen_records")["constrained_columns"] == ["record_id"]
        assert "folded_cells" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
