"""Hostile input across the legacy ``/result`` and JUnit uploads, where tests/dashboard (which
covers our record format in depth) has fewer cases. Never a 5xx. Input that cannot be read
safely is refused with a 4xx JSON error and nothing is stored; the two foreign formats are
lenient by design about what they can clamp (over-long names and logs are truncated, nonsense
durations become 0), and then the stored run must still read back sanely through API and page."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from exaworks_sdk.records import MAX_NAME, MAX_TEXT
from tests.support.dashboard import auth, load_fixture


def legacy(token: str, **data: Any) -> dict[str, Any]:
    body = load_fixture("legacy/psij_test_passed.json")
    body["id"], body["key"] = "llnl-dane", token
    body["data"].update(data)
    return body


def deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


LEGACY_CASES: dict[str, Any] = {
    "deeply nested data": lambda t: json.dumps(legacy(t))[:-1] + ', "x": ' + deep(5000) + "}",
    "deeply nested list": lambda t: ('{"id": "llnl-dane", "key": "' + t + '", "data": '
                                     + "[" * 100_000 + "]" * 100_000 + "}"),
    "huge test name": lambda t: legacy(t, test_name="x" * (MAX_TEXT + 1)),
    "huge stdout": lambda t: legacy(t, stdout="x" * (MAX_TEXT + 1)),
    "lone surrogate": lambda t: json.dumps(legacy(t)).replace("test_simple_job", "\\udc00", 1),
    "NUL in module": lambda t: legacy(t, module="a\x00b"),
    "NUL in a key": lambda t: legacy(t, results={"ca\x00ll": {"passed": True}}),
    "number for a name": lambda t: legacy(t, test_name=1234567890),
    "400-digit number for a name": lambda t: legacy(t, test_name=10**400),
    "4,400-digit number": lambda t: json.dumps(legacy(t)).replace('"extras": null', '"extras": ' + "9" * 4400),
    "duration from 1e999": lambda t: json.dumps(legacy(t)).replace('"extras": null', '"extras": 1e999'),
    "NaN": lambda t: json.dumps(legacy(t)).replace('"extras": null', '"extras": NaN'),
    "results a list": lambda t: legacy(t, results=[1, 2]),
    "results of garbage": lambda t: legacy(t, results={"call": "passed"}),
    "timestamp in year 99999": lambda t: legacy(t, test_start_time="99999-01-01 00:00:00"),
    "timestamp as huge number": lambda t: legacy(t, test_start_time=1e300),
    "timestamp negative": lambda t: legacy(t, test_start_time=-1e12),
    "timestamp with garbage offset": lambda t: legacy(t, test_start_time="2024-01-31T10:00:00+99:00"),
    "end before start": lambda t: legacy(t, test_end_time=[]),
    "run id object": lambda t: legacy(t, run_id={"$ne": None}),
    "branch huge": lambda t: legacy(t, branch="b" * 100_000),
}

XML = '<?xml version="1.0" encoding="UTF-8"?>'
CASE = '<testcase classname="c" name="t" time="0.1"/>'
JUNIT_CASES: dict[str, tuple[str, bytes]] = {
    "deeply nested elements": ("", (XML + "<testsuite name='s'>" + "<x>" * 50_000 + "</x>" * 50_000 + CASE
                                    + "</testsuite>").encode()),
    "NUL character reference": ("", f"{XML}<testsuite name='s'><testcase name='a&#0;b'/></testsuite>".encode()),
    "raw NUL byte": ("", f"{XML}<testsuite name='s'><testcase name='a\x00b'/></testsuite>".encode()),
    "invalid UTF-8 inside": ("", XML.encode() + b"<testsuite name='s'><testcase name='\xc3\x28'/></testsuite>"),
    "huge test name": ("", f"{XML}<testsuite name='s'><testcase name='{'x' * 600}'/></testsuite>".encode()),
    "huge failure text": ("", (f"{XML}<testsuite name='s'><testcase name='t'><failure>" + "x" * (MAX_TEXT + 10)
                               + "</failure></testcase></testsuite>").encode()),
    "time NaN": ("", f"{XML}<testsuite name='s'><testcase name='t' time='NaN'/></testsuite>".encode()),
    "time negative": ("", f"{XML}<testsuite name='s'><testcase name='t' time='-5'/></testsuite>".encode()),
    "time overflow": ("", f"{XML}<testsuite name='s'><testcase name='t' time='1e400'/></testsuite>".encode()),
    "garbage suite timestamp": ("", f"{XML}<testsuite name='s' timestamp='yesterday'>{CASE}</testsuite>".encode()),
    "garbage started_at": ("&started_at=yesterday", f"{XML}<testsuite name='s'>{CASE}</testsuite>".encode()),
    "naive started_at": ("&started_at=2024-01-31T10:00:00",
                         f"{XML}<testsuite name='s'>{CASE}</testsuite>".encode()),
    "NUL in suite param": ("&suite=a%00b", f"{XML}<testsuite name='s'>{CASE}</testsuite>".encode()),
    "huge suite param": ("&suite=" + "s" * 5000, f"{XML}<testsuite name='s'>{CASE}</testsuite>".encode()),
    "UTF-16 declared, UTF-8 sent": ("", b'<?xml version="1.0" encoding="UTF-16"?><testsuite name="s"/>'),
    "doctype with entity": ("", (b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa">]>'
                                 b"<testsuite name='s'><testcase name='&a;'/></testsuite>")),
    "processing instruction only": ("", b"<?xml version='1.0'?><?evil?>"),
}


ACCEPTED = {  # clamped and stored; everything else must be refused
    "legacy": {"huge test name", "huge stdout", "number for a name", "results a list", "results of garbage",
               "branch huge"},
    "junit": {"deeply nested elements", "huge test name", "huge failure text", "time NaN", "time negative",
              "time overflow", "garbage suite timestamp", "naive started_at"},
}


def check_outcome(client: Any, response: Any, site: str, accepted: bool, label: str) -> None:
    assert response.status_code < 500, (label, response.status_code)
    runs = client.get(f"/api/v1/sites/{site}/runs").json["runs"]
    if not accepted:
        assert_refused(response, label)
        assert runs == [], label
        return
    assert response.status_code == 200, (label, response.status_code, response.get_data()[:300])
    detail = client.get(f"/api/v1/runs/{runs[0]['id']}")
    json.loads(detail.get_data(as_text=True), parse_constant=lambda c: pytest.fail(f"{label}: {c} in JSON"))
    for test in detail.json["tests"]:
        assert math.isfinite(test["duration"]) and test["duration"] >= 0, label
        assert 0 < len(test["test_id"]) <= MAX_NAME and len(test["suite"]) <= MAX_NAME, label
        assert len(test["message"]) <= MAX_TEXT and len(test["output"]) <= 3 * MAX_TEXT, label
    assert client.get(f"/runs/{runs[0]['id']}").status_code == 200, label
    assert client.get(f"/sites/{site}").status_code == 200 and client.get("/").status_code == 200, label


def assert_refused(response: Any, label: str) -> None:
    assert 400 <= response.status_code < 500, (label, response.status_code, response.get_data()[:300])
    error = response.json["error"]
    assert error["code"] and error["message"], label


@pytest.mark.parametrize("label", list(LEGACY_CASES))
def test_legacy_hostile_input(client, other_token, label):
    body = LEGACY_CASES[label](other_token)
    data = body if isinstance(body, str) else json.dumps(body, allow_nan=True)
    response = client.post("/result", data=data.encode("utf-8", "surrogatepass"), content_type="application/json")
    check_outcome(client, response, "llnl-dane", label in ACCEPTED["legacy"], label)


@pytest.mark.parametrize("label", list(JUNIT_CASES))
def test_junit_hostile_input(client, token, label):
    query, body = JUNIT_CASES[label]
    response = client.post(f"/api/v1/junit?run_id=hostile-junit-1{query}", data=body, headers=auth(token),
                           content_type="application/xml")
    check_outcome(client, response, "local-linux", label in ACCEPTED["junit"], label)
