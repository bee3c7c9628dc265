"""Writing runs and test rows, shared by the three upload formats.

A ``Writer`` lives for one write transaction. It answers "have we seen this record id?"
from the ledger, collects rows, and at the end inserts them, applies counter deltas with atomic
``UPDATE ... SET n = n + :d`` statements and moves the ``latest_results`` and ``latest_set_runs``
pointers forward.

The cost per batch is a handful of statements, not a few per record: ``prefetch`` reads the
ledger for a whole batch at once, ``preload_runs`` its runs, and new runs, test rows, ledger rows
and the per-(run, suite) updates go out as one statement or ``executemany`` each (see
``bench/ingest.py`` for the figures). Rows are kept with their ``Run`` object and get its
primary key at ``close``, so runs created by a batch are inserted by one flush, not one each.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, cast

import orjson
from sqlalchemy import String, Table, any_, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from exaworks_sdk import status as rule
from exaworks_sdk.fingerprint import fingerprint
from exaworks_sdk.status import COUNTERS, Status

from ..db import chunks
from ..exceptions import BadInput
from ..folding import refresh_folded
from ..latest_sets import components_key
from ..limits import configured
from ..models import Base, LatestResult, LatestSetRun, Run, SeenRecord, Site, SuiteRun, TestResultRow, UTCDateTime, utcnow
from ..repair import repair_cells
from ..streaks import Cell, refresh_streaks

TEST_DEFAULTS: dict[str, Any] = {"duration": 0.0, "started_at": None, "message": "", "output": "", "phases": {}}


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# A record's ledger hash: RECORD_HASH_PREFIX and the blake2b (31 bytes, 62 hex digits: with the
# prefix, the column's 64 characters) of its normalised dump written by orjson with sorted keys.
# Until 2026-12 it was the sha256 of json.dumps(dump, sort_keys=True), six times slower to
# write; such hashes (64 hex digits, no prefix) stay in the ledger and are recognised by
# ``Writer.is_duplicate``, which compares a record sent again with one in that form.
RECORD_HASH_PREFIX = "2:"


def record_hash(data: dict[str, Any]) -> str:
    """The ledger hash of a record's ``model_dump(mode="json")``. Content orjson cannot write
    (an integer beyond 64 bits, which only free-form fields can hold) keeps the older form,
    which is as stable: either way one content has one hash."""
    try:
        encoded = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return legacy_record_hash(data)
    return RECORD_HASH_PREFIX + hashlib.blake2b(encoded, digest_size=31).hexdigest()


def legacy_record_hash(data: dict[str, Any]) -> str:
    """A record's ledger hash before RECORD_HASH_PREFIX: the sha256 of its sorted-key JSON line."""
    return content_hash(json.dumps(data, sort_keys=True))


def conflict(message: str, details: Any = None) -> BadInput:
    return BadInput(message, status=409, code="conflict", details=details)


class RunKey(NamedTuple):
    run_id: str
    branch: str
    variant: str


def too_many_suites(message: str, setting: str) -> BadInput:
    return BadInput(f"{message} (SDK_DASHBOARD_{setting}); nothing of this upload was stored", status=422,
                    code="too_many_suites")


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


class BulkInsert(NamedTuple):
    """An ``INSERT`` of given columns in the driver's own terms, with each column's bind
    processor (None when the driver takes the value as it is). Rows given as tuples in column
    order go, on PostgreSQL, to a ``COPY … FROM STDIN`` (a fifth of psycopg's ``executemany``
    CPU for 500 rows), elsewhere to the driver's ``executemany``, without SQLAlchemy's per-row
    parameter handling, which cost more than the driver itself for the ledger and test rows of
    a batch. Driver errors come out as SQLAlchemy's (a unique-key race is an IntegrityError,
    which ``db.run_write`` retries)."""

    sql: str
    columns: tuple[str, ...]
    positional: bool
    processors: tuple[Any, ...]
    copy: str | None  # PostgreSQL

    def processor(self, column: str) -> Any:
        return self.processors[self.columns.index(column)]

    def execute(self, db: Session, rows: list[tuple[Any, ...]]) -> None:
        conn = db.connection()
        if self.copy is None:
            params: list[Any] = rows if self.positional else [dict(zip(self.columns, row, strict=True)) for row in rows]
            conn.exec_driver_sql(self.sql, params)
            return
        dbapi = conn.dialect.loaded_dbapi
        try:
            with conn.connection.dbapi_connection.cursor() as cursor, cursor.copy(self.copy) as copy:  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row(row)
        except dbapi.Error as exc:
            raise DBAPIError.instance(self.copy, None, exc, dbapi.Error, dialect=conn.dialect) from exc


