"""Database models.

Tests are stored one row each (``test_results``). Two small derived tables keep page
queries independent of stored history:

* ``suite_runs`` — one row per (run, suite) with counters updated atomically as rows arrive;
  the sparklines and run lists read it instead of counting test rows.
* ``latest_results`` — one row per (site, variant, suite) pointing at the newest run; the
  summary matrix reads only this table (plus the rows it points at).
* ``latest_set_runs`` — one row per (site, variant, suite, stored components) pointing at the
  newest run; the compatibility matrix reads only the rows of its window (plus the rows they
  point at), however many runs used each set.

``seen_records`` is the idempotency ledger: every accepted record id with a hash of its content.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
    type_coerce,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from exaworks_sdk.records import LIMITS, MAX_NAME


def stored_utc(value: datetime) -> datetime:
    """A time as the database holds it: naive UTC. For values bound outside ``UTCDateTime``,
    such as arrays of times sent to PostgreSQL in one parameter."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


RawTime = Any  # a stored time as the driver returns it: SQLite's text, PostgreSQL's naive datetime (UTC)


def raw_time(column: Any) -> Any:
    """``column`` (a ``UTCDateTime``) read as the driver returns it. Converting a time costs more
    than reading its row, and a page that reads hundreds needs few of them as times: both raw
    forms sort in time order, and ``from_raw_time`` converts the ones it shows."""
    return type_coerce(column, String)


