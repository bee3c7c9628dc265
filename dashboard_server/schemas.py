"""Response models of the JSON API. The OpenAPI document is generated from these and from
``exaworks_sdk.records``, and every read endpoint serialises through them, so the document
and the responses cannot drift apart."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, with_config
from typing_extensions import TypedDict  # pydantic reads typing's only from Python 3.12

from exaworks_sdk.records import Record
from exaworks_sdk.release.attestation import AttestedCell, AttestedRun
from exaworks_sdk.status import Shown, Status


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Out):
    code: str
    message: str
    details: Any = None


class ErrorResponse(_Out):
    error: ErrorBody


class RecordBatch(BaseModel):
    """Body of ``POST /api/v1/records`` (JSON form; the JSON Lines form has one record per line)."""

    records: list[Record] = Field(min_length=1)


class UploadResponse(_Out):
    accepted: int = Field(description="records stored by this request")
    duplicates: int = Field(description="records already stored with identical content")
    runs: list[str] = Field(description="client run ids the batch touched")


class Counts(_Out):
    """Tests per outcome (``exaworks_sdk.status.COUNTERS``)."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    error: int = 0
    known: int = 0
    fixed: int = 0


class SiteOut(_Out):
    name: str
    facility: str
    machine: str
    scheduler: str
    expected_interval_hours: float
    last_seen_at: datetime | None = Field(description="when test results last arrived; STALE counts from it")
    last_contact_at: datetime | None = Field(
        None, description="when any upload last arrived, a run without tests included")
    stale: bool
    variants: list[str]


class RunOut(_Out):
    id: int = Field(description="dashboard run number, used in /runs/<id> URLs")
    site: str
    run_id: str = Field(description="the client's run id")
    generated_id: bool = Field(False, description="the client sent no run id; the dashboard named the run")
    source: Literal["records", "legacy", "junit"]
    variant: str
    pipeline_id: str | None
    branch: str | None
    commit: str | None
    hostname: str | None
    sdk_version: str
    started_at: datetime
    finished_at: datetime | None
    status: Shown
    exit_code: int | None
    counts: Counts
    assumed_utc: bool = Field(False, description="some times came without a UTC offset or a known "
                                                  "time zone and were read as UTC")


class TestOut(_Out):
    __test__ = False
    suite: str
    test_id: str
    status: Status
    duration: float
    started_at: datetime | None
    message: str
    output: str
    phases: dict[str, Any]


class Change(_Out):
    name: str
    before: Any
    after: Any


class SuiteStreak(_Out):
    """For a suite failing in this run: where its failure streak began and what changed then."""

    suite: str
    failing_since: datetime
    first_failing_run: int
    last_passing_run: int | None
    changes: list[Change]


class RunDetail(RunOut):
    environment: dict[str, Any]
    components: dict[str, Any]
    suites: dict[str, Shown] = Field(default_factory=dict, description="each suite's own status in this run")
    tests: list[TestOut]
    streaks: list[SuiteStreak] = Field(default_factory=list)


class CellOut(_Out):
    site: str
    variant: str
    suite: str
    status: Shown
    run: int
    run_id: str
    started_at: datetime
    counts: Counts
    history: list[Shown] = Field(description="recent statuses of this suite here, oldest first")
    failing_since: datetime | None = Field(None, description="start of the current failure streak")
    first_failing_run: int | None = Field(None, description="run number where the streak began")
    last_passing_run: int | None = Field(None, description="run number of the last pass before it")


class OtherCell(_Out):
    """A row's suites outside the known set (the harness registry's), folded into one cell."""

    status: Shown = Field(description="the worst latest status among them")
    suites: int = Field(description="how many such suites this site and variant report")
    failing: int = Field(description="how many of them are failing")


class SummaryRow(_Out):
    site: SiteOut
    variant: str
    cells: dict[str, CellOut] = Field(description="the known suites' cells, by suite")
    other: OtherCell | None = Field(None, description="every other suite reported here, folded")
    missing: list[str] = Field(default_factory=list, description="suites the site registry requires here "
                                                                 "that never reported")
    excluded: dict[str, str] = Field(default_factory=dict, description="suites that cannot run here, with "
                                                                       "the registry's reason")