@lru_cache(maxsize=16)
def bulk_insert(dialect: Any, model: type[Base], columns: tuple[str, ...]) -> BulkInsert:
    target = table(model)
    compiled = insert(target).compile(dialect=dialect, column_keys=list(columns), for_executemany=True)
    order = tuple(compiled.positiontup or ()) if dialect.positional else tuple(compiled.binds)
    if (dialect.positional and order != columns) or set(order) != set(columns):
        raise AssertionError(f"{model.__name__}: every column must be given, in order ({order} != {columns})")
    processors = tuple(target.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns)
    copy = None
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        quote = dialect.identifier_preparer.quote
        copy = f"COPY {quote(target.name)} ({', '.join(quote(name) for name in columns)}) FROM STDIN"
    return BulkInsert(compiled.string, columns, dialect.positional, processors, copy)


TEST_COLUMNS = ("run_id", "record_id", "suite", "test_id", "status", "duration", "started_at", "message",
                "output", "phases", "fingerprint")
LEDGER_COLUMNS = ("site_id", "record_id", "run_id", "kind", "content_hash", "received_at")


class Writer:
    def __init__(self, db: Session, site: Site) -> None:
        self.db = db
        self.site = site
        self.result = BatchResult()
        self._runs: dict[RunKey, Run | None] = {}
        self._seen: dict[str, str] = {}
        # Keyed by id(run): a run created by this batch has no primary key before close().
        self._deltas: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
        self._touched: dict[int, Run] = {}
        self._reported: set[int] = set()  # id(run) of the runs remember() put in the result
        self._now = utcnow()
        self._ledger: dict[str, str | None] = {}  # prefetched: id -> this site's hash, or absent
        self._test_rows: list[tuple[Run, dict[str, Any]]] = []  # run_id filled in at close()
        self._ledger_rows: list[tuple[Run, str, str, str]] = []  # (run, record id, kind, hash)
        self._suites: dict[int, set[str]] = defaultdict(set)  # id(run) -> suites this batch adds tests to
        self._restated: dict[int, Run] = {}  # id(run) -> stored runs a late start record restated
        self.max_suites_per_run = int(configured("MAX_SUITES_PER_RUN"))
        self.max_suites_per_site = int(configured("MAX_SUITES_PER_SITE"))

    # -- idempotency ------------------------------------------------------------------
    def prefetch(self, record_ids: Iterable[str]) -> None:
        """Read this site's ledger entries of a whole batch in a few queries (``is_duplicate``
        uses them). The ledger is per site: another site's record ids are never consulted."""
        ids = [i for i in dict.fromkeys(record_ids) if i not in self._ledger]
        for chunk in chunks(ids):
            self._ledger.update(dict.fromkeys(chunk))
            ledger = _statements(self.db.get_bind().dialect.name).ledger
            rows = self.db.connection().execute(ledger, {"b_site": self.site.id, "b_ids": chunk})
            for record_id, digest in rows:
                self._ledger[record_id] = digest

    def is_duplicate(self, record_id: str, digest: str, legacy: Callable[[], str] | None = None) -> bool:
        """True if this site already stored it with this content; 409 if with other content.
        ``legacy`` gives the record's hash in the older form (``legacy_record_hash``), compared
        when the stored one is in that form."""
        known = self._seen.get(record_id)
        if known is None:
            if record_id not in self._ledger:
                self.prefetch([record_id])
            known = self._ledger[record_id]
        if known is None:
            return False
        if known != digest and not (legacy is not None and not known.startswith(RECORD_HASH_PREFIX)
                                    and known == legacy()):
            raise conflict(
                f"record {record_id!r} was already received with different content",
                {"record_id": record_id},
            )
        self.result.duplicates += 1
        return True

    def remember(self, record_id: str, kind: str, digest: str, run: Run) -> None:
        self._ledger_rows.append((run, record_id, kind, digest))
        self._seen[record_id] = digest
        self.result.accepted += 1
        key = id(run)
        if key not in self._reported:  # BatchResult.touch scans its list
            self._reported.add(key)
            self.result.touch(run)
        self._touched[key] = run

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

    def preload_runs(self, run_ids: Iterable[str]) -> None:
        """Look up the records/JUnit runs (empty branch and variant key) of a whole batch in a
        few queries; ``find_run`` answers from them, None included."""
        ids = [i for i in dict.fromkeys(run_ids) if RunKey(i, "", "") not in self._runs]
        for chunk in chunks(ids):
            self._runs.update((RunKey(i, "", ""), None) for i in chunk)
            for run in self.db.scalars(select(Run).where(Run.site_id == self.site.id, Run.run_id.in_(chunk),
                                                         Run.key_branch == "", Run.key_variant == "")):
                self._runs[RunKey(run.run_id, "", "")] = run

    def create_run(self, run_id: str, flush: bool = True, **fields: Any) -> Run:
        """A new run named (this site, run id, ``key_branch``, ``key_variant``); both default to
        ``""``, which names records and JUnit runs; ``key_variant=None`` is a legacy run whose
        variant is not known yet. ``flush=False`` leaves the insert to ``close`` (the run has no
        ``id`` until then)."""
        fields = {"key_branch": "", "key_variant": "", "environment": {}, "components": {}, **fields}
        run = Run(site_id=self.site.id, run_id=run_id, **fields)
        self.db.add(run)
        if flush:
            self.db.flush()
        if run.key_variant is not None:
            self._runs[RunKey(run_id, run.key_branch, run.key_variant)] = run
        return run

    def forget(self, run: Run) -> None:
        """Drop ``run`` from the lookup cache after its identity changed."""
        self._runs = {key: cached for key, cached in self._runs.items() if cached is not run}

    def restate(self, run: Run, variant: str, components: dict[str, Any]) -> None:
        """A start record gave a stored run its variant and components (it came after the run's
        JUnit results). Its suite runs move to that variant, and the cells it left and joined
        are recomputed at ``close`` (``repair.py``)."""
        if run.id is not None and (run.variant != variant or run.components != components):
            self._restated[id(run)] = run
        run.variant, run.components = variant, components

    def move_start(self, run: Run, started_at: datetime) -> None:
        """A start record arrived after the run was created from a later record."""
        if started_at >= run.started_at:
            return
        run.started_at = started_at
        for table in (SuiteRun, LatestResult, LatestSetRun):
            self.db.execute(update(table).where(table.run_id == run.id).values(started_at=started_at))

    def finish(self, run: Run, finished_at: datetime, status: str | None, exit_code: int | None = None) -> None:
        run.finished_at = finished_at
        run.reported_status = status
        run.exit_code = exit_code

    # -- tests ------------------------------------------------------------------------
    def add_test(self, run: Run, record_id: str, **fields: Any) -> None:
        self.add_test_row(run, {**TEST_DEFAULTS, "record_id": record_id, **fields, "status": Status(fields["status"]).value})

    def add_test_row(self, run: Run, row: dict[str, Any]) -> None:
        """``row`` is a whole ``test_results`` row but its ``run_id``; a failing test's
        fingerprint is computed here unless the row has it (``records._parsed`` computes it
        before the transaction)."""
        status, suite, key = row["status"], row["suite"], id(run)
        if "fingerprint" not in row:
            row["fingerprint"] = fingerprint(row["message"] or "", row["output"] or "") if rule.is_failing(status) else None
        self._test_rows.append((run, row))
        self._deltas[(key, suite)][status] += 1
        self._touched[key] = run
        suites = self._suites[key]
        if suite not in suites:
            suites.add(suite)
            if len(suites) > self.max_suites_per_run:
                raise too_many_suites(f"run {run.run_id!r} has more than {self.max_suites_per_run} suites",
                                      "MAX_SUITES_PER_RUN")

    # -- end of batch -----------------------------------------------------------------
    def close(self) -> BatchResult:
        self.db.flush()  # new runs get their ids here
        dialect = self.db.get_bind().dialect
        if self._test_rows:
            tests = bulk_insert(dialect, TestResultRow, TEST_COLUMNS)
            started, phases = tests.processor("started_at"), tests.processor("phases")
            tests.execute(self.db, [
                (run.id, row["record_id"], row["suite"], row["test_id"], row["status"], row["duration"],
                 started(row["started_at"]) if started else row["started_at"], row["message"], row["output"],
                 phases(row["phases"]) if phases else row["phases"], row["fingerprint"])
                for run, row in self._test_rows])
        if self._ledger_rows:
            ledger = bulk_insert(dialect, SeenRecord, LEDGER_COLUMNS)
            received = ledger.processor("received_at")
            now = received(self._now) if received else self._now
            site_id = self.site.id
            ledger.execute(self.db, [(site_id, record_id, run.id, kind, digest, now)
                                     for run, record_id, kind, digest in self._ledger_rows])
        moved = self._move_restated()
        cells = sorted(((self._touched[key], suite, delta) for (key, suite), delta in self._deltas.items()),
                       key=lambda cell: (cell[0].id, cell[1]))
        statements, conn = _statements(self.db.get_bind().dialect.name), self.db.connection()
        if cells:
            suites = sorted({suite for _, suite, _ in cells})
            known = set(conn.scalars(statements.known_suites, {"b_site": self.site.id, "b_suites": suites}))
            self._bump(cells)
            self._check_caps(adds_suites=len(known) < len(suites))
            refresh_streaks(self.db, [(run.site_id, run.variant, suite) for run, suite, _ in cells])
        repair_cells(self.db, moved)
        if self._touched:  # a finish alone can turn unfinished cells into finished ones
            refresh_folded(self.db, [(run.site_id, run.variant) for run in self._touched.values()])
        # Only test results make a site "seen" (STALE counts from it); any accepted record,
        # or a resent one, is contact.
        now = utcnow()
        if self._test_rows:
            conn.execute(statements.seen, {"b_site": self.site.id, "b_now": now})
        elif self._touched or self.result.duplicates:
            conn.execute(statements.contact, {"b_site": self.site.id, "b_now": now})
        return self.result

    def _move_restated(self) -> list[Cell]:
        """The restated runs' suite runs take their run's variant; returns the cells they left
        and joined."""
        if not self._restated:
            return []
        runs = {run.id: run for run in self._restated.values()}
        cells: list[Cell] = []
        for run_pk, site_id, variant, suite in self.db.execute(
                select(SuiteRun.run_id, SuiteRun.site_id, SuiteRun.variant, SuiteRun.suite)
                .where(SuiteRun.run_id.in_(runs))).tuples():
            cells += [(site_id, variant, suite), (site_id, runs[run_pk].variant, suite)]
        for run in runs.values():
            self.db.execute(update(SuiteRun).where(SuiteRun.run_id == run.id).values(variant=run.variant))
        return cells

    def _check_caps(self, adds_suites: bool) -> None:
        """A run holds at most MAX_SUITES_PER_RUN suites and a site MAX_SUITES_PER_SITE distinct
        ones, counted after this batch's rows are in (the transaction is still open, so a
        refusal stores nothing): one site cannot widen every shared view without bound."""
        runs = {self._touched[key].id: self._touched[key] for key in self._suites}
        statements, conn = _statements(self.db.get_bind().dialect.name), self.db.connection()
        per_run = conn.execute(statements.suites_per_run, {"b_runs": list(runs)}).all()
        for run_id, n in per_run:
            if n > self.max_suites_per_run:
                raise too_many_suites(f"run {runs[run_id].run_id!r} would hold {n} suites, more than "
                                      f"{self.max_suites_per_run}", "MAX_SUITES_PER_RUN")
        if not adds_suites:  # a site over a lowered cap can still report the suites it has
            return
        n = conn.scalar(statements.suites_of_site, {"b_site": self.site.id}) or 0
        if n > self.max_suites_per_site:
            raise too_many_suites(f"site {self.site.name!r} would report {n} distinct suites, more than "
                                  f"{self.max_suites_per_site}", "MAX_SUITES_PER_SITE")

    def _bump(self, cells: list[tuple[Run, str, dict[str, int]]]) -> None:
        """Counters, latest pointers and version sets of every touched (run, suite): three
        statements in all, in sorted order so concurrent writers take row locks in the same
        order. A (run, suite) row is inserted with this batch's counts, or its counts are added
        to (``n = n + d``)."""
        counters, latest, sets = _bump_statements(self.db.get_bind().dialect.name)
        conn = self.db.connection()
        conn.execute(
            counters,
            [{"run_id": run.id, "site_id": run.site_id, "variant": run.variant, "suite": suite,
              "started_at": run.started_at, **delta} for run, suite, delta in cells],
        )
        conn.execute(latest, [{"site_id": run.site_id, "variant": run.variant, "suite": suite,
                                  "run_id": run.id, "started_at": run.started_at} for run, suite, _ in cells])
        keys = {run.id: components_key(run.components) for run, _, _ in cells}
        conn.execute(sets, [{"site_id": run.site_id, "variant": run.variant, "suite": suite, "run_id": run.id,
                             "started_at": run.started_at, "components_key": keys[run.id]} for run, suite, _ in cells])


