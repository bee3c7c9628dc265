"""Page latency against stored history: the same pages at several history sizes, side by side.

One database per scale (3K, 300K and 3M test results by default) holds the same sites, suites
and newest runs; only the length of the history differs (``bench.synth``: more days further
back). Each database gets its own gunicorn (1 worker) and one client requests every page from
every server in turn, repeatedly, so that whatever else loads the machine hits all scales
alike. Figures are real HTTP round trips: median and p95 per page and scale, and the ratio of
the largest scale's median to the smallest's, next to the ratio of the response sizes (a page
that shows more at the larger scale, such as the matrix's version sets of its window, may take longer).
Beside it, the paired ratio: each round's largest-scale time over the smallest's, taken one
after the other, so that the machine's drift during a run cancels out; its median and quartiles
show how far a ratio of medians near a target can be trusted.

    python -m bench.pages [--scales 3000,300000,3000000] [--repeats 60] [--postgres URL]

With 30 requests per page, the same code's 3K-to-3M ratio moved by up to 0.4 between runs on a
2-core machine; 60 is the default.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import requests
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from dashboard_server.digest import make_digest
from dashboard_server.models import Digest, Run, Site

from . import attest
from .common import gunicorn, loadavg, median, p95, quantile
from .generate import count_results, load, open_database
from .synth import Matrix, Spec, days_for

# The newest day ends about now, so that the pages reading recent runs (compatibility matrix:
# 90 days; failures: cells that ran in the last 14) show them at every scale, whenever the
# benchmark runs.
SPEC = Spec(sites=12, suites=10, runs_per_day=2, seed=5,
            end=datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=13))
SMALL_SCALES = (3_000, 30_000, 300_000)
FULL_SCALES = (3_000, 300_000, 3_000_000)


def database_urls(scales: tuple[int, ...], tmp: Path, postgres: str | None, reuse: bool = False) -> dict[int, str]:
    if not postgres:
        return {scale: f"sqlite:///{tmp / f'pages-{scale}.sqlite'}" for scale in scales}
    return {scale: postgres_database(postgres, f"bench_pages_{scale}", reuse) for scale in scales}


def postgres_database(postgres: str, name: str, reuse: bool) -> str:
    """The URL of database ``name`` on that server: created, or dropped and created again unless ``reuse``."""
    base = make_url(postgres)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists and not reuse:
            conn.execute(text(f'DROP DATABASE "{name}"'))
        if not exists or not reuse:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def fill(url: str, scale: int, reuse: bool = False, sites: Spec = SPEC) -> dict[str, Any]:
    """Load ``scale`` results of ``sites`` into an emptied database (or keep what a previous run left)."""
    spec = days_for(sites, scale)
    if reuse:
        engine = open_database(url)
        results = count_results(engine)
        engine.dispose()
        if abs(results - scale) <= 0.1 * scale:
            prepare(engine)
            engine.dispose()
            return {"results": results, "days": spec.days, "reused": True}
        engine.dispose()
    engine = open_database(url, reset=True)
    stats = load(engine, Matrix.build(spec))
    results = count_results(engine)
    prepare(engine)
    engine.dispose()
    return {"results": results, "days": spec.days, "seconds": round(stats.seconds, 1),
            "results_per_s": round(stats.results_per_s), "rows_per_s": round(stats.rows_per_s)}


def prepare(engine: Any) -> None:
    """What the digest and release pages show: the newest digest (as ``sdk-dashboard digest`` makes
    one) and a release attestation of the newest runs (as ``sdk-dashboard releases record`` takes one)."""
    with Session(engine) as session, session.begin():
        if session.scalar(select(Digest.id).limit(1)) is None:
            make_digest(session)
    attest.record(engine)


def table(result: dict[str, Any]) -> str:
    scales = list(result["scales"])
    lines = [f"{'page':<22}" + "".join(f"{'med ' + s:>12}{'p95 ' + s:>12}" for s in scales) + f"{'ratio':>8}"
             + f"{'bytes':>8}{'paired (p25-p75)':>20}"]
    for page, row in result["pages"].items():
        paired = row.get("paired_ratio")
        lines.append(f"{page:<22}" + "".join(f"{row['median_ms'][s]:>12.1f}{row['p95_ms'][s]:>12.1f}" for s in scales)
                     + f"{row['ratio']:>7.2f}x" + (f"{row['bytes_ratio']:>7.2f}x" if "bytes_ratio" in row else " " * 8)
                     + (f"{paired['median']:>7.2f}x ({paired['p25']:.2f}-{paired['p75']:.2f})" if paired else ""))
    return "\n".join(lines)


def targets(url: str, matrix: Matrix) -> dict[str, str]:
    """The URLs to time: each page and its JSON twin, for the same site, run and test."""
    site, variant = matrix.rows[0]
    suite = "psij" if "psij" in matrix.tests else next(iter(matrix.tests))
    flaky = sorted(t for row, s, t in matrix.flaky if s == suite) or matrix.tests[suite]
    test = flaky[0]
    engine = create_engine(url)
    with engine.connect() as conn:
        run = conn.scalar(select(Run.id).join(Site, Site.id == Run.site_id).where(Site.name == site)
                          .order_by(Run.started_at.desc()).limit(1))
    engine.dispose()
    return {
        "summary": "/", "summary.json": "/api/v1/summary",
        "site": f"/sites/{site}", "site.json": f"/api/v1/sites/{site}",
        "site_runs.json": f"/api/v1/sites/{site}/runs",
        "run": f"/runs/{run}", "run.json": f"/api/v1/runs/{run}",
        "test_history": "/tests/?" + urlencode({"suite": suite, "test": test}),
        "test_history.json": f"/api/v1/tests/{quote(suite)}/{quote(test, safe='')}",
        "compat": "/compat/", "compat.json": "/api/v1/compat",
        "compat_suite": f"/compat/?suite={quote(suite)}", "compat_suite.json": f"/api/v1/compat?suite={quote(suite)}",
        "known_good.pip": "/api/v1/compat/known-good.txt",
        "known_good.spack": "/api/v1/compat/known-good.txt?format=spack",
        "failures": "/failures/", "failures.json": "/api/v1/failures",
        "digest": "/digest/", "digest.json": "/api/v1/digest",
        "releases": "/releases/", "release": f"/releases/{attest.VERSION}",
        "release.json": f"/api/v1/releases/{attest.VERSION}", "release_badge": f"/badges/releases/{attest.VERSION}.svg",
    }


def measure(servers: dict[int, tuple[str, dict[str, str]]], repeats: int, warmup: int = 3) -> dict[str, Any]:
    times: dict[str, dict[int, list[float]]] = {}
    sizes: dict[str, dict[int, int]] = {}  # what the page shows: a page that shows more may cost more
    pages = list(next(iter(servers.values()))[1])
    with requests.Session() as http:
        for rep in range(warmup + repeats):
            for page in pages:
                for scale, (base, paths) in servers.items():
                    started = time.perf_counter()
                    response = http.get(base + paths[page], timeout=300)
                    elapsed = time.perf_counter() - started
                    if response.status_code != 200:
                        raise RuntimeError(f"{page} at {scale}: {response.status_code} {response.text[:300]}")
                    if rep >= warmup:
                        times.setdefault(page, {}).setdefault(scale, []).append(elapsed * 1000)
                        sizes.setdefault(page, {})[scale] = len(response.content)
    smallest, largest = min(servers), max(servers)
    out = {}
    for page, by_scale in times.items():
        out[page] = {
            "median_ms": {str(s): round(median(v), 2) for s, v in by_scale.items()},
            "p95_ms": {str(s): round(p95(v), 2) for s, v in by_scale.items()},
            "ratio": round(median(by_scale[largest]) / median(by_scale[smallest]), 2),
            "paired_ratio": paired_ratio(by_scale[largest], by_scale[smallest]),
            "bytes": {str(s): n for s, n in sizes[page].items()},
            "bytes_ratio": round(sizes[page][largest] / max(sizes[page][smallest], 1), 2),
        }
    return out


def paired_ratio(large: list[float], small: list[float]) -> dict[str, float]:
    """Median and quartiles of ``large[i] / small[i]``: round ``i``'s two times were taken one
    after the other, so a drift of the machine's speed over the run divides out."""
    ratios = [big / little for big, little in zip(large, small, strict=True)]
    return {"median": round(median(ratios), 2), "p25": round(quantile(ratios, 0.25), 2),
            "p75": round(quantile(ratios, 0.75), 2)}


