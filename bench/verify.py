"""Check the bulk loader against the real upload path on a small history.

The same synthetic runs go (a) through ``POST /api/v1/records`` of the real app (Flask test
client: the real endpoint, auth, validation and ingest code, without a socket) in shuffled
order and mixed batch sizes, and (b) through ``bench.generate.load``. Every table is then
compared on natural keys (record ids, run ids, site names), leaving out only surrogate ids and
arrival times (``created_at``, ``received_at``, ``last_seen_at``).

    python -m bench.verify [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from dashboard_server import create_app, tokens
from dashboard_server.db import run_write
from dashboard_server.models import Site

from .generate import load, open_database, reset_database
from .synth import Matrix, Spec, runs

SMALL = Spec(sites=4, suites=5, days=3, runs_per_day=2, tests_per_suite=(2, 4), flaky_fraction=0.3,
             fail_rate=0.05, log_bytes=300, seed=7, release_days=1)  # a new version set each day

QUERIES = {
    "sites": "SELECT name, facility, machine, scheduler, expected_interval_hours FROM sites",
    "runs": """SELECT s.name, r.run_id, r.key_branch, r.key_variant, r.source, r.variant, r.pipeline_id, r.branch, r."commit",
               r.hostname, r.sdk_version, r.environment, r.components, r.started_at, r.finished_at,
               r.reported_status, r.exit_code, r.start_record_id, r.finish_record_id
               FROM runs r JOIN sites s ON s.id = r.site_id""",
    "test_results": """SELECT r.run_id, t.record_id, t.suite, t.test_id, t.status, t.duration, t.started_at,
                       t.message, t.output, t.phases, t.fingerprint FROM test_results t JOIN runs r ON r.id = t.run_id""",
    "suite_runs": """SELECT r.run_id, s.name, x.variant, x.suite, x.started_at, x.passed, x.failed, x.skipped,
                     x.error FROM suite_runs x JOIN runs r ON r.id = x.run_id JOIN sites s ON s.id = x.site_id""",
    "latest_results": """SELECT s.name, l.variant, l.suite, r.run_id, l.started_at, l.failing_since, f.run_id,
                         p.run_id FROM latest_results l JOIN runs r ON r.id = l.run_id JOIN sites s ON s.id = l.site_id
                         LEFT JOIN runs f ON f.id = l.first_failing_run_id
                         LEFT JOIN runs p ON p.id = l.last_passing_run_id""",
    "latest_set_runs": """SELECT s.name, l.variant, l.suite, l.components_key, r.run_id, l.started_at
                          FROM latest_set_runs l JOIN runs r ON r.id = l.run_id JOIN sites s ON s.id = l.site_id""",
    "seen_records": """SELECT x.record_id, s.name, r.run_id, x.kind, x.content_hash FROM seen_records x
                       JOIN runs r ON r.id = x.run_id JOIN sites s ON s.id = x.site_id""",
}


def _canonical(value: Any) -> str:
    """One spelling per value across drivers: raw SQLite text vs PostgreSQL's typed values."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        value = json.loads(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == " ":
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    return str(value)


def snapshot(engine: Engine) -> dict[str, set[tuple[Any, ...]]]:
    out = {}
    with engine.connect() as conn:
        for table, sql in QUERIES.items():
            out[table] = {tuple(_canonical(v) for v in row) for row in conn.execute(text(sql))}
    return out


def upload_all(url: str, spec: Spec) -> Engine:
    """Upload every run through the real API, in shuffled order and mixed batch sizes."""
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "bench"})
    factory = app.extensions["sdk_dashboard"]["sessionmaker"]
    secrets = {}
    for row in spec.site_rows():
        def work(session: Any, row: dict[str, Any] = row) -> str:
            site = Site(**row)
            session.add(site)
            return tokens.issue(session, site).token
        secrets[row["name"]] = run_write(factory, work)
    client = app.test_client()
    history = list(runs(Matrix.build(spec)))
    random.Random(3).shuffle(history)  # arrival order must not matter for latest_results
    for number, run in enumerate(history):
        records = run.records()
        size = [len(records), 3, 7][number % 3]
        for i in range(0, len(records), size):
            response = client.post("/api/v1/records", json={"records": records[i:i + size]},
                                   headers={"Authorization": f"Bearer {secrets[run.site]}"})
            if response.status_code != 200:
                raise AssertionError(f"upload failed: {response.status_code} {response.get_data(as_text=True)}")
    engine: Engine = app.extensions["sdk_dashboard"]["engine"]
    return engine


def compare(uploaded: Engine, generated: Engine) -> list[str]:
    a, b = snapshot(uploaded), snapshot(generated)
    problems = []
    for table in QUERIES:
        if not a[table]:
            problems.append(f"{table}: no rows uploaded")
        only_a, only_b = a[table] - b[table], b[table] - a[table]
        if only_a or only_b:
            sample = sorted(only_a)[:1] + sorted(only_b)[:1]
            problems.append(f"{table}: {len(only_a)} rows only in the upload, {len(only_b)} only in the "
                            f"generated data; e.g. {sample}")
    return problems


def verify(url_a: str, url_b: str, spec: Spec = SMALL) -> tuple[dict[str, int], list[str]]:
    """Upload into ``url_a``, generate into ``url_b`` (both emptied first); return counts and problems."""
    for url in (url_a, url_b):
        reset_database(url)
    uploaded = upload_all(url_a, spec)
    generated = open_database(url_b)
    matrix = Matrix.build(spec)
    load(generated, matrix, 0, 0)  # newest day first, then older history behind it, as bench.pages grows it
    load(generated, matrix, 1, None)
    counts = {table: len(rows) for table, rows in snapshot(generated).items()}
    return counts, compare(uploaded, generated)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare the bulk loader with real uploads.")
    parser.add_argument("--postgres", help="also check on this PostgreSQL URL (its database is emptied)")
    args = parser.parse_args(argv)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        pairs = [("sqlite", f"sqlite:///{Path(tmp) / 'a.sqlite'}", f"sqlite:///{Path(tmp) / 'b.sqlite'}")]
        if args.postgres:
            # one PostgreSQL database: upload there, generate into SQLite, then swap roles
            pairs.append(("postgresql", args.postgres, f"sqlite:///{Path(tmp) / 'c.sqlite'}"))
            pairs.append(("postgresql (generated)", f"sqlite:///{Path(tmp) / 'd.sqlite'}", args.postgres))
        for name, url_a, url_b in pairs:
            counts, problems = verify(url_a, url_b)
            print(f"{name}: {counts}: " + ("identical" if not problems else "DIFFERENT"))
            for problem in problems:
                print("  " + problem)
            failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
