"""The result-record format shared by the test harness and the dashboard.

A run is a stream of typed records, one JSON object per line (JSON Lines):
``run_start``, then any number of ``test_result``, then ``run_finish``. A run
without ``run_finish`` was interrupted. Every record carries a client-made
``id`` so that re-sending a record, or a whole run, never duplicates it.

Readers ignore keys they do not know, so newer writers stay readable.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from exaworks_sdk.status import Status

SCHEMA_VERSION: Literal[1] = 1

# Limits the dashboard enforces; the harness truncates to stay within them.
MAX_TEXT = 1_000_000
MAX_NAME = 512


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    id: Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
    run_id: Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]

    @field_validator("*", mode="after")
    @classmethod
    def _aware(cls, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError("timestamps must carry a UTC offset")
        return value

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_line(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


class RunStart(_Record):
    """Opens a run: where it ran, how the SDK was installed, and what was found."""

    type: Literal["run_start"] = "run_start"
    site: Name
    variant: Annotated[str, Field(min_length=1, max_length=64)] = "pip"
    sdk_version: Annotated[str, Field(max_length=64)] = ""
    started_at: datetime
    pipeline_id: Annotated[str, Field(max_length=128)] | None = None
    branch: Annotated[str, Field(max_length=256)] | None = None
    commit: Annotated[str, Field(max_length=64)] | None = None
    hostname: Annotated[str, Field(max_length=256)] | None = None
    components: dict[Name, Annotated[str, Field(max_length=128)] | None] = {}
    environment: dict[Name, Any] = {}


class Phase(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Status
    duration: float = Field(default=0.0, ge=0)
    message: Text = ""


class TestResult(_Record):
    """One test's outcome. ``suite`` groups tests; ``test_id`` is stable across runs."""

    __test__ = False  # not a pytest test class

    type: Literal["test_result"] = "test_result"
    suite: Name
    test_id: Name
    status: Status
    duration: float = Field(default=0.0, ge=0)
    started_at: datetime | None = None
    message: Text = ""
    output: Text = ""
    phases: dict[Literal["setup", "call", "teardown"], Phase] = {}


class RunFinish(_Record):
    """Closes a run. Counts are what the writer saw; the dashboard derives its own from rows."""

    type: Literal["run_finish"] = "run_finish"
    finished_at: datetime
    status: Status
    exit_code: int | None = None
    counts: dict[Status, Annotated[int, Field(ge=0)]] = {}


Record = Annotated[Union[RunStart, TestResult, RunFinish], Field(discriminator="type")]
RECORD_ADAPTER: TypeAdapter[RunStart | TestResult | RunFinish] = TypeAdapter(Record)
BATCH_ADAPTER: TypeAdapter[list[RunStart | TestResult | RunFinish]] = TypeAdapter(list[Record])


def parse_record(data: dict[str, Any]) -> RunStart | TestResult | RunFinish:
    """Validate one record dict; raises pydantic.ValidationError."""
    return RECORD_ADAPTER.validate_python(data)


class RecordWriter:
    """Appends records to a JSON Lines file, flushing each line so a killed run keeps what it wrote."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a", encoding="utf-8")

    def write(self, record: _Record) -> None:
        self._fh.write(record.to_line() + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_records(path: Path) -> Iterator[RunStart | TestResult | RunFinish]:
    """Yield the records of a JSON Lines file. A torn last line (from a killed writer) is skipped."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                return
            raise ValueError(f"{path}:{number}: not valid JSON") from None
        yield parse_record(data)
