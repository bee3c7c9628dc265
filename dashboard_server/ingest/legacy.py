"""The legacy ExaWorks testing-service format (``POST /result``), accepted as runners send it.

The format is described in ``docs/api.md`` (Legacy ``POST /result``). Each request carries one
record of a run. Two clients send it, and ``tests/dashboard/fixtures/legacy/`` keeps their exact
payloads: psij-python's pytest uploader (environment record, one record per test, end record)
and the old SDK CI wrapper ``ci/tests/test.py`` (``-s`` start, ``-c`` one record per tool, ``-e``
end, for each ``TESTS_GROUP``: pip, spack, conda). Leniency, as they need it:

* a run is named by (site, run id, branch, install variant); which run a record belongs to when
  the client leaves some of that out is ``legacy_runs.py``'s job;
* the variant comes from the wrapper's fields: a ``main[pip]`` branch suffix, its
  ``tests_group`` (start ``config`` or test ``extras``); a client without variants is ``default``;
* the wrapper's test records carry ``TESTS_GROUP`` as ``module``: that is the variant, not a
  suite; such a record's suite is the tool it ran (``test_name``: parsl, flux, …);
* naive timestamps are read as ``legacy_time.py`` says (never silently as UTC); epochs work too;
* quotes around commit ids (psij sends ``"914ffa3a…"`` with them) are dropped;
* unknown fields anywhere are ignored; ``extras`` may be null; ``maintainer_email`` optional;
* a phase without ``status`` uses its ``passed`` flag, and without that counts as passed;
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
from ..models import Run, SeenRecord, Site, utcnow
from .legacy_runs import Name, run_for_end, run_for_start, run_for_test
from .legacy_time import Clock, environment_zone, zone
from .store import BatchResult, Writer, content_hash

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SUFFIX = re.compile(r"^(?P<base>.*?)\s*\[(?P<variant>[^\[\]]{1,64})\]$")
DEFAULT_VARIANT = "default"
DEFAULT_SUITE = "default"
END_NAMES = {"_end", "End Test Series"}
WRAPPER_START = "Set Environment"  # the old SDK wrapper's start record, which may name no variant
WRAPPER_END = "End Test Series"


def split_branch(branch: str | None) -> tuple[str | None, str | None]:
    """``"main[pip]"`` -> ``("main", "pip")``; no suffix -> variant None (not said)."""
    if not branch:
        return branch, None
    match = _SUFFIX.match(branch)
    if match is None:
        return branch, None
    return (match["base"] or None), match["variant"].strip() or None


def _opt_str(data: dict[str, Any], name: str, limit: int = MAX_NAME) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadInput(f"data.{name} must be a string, not {type(value).__name__}", code="invalid_field")
    return str(value)[:limit]


def _dict(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    return value if isinstance(value, dict) else {}


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


def _tests_group(data: dict[str, Any], kind: str) -> str | None:
    """The wrapper's ``TESTS_GROUP`` where it puts it: the start's config, a test's extras."""
    extras = _dict(data, "extras")
    holder = _dict(extras, "config") if kind == "start" else extras
    value = _opt_str(holder, "tests_group", 64)
    return value.strip().lower() or None if value is not None else None


def said_variant(data: dict[str, Any], kind: str) -> str | None:
    """The variant a record names: its branch suffix, else the wrapper's TESTS_GROUP."""
    return split_branch(_opt_str(data, "branch", 256))[1] or _tests_group(data, kind)


def is_wrapper_test(data: dict[str, Any], said: str | None) -> bool:
    """The wrapper's record of one tool: ``function: "main"``, ``module`` = its TESTS_GROUP."""
    return data.get("function") == "main" and (data.get("module") or "") == (said or "")


def record_name(data: dict[str, Any], kind: str) -> tuple[Name, str | None]:
    """The record's run name, and its branch as sent (for the content hash). Only the
    wrapper's start and end records may leave the variant unsaid (None)."""
    run_id = _opt_str(data, "run_id", 200) or None
    branch = _opt_str(data, "branch", 256)
    if branch is None and kind == "start":
        branch = _opt_str(_dict(data, "extras"), "git_branch", 256)
    base, variant = split_branch(branch)
    variant = variant or _tests_group(data, kind)
    wrapper_marker = {"start": WRAPPER_START, "end": WRAPPER_END}.get(kind)
    if variant is None and data.get("test_name") != wrapper_marker:
        variant = DEFAULT_VARIANT  # a client without variants (psij), or a wrapper test without a group
    return Name(run_id, base or "", variant), branch


