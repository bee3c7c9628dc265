"""Server killed mid-run: 50 site runners upload through the harness's own upload code while the
whole gunicorn process group is SIGKILLed and restarted, twice. Afterwards every record is in
the database exactly once, and the run counters match the rows."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from dashboard_server.models import SeenRecord
from test_harness.upload import State, UploadSettings, spooled_files, upload
from tests.support.faults import count_stored, provision, write_run
from tests.support.live_server import Server

pytestmark = pytest.mark.slow

SITES = 50
TESTS_PER_RUN = 40
KILL_AT = (0.25, 0.6)  # kill when this share of the records is stored
DEADLINE = 90.0


@dataclass
class RunnerReport:
    site: str
    records: int
    accepted: int = 0
    duplicates: int = 0
    attempts: int = 0
    spooled: int = 0
    final: State | None = None
    details: list[str] = field(default_factory=list)


def site_runner(site: str, path: Path, records: int, settings: UploadSettings, go: threading.Event,
                deadline: float) -> RunnerReport:
    """What a site's CI job does: upload the run's file; if that spools it, run
    ``sdk-test upload`` again later (here: the same ``upload()`` call it makes) until sent."""
    report = RunnerReport(site, records)
    go.wait()
    files = [path]
    while True:
        report.attempts += 1
        outcomes = upload(files, settings)
        for outcome in outcomes:
            report.accepted += outcome.accepted
            report.duplicates += outcome.duplicates
            if outcome.state is not State.SENT:
                report.details.append(outcome.detail[:200])
        report.final = State.SENT if all(o.state is State.SENT for o in outcomes) else outcomes[0].state
        if report.final is State.SENT and not spooled_files(settings.spool_dir):
            return report
        if report.final is State.REJECTED or time.monotonic() > deadline:
            return report
        report.spooled += 1
        files = []  # from now on only the spool, as a later `sdk-test upload` would
        time.sleep(0.3)


def test_fifty_runners_survive_two_sigkills(db_url: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    names = [f"faults-site-{i:02d}" for i in range(SITES)]
    site_tokens = provision(db_url, names)
    files = {name: write_run(tmp_path / "results" / name, name, TESTS_PER_RUN) for name in names}
    sent_total = sum(n for _, n in files.values())

    server = Server(db_url, tmp_path)
    server.start()
    go = threading.Event()
    deadline = time.monotonic() + DEADLINE
    watch = create_engine(db_url)
    kills: list[int] = []
    try:
        with ThreadPoolExecutor(SITES) as pool:
            futures = [
                pool.submit(site_runner, name, path, n,
                            UploadSettings(url=server.url, token=site_tokens[name],
                                           spool_dir=tmp_path / "spool" / name, retries=2, backoff=0.2,
                                           timeout=20, batch_size=6),
                            go, deadline)
                for name, (path, n) in files.items()
            ]
            go.set()
            with watch.connect() as conn:
                for share in KILL_AT:
                    while time.monotonic() < deadline:
                        stored = int(conn.execute(select(func.count()).select_from(SeenRecord)).scalar() or 0)
                        conn.commit()  # a fresh snapshot next time
                        if stored >= share * sent_total:
                            break
                        time.sleep(0.02)
                    kills.append(stored)
                    server.kill()  # master and workers, mid-request
                    time.sleep(0.5)
                    server.start()
            reports = [f.result(timeout=DEADLINE + 60) for f in futures]
    finally:
        watch.dispose()
        server.stop()

    stored = count_stored(db_url)
    statuses = server.statuses()
    server_errors = sum(n for code, n in statuses.items() if code >= 500)
    figures = {
        "runners": SITES, "records sent": sent_total, "records stored": stored.records,
        "test rows": stored.test_rows, "duplicates": stored.duplicates,
        "accepted (runners' view)": sum(r.accepted for r in reports),
        "resent as duplicates": sum(r.duplicates for r in reports),
        "runners that spooled": sum(1 for r in reports if r.spooled),
        "resend rounds": sum(r.spooled for r in reports),
        "failed upload attempts": sum(len(r.details) for r in reports),
        "kills at stored records": kills, "server starts": server.starts,
        "responses": dict(sorted(statuses.items())), "5xx seen": server_errors,
    }
    with capsys.disabled():
        print("\nserver-kill figures (" + db_url.split(":", 1)[0] + "): "
              + ", ".join(f"{k} = {v}" for k, v in figures.items()))

    assert all(r.final is State.SENT for r in reports), [(r.site, r.final, r.details[-1:]) for r in reports
                                                          if r.final is not State.SENT]
    assert len(kills) == 2 and all(0 < k < sent_total for k in kills), f"kills did not land mid-run: {kills}"
    assert stored.records == sent_total, figures
    assert stored.test_rows == stored.distinct_tests == SITES * TESTS_PER_RUN, figures
    assert stored.runs == stored.finished_runs == SITES, figures
    failed_per_run = len(range(0, TESTS_PER_RUN, 10))
    assert (stored.counted_passed, stored.counted_failed) == (
        SITES * (TESTS_PER_RUN - failed_per_run), SITES * failed_per_run), "run counters lost or doubled updates"
    # a batch committed just before a kill is acknowledged to nobody; its resend comes back as duplicates
    accepted = sum(r.accepted for r in reports)
    assert accepted <= sent_total <= accepted + sum(r.duplicates for r in reports), figures
    assert server_errors == 0, statuses
    log = server.log_text()
    leaked = [name for name, token in site_tokens.items() if token.split(":", 1)[1] in log]
    assert not leaked, f"token secrets of {leaked} appear in the server log"
