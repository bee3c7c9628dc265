"""Real processes for the fault tests: a throwaway PostgreSQL cluster, record files written the
way the harness writes them, and a count of what the database holds. The gunicorn dashboard
they kill is ``live_server.Server``."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, select

from dashboard_server import create_app, tokens
from dashboard_server.models import Run, SeenRecord, Site, SuiteRun, TestResultRow
from exaworks_sdk.records import RecordWriter, RunFinish, RunStart, Status, TestResult, new_id, utcnow
from tests.support.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
START_POSTGRES = ROOT / "tests" / "dashboard" / "start_postgres.sh"


def provision(db_url: str, site_names: list[str]) -> dict[str, str]:
    """Migrate the schema, register the sites and issue one token each (site -> token)."""
    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "faults"})
    engine = app.extensions["sdk_dashboard"]["engine"]
    issued: dict[str, str] = {}
    try:
        with app.extensions["sdk_dashboard"]["sessionmaker"]() as session, session.begin():
            for name in site_names:
                site = Site(name=name, facility="faults", scheduler="none")
                session.add(site)
                session.flush()
                issued[name] = tokens.issue(session, site, label="faults").token
    finally:
        engine.dispose()
    return issued


def write_run(directory: Path, site: str, tests: int = 40, suite: str = "faults",
              finished: bool = True) -> tuple[Path, int]:
    """A record file as the harness writes it: RunStart, ``tests`` TestResults, RunFinish."""
    run_id = new_id()
    path = directory / f"{run_id}.jsonl"
    directory.mkdir(parents=True, exist_ok=True)
    with RecordWriter(path) as writer:
        writer.write(RunStart(id=new_id(), run_id=run_id, site=site, variant="pip", started_at=utcnow()))
        for i in range(tests):
            writer.write(TestResult(id=new_id(), run_id=run_id, suite=suite, test_id=f"test_{i:03d}",
                                    status=Status.FAILED if i % 10 == 0 else Status.PASSED, duration=0.01,
                                    message="AssertionError" if i % 10 == 0 else ""))
        if finished:
            writer.write(RunFinish(id=new_id(), run_id=run_id, finished_at=utcnow(), status=Status.FAILED,
                                   exit_code=1))
    return path, 1 + tests + int(finished)


@dataclass
class Stored:
    records: int  # ledger rows: one per record id the dashboard accepted
    test_rows: int
    distinct_tests: int  # distinct (run, suite, test_id): a record stored twice would show here
    runs: int
    finished_runs: int
    counted_passed: int  # run counters (suite_runs), which retries must not bump twice
    counted_failed: int

    @property
    def duplicates(self) -> int:
        return self.test_rows - self.distinct_tests


def count_stored(db_url: str) -> Stored:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            def scalar(query):  # type: ignore[no-untyped-def]
                return int(conn.execute(query).scalar() or 0)

            distinct = select(TestResultRow.run_id, TestResultRow.suite, TestResultRow.test_id).distinct()
            return Stored(
                records=scalar(select(func.count()).select_from(SeenRecord)),
                test_rows=scalar(select(func.count()).select_from(TestResultRow)),
                distinct_tests=scalar(select(func.count()).select_from(distinct.subquery())),
                runs=scalar(select(func.count()).select_from(Run)),
                finished_runs=scalar(select(func.count()).select_from(Run).where(Run.finished_at.is_not(None))),
                counted_passed=scalar(select(func.coalesce(func.sum(SuiteRun.passed), 0))),
                counted_failed=scalar(select(func.coalesce(func.sum(SuiteRun.failed), 0))),
            )
    finally:
        engine.dispose()


# -- a PostgreSQL cluster of the test's own, so stopping it breaks no other test -------------------

def postgres_bin() -> Path | None:
    override = os.environ.get("PGBIN")
    candidates = [Path(override)] if override else sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    found = [c for c in candidates if (c / "pg_ctl").is_file()]
    if found:
        return found[-1]
    which = shutil.which("pg_ctl")
    return Path(which).parent if which else None


class Postgres:
    """A cluster started by ``tests/dashboard/start_postgres.sh`` on its own port and directory."""

    def __init__(self) -> None:
        self.port = free_port()
        # directly under /tmp: the postgres user must reach it (pytest's tmp dirs are 0700 root)
        self.dir = Path(tempfile.mkdtemp(prefix="sdk-faults-pg-"))
        self.url = ""

    def _as_pg(self, *command: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)

    def start(self) -> str:
        done = subprocess.run(["sh", str(START_POSTGRES), str(self.port), str(self.dir)], capture_output=True,
                              text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"start_postgres.sh failed: {done.stderr[-2000:]}")
        self.url = done.stdout.strip().splitlines()[-1]
        return self.url

    def stop(self, mode: str = "fast") -> None:
        pg_ctl = str(postgres_bin() / "pg_ctl")  # type: ignore[operator]
        subprocess.run(self._as_pg(pg_ctl, "-D", str(self.dir), "-m", mode, "-w", "stop"),
                       capture_output=True, timeout=60)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
        Path(f"{self.dir}.initdb.log").unlink(missing_ok=True)
