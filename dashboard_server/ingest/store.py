"""Writing runs and test rows, shared by the three upload formats.

A ``Writer`` lives for one write transaction. It answers "have we seen this record id?"
from the ledger, collects rows, and at the end inserts them, applies counter deltas with atomic
``UPDATE ... SET n = n + :d`` statements and moves the ``latest_results`` pointers forward.

The cost per batch is a handful of statements, not a few per record: ``prefetch`` reads the
ledger for a whole batch at once, and test rows, ledger rows and the per-(run, suite) updates
go out as one ``executemany`` each (see ``bench/ingest.py`` for the figures).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from exaworks_sdk.status import COUNTERS, Status

from ..exceptions import BadInput
from ..models import Base, LatestResult, Run, SeenRecord, Site, SuiteRun, TestResultRow, utcnow

TEST_DEFAULTS: dict[str, Any] = {"duration": 0.0, "started_at": None, "message": "", "output": "", "phases": {}}
PREFETCH_CHUNK = 500  # ids per IN (...) list


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def conflict(message: str, details: Any = None) -> BadInput:
    return BadInput(message, status=409, code="conflict", details=details)


class RunKey(NamedTuple):
    run_id: str
    branch: str
    variant: str


@dataclass
class BatchResult:
    accepted: int = 0
    duplicates: int = 0
    runs: list[str] = field(default_factory=list)

    def touch(self, run: Run) -> None:
        if run.run_id not in self.runs:
            self.runs.append(run.run_id)


def table(model: type[Base]) -> Table:
    """A model's Core table, for bulk statements (``__table__`` is typed as a plain FromClause)."""
    return cast(Table, model.__table__)


def _insert(db: Session, table: Any) -> Any:
    """INSERT with ON CONFLICT support (both dialects spell it the same)."""
    dialect = db.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


