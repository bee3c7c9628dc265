"""``sdk release check``: every required cell (machine × install variant × suite of the site
registry, ``manifest.expected``) needs a run of the last N days whose recorded versions of the
suite's components are exactly the variant's pins (``normalize_version`` form), and that run
passed.

The states and the JSON attestation's format are ``attestation.py``'s.

The dashboard is read over HTTP (``/api/v1/compat`` and ``/api/v1/summary``, then each cited
run for the lockfile its harness recorded: ``test_harness.installed``), so this module needs no
database and imports nothing of the dashboard. A dashboard that requires a login is read with
the password of ``$SDK_DASHBOARD_PASSWORD``.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from exaworks_sdk.manifest import Facility, Manifest
from exaworks_sdk.manifest.expected import ExpectedCell, expected_cells, pins
from exaworks_sdk.release.attestation import EXCLUDED, GREEN, MISMATCH, MISSING, PASSING, RED, STALE, STATES, Attestation
from exaworks_sdk.status import ACCEPTED
from exaworks_sdk.versions import same_version


@dataclass
class CellCheck:
    site: str
    facility: str
    variant: str
    suite: str
    state: str
    detail: str = ""
    run: int | None = None
    run_id: str | None = None
    started_at: str | None = None
    url: str | None = None
    versions: dict[str, str | None] = field(default_factory=dict)


@dataclass
class Report:
    release: str
    version: str
    manifest_digest: str
    dashboard: str
    days: int
    checked_at: str
    cells: list[CellCheck]
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(c.state in PASSING for c in self.cells)

    def to_json(self) -> dict[str, Any]:
        """The attestation (``attestation.Attestation``; validated, so both sides read one format)."""
        data = {"release": self.release, "version": self.version, "manifest_digest": self.manifest_digest,
                "dashboard": self.dashboard, "days": self.days, "checked_at": self.checked_at, "ready": self.ready,
                "cells": [asdict(c) for c in self.cells], "runs": self.runs}
        return Attestation.model_validate(data).model_dump(mode="json")


def manifest_digest(root: Path) -> str:
    """sha256 over the manifest and the site registry (each file's path and bytes, sorted)."""
    digest = hashlib.sha256()
    for path in sorted([*(root / "components").glob("*.yaml"), *(root / "ci" / "sites").glob("*.yaml")]):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


class Dashboard:
    """GETs of JSON from one dashboard, logged in when a password is given."""

    def __init__(self, url: str, password: str | None = None, timeout: float = 60) -> None:
        self.base, self.timeout = url.rstrip("/"), timeout
        self.http = requests.Session()
        if password:
            self.http.auth = ("sdk", password)  # the dashboard checks the password, any user name

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(self.base + path, params=params, timeout=self.timeout)
        if response.status_code == 401:
            hint = "the password was refused" if self.http.auth else "set SDK_DASHBOARD_PASSWORD"
            raise RuntimeError(f"{self.base}{path}: the dashboard requires a login ({hint})")
        if response.status_code != 200:
            raise RuntimeError(f"{self.base}{path}: HTTP {response.status_code}: {response.text[:300]}")
        return response.json()


def fetch(dashboard: Dashboard, days: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dashboard's matrix of the last ``days`` days and its summary (for stale cells)."""
    return dashboard.get("/api/v1/compat", days=days), dashboard.get("/api/v1/summary")


def lockfiles(dashboard: Dashboard, cells: list[CellCheck]) -> dict[str, dict[str, Any]]:
    """Each cited run (by run id): where and when it ran, its component versions, and what its
    harness recorded as installed (``environment.installed``: pip freeze, ``spack find``, image
    tag); ``installed`` is null for runs of older clients, which record none."""
    out: dict[str, dict[str, Any]] = {}
    for cell in cells:
        if cell.run is None or cell.run_id in out:
            continue
        run = dashboard.get(f"/api/v1/runs/{cell.run}")
        out[str(cell.run_id)] = {
            "run": cell.run, "site": run["site"], "variant": run["variant"], "started_at": run["started_at"],
            "status": run["status"], "components": run["components"],
            "installed": (run.get("environment") or {}).get("installed"),
        }
    return out


def _verdicts(matrix: dict[str, Any]) -> dict[tuple[str, str, str], list[tuple[dict[str, Any], dict[str, Any]]]]:
    """(site, variant, suite) → [(version set, that site's newest verdict in it)]."""
    out: dict[tuple[str, str, str], list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for suite in matrix.get("suites", []):
        for version_set in suite["sets"]:
            for verdict in version_set["sites"]:
                out.setdefault((verdict["site"], verdict["variant"], suite["suite"]), []).append(
                    (version_set["versions"], verdict))
    return out


def _latest(summary: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    return {(row["site"]["name"], row["variant"], suite): cell["started_at"]
            for row in summary.get("rows", []) for suite, cell in row["cells"].items()}


def check_cell(cell: ExpectedCell, manifest: Manifest, seen: list[tuple[dict[str, Any], dict[str, Any]]],
               last: str | None, base: str, days: int) -> CellCheck:
    out = CellCheck(site=cell.site, facility=cell.facility, variant=cell.variant, suite=cell.suite, state=MISSING)
    if cell.excluded is not None:
        out.state, out.detail = EXCLUDED, cell.excluded
        return out
    pinned = pins(manifest, cell.variant)
    wanted = {c: pinned[c] for c in manifest.suites[cell.suite].requires if c in pinned}
    matching = [(v, d) for v, d in seen if all(same_version(v.get(c), pin) for c, pin in wanted.items())]
    if matching:
        versions, verdict = max(matching, key=lambda m: m[1]["started_at"])
        good = verdict["status"] in ACCEPTED
        out.state = GREEN if good else RED
        out.detail = verdict["status"]
    elif seen:
        versions, verdict = max(seen, key=lambda m: m[1]["started_at"])
        off = [f"{c} {versions.get(c) or 'not found'} (pin {pin})" for c, pin in wanted.items()
               if not same_version(versions.get(c), pin)]
        out.state, out.detail = MISMATCH, "newest run has " + ", ".join(off)
    elif last is not None:
        out.state, out.detail = STALE, f"last reported {last}, more than {days} days ago"
        return out
    else:
        out.detail = "never reported"
        return out
    out.run, out.run_id, out.started_at = verdict["run"], verdict["run_id"], verdict["started_at"]
    out.url, out.versions = f"{base}/runs/{verdict['run']}", dict(versions)
    return out


def check(root: Path, manifest: Manifest, facilities: dict[str, Facility], dashboard: str, days: int,
          matrix: dict[str, Any], summary: dict[str, Any]) -> Report:
    base = dashboard.rstrip("/")
    verdicts, latest = _verdicts(matrix), _latest(summary)
    cells = [check_cell(cell, manifest, verdicts.get((cell.site, cell.variant, cell.suite), []),
                        latest.get((cell.site, cell.variant, cell.suite)), base, days)
             for cell in expected_cells(manifest, facilities)]
    return Report(release=f"{manifest.release.name} {manifest.release.version}", version=manifest.release.version,
                  manifest_digest=manifest_digest(root), dashboard=base, days=days,
                  checked_at=datetime.now(UTC).isoformat(timespec="seconds"), cells=cells)


def table(report: Report) -> list[str]:
    """The report as lines: required cells that are not green first, then the green, then exclusions."""
    order = {state: n for n, state in enumerate(STATES)}
    rows = sorted(report.cells, key=lambda c: (order[c.state], c.site, c.variant, c.suite))
    width = max((len(f"{c.site} {c.variant}") for c in rows), default=10)
    suite_width = max((len(c.suite) for c in rows), default=10)
    lines = []
    for c in rows:
        where = f"{c.site} {c.variant}".ljust(width)
        link = f"  {c.url}" if c.url else ""
        lines.append(f"{c.state:<12} {where}  {c.suite:<{suite_width}}  {c.detail}{link}")
    required = [c for c in report.cells if c.state != EXCLUDED]
    counts = {state: sum(c.state == state for c in required) for state in (GREEN, RED, MISMATCH, STALE, MISSING)}
    lines.append(f"{report.release}: {len(required)} required cells: "
                 + ", ".join(f"{n} {state}" for state, n in counts.items())
                 + f"; {len(report.cells) - len(required)} excluded. "
                 + ("Ready to release." if report.ready else "Not ready."))
    return lines
