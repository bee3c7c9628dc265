"""Helpers shared by the dashboard tests (imported by name; fixtures live in conftest.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard_server import tokens
from dashboard_server.db import run_write
from dashboard_server.models import Site
from exaworks_sdk.records import RunFinish, RunStart, Status, TestResult, new_id, overall_status

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
    return datetime.now(timezone.utc)


def make_run(
    site: str = "local-linux",
    *,
    run_id: str | None = None,
    variant: str = "pip",
    tests: dict[str, str] | None = None,
    suite: str = "psij",
    finished: bool = True,
    started_at: datetime | None = None,
    output: str = "",
) -> list[dict[str, Any]]:
    """Records of one run: RunStart, one TestResult per ``tests`` item, RunFinish."""
    run_id = run_id or new_id()
    started = started_at or now() - timedelta(minutes=5)
    records: list[Any] = [
        RunStart(id=new_id(), run_id=run_id, site=site, variant=variant, sdk_version="2026.11",
                 started_at=started, branch="main", pipeline_id="4242",
                 components={"psij-python": "0.9.11", "parsl": "2026.10.26", "flux-core": None},
                 environment={"python": "3.11.7", "has_slurm": False})
    ]
    statuses = []
    for test_id, status in (tests if tests is not None else {"test_a": "passed", "test_b": "passed"}).items():
        statuses.append(Status(status))
        records.append(TestResult(
            id=new_id(), run_id=run_id, suite=suite, test_id=test_id, status=Status(status),
            duration=1.5, started_at=started + timedelta(seconds=1),
            message="AssertionError: boom" if status == "failed" else "",
            output=output if status == "failed" else "",
        ))
    if finished:
        records.append(RunFinish(id=new_id(), run_id=run_id, finished_at=started + timedelta(minutes=1),
                                 status=overall_status(statuses), exit_code=0))
    return [r.to_dict() for r in records]


def upload(client: FlaskClient, token: str, records: list[dict[str, Any]]) -> Any:
    return client.post("/api/v1/records", json={"records": records}, headers=auth(token))


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))
