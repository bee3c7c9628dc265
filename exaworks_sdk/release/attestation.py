"""The release attestation: what ``sdk release check --json`` writes and ``sdk-dashboard
releases record`` stores and shows at ``/releases/<version>``. One format for both sides.

A required cell's state, worst last: ``green`` (the newest run with exactly the pins passed, or
failed only as predicted), ``red`` (it did not pass), ``pin mismatch`` (runs in the window, none
with the pins), ``stale`` (reported, but not in the window), ``missing`` (never reported).
``excluded`` cells (``cannot_run`` in ``ci/sites/``) carry their reason and are not required.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

GREEN, RED, MISMATCH, STALE, MISSING, EXCLUDED = "green", "red", "pin mismatch", "stale", "missing", "excluded"
STATES = (MISSING, RED, MISMATCH, STALE, GREEN, EXCLUDED)  # the order a report lists them in
PASSING = frozenset({GREEN, EXCLUDED})  # a release is ready when every cell is one of these
MAX_CELLS = 20_000

Short = Annotated[str, Field(max_length=512)]
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class AttestedCell(_Strict):
    site: Short
    facility: Short
    variant: Short
    suite: Short
    state: Annotated[str, Field(pattern="^(" + "|".join(STATES) + ")$")]
    detail: Annotated[str, Field(max_length=4096)] = ""
    run: int | None = Field(None, description="run number on the dashboard that was checked")
    run_id: Short | None = Field(None, description="the client's run id: the same on every dashboard")
    started_at: datetime | None = None
    url: Annotated[str, Field(max_length=2048)] | None = None
    versions: dict[Short, Short | None] = Field(default_factory=dict)


class AttestedRun(_Strict):
    """A run an attested cell cites, with what its harness recorded as installed
    (``test_harness.installed``: ``pip``, ``spack``, ``image``); None for older clients."""

    run: int
    site: Short
    variant: Short
    started_at: datetime
    status: Short
    components: dict[Short, Short | None] = Field(default_factory=dict)
    installed: dict[Short, Any] | None = None


class Attestation(_Strict):
    release: Short
    version: Annotated[str, Field(pattern=VERSION_PATTERN)]
    manifest_digest: Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
    dashboard: Annotated[str, Field(max_length=2048)]
    days: Annotated[int, Field(ge=1, le=3650)]
    checked_at: datetime
    ready: bool
    cells: Annotated[list[AttestedCell], Field(max_length=MAX_CELLS)]
    runs: dict[Short, AttestedRun] = Field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {state: sum(c.state == state for c in self.cells) for state in STATES}

    def consistent(self) -> list[str]:
        """What contradicts itself: ``ready`` against the cells' states."""
        ready = all(c.state in PASSING for c in self.cells)
        if ready != self.ready:
            return [f"'ready' is {str(self.ready).lower()}, but the cells say {str(ready).lower()}"]
        return []