class SuiteGroup(_Out):
    """Summary columns of one kind: component suites (L0), integration suites (L1, the promised
    pairs first), then suites outside the registry."""

    level: Literal["L0", "L1", "extra"]
    title: str
    suites: list[str]


class SummaryOut(_Out):
    generated_at: datetime
    suites: list[str] = Field(description="known suites with a reported cell, by name")
    rows: list[SummaryRow]
    groups: list[SuiteGroup] = Field(default_factory=list, description="the page's columns: the reported "
                                                                       "and the missing suites, grouped")


class SiteDetail(_Out):
    site: SiteOut
    latest: list[CellOut]


class RunPage(_Out):
    site: str
    page: int
    per_page: int
    total: int
    pages: int
    runs: list[RunOut]


class HistoryEntry(_Out):
    site: str
    variant: str
    run: int
    run_id: str
    started_at: datetime
    status: Status
    duration: float


class FlakyGroup(_Out):
    site: str
    variant: str
    flips: int
    window: int
    flaky: bool


class TestHistory(_Out):
    __test__ = False
    suite: str
    test_id: str
    flaky: bool
    groups: list[FlakyGroup]
    page: int
    per_page: int
    total: int
    pages: int
    entries: list[HistoryEntry]


class Health(_Out):
    status: Literal["ok"]
    database: Literal["ok"]
    schema_revision: str | None


class LegacyData(BaseModel):
    """One record of the legacy format; every field optional, unknown fields ignored."""

    model_config = ConfigDict(extra="allow")

    run_id: str | int | None = None
    branch: str | None = None
    module: str | None = None
    cls: str | None = None
    function: str | None = None
    test_name: str | None = None
    test_start_time: str | float | None = None
    test_end_time: str | float | None = None
    results: dict[str, Any] | None = None
    extras: dict[str, Any] | None = None


class LegacyUpload(BaseModel):
    """Body of ``POST /result`` (the old ExaWorks testing-service format)."""

    model_config = ConfigDict(extra="allow")

    id: str | int = Field(description="site name")
    key: str = Field(description="'<key_id>:<secret>' token or a registered legacy key")
    data: LegacyData


@with_config(ConfigDict(extra="forbid"))
class SiteVerdict(TypedDict):
    """The newest run of one suite with one version set at one site and variant."""

    # A dict, not a model: a matrix holds hundreds, and building a model costs more than reading one
    site: str
    facility: str
    variant: str
    status: Shown
    run: Annotated[int, Field(description="dashboard run number (/runs/<run>)")]
    run_id: str
    started_at: datetime
    uploaded: Annotated[dict[str, str | None], Field(description="the versions as the run uploaded them")]


class VersionSet(_Out):
    """One combination of the suite's components' versions (normal form, ``exaworks_sdk.versions``)."""

    versions: dict[str, str | None] = Field(description="component → normalised version; null: not found")
    pinned_in: list[str] = Field(description="install variants whose manifest pins are exactly this set")
    known_good: bool = Field(description="the newest run at some site passed, and at none failed")
    last_run_at: datetime
    sites: list[SiteVerdict]
    pip_constraints: list[str] = Field(description="pip constraints lines for this set")
    spack_constraints: list[str] = Field(description="Spack packages.yaml requirements for this set")


class CompatSuite(_Out):
    suite: str
    level: str = Field(description="L0: a component suite; L1: an integration suite")
    pair: bool = Field(description="one of the integration pairs the SDK promises")
    components: list[str]
    sets: list[VersionSet] = Field(description="newest first")


class SetsCut(_Out):
    site: str
    variant: str
    sets: int = Field(description="how many component sets this site and variant ran in the window")
    shown: int = Field(description="how many of them, the newest, the matrix shows")


class CompatOut(_Out):
    generated_at: datetime
    days: int = Field(description="runs of the last this many days are read")
    suites: list[CompatSuite]
    cut: list[SetsCut] = Field(default_factory=list, description=(
        "sites and variants that ran more component sets in the window than the matrix shows of one; "
        "only their newest sets are in it"))


