"""The result-record format shared by the test harness and the dashboard.

A run is a stream of typed records, one JSON object per line (JSON Lines):
``run_start``, then any number of ``test_result``, then ``run_finish``. A run
without ``run_finish`` was interrupted. Every record carries a client-made
``id`` so that re-sending a record, or a whole run, never duplicates it.

Readers ignore keys they do not know, so newer writers stay readable.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

# The format's constants, ids and the file writer need no pydantic (a suite's pytest imports them
# alone); they are part of this module's interface too.
from exaworks_sdk.record_file import MAX_NAME as MAX_NAME
from exaworks_sdk.record_file import MAX_TEXT as MAX_TEXT
from exaworks_sdk.record_file import SCHEMA_VERSION as SCHEMA_VERSION
from exaworks_sdk.record_file import RecordWriter as RecordWriter
from exaworks_sdk.record_file import new_id as new_id
from exaworks_sdk.record_file import utcnow as utcnow
from exaworks_sdk.status import Status

MAX_DURATION = 1e7  # seconds (116 days); longer is a broken clock, not a test
# Longest value of each run field. The record models below, the dashboard's columns and its
# OpenAPI document (JUnit query parameters too) all read this one table.
LIMITS: dict[str, int] = {"run_id": 64, "variant": 64, "sdk_version": 64, "pipeline_id": 128, "branch": 256,
                          "commit": 64, "hostname": 256, "component_version": 128}


RUN_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"


Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    schema_version: Literal[1] = Field(
        SCHEMA_VERSION, description="Record format version; readers reject versions they do not know.")
    id: Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")] = Field(
        description="Client-made unique id of this record; re-sending it is a no-op (idempotency key).")
    run_id: Annotated[str, Field(min_length=8, max_length=LIMITS["run_id"], pattern=RUN_ID_PATTERN)] = Field(
        description="Client-made id of the run; the same in every record of one run.")

    # Only the timestamp fields: a validator on "*" ran in Python for every field of every
    # record, a third of the dashboard's validation time for a batch.
    @field_validator("started_at", "finished_at", mode="after", check_fields=False)
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

    type: Literal["run_start"] = Field("run_start", description="Which record this is; selects the fields below.")
    site: Name = Field(description="Site name; must be the site the upload token belongs to.")
    variant: Annotated[str, Field(min_length=1, max_length=LIMITS["variant"])] = Field(
        "pip", description="Install variant: `spack`, `pip`, `container`, or your own label.")
    sdk_version: Annotated[str, Field(max_length=LIMITS["sdk_version"])] = Field(
        "", description="SDK release under test, e.g. `2026.11`.")
    started_at: datetime = Field(description="When the run started, ISO 8601 with a UTC offset.")
    pipeline_id: Annotated[str, Field(max_length=LIMITS["pipeline_id"])] | None = Field(
        None, description="CI pipeline id (`$CI_PIPELINE_ID`).")
    branch: Annotated[str, Field(max_length=LIMITS["branch"])] | None = Field(
        None, description="Git branch (`$CI_COMMIT_REF_NAME`).")
    commit: Annotated[str, Field(max_length=LIMITS["commit"])] | None = Field(None, description="Git commit (`$CI_COMMIT_SHA`).")
    hostname: Annotated[str, Field(max_length=LIMITS["hostname"])] | None = Field(None, description="Host that ran the harness.")
    components: dict[Name, Annotated[str, Field(max_length=LIMITS["component_version"])] | None] = Field(
        {}, description="Component name → detected version (`null`: found, version unknown).")
    environment: dict[Name, Any] = Field(
        {}, description="Free-form facts: OS, Python, schedulers, MPI, CI variables.")


class Phase(BaseModel):
    """One pytest phase of a TestResult."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    status: Status = Field(description="The phase's outcome (same values as a test's `status`).")
    duration: float = Field(default=0.0, ge=0, le=MAX_DURATION, allow_inf_nan=False, description="Seconds.")
    message: Text = Field("", description="Skip reason or failure message.")


class TestResult(_Record):
    """One test's outcome. ``suite`` groups tests; ``test_id`` is stable across runs."""

    __test__ = False  # not a pytest test class

    type: Literal["test_result"] = Field("test_result", description="Which record this is; selects the fields below.")
    suite: Name = Field(description="Suite name, e.g. `psij`; groups tests on the dashboard.")
    test_id: Name = Field(description="Test id, stable across runs (the pytest node id).")
    status: Status = Field(description="`passed`, `failed`, `skipped` or `error`; `known` when a recorded "
                                       "known incompatibility reproduced, `fixed` when it no longer does.")
    duration: float = Field(default=0.0, ge=0, le=MAX_DURATION, allow_inf_nan=False, description="Seconds.")
    started_at: datetime | None = Field(None, description="When the test started, ISO 8601 with a UTC offset.")
    message: Text = Field("", description="Skip reason or failure message, one line where possible.")
    output: Text = Field("", description="Captured traceback, stdout and stderr.")
    phases: dict[Literal["setup", "call", "teardown"], Phase] = Field(
        {}, description="Per pytest phase (`setup`, `call`, `teardown`): a Phase.")


class RunFinish(_Record):
    """Closes a run. Counts are what the writer saw; the dashboard derives its own from rows."""

    type: Literal["run_finish"] = Field("run_finish", description="Which record this is; selects the fields below.")
    finished_at: datetime = Field(description="When the run finished, ISO 8601 with a UTC offset.")
    status: Status = Field(description="The harness's verdict over all tests (exaworks_sdk.status).")
    exit_code: int | None = Field(None, description="The harness's exit code.")
    counts: dict[Status, Annotated[int, Field(ge=0)]] = Field(
        {}, description="Tests per status, as the writer counted them; the dashboard recounts from the rows.")


Record = Annotated[RunStart | TestResult | RunFinish, Field(discriminator="type")]


@functools.cache
def _record_adapter() -> TypeAdapter[RunStart | TestResult | RunFinish]:
    return TypeAdapter(Record)


def parse_record(data: dict[str, Any]) -> RunStart | TestResult | RunFinish:
    """Validate one record dict; raises pydantic.ValidationError."""
    return _record_adapter().validate_python(data)


def read_records(path: Path) -> Iterator[RunStart | TestResult | RunFinish]:
    """Yield the records of a JSON Lines file. A torn last line (from a killed writer) is skipped."""
    # split on "\n" only: JSON allows U+2028 and U+0085 unescaped in strings, splitlines() splits there
    lines = Path(path).read_text(encoding="utf-8").rstrip("\n").split("\n")
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
