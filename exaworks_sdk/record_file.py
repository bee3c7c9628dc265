"""The record file without pydantic: the JSON Lines writer, ids, limits, and a test result as a dict.

Every suite's pytest process writes its ``TestResult`` lines through this module, and importing
pydantic there would cost each suite a few tenths of a second that bare pytest does not pay. So
the record format's constants and the writer live here, ``exaworks_sdk.records`` re-exports
them beside its pydantic models, and the harness validates every line a suite wrote
(``records.parse_record``) before it copies it into the run's file. ``tests/harness/test_records.py``
checks that :func:`test_result` builds what ``TestResult(...).to_dict()`` builds.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

SCHEMA_VERSION: Literal[1] = 1

# Limits the dashboard enforces; the harness truncates to stay within them.
MAX_TEXT = 1_000_000
MAX_NAME = 512


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Dumpable(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


def phase(status: str, duration: float = 0.0, message: str = "") -> dict[str, Any]:
    """One pytest phase of a test result (``records.Phase``)."""
    return {"status": str(status), "duration": duration, "message": message}


def test_result(*, run_id: str, suite: str, test_id: str, status: str, duration: float = 0.0,
                started_at: datetime | None = None, message: str = "", output: str = "",
                phases: Mapping[str, Mapping[str, Any]] | None = None, id: str | None = None) -> dict[str, Any]:
    """A ``test_result`` record as JSON-ready data, unvalidated (``records.TestResult`` validates it)."""
    return {
        "schema_version": SCHEMA_VERSION, "type": "test_result", "id": id or new_id(), "run_id": run_id,
        "suite": suite, "test_id": test_id, "status": str(status), "duration": duration,
        "started_at": started_at.isoformat().replace("+00:00", "Z") if started_at else None,
        "message": message, "output": output, "phases": {k: dict(v) for k, v in (phases or {}).items()},
    }


test_result.__test__ = False  # type: ignore[attr-defined]  # not a pytest test function


class RecordWriter:
    """Appends records to a JSON Lines file, flushing each line so a killed run keeps what it wrote.

    A record is a pydantic record (``records.RunStart`` and friends) or its JSON-ready dict."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a", encoding="utf-8")

    def write(self, record: _Dumpable | Mapping[str, Any]) -> None:
        data = record if isinstance(record, Mapping) else record.to_dict()
        self._fh.write(json.dumps(data, sort_keys=True) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
