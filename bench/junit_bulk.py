"""Bulk JUnit: a 100,000-case report stored through real gunicorn within the documented timeout.

gunicorn runs with the ``--timeout`` of the command in docs/dashboard-operations.md (2 workers);
one client posts a JUnit document of ``--cases`` test cases (a tenth failing, with a line of
output) for a site made with the admin CLI, and the figure is the seconds until the 200. A
worker killed by the timeout would answer 502 (or drop the connection) instead. The same
report is then posted again, all duplicates, which costs the ledger reads alone.

    python -m bench.junit_bulk [--cases 100000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .common import ROOT, gunicorn, loadavg

OPERATIONS = ROOT / "docs" / "dashboard-operations.md"


def documented_timeout() -> int:
    found = re.search(r"gunicorn [^\n]*--timeout[ =](\d+)", OPERATIONS.read_text(encoding="utf-8"))
    if found is None:
        raise RuntimeError(f"no gunicorn --timeout in {OPERATIONS}")
    return int(found.group(1))


def report(cases: int, suites: int = 10) -> bytes:
    per = cases // suites
    parts = ["<testsuites>"]
    for s in range(suites):
        parts.append(f'<testsuite name="bulk-{s}">')
        for i in range(per):
            if i % 10 == 0:
                parts.append(f'<testcase classname="pkg.mod{s}" name="test_{i}" time="0.25"><failure message="boom">'
                             f"AssertionError: case {i}</failure></testcase>")
            else:
                parts.append(f'<testcase classname="pkg.mod{s}" name="test_{i}" time="0.25"/>')
        parts.append("</testsuite>")
    parts.append("</testsuites>")
    return "".join(parts).encode()


def _database(tmp: Path, postgres: str | None) -> str:
    if not postgres:
        return f"sqlite:///{tmp / 'junit.sqlite'}"
    base = make_url(postgres)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "bench_junit"'))
        conn.execute(text('CREATE DATABASE "bench_junit"'))
    admin.dispose()
    return base.set(database="bench_junit").render_as_string(hide_password=False)


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", "from dashboard_server.admin import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=120, check=True, cwd=ROOT)
    return done.stdout.strip()


def run(cases: int = 100_000, postgres: str | None = None) -> dict[str, Any]:
    import os

    timeout = documented_timeout()
    body = report(cases)
    with tempfile.TemporaryDirectory(prefix="bench-junit-") as tmp:
        url = _database(Path(tmp), postgres)
        env = {**os.environ, "SDK_DASHBOARD_DATABASE_URL": url}
        _cli(env, "db", "upgrade", "--create")
        _cli(env, "sites", "add", "bench-site", "--facility", "bench")
        token = _cli(env, "tokens", "issue", "bench-site").splitlines()[-1]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
        out: dict[str, Any] = {"database": make_url(url).get_backend_name(), "cases": cases,
                               "body_mb": round(len(body) / 1e6, 1), "gunicorn_timeout_s": timeout,
                               "loadavg_start": loadavg()}
        with gunicorn("dashboard_server:create_app()", {"SDK_DASHBOARD_DATABASE_URL": url},
                      Path(tmp) / "gunicorn.log", workers=2, timeout=timeout) as base:
            first = 0.0  # the first upload's seconds, unrounded: a small report takes under 0.05 s
            for label in ("first", "again"):
                began = time.perf_counter()
                response = requests.post(f"{base}/api/v1/junit?run_id=bench-junit-run&variant=pip", data=body,
                                         headers=headers, timeout=timeout + 60)
                elapsed = time.perf_counter() - began
                if response.status_code != 200:
                    raise RuntimeError(f"{label}: {response.status_code} after {elapsed:.1f} s: {response.text[:300]}")
                out[f"{label}_s"] = round(elapsed, 1)
                first = first or elapsed
                out[f"{label}_result"] = {k: v for k, v in response.json().items() if k != "runs"}
        out["cases_per_s"] = round(cases / first)
        out["within_timeout"] = out["first_s"] < timeout
        out["loadavg_end"] = loadavg()
        return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A large JUnit report through gunicorn, against the timeout.")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--postgres", help="server URL; database bench_junit is (re)created on it")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    result = run(args.cases, args.postgres)
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
