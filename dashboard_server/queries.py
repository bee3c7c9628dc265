"""Read queries behind the pages and the JSON API; each returns a response model.

None of them scans stored history: the summary reads ``latest_results`` and a bounded slice of
``suite_runs`` per cell, run lists are paginated on an index, a run's tests are its own rows,
and a test's history walks its suite's runs newest-first. ``bench/pages.py`` measures this at
3K, 300K and 3M stored results.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session, aliased

from exaworks_sdk import status as rule
from exaworks_sdk.manifest.suites import LEVEL_TITLES
from exaworks_sdk.status import COUNTERS, Status

from .cells import cells
from .exceptions import NotFound
from .expected import expected, variants_of
from .folding import known_suites, other_cells
from .models import LatestResult, Run, Site, SuiteRun, TestResultRow, utcnow
from .params import page_count
from .registry import ordered
from .schemas import (
    CellOut,
    Change,
    Counts,
    FlakyGroup,
    HistoryEntry,
    RunDetail,
    RunOut,
    RunPage,
    SiteDetail,
    SiteOut,
    SuiteGroup,
    SuiteStreak,
    SummaryOut,
    SummaryRow,
    TestHistory,
    TestOut,
)
from .streaks import failure_streak, what_changed


def _counts(row: Any) -> dict[str, int]:
    return {name: int(getattr(row, name) or 0) for name in COUNTERS}


def _variants(db: Session, site_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    if site_ids:
        rows = db.execute(
            select(LatestResult.site_id, LatestResult.variant)
            .where(LatestResult.site_id.in_(site_ids))
            .distinct()
            .order_by(LatestResult.variant)
        )
        for site_id, variant in rows:
            found[site_id].append(variant)
    return found


def site_out(site: Site, variants: list[str]) -> SiteOut:
    """STALE counts from the last test result (``last_seen_at``): uploads of runs that ran no
    test move only ``last_contact_at``, so they cannot keep a broken site looking alive."""
    now = utcnow()
    interval = timedelta(hours=site.expected_interval_hours)
    stale = site.last_seen_at is None or now - site.last_seen_at > interval
    return SiteOut(
        name=site.name, facility=site.facility, machine=site.machine, scheduler=site.scheduler,
        expected_interval_hours=site.expected_interval_hours, last_seen_at=site.last_seen_at,
        last_contact_at=site.last_contact_at, stale=stale, variants=variants,
    )


def list_sites(db: Session) -> list[SiteOut]:
    sites = list(db.scalars(select(Site).order_by(Site.facility, Site.name)))
    variants = _variants(db, [s.id for s in sites])
    return [site_out(s, variants[s.id]) for s in sites]


def get_site(db: Session, name: str) -> Site:
    site = db.scalar(select(Site).where(Site.name == name))
    if site is None:
        raise NotFound(f"no site named {name!r}")
    return site


def summary(db: Session, history: int = 20) -> SummaryOut:
    """One row per (site, variant); a column per known suite that reported, and each row's
    other suites folded into its ``other`` cell, so no site can widen the matrix for everyone."""
    sites = list(db.scalars(select(Site).order_by(Site.facility, Site.name)))
    names = {s.id: s.name for s in sites}
    variants = _variants(db, list(names))
    known = known_suites()
    found = cells(db, list(names), names, history, suites=known)
    others = other_cells(db, list(names), known)
    by_row: dict[tuple[str, str], dict[str, CellOut]] = defaultdict(dict)
    for cell in found:
        by_row[(cell.site, cell.variant)][cell.suite] = cell
    rows = []
    cells_expected = expected()
    for site in sites:
        out = site_out(site, variants[site.id])
        registry_variants = [v for v in variants_of(site.name) if v not in variants[site.id]]
        for variant in [*variants[site.id], *registry_variants] or [""]:
            row_cells = by_row.get((site.name, variant), {})
            wanted = cells_expected.get((site.name, variant), {})
            rows.append(SummaryRow(
                site=out, variant=variant, cells=row_cells, other=others.get((site.id, variant)),
                missing=[s for s, why in wanted.items() if why is None and s not in row_cells and s in known],
                excluded={s: why for s, why in wanted.items() if why is not None and s not in row_cells}))
    suites = sorted({cell.suite for cell in found})
    shown = set(suites) | {s for row in rows for s in row.missing}
    groups = [SuiteGroup(level=level, title=LEVEL_TITLES.get(level, "Other known suites"), suites=names)
              for level, names in ordered(shown)]
    return SummaryOut(generated_at=utcnow(), suites=suites, rows=rows, groups=groups)


def site_detail(db: Session, name: str, history: int = 20) -> SiteDetail:
    """A site's own cells, every suite it reports (its own page: only it pays for its suites)."""
    site = get_site(db, name)
    variants = _variants(db, [site.id])
    return SiteDetail(site=site_out(site, variants[site.id]),
                      latest=cells(db, [site.id], {site.id: site.name}, history))