def _commit(extras: dict[str, Any]) -> str | None:
    value = _opt_str(extras, "git_last_commit", 80)
    if value is None:
        return None
    return value.strip().strip("\"'").strip()[:64] or None


def store_legacy(db: Session, site: Site, data: dict[str, Any]) -> BatchResult:
    kind = record_kind(data)
    name, branch = record_name(data, kind)
    extras = _dict(data, "extras")
    writer = Writer(db, site)
    digest = content_hash(json.dumps([kind, name.run_id, branch, data], sort_keys=True, default=str))
    record_id = "legacy-" + digest[:48]
    if writer.is_duplicate(record_id, digest):
        seen = db.get(SeenRecord, (site.id, record_id))
        run = db.get(Run, seen.run_id) if seen is not None else None
        if run is not None:
            writer.result.touch(run)
        return writer.close()

    if kind == "start":
        run, created = run_for_start(writer, name)
    elif kind == "end":
        run, created = run_for_end(writer, name)
    else:
        run, created = run_for_test(writer, name, name.variant or DEFAULT_VARIANT)
    environment = extras if kind == "start" else run.environment
    clock = Clock(environment_zone(environment) or zone(site.timezone))
    start = clock.read(data.get("test_start_time"), "data.test_start_time")
    end = clock.read(data.get("test_end_time"), "data.test_end_time")
    when = start or end or utcnow()
    if kind == "start":
        when = clock.read(extras.get("start_time"), "data.extras.start_time") or when
    if created:
        run.started_at = when
    run.assumed_utc = run.assumed_utc or clock.assumed_utc

    if kind == "start":
        _apply_start(writer, run, extras, when)
    elif kind == "end":
        finished = end or start or utcnow()
        if run.finished_at is None or finished > run.finished_at:
            writer.finish(run, finished, None)
    else:
        _add_test(writer, run, record_id, data, said_variant(data, kind), start, end)
    writer.remember(record_id, "legacy_" + kind, digest, run)
    return writer.close()


def _apply_start(writer: Writer, run: Run, extras: dict[str, Any], when: datetime) -> None:
    writer.move_start(run, when)
    run.environment = extras
    run.commit = _commit(extras)
    run.hostname = _opt_str(_dict(extras, "config"), "id", 256)


def _test_name(data: dict[str, Any], said: str | None) -> tuple[str, str]:
    """(suite, test id). A wrapper record's suite is the tool it ran, never its TESTS_GROUP."""
    name = _opt_str(data, "test_name") or _opt_str(data, "function") or "unnamed"
    if is_wrapper_test(data, said):
        return name[:MAX_NAME], name[:MAX_NAME]
    module = _opt_str(data, "module") or ""
    suite = module.removesuffix(".py").replace("/", ".").strip(".") or DEFAULT_SUITE
    cls = _opt_str(data, "cls")
    return suite[:MAX_NAME], (f"{cls}::{name}" if cls else name)[:MAX_NAME]


def _add_test(
    writer: Writer, run: Run, record_id: str, data: dict[str, Any], said: str | None,
    start: datetime | None, end: datetime | None,
) -> None:
    suite, test_id = _test_name(data, said)
    results = _dict(data, "results")
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
            report = _text(phase.get("report")) if isinstance(phase, dict) else ""
            message = message or exception or error_line(report)
            if report:
                reports.append(f"----- {phase_name} report -----\n{report}")
    sections = [(label, _text(data.get(label))) for label in ("stdout", "stderr", "log")]
    output = "\n".join(reports + [f"----- {label} -----\n{text}" for label, text in sections if text])
    duration = max((end - start).total_seconds(), 0.0) if start and end else 0.0
    writer.add_test(
        run, record_id, suite=suite, test_id=test_id, status=from_phases(statuses).value,
        duration=duration, started_at=start, message=message[:MAX_TEXT], output=output[: MAX_TEXT * 3],
        phases=phases,
    )


def error_line(report: str) -> str:
    """The first ``E   …`` line of a pytest report: psij sends its failures there, with a null
    ``exception`` and terminal colours."""
    for line in _ANSI.sub("", report).splitlines():
        if line.startswith("E "):
            return line[1:].strip()
    return ""


def phase_status(phase: Any) -> str:
    if not isinstance(phase, dict):
        return "passed"
    status = phase.get("status")
    if status in ("passed", "failed", "skipped", "error"):
        return str(status)
    return "failed" if phase.get("passed") is False else "passed"
