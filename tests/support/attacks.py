"""Helpers for the tests of issue #15's findings: a site with a valid token attacking the
shared views. Built on ``tests.support.dashboard`` (real record shapes, several suites and sites)."""

from __future__ import annotations

import copy
import json
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.support.dashboard import add_site, auth, issue_token, load_fixture, make_run, now, upload
from tests.support.plans import statements_run

ATTACKER = "evil-cluster"


def statements(app: Flask) -> AbstractContextManager[list[tuple[str, Any]]]:
    """Every SQL statement the app's engine executes inside the block, with its parameters."""
    return statements_run(app.extensions["sdk_dashboard"]["engine"])


def history(client: FlaskClient, token: str, site: str, suites: dict[str, list[str]], days: int = 3) -> None:
    """``days`` daily runs at ``site``; suite -> its status on each day, oldest first."""
    start = now() - timedelta(days=days)
    for day in range(days):
        run = {suite: {"test_a": statuses[day], "test_b": "passed"} for suite, statuses in suites.items()}
        response = upload(client, token, make_run(site, suites=run, started_at=start + timedelta(days=day)))
        assert response.status_code == 200, response.json


def shared_world(app: Flask, client: FlaskClient, token: str, other_token: str) -> None:
    """Two honest sites (local-linux, llnl-dane) with known suites, one of them failing."""
    history(client, token, "local-linux", {"psij": ["passed", "failed", "failed"], "parsl": ["passed"] * 3})
    history(client, other_token, "llnl-dane", {"psij": ["passed"] * 3, "mpi": ["failed", "passed", "failed"]})


def attacker(app: Flask) -> str:
    add_site(app, ATTACKER, facility="evil", machine="cluster")
    return issue_token(app, ATTACKER)


def many_failing_suites(site: str, n: int, prefix: str = "junk") -> list[dict[str, Any]]:
    """One run with ``n`` suites of one failing test each (the F1 upload)."""
    return make_run(site, suites={f"{prefix}-{i:05d}": {"t": "failed"} for i in range(n)})


def legacy_body(name: str, site: str, key: str, **data: Any) -> dict[str, Any]:
    body = copy.deepcopy(load_fixture(f"legacy/{name}.json"))
    body["id"], body["key"] = site, key
    body["data"].update(data)
    return body


def ndjson(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def post_ndjson(client: FlaskClient, token: str | None, body: bytes) -> Any:
    headers = auth(token) if token else {}
    return client.post("/api/v1/records", data=body, content_type="application/x-ndjson", headers=headers)
