"""Multi-site, multi-version run history, uploaded through the real upload API: what the
compatibility matrix and the release check read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from tests.support.dashboard import make_run, now, upload

# What the harness detects, spelt the ways real tools print them
SPACK_PINNED = {"parsl": "2026.02.16", "flux-core": "v0.81.0", "psij-python": "0.9.9",
                "radical-pilot": "1.92.0", "swift-t": "0.9.0", "mpi4py": "4.1.1", "mpi": "cray-mpich 8.1.29"}
PIP_PINNED = {"parsl": "2026.10.26", "psij-python": "0.9.11", "radical-pilot": "1.90.0", "mpi4py": "4.1.2",
              "flux-core": None, "swift-t": None, "mpi": "openmpi 4.1.6"}


def run_at(client: FlaskClient, token: str, site: str, variant: str, *, hours_ago: float,
           components: dict[str, str | None], suites: dict[str, dict[str, str]],
           environment: dict[str, Any] | None = None, failure: tuple[str, str] | None = None) -> dict[str, Any]:
    """Upload one run of several suites; returns its RunStart record (as uploaded). ``failure`` is
    the (message, output) each failing test reports."""
    records = make_run(site, variant=variant, suites=suites, started_at=now() - timedelta(hours=hours_ago))
    records[0]["components"] = dict(components)
    for record in records:
        if failure is not None and record.get("status") in ("failed", "error") and "test_id" in record:
            record["message"], record["output"] = failure
    records[0]["environment"] = {"python": "3.11.7", "scheduler": "slurm", **(environment or {})}
    response = upload(client, token, records)
    assert response.status_code == 200, response.get_json()
    return records[0]


def passing(*names: str) -> dict[str, dict[str, str]]:
    return {name: {"test_a": "passed", "test_b": "passed"} for name in names}


def run_number(client: FlaskClient, site: str, run_id: str) -> int:
    return int(client.get(f"/api/v1/sites/{site}/runs/{run_id}").get_json()[0]["id"])
