"""JUnit XML uploads, so any test framework can report.

Parsed with defusedxml: DTDs, entities and external references are refused, which stops
billion-laughs and external-entity payloads before any expansion happens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from sqlalchemy.orm import Session

from exaworks_sdk.records import MAX_DURATION, MAX_NAME, MAX_TEXT, RUN_ID_PATTERN

from ..exceptions import BadInput
from ..limits import JUNIT_PARAMS
from ..models import Site, utcnow
from ..validation import check_value, parse_loose_timestamp
from .store import BatchResult, Writer, content_hash

RUN_ID = re.compile(RUN_ID_PATTERN)
FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def parse_params(args: Mapping[str, str]) -> dict[str, Any]:
    """The query string of a JUnit upload, each value within its column's limit (422 otherwise)."""
    params: dict[str, Any] = {}
    for name, limit in JUNIT_PARAMS.items():
        value = args.get(name)
        if value is not None:
            if len(value) > limit:
                raise BadInput(f"query parameter {name} is longer than {limit} characters", status=422,
                               code="invalid_field")
            params[name] = value
    run_id = params.get("run_id")
    if run_id is None:
        raise BadInput("query parameter run_id is required", status=422, code="missing_field")
    if len(run_id) < 8 or not RUN_ID.match(run_id):
        raise BadInput("run_id must be 8-64 characters of A-Z a-z 0-9 _ . : -", status=422, code="invalid_field")
    finished = args.get("finished", "true").lower()
    if finished not in FLAGS:
        raise BadInput("query parameter finished must be true or false", code="invalid_field")
    params["finished"] = FLAGS[finished]
    return params


@dataclass(frozen=True)
class JUnitCase:
    suite: str
    test_id: str
    status: str
    duration: float
    message: str
    output: str


def _float(value: str | None) -> float:
    try:
        number = float(value or 0)
    except ValueError:
        return 0.0
    return number if 0 <= number <= MAX_DURATION else 0.0  # NaN, infinities and nonsense become 0


def _case(suite: str, case: Element) -> JUnitCase:
    classname, name = case.get("classname") or "", case.get("name") or "unnamed"
    status, message, texts = "passed", "", []
    for child in case:
        tag = child.tag.rsplit("}", 1)[-1]
        if tag in ("failure", "error", "skipped"):
            status = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
            lines = (child.text or "").strip().splitlines()
            message = child.get("message") or (lines[0] if lines else "")
            if child.text and child.text.strip():
                texts.append(child.text)
        elif tag in ("system-out", "system-err") and child.text:
            texts.append(f"----- {tag} -----\n{child.text}")
    test_id = f"{classname}::{name}" if classname else name
    output = "\n".join(texts)[:MAX_TEXT]
    return JUnitCase(suite[:MAX_NAME], test_id[:MAX_NAME], status, _float(case.get("time")),
                     message[:MAX_TEXT], output)


def parse_junit(body: bytes, suite_override: str | None = None) -> list[JUnitCase]:
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise BadInput(f"refused unsafe XML: {type(exc).__name__}", code="unsafe_xml") from None
    except (ParseError, ValueError) as exc:
        raise BadInput(f"not well-formed XML: {exc}", code="invalid_xml") from None
    tag = root.tag.rsplit("}", 1)[-1]
    if tag == "testsuite":
        suites = [root]
    elif tag == "testsuites":
        suites = list(root.iter("testsuite"))
    else:
        raise BadInput(f"expected <testsuites> or <testsuite>, got <{tag}>", status=422, code="invalid_junit")
    cases: list[JUnitCase] = []
    for element in suites:
        name = suite_override or element.get("name") or "junit"
        cases.extend(_case(name, case) for case in element.findall("testcase"))
    if not cases:
        raise BadInput("the JUnit document holds no <testcase>", status=422, code="empty_batch")
    check_value([c.__dict__ for c in cases], "JUnit document")
    return cases


def store_junit(db: Session, site: Site, cases: list[JUnitCase], params: dict[str, Any]) -> BatchResult:
    run_id = params["run_id"]
    started = parse_loose_timestamp(params.get("started_at"), "started_at") or utcnow()
    writer = Writer(db, site)
    run = writer.find_run(run_id)
    if run is None:
        run = writer.create_run(
            run_id, source="junit", variant=params.get("variant") or "default",
            branch=params.get("branch"), sdk_version=params.get("sdk_version") or "", started_at=started,
        )
    occurrences: dict[tuple[str, str], int] = {}
    keyed = []
    for case in cases:
        n = occurrences[(case.suite, case.test_id)] = occurrences.get((case.suite, case.test_id), 0) + 1
        identity = json.dumps([site.id, run_id, case.suite, case.test_id, n])
        keyed.append(("junit-" + content_hash(identity)[:48], case))
    writer.prefetch(record_id for record_id, _ in keyed)  # the ledger in a few queries, not one per case
    for record_id, case in keyed:
        digest = content_hash(json.dumps(case.__dict__, sort_keys=True))
        if writer.is_duplicate(record_id, digest):
            writer.result.touch(run)
            continue
        writer.add_test(run, record_id, suite=case.suite, test_id=case.test_id, status=case.status,
                        duration=case.duration, message=case.message, output=case.output, phases={})
        writer.remember(record_id, "junit", digest, run)
    if params.get("finished", True) and run.finished_at is None:
        writer.finish(run, utcnow(), None)
    return writer.close()
