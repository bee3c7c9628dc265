"""Check through the dashboard's JSON API that a harness run arrived with the expected suites.

    python ci/scripts/pipeline/check_run.py URL SITE RUN_ID --passed psij parsl --skipped flux
    python ci/scripts/pipeline/check_run.py URL SITE RUN_ID --expect suites.json

``--expect`` reads ``sdk-test list --json``: each suite's ``expect`` (passed, known or skipped),
worked out on the machine that ran the suites, so no script keeps its own list of suites.

Exit 0 when the site lists the run and every named suite has the expected status; 1 otherwise.
Uses only the standard library, so any Python can run it.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from collections import Counter
from typing import Any


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - our own dashboard
        return json.load(response)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("site")
    parser.add_argument("run_id")
    parser.add_argument("--passed", nargs="*", default=[])
    parser.add_argument("--skipped", nargs="*", default=[])
    parser.add_argument("--expect", metavar="FILE", help="`sdk-test list --json` output: each suite's `expect`")
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")

    site = get(f"{base}/api/v1/sites/{args.site}")
    cells = [c for c in site["latest"] if c["run_id"] == args.run_id]
    print(f"site {args.site}: last seen {site['site'].get('last_seen_at')}, "
          f"{len(cells)} suite cell(s) from run {args.run_id}")
    runs = get(f"{base}/api/v1/sites/{args.site}/runs/{args.run_id}")
    run = get(f"{base}/api/v1/runs/{runs[0]['id']}")
    statuses: dict[str, str] = run["suites"]  # each suite's status, as the dashboard shows it
    counts = Counter(t["status"] for t in run["tests"])
    print(f"run {run['id']} ({run.get('variant')}): {len(run['tests'])} tests {dict(counts)}")
    for suite, status in sorted(statuses.items()):
        print(f"  {suite:<16} {status}")

    expectations = [(name, "passed") for name in args.passed] + [(name, "skipped") for name in args.skipped]
    if args.expect:
        with open(args.expect, encoding="utf-8") as fh:
            expectations += [(suite["name"], suite["expect"]) for suite in json.load(fh)]
    problems = []
    for name, expected in expectations:
        if statuses.get(name) != expected:
            problems.append(f"suite {name}: expected {expected}, dashboard has {statuses.get(name, 'nothing')}")
    if not cells:
        problems.append(f"the site page does not show run {args.run_id}")
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