def run(scales: tuple[int, ...] = SMALL_SCALES, repeats: int = 60, postgres: str | None = None,
        workdir: Path | None = None, reuse: bool = False) -> dict[str, Any]:
    with ExitStack() as stack:
        tmp = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-pages-")))
        urls = database_urls(scales, tmp, postgres, reuse)
        filled = {}
        for scale, url in urls.items():
            filled[str(scale)] = fill(url, scale, reuse)
            print(f"  pages: {filled[str(scale)]['results']:,} results "
                  f"({filled[str(scale)].get('results_per_s', 'reused')}/s)", flush=True)
        matrix = Matrix.build(SPEC)
        servers = {}
        for scale, url in urls.items():
            env = {"SDK_DASHBOARD_DATABASE_URL": url}
            base = stack.enter_context(gunicorn("dashboard_server:create_app()", env, tmp / f"gunicorn-{scale}.log",
                                                workers=1))
            servers[scale] = (base, targets(url, matrix))
        load_before = loadavg()
        pages = measure(servers, repeats)
        return {
            "database": make_url(next(iter(urls.values()))).get_backend_name(),
            "client": "real HTTP, one client, gunicorn with 1 worker per database",
            "matrix": {"site_variant_rows": len(matrix.rows), "suites": len(matrix.tests),
                       "results_per_round": matrix.results_per_round, "runs_per_day": SPEC.runs_per_day},
            "scales": filled, "repeats": repeats, "pages": pages,
            "loadavg_1min": [load_before[0], loadavg()[0]],
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Page latency at several history sizes.")
    parser.add_argument("--scales", default=",".join(map(str, SMALL_SCALES)))
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--postgres", help="server URL; databases bench_pages_<scale> are (re)created on it")
    parser.add_argument("--workdir", type=Path, help="keep the SQLite files and logs here")
    parser.add_argument("--reuse", action="store_true", help="keep databases that already hold a scale")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    scales = tuple(int(s) for s in args.scales.split(","))
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    result = run(scales, args.repeats, args.postgres, args.workdir, args.reuse)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