class FactChange(_Out):
    """A fact every first-failing run shares that none of the last passing runs had."""

    kind: Literal["component", "environment"]
    name: str
    before: list[str] = Field(description="its values in the last passing runs")
    after: str = Field(description="its value in every first-failing run")


class FailureGroup(_Out):
    fingerprint: str = Field(description="sha256 prefix of the normalised message and traceback shape")
    message: str = Field(description="one failing test's message, as uploaded")
    tests: list[str] = Field(description="suite::test ids failing this way (the first 50, sorted)")
    test_count: int = Field(description="how many different tests fail this way")
    sites: list[str]
    count: int = Field(description="failing test results in the newest runs of its cells")
    first_seen: datetime = Field(description="when the first of its cells' failure streaks began (its first failing run)")
    last_seen: datetime = Field(description="the start of its newest failing run")
    runs: list[int] = Field(description="its cells' newest runs, as dashboard run numbers, newest first (at most 20)")
    changes: list[FactChange]
    attribution: Literal["component", "facility", "unknown"]
    explanation: str


class SiteCut(_Out):
    site: str
    since: datetime = Field(description="the start of the oldest run read of this site: its cells whose newest run "
                                        "is older are not counted")
    read: int = Field(description="how many of the site's failed tests were read (the limit)")


class FailuresOut(_Out):
    generated_at: datetime
    days: int = Field(description="cells whose newest run started longer ago are left out")
    page: int
    per_page: int
    total: int = Field(description="failure groups, on every page")
    pages: int
    groups: list[FailureGroup] = Field(description="this page's groups, most sites first, then most failures")
    cut: list[SiteCut] = Field(default_factory=list, description=(
        "sites whose failing tests reached what the page reads of one site: their counts start at "
        "`since`; the other sites' failures are read in full"))


class _DigestCell(_Out):
    site: str
    variant: str
    suite: str


class DigestItem(_DigestCell):
    test_id: str
    run: int = Field(description="the dashboard run number where it was seen (/runs/<run>)")
    fingerprint: str | None = None


class DigestCut(_DigestCell):
    run: int = Field(description="the dashboard run number of the cell's newest run")
    failing: int = Field(description="how many tests fail in that run")
    listed: int = Field(description="how many of them, the first by name, the digest lists and compares")


class DigestSite(_Out):
    site: str
    failing: int = Field(description="how many tests fail in the site's cells' newest runs")
    cells: int = Field(description="in how many cells (variant, suite)")
    listed: int = Field(description="how many of them the digest lists and compares: each cell's first ones")


class DigestOut(_Out):
    id: int
    created_at: datetime
    since: datetime | None = Field(description="the previous digest's time; null for the first")
    new: list[DigestItem] = Field(description="failing now, not in the previous digest")
    persistent: list[DigestItem] = Field(description="failing now and in the previous digest")
    fixed: list[DigestItem] = Field(description="in the previous digest, not failing now")
    cut: list[DigestCut] = Field(default_factory=list,
                                 description="listed cells with more failing tests than one digest lists")
    crowded: list[DigestSite] = Field(default_factory=list,
                                      description="sites with more failing tests than one digest lists of a site")


class ReleaseCell(AttestedCell):
    """An attested cell, with the number of its run on this dashboard (/runs/<local_run>)."""

    local_run: int | None = Field(None, description="this dashboard's number of the cited run")


class ReleaseBrief(_Out):
    version: str
    release: str
    ready: bool
    checked_at: datetime = Field(description="when `sdk release check` read the dashboard")
    recorded_at: datetime = Field(description="when this dashboard accepted the attestation")
    manifest_digest: str
    counts: dict[str, int] = Field(description="cells per state: green, red, pin mismatch, stale, missing, excluded")


class ReleaseList(_Out):
    releases: list[ReleaseBrief] = Field(description="newest first")


class ReleaseOut(ReleaseBrief):
    dashboard: str = Field(description="the dashboard the check read")
    days: int = Field(description="a cell's run had to be this recent")
    cells: list[ReleaseCell]
    runs: dict[str, AttestedRun] = Field(description="each cited run by client run id, with its lockfile")