class Writer:
    def __init__(self, db: Session, site: Site) -> None:
        self.db = db
        self.site = site
        self.result = BatchResult()
        self._runs: dict[RunKey, Run | None] = {}
        self._seen: dict[str, str] = {}
        self._deltas: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
        self._touched: dict[int, Run] = {}
        self._now = utcnow()
        self._ledger: dict[str, tuple[int, str] | None] = {}  # prefetched: id -> (site, hash) or absent
        self._test_rows: list[dict[str, Any]] = []
        self._ledger_rows: list[dict[str, Any]] = []

    # -- idempotency ------------------------------------------------------------------
    def prefetch(self, record_ids: Iterable[str]) -> None:
        """Read the ledger entries of a whole batch in a few queries (``is_duplicate`` uses them)."""
        ids = [i for i in dict.fromkeys(record_ids) if i not in self._ledger]
        for start in range(0, len(ids), PREFETCH_CHUNK):
            chunk = ids[start:start + PREFETCH_CHUNK]
            self._ledger.update(dict.fromkeys(chunk))
            rows = self.db.execute(
                select(SeenRecord.record_id, SeenRecord.site_id, SeenRecord.content_hash)
                .where(SeenRecord.record_id.in_(chunk))
            )
            for record_id, site_id, digest in rows:
                self._ledger[record_id] = (site_id, digest)

    def is_duplicate(self, record_id: str, digest: str) -> bool:
        """True if already stored with this content; raises 409 if stored with other content."""
        known = self._seen.get(record_id)
        if known is None:
            if record_id in self._ledger:
                entry = self._ledger[record_id]
            else:
                row = self.db.get(SeenRecord, record_id)
                entry = None if row is None else (row.site_id, row.content_hash)
            if entry is not None:
                if entry[0] != self.site.id:
                    raise conflict(f"record id {record_id!r} is already used by another site")
                known = entry[1]
        if known is None:
            return False
        if known != digest:
            raise conflict(
                f"record {record_id!r} was already received with different content",
                {"record_id": record_id},
            )
        self.result.duplicates += 1
        return True

    def remember(self, record_id: str, kind: str, digest: str, run: Run) -> None:
        self._ledger_rows.append(
            {"record_id": record_id, "site_id": self.site.id, "run_id": run.id, "kind": kind,
             "content_hash": digest, "received_at": self._now}
        )
        self._seen[record_id] = digest
        self.result.accepted += 1
        self.result.touch(run)
        self._touched[run.id] = run

    # -- runs -------------------------------------------------------------------------
    def find_run(self, run_id: str, key_branch: str = "", key_variant: str = "") -> Run | None:
        """The run named (this site, run id, branch, variant); records and JUnit runs leave the
        branch and variant out (see ``models.Run``)."""
        key = RunKey(run_id, key_branch, key_variant)
        if key not in self._runs:
            self._runs[key] = self.db.scalar(
                select(Run).where(Run.site_id == self.site.id, Run.run_id == run_id,
                                  Run.key_branch == key_branch, Run.key_variant == key_variant)
            )
        return self._runs[key]

    def create_run(self, run_id: str, **fields: Any) -> Run:
        """A new run named (this site, run id, ``key_branch``, ``key_variant``); both default to
        ``""``, which names records and JUnit runs; ``key_variant=None`` is a legacy run whose
        variant is not known yet."""
        fields = {"key_branch": "", "key_variant": "", **fields}
        run = Run(site_id=self.site.id, run_id=run_id, environment={}, components={}, **fields)
        self.db.add(run)
        self.db.flush()
        if run.key_variant is not None:
            self._runs[RunKey(run_id, run.key_branch, run.key_variant)] = run
        return run

    def forget(self, run: Run) -> None:
        """Drop ``run`` from the lookup cache after its identity changed."""
        self._runs = {key: cached for key, cached in self._runs.items() if cached is not run}

    def move_start(self, run: Run, started_at: datetime) -> None:
        """A start record arrived after the run was created from a later record."""
        if started_at >= run.started_at:
            return
        run.started_at = started_at
        for table in (SuiteRun, LatestResult):
            self.db.execute(update(table).where(table.run_id == run.id).values(started_at=started_at))

    def finish(self, run: Run, finished_at: datetime, status: str | None, exit_code: int | None = None) -> None:
        run.finished_at = finished_at
        run.reported_status = status
        run.exit_code = exit_code

    # -- tests ------------------------------------------------------------------------
    def add_test(self, run: Run, record_id: str, **fields: Any) -> None:
        self._test_rows.append({**TEST_DEFAULTS, "run_id": run.id, "record_id": record_id, **fields})
        self._deltas[(run.id, fields["suite"])][Status(fields["status"]).value] += 1
        self._touched[run.id] = run

    # -- end of batch -----------------------------------------------------------------
    def close(self) -> BatchResult:
        self.db.flush()
        if self._test_rows:
            self.db.execute(insert(table(TestResultRow)), self._test_rows)
        if self._ledger_rows:
            self.db.execute(insert(table(SeenRecord)), self._ledger_rows)
        cells = [(self._touched[run_id], suite, delta) for (run_id, suite), delta in sorted(self._deltas.items())]
        if cells:
            self._bump(cells)
        # Only test results make a site "seen" (STALE counts from it); any accepted record,
        # or a resent one, is contact.
        now = utcnow()
        if self._test_rows:
            self.db.execute(update(Site).where(Site.id == self.site.id).values(last_seen_at=now, last_contact_at=now))
        elif self._touched or self.result.duplicates:
            self.db.execute(update(Site).where(Site.id == self.site.id).values(last_contact_at=now))
        return self.result

    def _bump(self, cells: list[tuple[Run, str, dict[str, int]]]) -> None:
        """Counters and latest pointers of every touched (run, suite): three statements in all,
        in sorted order so concurrent writers take row locks in the same order."""
        suite_runs, latest_results = table(SuiteRun), table(LatestResult)
        self.db.execute(
            _insert(self.db, suite_runs).on_conflict_do_nothing(),
            [{"run_id": run.id, "site_id": run.site_id, "variant": run.variant, "suite": suite,
              "started_at": run.started_at, **dict.fromkeys(COUNTERS, 0)} for run, suite, _ in cells],
        )
        self.db.execute(
            update(suite_runs)
            .where(suite_runs.c.run_id == bindparam("b_run"), suite_runs.c.suite == bindparam("b_suite"))
            .values({name: suite_runs.c[name] + bindparam(f"b_{name}") for name in COUNTERS}),
            [{"b_run": run.id, "b_suite": suite, **{f"b_{name}": n for name, n in delta.items()}}
             for run, suite, delta in cells],
        )
        latest = _insert(self.db, latest_results)
        latest = latest.on_conflict_do_update(
            index_elements=["site_id", "variant", "suite"],
            set_={"run_id": latest.excluded.run_id, "started_at": latest.excluded.started_at},
            where=latest_results.c.started_at <= latest.excluded.started_at,
        )
        self.db.execute(latest, [{"site_id": run.site_id, "variant": run.variant, "suite": suite,
                                  "run_id": run.id, "started_at": run.started_at} for run, suite, _ in cells])
