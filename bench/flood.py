"""One site floods the dashboard: does everyone else's summary pay for it?

Two databases with the same history (``bench.pages``' sites and suites, ``--results`` stored
results); the second also holds one more site with ``--suites`` (10,000) failing suites, stored
through the real upload code (``ingest.records``, with the per-run and per-site caps raised so
the flood gets in, as data from before the caps would be). One gunicorn (1 worker) per
database; one client requests the shared views from both in turn: the summary page and its
JSON, a suite badge, an honest site's page and badge, the failures page and its JSON (the
flood's 10,000 failing cells are failing now), the compatibility matrix, and the digest
page and its JSON (a digest is made after the flood, as the daily ``sdk-dashboard digest``
would: the flood's 10,000 failing cells are in it). The figure is
the ratio of medians, flooded over clean; the target is ≤ 1.2×.

    python -m bench.flood [--suites 10000] [--results 30000] [--repeats 20] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from dashboard_server import create_app, db
from dashboard_server.digest import make_digest
from dashboard_server.ingest.records import parse_batch, store_batch
from dashboard_server.models import Digest, Site
from exaworks_sdk.records import RunFinish, RunStart, Status, TestResult, new_id, utcnow

from .common import gunicorn, loadavg, median, p95
from .pages import SPEC, fill
from .synth import Matrix

FLOOD_SITE = "evil-cluster"
TARGET = 1.2


def database_urls(tmp: Path, postgres: str | None) -> dict[str, str]:
    if not postgres:
        return {name: f"sqlite:///{tmp / f'flood-{name}.sqlite'}" for name in ("clean", "flooded")}
    base = make_url(postgres)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    urls = {}
    with admin.connect() as conn:
        for name in ("clean", "flooded"):
            database = f"bench_flood_{name}"
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
            conn.execute(text(f'CREATE DATABASE "{database}"'))
            urls[name] = base.set(database=database).render_as_string(hide_password=False)
    admin.dispose()
    return urls


def flood(url: str, suites: int, analyze: bool = True) -> dict[str, Any]:
    """Store one run of ``suites`` failing suites for a new site through the upload code; on
    PostgreSQL then ``ANALYZE`` (unless not ``analyze``: as before autovacuum has seen it)."""
    app = create_app({"DATABASE_URL": url, "MAX_SUITES_PER_RUN": suites, "MAX_SUITES_PER_SITE": suites})
    run_id, started = new_id(), utcnow()
    records: list[Any] = [RunStart(id=new_id(), run_id=run_id, site=FLOOD_SITE, started_at=started)]
    records += [TestResult(id=new_id(), run_id=run_id, suite=f"junk-{i:05d}", test_id="t", status=Status.FAILED,
                           message="boom") for i in range(suites)]
    records.append(RunFinish(id=new_id(), run_id=run_id, finished_at=utcnow(), status=Status.FAILED, exit_code=1))
    began = time.perf_counter()
    with app.app_context():
        parsed = parse_batch([r.to_dict() for r in records])

        def work(session: Any) -> Any:
            site = Site(name=FLOOD_SITE, facility="evil", machine="cluster")
            session.add(site)
            session.flush()
            return store_batch(session, site, parsed)
        result = db.write(work)
    engine = app.extensions["sdk_dashboard"]["engine"]
    if analyze and engine.dialect.name == "postgresql":  # as after the history's load: autovacuum catching up
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    engine.dispose()
    return {"suites": suites, "accepted": result.accepted, "seconds": round(time.perf_counter() - began, 1)}


def digest(url: str) -> dict[str, Any]:
    """A new digest, as the daily ``sdk-dashboard digest`` makes it after the flood: its size as stored."""
    engine = create_engine(url)
    began = time.perf_counter()
    with Session(engine) as session, session.begin():
        made = make_digest(session)
        seconds = time.perf_counter() - began
        stored = session.get(Digest, made.id)
        size = len(json.dumps(stored.failing)) + len(json.dumps(stored.body)) if stored else 0
        listed = len(made.new) + len(made.persistent)
    engine.dispose()
    return {"listed": listed, "stored_bytes": size, "seconds": round(seconds, 3)}


def targets() -> dict[str, str]:
    site = Matrix.build(SPEC).rows[0][0]
    return {"summary": "/", "summary.json": "/api/v1/summary", "suite_badge": "/badges/suites/psij.svg",
            "site": f"/sites/{site}", "site_badge": f"/badges/sites/{site}.svg",
            "failures": "/failures/", "failures.json": "/api/v1/failures", "compat": "/compat/",
            "digest": "/digest/", "digest.json": "/api/v1/digest"}


def measure(servers: dict[str, str], repeats: int, warmup: int = 3) -> dict[str, Any]:
    import requests

    paths = targets()
    times: dict[str, dict[str, list[float]]] = {page: {name: [] for name in servers} for page in paths}
    with requests.Session() as http:
        for rep in range(warmup + repeats):
            for page, path in paths.items():
                for name, base in servers.items():
                    began = time.perf_counter()
                    response = http.get(base + path, timeout=300)
                    elapsed = (time.perf_counter() - began) * 1000
                    if response.status_code != 200:
                        raise RuntimeError(f"{page} ({name}): {response.status_code} {response.text[:200]}")
                    if rep >= warmup:
                        times[page][name].append(elapsed)
    return {page: {"median_ms": {n: round(median(v), 2) for n, v in by.items()},
                   "p95_ms": {n: round(p95(v), 2) for n, v in by.items()},
                   "ratio": round(median(by["flooded"]) / median(by["clean"]), 2)}
            for page, by in times.items()}


def run(suites: int = 10_000, results: int = 30_000, repeats: int = 20, postgres: str | None = None,
        workdir: Path | None = None) -> dict[str, Any]:
    with ExitStack() as stack:
        tmp = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-flood-")))
        urls = database_urls(tmp, postgres)
        filled = {name: fill(url, results) for name, url in urls.items()}
        flooded = flood(urls["flooded"], suites)
        print(f"  flood: {flooded}", flush=True)
        digests = {name: digest(url) for name, url in urls.items()}
        print(f"  digests: {digests}", flush=True)
        servers = {name: stack.enter_context(gunicorn("dashboard_server:create_app()",
                                                      {"SDK_DASHBOARD_DATABASE_URL": url}, tmp / f"gunicorn-{name}.log",
                                                      workers=1))
                   for name, url in urls.items()}
        load_before = loadavg()
        pages = measure(servers, repeats)
        return {"database": make_url(urls["clean"]).get_backend_name(), "stored_results": filled["clean"]["results"],
                "flood": flooded, "digests": digests, "repeats": repeats, "pages": pages, "target": TARGET,
                "summary_ratio": max(pages["summary"]["ratio"], pages["summary.json"]["ratio"]),
                "loadavg_1min": [load_before[0], loadavg()[0]]}


def table(result: dict[str, Any]) -> str:
    lines = [f"{'page':<14}{'clean ms':>10}{'flooded ms':>12}{'ratio':>8}"]
    for page, row in result["pages"].items():
        lines.append(f"{page:<14}{row['median_ms']['clean']:>10.1f}{row['median_ms']['flooded']:>12.1f}"
                     f"{row['ratio']:>7.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Shared views with and without one site's flood of failing suites.")
    parser.add_argument("--suites", type=int, default=10_000)
    parser.add_argument("--results", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--postgres", help="server URL; databases bench_flood_clean/_flooded are (re)created on it")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    result = run(args.suites, args.results, args.repeats, args.postgres)
    print(table(result))
    print(f"summary ratio {result['summary_ratio']:.2f}x (target ≤ {TARGET}x): "
          + ("met" if result["summary_ratio"] <= TARGET else "MISSED"))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
