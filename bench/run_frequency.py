"""The compatibility matrix against how often sites run: the same sites, suites and releases
over the matrix's 90-day window, run twice a day and every hour (a site testing each merge).

What the matrix shows is the same at both frequencies: the version sets of the window and each
site's newest verdict of them. What it reads must not grow with the runs that used each set
(``dashboard_server/latest_sets.py``): the figure is the hourly median over the twice-daily one
(target ≤ 1.2×), pages requested in turn from one gunicorn (1 worker) per database, as
``bench.pages`` does. ``python -m bench`` runs it on ``SMALL`` (``SPEC`` with ``--full``).

    python -m bench.run_frequency [--repeats 30] [--postgres URL] [--workdir DIR] [--reuse]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from dashboard_server.models import Run

from .common import gunicorn, loadavg
from .generate import count_results, load, open_database
from .pages import measure, postgres_database
from .synth import Matrix, Spec

SPEC = Spec(sites=12, suites=10, days=90, tests_per_suite=(1, 2), seed=5,
            end=datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2))
SMALL = dataclasses.replace(SPEC, sites=4)  # ``python -m bench`` without ``--full``: a third of the runs
FREQUENCIES = (2, 24)  # runs a day of each (site, variant)
PATHS = {"compat": "/compat/", "compat.json": "/api/v1/compat", "known_good.pip": "/api/v1/compat/known-good.txt"}


def fill(url: str, spec: Spec, reuse: bool) -> dict[str, Any]:
    """``spec``'s history in ``url`` (kept when ``reuse`` and it holds some), with its run count."""
    engine = open_database(url)
    if not (reuse and count_results(engine)):
        engine.dispose()
        engine = open_database(url, reset=True)
        load(engine, Matrix.build(spec))
    with engine.connect() as conn:
        runs = conn.scalar(select(func.count()).select_from(Run))
    out = {"results": count_results(engine), "runs": runs, "runs_per_day": spec.runs_per_day}
    engine.dispose()
    return out


def run(repeats: int = 30, postgres: str | None = None, workdir: Path | None = None, reuse: bool = False,
        spec: Spec = SPEC) -> dict[str, Any]:
    with ExitStack() as stack:
        tmp = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-frequency-")))
        filled, servers = {}, {}
        for per_day in FREQUENCIES:
            url = (postgres_database(postgres, f"bench_frequency_{per_day}", reuse) if postgres
                   else f"sqlite:///{tmp / f'frequency-{per_day}.sqlite'}")
            filled[str(per_day)] = fill(url, dataclasses.replace(spec, runs_per_day=per_day), reuse)
            print(f"  run frequency: {per_day} a day, {filled[str(per_day)]['runs']:,} runs", flush=True)
            base = stack.enter_context(gunicorn("dashboard_server:create_app()", {"SDK_DASHBOARD_DATABASE_URL": url},
                                                tmp / f"gunicorn-{per_day}.log", workers=1))
            servers[per_day] = (base, PATHS)
        load_before = loadavg()
        pages = measure(servers, repeats)
        return {"database": make_url(url).get_backend_name(), "days": spec.days, "frequencies": filled,
                "repeats": repeats, "pages": pages, "loadavg_1min": [load_before[0], loadavg()[0]]}


def table(result: dict[str, Any]) -> str:
    lines = [f"{'page':<16}{'med 2/day':>12}{'med 24/day':>12}{'ratio':>8}{'bytes':>8}"]
    for page, row in result["pages"].items():
        lines.append(f"{page:<16}{row['median_ms']['2']:>12.1f}{row['median_ms']['24']:>12.1f}"
                     f"{row['ratio']:>7.2f}x{row['bytes_ratio']:>7.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The compatibility matrix at 2 and 24 runs a day.")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--postgres", help="server URL; databases bench_frequency_<n> are (re)created on it")
    parser.add_argument("--workdir", type=Path, help="keep the SQLite files and logs here")
    parser.add_argument("--reuse", action="store_true", help="keep databases that already hold a history")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    result = run(args.repeats, args.postgres, args.workdir, args.reuse)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
