"""Our own record format (``exaworks_sdk.records``): parse a batch, then store it.

``parse_batch`` does all the work that needs no database, before the write transaction opens:
validation, the canonical JSON and content hash of every record, and each test result's row.
On SQLite one transaction writes at a time, so whatever runs inside ``store_batch`` makes the
other workers wait; it is left with the ledger and run lookups and the bulk statements.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any, NamedTuple

from pydantic import ValidationError
from sqlalchemy.orm import Session

from exaworks_sdk import status as rule
from exaworks_sdk.fingerprint import fingerprint
from exaworks_sdk.records import RunFinish, RunStart, TestResult, parse_record

from ..exceptions import AuthError, BadInput
from ..models import Site
from ..validation import check_timestamp, latest_allowed, parse_json
from .store import BatchResult, Writer, legacy_record_hash, record_hash

MAX_RECORDS = 100_000
AnyRecord = RunStart | TestResult | RunFinish


class Parsed(NamedTuple):
    """A valid record, the sha256 of its canonical JSON (the ledger's content hash), and for a
    test result its ``test_results`` row without ``run_id``."""

    record: AnyRecord
    digest: str
    row: dict[str, Any] | None


def split_body(text: str, content_type: str) -> list[Any]:
    """The raw record dicts of a ``{"records": [...]}`` document or a JSON Lines stream."""
    if content_type == "application/json":
        document = parse_json(text)
        if not isinstance(document, dict) or not isinstance(document.get("records"), list):
            raise BadInput('expected an object {"records": [ ... ]}', status=422, code="invalid_body")
        items: list[Any] = document["records"]
    else:
        items = []
        # "\n" only: str.splitlines() also splits on U+2028, U+0085 and others, which JSON
        # allows unescaped inside strings
        for number, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                items.append(parse_json(line, f"line {number}"))
    if not items:
        raise BadInput("the batch holds no records", status=422, code="empty_batch")
    if len(items) > MAX_RECORDS:
        raise BadInput(f"at most {MAX_RECORDS} records per batch", status=413, code="too_many_records")
    return items


def parse_batch(items: list[Any]) -> list[Parsed]:
    """Validate every record, collecting all problems before failing; then hash each one and
    build its row."""
    valid: list[tuple[AnyRecord, datetime | None]] = []  # with its started_at in UTC
    problems: list[dict[str, Any]] = []
    latest = latest_allowed()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append({"record": index, "loc": [], "msg": "a record must be a JSON object"})
            continue
        try:
            # No check_value here: split_body's parse_json already checked every string of the
            # raw document, and a record holds nothing else (a second walk cost ~15 % of an upload).
            record = parse_record(item)
            # by type, not getattr(): a missing attribute goes through pydantic's slow __getattr__
            if isinstance(record, RunFinish):
                started = None
                check_timestamp(record.finished_at, f"record {index}: finished_at", latest)
                if record.exit_code is not None and not -(2**31) <= record.exit_code < 2**31:
                    raise BadInput(f"record {index}: exit_code out of range")
            else:
                started = check_timestamp(record.started_at, f"record {index}: started_at", latest)
            valid.append((record, started))
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False, include_context=False):
                problems.append({"record": index, "loc": list(error["loc"]), "msg": error["msg"]})
        except BadInput as exc:
            problems.append({"record": index, "loc": [], "msg": exc.message})
    if problems:
        raise BadInput(
            f"{len(problems)} problem(s) in {len(items)} record(s)",
            status=422,
            code="invalid_records",
            details=problems[:200],
        )
    return [_parsed(record, started) for record, started in valid]


def _parsed(record: AnyRecord, started: datetime | None) -> Parsed:
    """One dump of the record gives both its content hash and its row's phases."""
    data = record.to_dict()
    digest = record_hash(data)
    if not isinstance(record, TestResult):
        return Parsed(record, digest, None)
    status = record.status.value
    return Parsed(record, digest, {
        "record_id": record.id, "suite": record.suite, "test_id": record.test_id, "status": status,
        "duration": record.duration, "started_at": started, "message": record.message, "output": record.output,
        "phases": data["phases"],
        "fingerprint": fingerprint(record.message, record.output) if rule.is_failing(status) else None,
    })


def store_batch(db: Session, site: Site, parsed: list[Parsed]) -> BatchResult:
    """Inside the write transaction: the ledger and the runs of the whole batch are read in a
    few queries, then each record is applied in order (a record may only refer to a run whose
    run_start came before it or is stored)."""
    for item in parsed:
        if isinstance(item.record, RunStart) and item.record.site != site.name:
            raise AuthError(403, f"this token writes for site {site.name!r}, not {item.record.site!r}")
    writer = Writer(db, site)
    writer.prefetch(item.record.id for item in parsed)
    writer.preload_runs(item.record.run_id for item in parsed)
    last_id, last_run = None, None  # a run's records come one after another: one lookup each
    for record, digest, row in parsed:
        if writer.is_duplicate(record.id, digest, partial(_legacy_hash, record)):
            run = writer.find_run(record.run_id)
            if run is not None:
                writer.result.touch(run)
            continue
        if isinstance(record, RunStart):
            run = _start(writer, record)
            last_id, last_run = record.run_id, run
        else:
            if record.run_id != last_id:
                last_id, last_run = record.run_id, writer.find_run(record.run_id)
            run = last_run
            if run is None:
                raise BadInput(
                    f"{record.type} {record.id!r} refers to run {record.run_id!r}, which has no "
                    f"run_start at site {site.name!r}: send the run_start first or in the same batch",
                    status=422,
                    code="unknown_run",
                )
            if row is not None:
                writer.add_test_row(run, row)
            else:
                assert isinstance(record, RunFinish)
                _finish(writer, run, record)
        writer.remember(record.id, record.type, digest, run)
    return writer.close()


def _legacy_hash(record: AnyRecord) -> str:
    return legacy_record_hash(record.to_dict())


def _start(writer: Writer, record: RunStart) -> Any:
    fields = dict(
        source="records",
        variant=record.variant,
        pipeline_id=record.pipeline_id,
        branch=record.branch,
        commit=record.commit,
        hostname=record.hostname,
        sdk_version=record.sdk_version,
        start_record_id=record.id,
    )
    run = writer.find_run(record.run_id)
    if run is None:
        return writer.create_run(record.run_id, flush=False, started_at=record.started_at,
                                 environment=dict(record.environment), components=dict(record.components), **fields)
    if run.start_record_id not in (None, record.id):
        raise BadInput(
            f"run {record.run_id!r} already has run_start {run.start_record_id!r}",
            status=409,
            code="conflict",
        )
    else:  # created earlier by a JUnit upload without a start record
        for name, value in fields.items():
            if name != "variant":  # restate moves the run's suites with it
                setattr(run, name, value)
        writer.move_start(run, record.started_at)
    run.environment = dict(record.environment)
    writer.restate(run, record.variant, dict(record.components))
    return run


def _finish(writer: Writer, run: Any, record: RunFinish) -> None:
    if run.finish_record_id not in (None, record.id):
        raise BadInput(
            f"run {record.run_id!r} already has run_finish {run.finish_record_id!r}",
            status=409,
            code="conflict",
        )
    run.finish_record_id = record.id
    writer.finish(run, record.finished_at, record.status.value, record.exit_code)