class Statements(NamedTuple):
    ledger: Any
    known_suites: Any
    suites_per_run: Any
    suites_of_site: Any
    seen: Any
    contact: Any


@lru_cache(maxsize=2)
def _statements(dialect: str) -> Statements:
    """The writer's other statements, built once with bound parameters (``expanding`` for the IN
    lists): built per batch they cost more to construct and key for the statement cache than to
    run. They go through the session's Core connection, the ORM adding nothing to them. On
    PostgreSQL the ledger's ids go as one array (``= ANY``), not 500 parameters."""
    site: Any = bindparam("b_site")
    now = bindparam("b_now", type_=UTCDateTime())
    sites = table(Site)
    ids = (SeenRecord.record_id == any_(bindparam("b_ids", type_=postgresql.ARRAY(String))) if dialect == "postgresql"
           else SeenRecord.record_id.in_(bindparam("b_ids", expanding=True)))
    return Statements(
        ledger=select(SeenRecord.record_id, SeenRecord.content_hash).where(SeenRecord.site_id == site, ids),
        known_suites=select(LatestResult.suite).distinct()
        .where(LatestResult.site_id == site, LatestResult.suite.in_(bindparam("b_suites", expanding=True))),
        suites_per_run=select(SuiteRun.run_id, func.count())
        .where(SuiteRun.run_id.in_(bindparam("b_runs", expanding=True))).group_by(SuiteRun.run_id),
        suites_of_site=select(func.count(func.distinct(LatestResult.suite))).where(LatestResult.site_id == site),
        seen=update(sites).where(sites.c.id == site).values(last_seen_at=now, last_contact_at=now),
        contact=update(sites).where(sites.c.id == site).values(last_contact_at=now),
    )


