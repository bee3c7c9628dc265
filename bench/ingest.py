"""Ingest throughput: real HTTP uploads to the real upload API on gunicorn, against a baseline.

Two gunicorn servers (2 workers each) run side by side on two fresh databases of the same
type: the dashboard (``dashboard_server:create_app()``) and ``bench.baseline_app`` (bare
inserts of the same rows). Several client processes upload synthetic runs in batches of
``--batch`` records, each process for its own sites (tokens are per site). Bodies are
serialised before the clock starts, so the clients cost little. Rounds alternate between the
two servers on new runs; the figures are medians over rounds.

    python -m bench.ingest [--url-a URL --url-b URL] [--records 20000] [--clients 4]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy.orm import Session

from dashboard_server import tokens
from dashboard_server.models import Site

from .common import gunicorn, loadavg, median
from .generate import open_database
from .synth import Matrix, Spec, runs

SPEC = Spec(sites=12, suites=10, runs_per_day=2, days=10_000, seed=11)


def prepare(url: str, spec: Spec, with_tokens: bool) -> dict[str, str]:
    """Fresh schema and the sites; returns a token per site (the baseline needs none)."""
    engine = open_database(url, reset=True)
    secrets: dict[str, str] = {}
    with Session(engine) as session, session.begin():
        for row in spec.site_rows():
            site = Site(**row)
            session.add(site)
            session.flush()
            if with_tokens:
                secrets[row["name"]] = tokens.issue(session, site).token
    engine.dispose()
    return secrets


def batches(matrix: Matrix, first_day: int, records: int, size: int) -> tuple[dict[str, list[bytes]], int]:
    """About ``records`` records from days ``first_day``…, as JSON bodies of ``size`` records per site."""
    streams: dict[str, list[dict[str, Any]]] = {}
    total, day = 0, first_day
    while total < records:
        for run in runs(matrix, day, day):
            recs = run.records()
            streams.setdefault(run.site, []).extend(recs)
            total += len(recs)
        day += 1
    bodies = {site: [json.dumps({"records": recs[i:i + size]}).encode() for i in range(0, len(recs), size)]
              for site, recs in streams.items()}
    return bodies, day


def _client(args: tuple[str, str, list[tuple[str, list[bytes]]], Any, Any]) -> int:
    base, path, work, barrier, _ = args
    sent = 0
    with requests.Session() as http:
        barrier.wait()
        for token, bodies in work:
            for body in bodies:
                response = http.post(base + path, data=body, timeout=300,
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code} {response.text[:500]}")
                sent += 1
    return sent


def upload(base: str, path: str, bodies: dict[str, list[bytes]], secrets: dict[str, str], clients: int) -> float:
    """Upload every body from ``clients`` processes; return the wall-clock seconds."""
    work: list[list[tuple[str, list[bytes]]]] = [[] for _ in range(clients)]
    for number, (site, site_bodies) in enumerate(sorted(bodies.items())):
        work[number % clients].append((secrets.get(site, "-"), site_bodies))
    with multiprocessing.Manager() as manager:
        barrier = manager.Barrier(clients + 1)
        with multiprocessing.get_context("fork").Pool(clients) as pool:
            result = pool.map_async(_client, [(base, path, w, barrier, None) for w in work])
            barrier.wait()
            started = time.perf_counter()
            result.get()
            return time.perf_counter() - started


def run(url_a: str, url_b: str, *, records: int = 20_000, batch: int = 500, clients: int = 4,
        rounds: int = 3, workers: int = 2, log_dir: Path | None = None) -> dict[str, Any]:
    """Benchmark the dashboard on ``url_a`` and the baseline on ``url_b``; both are emptied."""
    matrix = Matrix.build(SPEC)
    secrets = prepare(url_a, SPEC, with_tokens=True)
    prepare(url_b, SPEC, with_tokens=False)  # the baseline writes every run as site 1
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    real_rates, base_rates, loads = [], [], []
    day = 0
    with gunicorn("dashboard_server:create_app()", {"SDK_DASHBOARD_DATABASE_URL": url_a},
                  log_dir / "dashboard.log", workers) as real, \
         gunicorn("bench.baseline_app:create_app()", {"BENCH_DATABASE_URL": url_b},
                  log_dir / "baseline.log", workers) as base:
        warm, day = batches(matrix, day, 200, batch)  # first requests import and connect
        upload(real, "/api/v1/records", warm, secrets, clients)
        upload(base, "/records", warm, secrets, clients)
        for number in range(rounds):
            bodies, day = batches(matrix, day, records, batch)
            count = sum(len(json.loads(b)["records"]) for site in bodies.values() for b in site)
            order = [("real", real, "/api/v1/records"), ("base", base, "/records")]
            for name, server, path in order if number % 2 == 0 else order[::-1]:
                seconds = upload(server, path, bodies, secrets, clients)
                (real_rates if name == "real" else base_rates).append(count / seconds)
            loads.append(loadavg()[0])
    real_rate, base_rate = median(real_rates), median(base_rates)
    return {
        "database": url_a.split(":", 1)[0].split("+")[0], "records_per_round": count, "batch": batch,
        "clients": clients, "gunicorn_workers": workers, "rounds": rounds,
        "records_per_s": round(real_rate), "baseline_records_per_s": round(base_rate),
        "ratio": round(real_rate / base_rate, 3), "all_records_per_s": [round(r) for r in real_rates],
        "all_baseline_records_per_s": [round(r) for r in base_rates], "loadavg_1min": loads,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Upload throughput of the real API against a bare-insert baseline.")
    parser.add_argument("--url-a", help="database for the dashboard (emptied); default: a temporary SQLite file")
    parser.add_argument("--url-b", help="database for the baseline (emptied); same type as --url-a")
    parser.add_argument("--records", type=int, default=20_000, help="records per round")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--logs", type=Path, default=Path(tempfile.gettempdir()) / "bench-ingest-logs",
                        help="gunicorn logs go here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url_a = args.url_a or f"sqlite:///{tmp}/dashboard.sqlite"
        url_b = args.url_b or f"sqlite:///{tmp}/baseline.sqlite"
        print(json.dumps(run(url_a, url_b, records=args.records, batch=args.batch, clients=args.clients,
                             rounds=args.rounds, log_dir=args.logs), indent=1))


if __name__ == "__main__":
    main()
