"""Helpers shared by the dashboard tests: real record shapes, uploads, sites and tokens (pytest
fixtures live in conftest.py)."""

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

FIXTURES = Path(__file__).parents[1] / "dashboard" / "fixtures"


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


# -- real traffic shapes ------------------------------------------------------------------
# Legacy POST /result sequences, built from the exact payloads in tests/dashboard/fixtures/legacy/ (see its README).


def legacy(name: str, key: str, **data: Any) -> dict[str, Any]:
    """One legacy request body from a fixture, with ``key`` and ``data`` fields replaced."""
    body = load_fixture(f"legacy/{name}.json")
    body["key"] = key
    body["data"].update(data)
    return body


def _phases(status: str) -> dict[str, Any]:
    call = {"passed": status == "passed", "status": status, "exception": None,
            "report": "" if status == "passed" else "\x1b[31mE       AssertionError: boom\x1b[0m"}
    return {"setup": {"passed": True, "status": "passed", "exception": None, "report": ""}, "call": call}


def psij_session(key: str, *, site: str = "llnl-dane", run_id: str | None = "2024013110-" + "ab" * 32,
                 branch: str | None = "main", tests: dict[str, str] | None = None,
                 start: datetime | None = None, end: bool = True) -> list[dict[str, Any]]:
    """What psij-python's pytest uploader sends for one session: the environment record, one
    record per test (``{test name: status}``), the end record; UTC times as psij writes them."""
    start = start or now() - timedelta(minutes=30)
    stamp = lambda t: t.astimezone(UTC).isoformat(" ")  # noqa: E731 - psij's _now()
    common = {"run_id": run_id, "branch": branch}
    bodies = [legacy("psij_start", key, **common, test_start_time=stamp(start), test_end_time=stamp(start))]
    bodies[0]["id"] = site
    bodies[0]["data"]["extras"].update(run_id=run_id, git_branch=branch, start_time=stamp(start))
    bodies[0]["data"]["extras"]["config"]["id"] = site
    tests = tests if tests is not None else {"test_simple_job[local:single]": "passed"}
    for n, (name, status) in enumerate(tests.items(), start=1):
        at = start + timedelta(seconds=10 * n)
        bodies.append(legacy("psij_test_passed", key, **common, test_name=name, function=name.split("[")[0],
                             results=_phases(status), test_start_time=stamp(at),
                             test_end_time=stamp(at + timedelta(seconds=5))))
    if end:
        at = start + timedelta(minutes=10)
        bodies.append(legacy("psij_end", key, **common, test_start_time=stamp(at), test_end_time=stamp(at)))
    for body in bodies:
        body["id"] = site
    return bodies


def wrapper_job(key: str, group: str, *, site: str = "llnl-dane", pipeline_id: str | None = "1187345",
                branch: str | None = "master", tools: dict[str, str] | None = None,
                start: datetime | None = None, suffix: bool = False) -> list[dict[str, Any]]:
    """What one job of the old SDK wrapper sends (``test.py -s``, ``-c`` per tool, ``-e``) with
    ``TESTS_GROUP=group``: local times without an offset (``str(datetime.now())``). ``suffix``
    gives the fix/ci-runner shape ("master[pip]" on every record) instead of master's."""
    # jobs of one pipeline start within the same second, never the same microsecond
    start = start or datetime(2025, 1, 1, 9, 0, 0, sum(map(ord, group)))
    stamp = lambda t: str(t)  # noqa: E731 - the wrapper's str(datetime.now())
    shape = "sdk" if suffix else "sdk_master"
    sent_branch = f"{branch}[{group}]" if suffix and branch is not None else branch
    common = {"run_id": pipeline_id, "branch": sent_branch}
    bodies = [legacy(f"{shape}_start", key, **common, test_start_time=stamp(start), test_end_time=stamp(start))]
    bodies[0]["data"]["extras"].update(start_time=stamp(start), git_branch=branch)
    if suffix:
        bodies[0]["data"]["extras"]["config"]["tests_group"] = group
    at = start
    for tool, status in (tools if tools is not None else {"parsl": "passed", "rp": "passed"}).items():
        done = at + timedelta(seconds=40)
        extras = {} if suffix else {"tests_group": group}
        bodies.append(legacy(f"{shape}_test", key, **common, test_name=tool, module=group, extras=extras,
                             results=_phases(status), test_start_time=stamp(at), test_end_time=stamp(done)))
        at = done
    bodies.append(legacy(f"{shape}_end", key, **common, test_start_time=stamp(at), test_end_time=stamp(at)))
    for body in bodies:
        body["id"] = site
    return bodies


def interleave(*jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Concurrent jobs' requests as the dashboard sees them: one from each in turn."""
    out: list[dict[str, Any]] = []
    for step in range(max(len(job) for job in jobs)):
        out.extend(job[step] for job in jobs if step < len(job))
    return out


def post_all(client: FlaskClient, bodies: list[dict[str, Any]]) -> list[Any]:
    responses = [client.post("/result", json=body) for body in bodies]
    for body, response in zip(bodies, responses, strict=True):
        assert response.status_code == 200, (body["data"].get("test_name"), response.json)
    return responses


def facility_tokens(app: Flask, facility: str, root: Path | None = None) -> dict[str, str]:
    """Every machine of a registry facility as a site (``sites sync``), each with its own token:
    {site id: token}."""
    from exaworks_sdk.manifest import load_sites

    entries = load_sites(root).get(facility)
    assert entries is not None, f"no facility {facility!r} in ci/sites/"
    for entry in entries.sites():
        if write(app, lambda s, name=entry.id: s.scalar(select(Site).where(Site.name == name))) is None:
            add_site(app, entry.id, facility=facility, machine=entry.machine_name, scheduler=entry.machine.scheduler)
    return {entry.id: issue_token(app, entry.id) for entry in entries.sites()}