@lru_cache(maxsize=2)
def _bump_statements(dialect: str) -> tuple[Any, Any, Any]:
    """``Writer._bump``'s three statements, built once per dialect (statements are immutable;
    building them cost about a millisecond a batch)."""
    module = postgresql if dialect == "postgresql" else sqlite
    suite_runs, latest_results, latest_sets = table(SuiteRun), table(LatestResult), table(LatestSetRun)
    counters = module.insert(suite_runs)
    counters = counters.on_conflict_do_update(
        index_elements=["run_id", "suite"],
        set_={name: suite_runs.c[name] + counters.excluded[name] for name in COUNTERS},
    )
    latest = module.insert(latest_results)
    latest = latest.on_conflict_do_update(
        index_elements=["site_id", "variant", "suite"],
        set_={"run_id": latest.excluded.run_id, "started_at": latest.excluded.started_at},
        where=latest_results.c.started_at <= latest.excluded.started_at,
    )
    sets = module.insert(latest_sets)
    sets = sets.on_conflict_do_update(
        index_elements=["site_id", "variant", "suite", "components_key"],
        set_={"run_id": sets.excluded.run_id, "started_at": sets.excluded.started_at},
        # a batch of a run already pointed at writes nothing: no new row version per batch
        where=(latest_sets.c.started_at < sets.excluded.started_at)
        | ((latest_sets.c.started_at == sets.excluded.started_at) & (latest_sets.c.run_id != sets.excluded.run_id)),
    )
    return counters, latest, sets
