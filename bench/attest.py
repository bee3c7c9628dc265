"""A release attestation of a bench database's newest runs, recorded through the dashboard's own
``releases.record`` (so every cited run is checked, as ``sdk-dashboard releases record`` does):
what ``bench.pages`` times the release pages on.

Each summary cell (``latest_results``) becomes a required cell, green when its newest run's
suite status is accepted and red otherwise, citing that run and its recorded versions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dashboard_server import releases
from dashboard_server.models import LatestResult, Run, Site, SuiteRun
from exaworks_sdk import status as rule
from exaworks_sdk.status import COUNTERS

VERSION = "2026.11"


def attestation(session: Session, days: int = 7) -> dict[str, Any]:
    rows = session.execute(
        select(Site.name, Site.facility, LatestResult.variant, LatestResult.suite, Run,
               *(getattr(SuiteRun, c) for c in COUNTERS))
        .join(Site, Site.id == LatestResult.site_id).join(Run, Run.id == LatestResult.run_id)
        .join(SuiteRun, (SuiteRun.run_id == Run.id) & (SuiteRun.suite == LatestResult.suite))
        .order_by(Site.name, LatestResult.variant, LatestResult.suite)).all()
    cells, runs = [], {}
    for site, facility, variant, suite, run, *counts in rows:
        shown = rule.in_run(dict(zip(COUNTERS, counts, strict=True)), run.finished_at is not None)
        cells.append({"site": site, "facility": facility or "", "variant": variant, "suite": suite,
                      "state": "green" if shown in rule.ACCEPTED else "red", "detail": str(shown),
                      "run": run.id, "run_id": run.run_id, "started_at": run.started_at.isoformat(),
                      "versions": {k: v for k, v in (run.components or {}).items() if v is not None}})
        runs[run.run_id] = {"run": run.id, "site": site, "variant": variant, "started_at": run.started_at.isoformat(),
                            "status": str(shown), "components": run.components or {},
                            "installed": (run.environment or {}).get("installed")}
    return {"release": f"exaworks-sdk {VERSION}", "version": VERSION, "manifest_digest": "sha256:" + "0" * 64,
            "dashboard": "bench", "days": days, "checked_at": datetime.now(UTC).isoformat(),
            "ready": all(c["state"] == "green" for c in cells), "cells": cells, "runs": runs}


def record(engine: Engine) -> str:
    """Record (or replace) the attestation; returns its version."""
    with Session(engine) as session, session.begin():
        return releases.record(session, attestation(session), replace=True).version
