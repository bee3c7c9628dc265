"""Bulk JUnit (issue #15, F5): a large report is stored in a few batched statements, not one
query per test case (the 100,000-case figure is in docs/benchmarks.md, from bench/junit_bulk.py)."""

from __future__ import annotations

from tests.support.attacks import statements
from tests.support.dashboard import auth


def report(cases: int, suites: int = 4) -> bytes:
    per = cases // suites
    body = "".join(
        f'<testsuite name="s{s}">' + "".join(
            f'<testcase classname="c" name="t{i}" time="0.01">'
            + ("<failure message='m'>boom</failure>" if i % 7 == 0 else "") + "</testcase>" for i in range(per))
        + "</testsuite>" for s in range(suites))
    return f"<testsuites>{body}</testsuites>".encode()


def test_a_large_report_costs_a_bounded_number_of_statements(app, client, token, other_token):
    small, large = report(40), report(4000)
    with statements(app) as seen_small:
        assert client.post("/api/v1/junit?run_id=junit-small-1", data=small, headers=auth(token)).status_code == 200
    with statements(app) as seen_large:
        response = client.post("/api/v1/junit?run_id=junit-large-1", data=large, headers=auth(token))
    assert response.status_code == 200 and response.json["accepted"] == 4000
    # the ledger is read in chunks of 500 ids: 8 reads for 4,000 cases, instead of 4,000
    assert len(seen_large) <= len(seen_small) + 10, (len(seen_small), len(seen_large))
    again = client.post("/api/v1/junit?run_id=junit-large-1", data=large, headers=auth(token)).json
    assert again == {"accepted": 0, "duplicates": 4000, "runs": ["junit-large-1"]}
    # the same report from another site is its own run
    assert client.post("/api/v1/junit?run_id=junit-large-1", data=large,
                       headers=auth(other_token)).json["accepted"] == 4000
    run = client.get("/api/v1/sites/local-linux/runs").json["runs"][0]
    failed = 4 * len(range(0, 1000, 7))
    assert run["counts"]["failed"] == failed and run["counts"]["passed"] == 4000 - failed