def _run_out(run: Run, site_name: str, counts: dict[str, int]) -> dict[str, Any]:
    return dict(
        id=run.id, site=site_name, run_id=run.run_id, generated_id=run.generated_id, source=run.source,
        variant=run.variant, assumed_utc=run.assumed_utc,
        pipeline_id=run.pipeline_id, branch=run.branch, commit=run.commit, hostname=run.hostname,
        sdk_version=run.sdk_version, started_at=run.started_at, finished_at=run.finished_at,
        status=rule.run_status(counts, run.finished_at is not None, run.reported_status),
        exit_code=run.exit_code, counts=Counts(**counts),
    )


def site_runs(db: Session, name: str, page: int = 1, per_page: int = 50) -> RunPage:
    site = get_site(db, name)
    total = db.scalar(select(func.count()).select_from(Run).where(Run.site_id == site.id)) or 0
    runs = list(db.scalars(
        select(Run).where(Run.site_id == site.id)
        .order_by(Run.started_at.desc(), Run.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ))
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    if runs:
        sums = db.execute(
            select(SuiteRun.run_id, *(func.sum(getattr(SuiteRun, c)).label(c) for c in COUNTERS))
            .where(SuiteRun.run_id.in_([r.id for r in runs]))
            .group_by(SuiteRun.run_id)
        )
        for row in sums:
            counts[row.run_id] = _counts(row)
    return RunPage(site=site.name, page=page, per_page=per_page, total=total,
                   pages=page_count(total, per_page),
                   runs=[RunOut(**_run_out(r, site.name, counts[r.id])) for r in runs])


MAX_ID = 2**31 - 1  # INTEGER primary keys; larger numbers cannot exist


def run_detail(db: Session, run_pk: int) -> RunDetail:
    run = db.get(Run, run_pk) if 0 < run_pk <= MAX_ID else None
    if run is None:
        raise NotFound(f"no run number {run_pk}")
    tests = list(db.scalars(
        select(TestResultRow).where(TestResultRow.run_id == run.id)
        .order_by(TestResultRow.suite, TestResultRow.test_id, TestResultRow.id)
    ))
    counts = dict.fromkeys(COUNTERS, 0)
    by_suite: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for test in tests:
        counts[test.status] += 1
        by_suite[test.suite][test.status] += 1
    finished = run.finished_at is not None
    return RunDetail(
        **_run_out(run, run.site.name, counts), environment=run.environment or {},
        components=run.components or {}, streaks=_streaks(db, run, tests),
        suites={suite: rule.in_run(c, finished) for suite, c in sorted(by_suite.items())},
        tests=[TestOut(suite=t.suite, test_id=t.test_id, status=Status(t.status), duration=t.duration,
                       started_at=t.started_at, message=t.message, output=t.output,
                       phases=t.phases or {}) for t in tests],
    )


def _streaks(db: Session, run: Run, tests: list[TestResultRow]) -> list[SuiteStreak]:
    """Where each suite failing in this run started failing, and what changed then."""
    failing = sorted({t.suite for t in tests if rule.is_failing(t.status)})
    out = []
    for suite in failing:
        streak = failure_streak(db, run.site_id, run.variant, suite, until=run.started_at)
        if streak is None:
            continue
        first = db.get(Run, streak.first_failing.run_id)
        last_pass = db.get(Run, streak.last_passing.run_id) if streak.last_passing else None
        changes = what_changed(last_pass, first) if first is not None and last_pass is not None else {}
        out.append(SuiteStreak(
            suite=suite, failing_since=streak.first_failing.started_at,
            first_failing_run=streak.first_failing.run_id,
            last_passing_run=last_pass.id if last_pass else None,
            changes=[Change(name=k, before=v[0], after=v[1]) for k, v in changes.items()],
        ))
    return out


def find_run(db: Session, site_name: str, run_id: str) -> list[int]:
    """Dashboard run numbers for a client run id at a site (legacy runs: one per branch and variant)."""
    site = get_site(db, site_name)
    return list(db.scalars(
        select(Run.id).where(Run.site_id == site.id, Run.run_id == run_id)
        .order_by(Run.id)
    ))


def flips(statuses: list[str]) -> int:
    """Pass/fail changes between consecutive results; skips and errors are ignored."""
    relevant = [s for s in statuses if s in (Status.PASSED, Status.FAILED)]
    return sum(1 for a, b in zip(relevant, relevant[1:], strict=False) if a != b)


def _test_in_runs(db: Session, test_id: str) -> tuple[Any, Any]:
    """The test's row in each ``suite_runs`` row: ``(entity, on clause)`` to join to, such that
    the planner walks the runs in index order, probes each run's rows and stops at the LIMIT,
    whatever it believes about the test's number of rows.

    Started from the test's rows instead (``ix_test_results_suite_test``), a page costs the
    test's whole history and grows with it. SQLite's planner, without statistics, starts there;
    wrapping the two name columns as ``col || ''`` leaves ``run_id`` the only indexable term.
    PostgreSQL's planner takes ``suite = s AND test_id = t`` as independent, so with ten suites
    it expects a tenth of the test's rows (466 for 5,974 at 300K results) and starts there too:
    27 ms instead of 2. A LATERAL subquery with ``OFFSET 0``, which it cannot flatten, makes it
    probe per run.
    """
    if db.get_bind().dialect.name == "sqlite":
        return TestResultRow, ((TestResultRow.run_id == SuiteRun.run_id)
                               & (TestResultRow.suite.concat("") == SuiteRun.suite)
                               & (TestResultRow.test_id.concat("") == test_id))
    per_run = (select(TestResultRow)
               .where(TestResultRow.run_id == SuiteRun.run_id, TestResultRow.suite == SuiteRun.suite,
                      TestResultRow.test_id == test_id)
               .offset(0).lateral("test_in_run"))
    return aliased(TestResultRow, per_run), true()


def history_page(db: Session, suite: str, test_id: str, page: int, per_page: int) -> Any:
    """One page of the test's results with their runs and sites, newest run first."""
    test, on = _test_in_runs(db, test_id)
    return (
        select(test, Run, Site.name)
        .select_from(SuiteRun)
        .join(test, on)
        .join(Run, Run.id == SuiteRun.run_id)
        .join(Site, Site.id == Run.site_id)
        .where(SuiteRun.suite == suite)
        .order_by(SuiteRun.started_at.desc(), test.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    )


def test_history(
    db: Session, suite: str, test_id: str, *, page: int = 1, per_page: int = 50,
    window: int = 10, threshold: int = 2,
) -> TestHistory:
    """One test across sites and time, newest run first.

    Results are found by walking the suite's runs newest-first (``suite_runs`` on the
    ``ix_suite_runs_suite_started`` index) and probing each run's rows, so a page costs what it
    shows, not the test's whole history; the flaky check walks each (site, variant) cell of the
    suite the same way, the cells coming from ``latest_results``.
    """
    total = db.scalar(
        select(func.count()).select_from(TestResultRow)
        .where(TestResultRow.suite == suite, TestResultRow.test_id == test_id)
    ) or 0
    if total == 0:
        raise NotFound(f"no results for test {test_id!r} in suite {suite!r}")
    rows = db.execute(history_page(db, suite, test_id, page, per_page)).all()
    entries = [
        HistoryEntry(site=name, variant=run.variant, run=run.id, run_id=run.run_id,
                     started_at=run.started_at, status=Status(result.status), duration=result.duration)
        for result, run, name in rows
    ]
    groups = []
    test, on = _test_in_runs(db, test_id)
    cells = db.execute(
        select(LatestResult.site_id, Site.name, LatestResult.variant)
        .join(Site, Site.id == LatestResult.site_id)
        .where(LatestResult.suite == suite)
        .order_by(Site.name, LatestResult.variant)
    ).all()
    for site_id, site_name, variant in cells:
        recent = list(db.scalars(
            select(test.status)
            .select_from(SuiteRun)
            .join(test, on)
            .where(SuiteRun.site_id == site_id, SuiteRun.variant == variant, SuiteRun.suite == suite)
            .order_by(SuiteRun.started_at.desc(), test.id.desc()).limit(window)
        ))
        if not recent:
            continue  # the suite ran there, this test never did
        n = flips(list(reversed(recent)))
        groups.append(FlakyGroup(site=site_name, variant=variant, flips=n, window=window, flaky=n > threshold))
    return TestHistory(
        suite=suite, test_id=test_id, flaky=any(g.flaky for g in groups), groups=groups,
        page=page, per_page=per_page, total=total, pages=page_count(total, per_page), entries=entries,
    )
