"""Helpers shared by the dashboard tests (imported by name; fixtures live in conftest.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard_server import tokens
from dashboard_server.db import run_write
from dashboard_server.models import Site
from exaworks_sdk import status as rule
from exaworks_sdk.records import RunFinish, RunStart, Status, TestResult, new_id

FIXTURES = Path(__file__).parent / "fixtures"


def write(app: Flask, work: Any) -> Any:
    return run_write(app.extensions["sdk_dashboard"]["sessionmaker"], work)


def add_site(app: Flask, name: str, **fields: Any) -> None:
    fields.setdefault("facility", "local")
    write(app, lambda s: s.add(Site(name=name, **fields)))


def issue_token(app: Flask, site: str, **kwargs: Any) -> str:
    return write(
        app, lambda s: tokens.issue(s, s.scalar(select(Site).where(Site.name == site)), **kwargs)
    ).token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def now() -> datetime:
    return datetime.now(UTC)


def make_run(
    site: str = "local-linux",
    *,
    run_id: str | None = None,
    variant: str = "pip",
    tests: dict[str, str] | None = None,
    suite: str = "psij",
    suites: dict[str, dict[str, str]] | None = None,
    finished: bool = True,
    started_at: datetime | None = None,
    output: str = "",
) -> list[dict[str, Any]]:
    """Records of one run as the harness sends it: RunStart, one TestResult per test of every
    suite (``suites`` = {suite: {test: status}}; or one ``suite`` with ``tests``), RunFinish
    with the harness's verdict over all of them."""
    run_id = run_id or new_id()
    if suites is None:
        suites = {suite: tests if tests is not None else {"test_a": "passed", "test_b": "passed"}}
    started = started_at or now() - timedelta(minutes=5)
    records: list[Any] = [
        RunStart(id=new_id(), run_id=run_id, site=site, variant=variant, sdk_version="2026.11",
                 started_at=started, branch="main", pipeline_id="4242",
                 components={"psij-python": "0.9.11", "parsl": "2026.10.26", "flux-core": None},
                 environment={"python": "3.11.7", "has_slurm": False})
    ]
    counts = dict.fromkeys(rule.COUNTERS, 0)
    for suite_name, suite_tests in suites.items():
        for test_id, status in suite_tests.items():
            counts[status] += 1
            records.append(TestResult(
                id=new_id(), run_id=run_id, suite=suite_name, test_id=test_id, status=Status(status),
                duration=1.5, started_at=started + timedelta(seconds=1),
                message="AssertionError: boom" if status == "failed" else "",
                output=output if status == "failed" else "",
            ))
    if finished:
        verdict = Status(rule.run_status(counts, finished=True))
        records.append(RunFinish(id=new_id(), run_id=run_id, finished_at=started + timedelta(minutes=1),
                                 status=verdict, exit_code=rule.exit_code(verdict)))
    return [r.to_dict() for r in records]


def upload(client: FlaskClient, token: str, records: list[dict[str, Any]]) -> Any:
    return client.post("/api/v1/records", json={"records": records}, headers=auth(token))


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))