@lru_cache(maxsize=8192)
def from_raw_time(raw: RawTime) -> datetime:
    """A ``raw_time`` value as the aware UTC time ``UTCDateTime`` returns. Cached: a page converts
    the same few run starts for each of their suites (a run's suite runs share its start)."""
    return (datetime.fromisoformat(raw) if isinstance(raw, str) else raw).replace(tzinfo=UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC (portable across SQLite and PostgreSQL); always returns aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else stored_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Site(Base):
    """A machine that reports. ``last_seen_at`` moves only when test results arrive (a run that
    ran no test is not a healthy report, so it cannot keep a site from going STALE);
    ``last_contact_at`` moves with any accepted upload. ``timezone`` (IANA name, from the
    registry) is how old clients' timestamps without an offset are read (``ingest/legacy.py``)."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME), unique=True)
    facility: Mapped[str] = mapped_column(String(128), default="")
    machine: Mapped[str] = mapped_column(String(128), default="")
    scheduler: Mapped[str] = mapped_column(String(64), default="")
    expected_interval_hours: Mapped[float] = mapped_column(Float, default=24.0)
    timezone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tokens: Mapped[list[Token]] = relationship(back_populates="site")


class Token(Base):
    """An upload credential. Only the sha256 of the secret is stored."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(256), default="")
    is_legacy: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship(back_populates="tokens")


class Run(Base):
    """One run at one site, named by a structured identity: (site, run id, key branch, key variant).

    Records and JUnit runs are named by the client's run id alone: ``key_branch`` and
    ``key_variant`` are ``""``. Legacy runs (``ingest/legacy.py``) add the branch and the install
    variant, because old clients reuse one run id (a pipeline id, a ``psij-ci-run`` id) for every
    branch and variant they test; their variant is never ``""``. ``key_variant`` is NULL while a
    legacy run's variant is not known yet (an old wrapper's start record names none), and NULLs
    never collide, so each such start opens its own run. ``generated_id`` says the dashboard made
    up ``run_id`` because the client sent none. ``assumed_utc`` flags a run some of whose
    timestamps had no UTC offset and no known time zone, so they were read as UTC.
    """

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("site_id", "run_id", "key_branch", "key_variant"),
        Index("ix_runs_site_started", "site_id", "started_at"),  # also each site's runs of a window (failures page)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    run_id: Mapped[str] = mapped_column(String(256), default="")
    key_branch: Mapped[str] = mapped_column(String(256), default="", server_default="")
    key_variant: Mapped[str | None] = mapped_column(String(64))  # no default: None must stay NULL
    generated_id: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    source: Mapped[str] = mapped_column(String(16), default="records")
    variant: Mapped[str] = mapped_column(String(LIMITS["variant"]), default="pip")
    pipeline_id: Mapped[str | None] = mapped_column(String(LIMITS["pipeline_id"]))
    branch: Mapped[str | None] = mapped_column(String(LIMITS["branch"]))
    commit: Mapped[str | None] = mapped_column(String(LIMITS["commit"]))
    hostname: Mapped[str | None] = mapped_column(String(LIMITS["hostname"]))
    sdk_version: Mapped[str] = mapped_column(String(LIMITS["sdk_version"]), default="")
    environment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    components: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_status: Mapped[str | None] = mapped_column(String(16))
    exit_code: Mapped[int | None] = mapped_column(Integer)
    start_record_id: Mapped[str | None] = mapped_column(String(64))
    finish_record_id: Mapped[str | None] = mapped_column(String(64))
    assumed_utc: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship()


class TestResultRow(Base):
    __tablename__ = "test_results"
    __test__ = False
    __table_args__ = (
        Index("ix_test_results_run_suite", "run_id", "suite"),
        Index("ix_test_results_suite_test", "suite", "test_id"),
        Index("ix_test_results_fingerprint", "fingerprint"),
        # a run's failed tests of one suite (only they have a fingerprint), without reading its passed
        # ones or the failed ones' rows: the failures page reads the index alone (migrations 0012, 0014)
        Index("ix_test_results_failing", "run_id", "suite", "fingerprint", "test_id", postgresql_include=["id"],
              sqlite_where=text("fingerprint IS NOT NULL"), postgresql_where=text("fingerprint IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    record_id: Mapped[str] = mapped_column(String(64))  # unique per site: the ledger guards it
    suite: Mapped[str] = mapped_column(String(MAX_NAME))
    test_id: Mapped[str] = mapped_column(String(MAX_NAME))
    status: Mapped[str] = mapped_column(String(16))
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message: Mapped[str] = mapped_column(Text, default="")
    output: Mapped[str] = mapped_column(Text, default="")
    phases: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # a failed or errored test's fingerprint (exaworks_sdk.fingerprint), set at ingest
    fingerprint: Mapped[str | None] = mapped_column(String(16))


class SuiteRun(Base):
    """Per (run, suite) counters; updated with ``x = x + n`` so concurrent writers lose nothing."""

    __tablename__ = "suite_runs"
    __table_args__ = (
        UniqueConstraint("run_id", "suite"),
        Index("ix_suite_runs_cell", "site_id", "variant", "suite", "started_at"),
        Index("ix_suite_runs_suite_started", "suite", "started_at"),  # a test's history, newest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    variant: Mapped[str] = mapped_column(String(LIMITS["variant"]))
    suite: Mapped[str] = mapped_column(String(MAX_NAME))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    passed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[int] = mapped_column(Integer, default=0)
    known: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    fixed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class LatestResult(Base):
    """The newest run per (site, variant, suite): the only rows the summary matrix reads.

    The cell's failure streak is kept here too, recomputed at ingest for every cell a batch
    touches (``ingest/store.py``), so no page computes a streak per failing cell."""

    __tablename__ = "latest_results"
    __table_args__ = (
        Index("ix_latest_results_suite", "suite"),  # a suite's badge and flaky check
        # a site's failing cells, newest first: what the failures page reads (migration 0014)
        Index("ix_latest_results_failing", "site_id", "started_at",
              sqlite_where=text("first_failing_run_id IS NOT NULL"),
              postgresql_where=text("first_failing_run_id IS NOT NULL")),
    )

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    variant: Mapped[str] = mapped_column(String(LIMITS["variant"]), primary_key=True)
    suite: Mapped[str] = mapped_column(String(MAX_NAME), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_failing_run_id: Mapped[int | None] = mapped_column(Integer)
    last_passing_run_id: Mapped[int | None] = mapped_column(Integer)


class LatestSetRun(Base):
    """The newest run of (site, variant, suite) with one set of stored components, kept at ingest
    (``latest_sets.py``): what the compatibility matrix reads instead of grouping every run of
    its window. ``components_key`` is a hash of the run's components in canonical JSON."""

    __tablename__ = "latest_set_runs"
    __table_args__ = (Index("ix_latest_set_runs_suite_started", "suite", "started_at"),)

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    variant: Mapped[str] = mapped_column(String(LIMITS["variant"]), primary_key=True)
    suite: Mapped[str] = mapped_column(String(MAX_NAME), primary_key=True)
    components_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FoldedCell(Base):
    """Per (site, variant): its suites outside the known set, folded into the summary's "other"
    cell. Kept at ingest like the streaks, so the summary reads one row per site however many
    suites a site sends; ``known`` identifies the known set it was computed against."""

    __tablename__ = "folded_cells"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    variant: Mapped[str] = mapped_column(String(LIMITS["variant"]), primary_key=True)
    known: Mapped[str] = mapped_column(String(64))
    suites: Mapped[int] = mapped_column(Integer)
    failing: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))


class Digest(Base):
    """One failure digest (``digest.py``): the failing tests it saw, by key, and what it reported."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    failing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Release(Base):
    """A release attestation (``exaworks_sdk.release.attestation``), checked against this
    dashboard's runs when it was recorded (``releases.py``). ``runs`` maps each cited client run
    id to this dashboard's run number."""

    __tablename__ = "releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    ready: Mapped[bool] = mapped_column(Boolean)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attestation: Mapped[dict[str, Any]] = mapped_column(JSON)
    runs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SeenRecord(Base):
    """Idempotency ledger: a record id, the site that sent it and a hash of its normalised
    content. Keyed by (site, record id): two sites never contend for an id."""

    __tablename__ = "seen_records"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
