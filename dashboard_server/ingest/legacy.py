"""The legacy ExaWorks testing-service format (``POST /result``), accepted as runners send it.

The format is described in ``docs/api.md`` (Legacy ``POST /result``). Each request carries one record of a
run; records of a run share ``data.run_id``. Leniency, as real runners need it:

* naive local timestamps are taken as UTC; offsets are honoured; epoch numbers work too;
* unknown fields anywhere are ignored; ``extras`` may be null; ``maintainer_email`` optional;
* a phase without ``status`` uses its ``passed`` flag, and without that counts as passed;
* ``run_id``/``branch`` may be null; an end record may be labelled ``module: "_end"``;
* ``main[pip]``-style branch suffixes name the install variant, so variants never collide:
  a run is identified by (site, run_id, branch with suffix);
* start and end records are run metadata, never counted as tests.

Record ids are derived from the content, so a resent record is a duplicate, never a new row.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from exaworks_sdk.records import MAX_NAME, MAX_TEXT
from exaworks_sdk.status import from_phases

from ..exceptions import BadInput
from ..models import Run, Site, utcnow
from ..validation import parse_loose_timestamp
from .store import BatchResult, Writer, content_hash

_SUFFIX = re.compile(r"^(?P<base>.*?)\s*\[(?P<variant>[^\[\]]{1,64})\]$")
DEFAULT_VARIANT = "default"
DEFAULT_SUITE = "default"
END_NAMES = {"_end", "End Test Series"}


def split_branch(branch: str | None) -> tuple[str | None, str]:
    """``"main[pip]"`` -> ``("main", "pip")``; no suffix -> variant ``default``."""
    if not branch:
        return branch, DEFAULT_VARIANT
    match = _SUFFIX.match(branch)
    if match is None:
        return branch, DEFAULT_VARIANT
    return (match["base"] or None), match["variant"].strip() or DEFAULT_VARIANT


def _opt_str(data: dict[str, Any], name: str, limit: int = MAX_NAME) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadInput(f"data.{name} must be a string, not {type(value).__name__}", code="invalid_field")
    return str(value)[:limit]


def _text(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(text) > MAX_TEXT:
        return text[: MAX_TEXT - 40] + "\n… [truncated by the dashboard]"
    return text


def record_kind(data: dict[str, Any]) -> str:
    module, function, name = data.get("module"), data.get("function"), data.get("test_name")
    if function == "_end" or name in END_NAMES or module == "_end":
        return "end"
    if module == "_conftest" and function == "_discover_environment":
        return "start"
    return "test"


def phase_status(phase: Any) -> str:
    if not isinstance(phase, dict):
        return "passed"
    status = phase.get("status")
    if status in ("passed", "failed", "skipped", "error"):
        return str(status)
    return "failed" if phase.get("passed") is False else "passed"


def store_legacy(db: Session, site: Site, data: dict[str, Any]) -> BatchResult:
    kind = record_kind(data)
    extras: dict[str, Any] = data["extras"] if isinstance(data.get("extras"), dict) else {}
    run_id = _opt_str(data, "run_id", 200)
    branch = _opt_str(data, "branch", 256)
    if branch is None and kind == "start":
        branch = _opt_str(extras, "git_branch", 256)
    base_branch, variant = split_branch(branch)
    start = parse_loose_timestamp(data.get("test_start_time"), "data.test_start_time")
    end = parse_loose_timestamp(data.get("test_end_time"), "data.test_end_time")

    writer = Writer(db, site)
    digest = content_hash(json.dumps([kind, run_id, branch, data], sort_keys=True, default=str))
    record_id = "legacy-" + digest[:48]
    key = f"{run_id or ''}#{branch or ''}"  # '#' never occurs in our own run ids
    run = writer.find_run(key)
    if writer.is_duplicate(record_id, digest):
        if run is not None:
            writer.result.touch(run)
        return writer.close()
    when = start or end or utcnow()
    if kind == "start":
        when = parse_loose_timestamp(extras.get("start_time"), "data.extras.start_time") or when
    if run is None:
        run = writer.create_run(
            key, run_id=run_id or "", source="legacy", variant=variant, branch=base_branch, started_at=when
        )
    if kind == "start":
        _apply_start(writer, run, extras, when)
    elif kind == "end":
        writer.finish(run, end or start or utcnow(), None)
    else:
        _add_test(writer, run, record_id, data, start, end)
    writer.remember(record_id, "legacy_" + kind, digest, run)
    return writer.close()


def _apply_start(writer: Writer, run: Run, extras: dict[str, Any], when: datetime) -> None:
    writer.move_start(run, when)
    run.environment = extras
    run.commit = _opt_str(extras, "git_last_commit", 64)
    config: dict[str, Any] = extras["config"] if isinstance(extras.get("config"), dict) else {}
    run.hostname = _opt_str(config, "id", 256)


def _add_test(
    writer: Writer, run: Run, record_id: str, data: dict[str, Any],
    start: datetime | None, end: datetime | None,
) -> None:
    module = _opt_str(data, "module") or ""
    suite = module.removesuffix(".py").replace("/", ".").strip(".") or DEFAULT_SUITE
    cls = _opt_str(data, "cls")
    name = _opt_str(data, "test_name") or _opt_str(data, "function") or "unnamed"
    test_id = (f"{cls}::{name}" if cls else name)[:MAX_NAME]
    results: dict[str, Any] = data["results"] if isinstance(data.get("results"), dict) else {}
    phases: dict[str, dict[str, Any]] = {}
    statuses: dict[str, str] = {}
    message = ""
    reports = []
    for phase_name in ("setup", "call", "teardown"):
        if phase_name not in results:
            continue
        phase = results[phase_name]
        status = statuses[phase_name] = phase_status(phase)
        exception = _text(phase.get("exception")) if isinstance(phase, dict) else ""
        phases[phase_name] = {"status": status, "duration": 0.0, "message": exception[:10_000]}
        if status in ("failed", "error"):
            message = message or exception
            report = _text(phase.get("report")) if isinstance(phase, dict) else ""
            if report:
                reports.append(f"----- {phase_name} report -----\n{report}")
    sections = [(label, _text(data.get(label))) for label in ("stdout", "stderr", "log")]
    output = "\n".join(reports + [f"----- {label} -----\n{text}" for label, text in sections if text])
    duration = max((end - start).total_seconds(), 0.0) if start and end else 0.0
    writer.add_test(
        run, record_id, suite=suite[:MAX_NAME], test_id=test_id, status=from_phases(statuses).value,
        duration=duration, started_at=start, message=message[:MAX_TEXT], output=output[: MAX_TEXT * 3],
        phases=phases,
    )

