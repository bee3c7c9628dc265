"""Headless Chromium (Debian's) opens the summary, follows a cell to its run, and sees what a
person would see. Saves screenshots of the summary, site and run pages for the docs, and of the
summary of a large deployment (30 sites × 20 suites) in a 1,400-pixel window."""

from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from dashboard_server import create_app
from dashboard_server.models import Site
from tests.support.dashboard import add_site, issue_token, make_run, now, upload, write

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "_static" / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FAILURE_LOG = ("tests/test_parsl.py::test_htex_mpi \x1b[31mFAILED\x1b[0m\n"
               "\x1b[1mE   parsl.executors.errors.BadStateException: Executor htex_mpi failed\x1b[0m\n"
               "srun: error: Unable to allocate resources: Invalid account or account/partition\n")


def seed(app) -> None:
    """A small realistic picture: three facilities, several suites, variants and history."""
    client = app.test_client()
    add_site(app, "local-linux", facility="local", machine="ci-runner", scheduler="none")
    add_site(app, "llnl-dane", facility="LLNL", machine="dane", scheduler="slurm")
    add_site(app, "nersc-perlmutter", facility="NERSC", machine="perlmutter", scheduler="slurm",
             expected_interval_hours=24)
    tokens = {site: issue_token(app, site) for site in ("local-linux", "llnl-dane", "nersc-perlmutter")}
    suites = ["psij", "parsl", "radical-pilot", "maestro", "flux"]
    start = now() - timedelta(days=12)
    for day in range(12):
        when = start + timedelta(days=day)
        for suite in suites:
            ok = {f"test_{suite}_{i}": "passed" for i in range(4)}
            upload(client, tokens["local-linux"], make_run(tests=ok, suite=suite, started_at=when))
            dane = dict(ok)
            if suite == "parsl" and day >= 9:
                dane["test_htex_mpi"] = "failed"
            if suite == "flux" and day % 3 == 0:
                dane["test_flux_submit"] = "failed"
            upload(client, tokens["llnl-dane"], make_run("llnl-dane", tests=dane, suite=suite,
                                                         variant="spack", started_at=when,
                                                         output=FAILURE_LOG))
    old = now() - timedelta(days=3)
    upload(client, tokens["nersc-perlmutter"], make_run("nersc-perlmutter", suite="psij", started_at=old))
    upload(client, tokens["nersc-perlmutter"],
           make_run("nersc-perlmutter", suite="parsl", finished=False, started_at=old))

    def went_quiet(session):  # the last report arrived three days ago
        session.query(Site).filter_by(name="nersc-perlmutter").one().last_seen_at = old

    write(app, went_quiet)


# 30 sites: several machines per facility, the site registry's among them (so some expected
# cells never reported), one or more install variants each
MACHINES = {
    "LLNL": ["dane", "tioga", "lassen", "ruby", "quartz"], "NERSC": ["perlmutter", "muller", "alvarez"],
    "ORNL": ["frontier", "andes", "summit", "defiant"], "ANL": ["polaris", "aurora", "sophia", "crux"],
    "TACC": ["frontera", "stampede3", "vista", "lonestar6"], "SDSC": ["expanse", "cosmos"],
    "NCSA": ["delta", "deltaai"], "PNNL": ["deception"], "BNL": ["institutional"], "UO": ["frank"],
    "PURDUE": ["anvil"], "LOCAL": ["linux", "macos"],
}
EXTRA = ["dragon", "globus-compute", "parsl-globus", "rct-ensemble"]  # 16 registry suites + 4 = 20


def seed_wide(app, runs: int = 20) -> list[str]:
    """30 sites × 20 suites with a full sparkline of history: each (site, variant) runs every
    day; some sites do not run the integration pairs, some suites fail at some sites, one
    errors, one run is still going."""
    from dashboard_server.registry import registry

    suites = [*registry(), *EXTRA]
    client = app.test_client()
    sites = [(facility, machine) for facility, machines in MACHINES.items() for machine in machines]
    assert len(sites) == 30 and len(suites) == 20
    start = now() - timedelta(days=runs)
    for i, (facility, machine) in enumerate(sites):
        name = f"{facility.lower()}-{machine}"
        add_site(app, name, facility=facility, machine=machine, scheduler=["slurm", "pbs", "flux", "lsf"][i % 4])
        token = issue_token(app, name)
        variants = ["spack", "pip", "container"][: 1 + i % 3]
        for v, variant in enumerate(variants):
            ran = suites if (i + v) % 4 else [s for s in suites if registry().get(s, None) is None
                                              or registry()[s].level == "L0"]
            for day in range(runs):
                status = {}
                for k, suite in enumerate(ran):
                    failing = (i * 7 + k * 3 + v) % 13 == 0 and day >= runs - 4  # broke four days ago
                    flaky = (i + k) % 9 == 0 and day % 3 == 0
                    first = "error" if (i, v, k) == (4, 0, 2) and day == runs - 1 else (
                        "failed" if failing or flaky else "passed")
                    status[suite] = {f"test_{suite.replace('-', '_')}_0": first,
                                     f"test_{suite.replace('-', '_')}_1": "passed"}
                unfinished = (i, v, day) == (9, 0, runs - 1)
                upload(client, token, make_run(name, variant=variant, suites=status, finished=not unfinished,
                                               started_at=start + timedelta(days=day, minutes=i),
                                               output=FAILURE_LOG))
    return suites


@contextmanager
def serving(app):
    """The app on a local port in a thread: its base URL, then the server stopped and the engine closed."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        app.extensions["sdk_dashboard"]["engine"].dispose()


@pytest.fixture
def live_server(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'browser.sqlite'}", "TESTING": True})
    seed(app)
    with serving(app) as url:
        yield url


@pytest.fixture
def wide_server(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'wide.sqlite'}", "TESTING": True,
                      "EXTRA_SUITES": ",".join(EXTRA)})
    seed_wide(app)
    with serving(app) as url:
        yield url


@pytest.fixture
def page(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"), executable_path=CHROMIUM,
            headless=True, args=FLAGS, viewport={"width": 1400, "height": 900},
        )
        yield context.new_page()
        context.close()


def test_summary_to_run(live_server, page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(live_server + "/")
    assert page.title() == "ExaWorks SDK dashboard"
    assert page.locator("h1").inner_text() == "Latest results"
    facilities = page.locator("tr.facility th").all_inner_texts()
    assert [f.strip().upper() for f in facilities] == ["LLNL", "NERSC", "LOCAL"]
    dane = page.locator('tr[data-site="llnl-dane"][data-variant="spack"]')
    assert dane.locator("td.cell-failed").count() >= 1
    assert dane.locator("svg.spark").count() == 5
    perlmutter = page.locator('tr[data-site="nersc-perlmutter"][data-variant="pip"]')
    assert "STALE" in perlmutter.inner_text()
    assert perlmutter.locator("td.cell-unfinished").count() == 1
    # the registry's other variants of these machines never reported: rows of missing cells
    assert page.locator('tr[data-site="llnl-dane"][data-variant="pip"] td.cell-missing').count() >= 1
    groups = [t.strip().upper() for t in page.locator("tr.groups th.group").all_inner_texts()]
    assert groups == ["COMPONENT SUITES (L0)", "INTEGRATION PAIRS (L1)"]
    page.screenshot(path=str(SCREENSHOTS / "summary.png"), full_page=True)

    cell = dane.locator("td.cell-failed a", has_text="failed").first
    cell_title = cell.get_attribute("title")
    assert cell_title.startswith("parsl at llnl-dane")
    cell.click()
    page.wait_for_url("**/runs/*")
    assert "at llnl-dane" in page.locator("h1").inner_text()
    assert page.locator(".run-status .status").inner_text() == "failed"
    failing_row = page.locator("tr.test-failed")
    assert failing_row.count() == 1 and "test_htex_mpi" in failing_row.inner_text()
    log = page.locator("pre.log").first
    assert "Executor htex_mpi failed" in log.inner_text()
    assert "\x1b" not in log.inner_text() and "[31m" not in log.inner_text()
    red = log.locator("span.ansi-fg-red").first
    assert red.inner_text() == "FAILED"
    assert red.evaluate("e => getComputedStyle(e).color") == "rgb(255, 107, 107)"
    assert "parsl" in page.locator("table.list").first.inner_text()  # component versions
    page.screenshot(path=str(SCREENSHOTS / "run.png"), full_page=True)

    page.locator("h1 a", has_text="llnl-dane").click()
    page.wait_for_url("**/sites/llnl-dane")
    assert page.locator("h1").inner_text().startswith("llnl-dane")
    assert "page 1 of 2" in page.locator(".pager").inner_text()  # 60 runs, 50 per page
    page.screenshot(path=str(SCREENSHOTS / "site.png"), full_page=True)

    page.locator("a[rel=next]").click()
    assert "page 2 of 2" in page.locator(".pager").inner_text()


def test_unfinished_run_reads_as_interrupted(live_server, page):
    page.goto(live_server + "/sites/nersc-perlmutter")
    page.locator("table.runs a").first.click()
    page.wait_for_url("**/runs/*")
    text = page.locator("main").inner_text()
    assert "unfinished / interrupted" in text
    assert page.locator(".run-status .status").inner_text() == "unfinished"


def test_compatibility_and_failures_pages(live_server, page):
    """The matrix and the failures page as a maintainer opens them from the header."""
    page.goto(live_server + "/")
    page.locator("header nav a", has_text="Compatibility").click()
    page.wait_for_url("**/compat/")
    assert page.locator("h1").inner_text().startswith("Compatibility matrix")
    parsl = page.locator("#suite-parsl table.compat tbody tr")
    assert parsl.count() == 1 and "2026.10.26" in parsl.inner_text()  # one version set, at two sites
    assert "pinned: pip" in parsl.inner_text() and "llnl-dane" in parsl.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "compat.png"), full_page=True)

    page.locator("header nav a", has_text="Failures").click()
    page.wait_for_url("**/failures/")
    groups = page.locator("section.failure-group")
    assert groups.count() >= 1
    assert "parsl::test_htex_mpi" in page.locator("main").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "failures.png"), full_page=True)


def _attest(app) -> str:
    """Record an attestation of the seeded runs, as `sdk release check --json` writes one: the
    local psij cell green, the Dane parsl cell red, Perlmutter's stale, one exclusion."""
    from sqlalchemy import select

    from dashboard_server import releases
    from dashboard_server.models import Run, SuiteRun
    from test_harness.installed import pip_freeze

    def newest(session, site: str, suite: str):
        return session.execute(select(Run).join(Site).join(SuiteRun, SuiteRun.run_id == Run.id)
                               .where(Site.name == site, SuiteRun.suite == suite)
                               .order_by(Run.started_at.desc()).limit(1)).scalar_one()

    def work(session):
        local, dane = newest(session, "local-linux", "psij"), newest(session, "llnl-dane", "parsl")
        cell = {"facility": "", "detail": "", "url": None}
        cells = [
            {**cell, "site": "local-linux", "facility": "local", "variant": "pip", "suite": "psij", "state": "green",
             "detail": "passed", "run": local.id, "run_id": local.run_id, "started_at": local.started_at.isoformat(),
             "versions": {"psij-python": "0.9.11"}},
            {**cell, "site": "llnl-dane", "facility": "llnl", "variant": "spack", "suite": "parsl", "state": "red",
             "detail": "failed", "run": dane.id, "run_id": dane.run_id, "started_at": dane.started_at.isoformat(),
             "versions": {"parsl": "2026.10.26"}},
            {**cell, "site": "nersc-perlmutter", "facility": "nersc", "variant": "pip", "suite": "psij",
             "state": "stale", "detail": "last reported 3 days ago, more than 1 days ago"},
            {**cell, "site": "llnl-dane", "facility": "llnl", "variant": "pip", "suite": "flux", "state": "excluded",
             "detail": "Flux and Swift/T have no PyPI channel: the pip variant cannot provide them"},
        ]
        runs = {r.run_id: {"run": r.id, "site": site, "variant": variant, "started_at": r.started_at.isoformat(),
                           "status": "passed" if r is local else "failed", "components": r.components,
                           "installed": {"pip": pip_freeze()} if r is local else None}
                for r, site, variant in ((local, "local-linux", "pip"), (dane, "llnl-dane", "spack"))}
        data = {"release": "exaworks-sdk 2026.11", "version": "2026.11", "manifest_digest": "sha256:" + "ab" * 32,
                "dashboard": "http://127.0.0.1:8000", "days": 1, "checked_at": now().isoformat(), "ready": False,
                "cells": cells, "runs": runs}
        return releases.record(session, data).version

    return write(app, work)


def test_release_page(tmp_path, page):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'release.sqlite'}", "TESTING": True})
    seed(app)
    version = _attest(app)
    with serving(app) as url:
        page.goto(f"{url}/")
        page.locator("header nav a", has_text="Releases").click()
        page.wait_for_url("**/releases/")
        page.locator("table.releases a", has_text="exaworks-sdk 2026.11").click()
        page.wait_for_url(f"**/releases/{version}")
        badge = page.locator("h1 img.release-badge")
        assert badge.evaluate("img => img.naturalWidth") > 0  # the SVG badge loaded
        headings = page.locator("main h2").all_inner_texts()
        assert headings[:3] == ["Red (1)", "Stale (1)", "Green (1)"] and "Excluded (1)" in headings
        red = page.locator("table.release-cells tr.state-red")
        assert "llnl-dane" in red.inner_text() and red.locator("a").count() == 1
        lockfile = page.locator("details.lockfile", has_text="local-linux")
        lockfile.locator("summary").click()
        assert "pydantic==" in lockfile.inner_text()
        assert "no lockfile" in page.locator("details.lockfile", has_text="llnl-dane").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "release.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1400  # the freeze wraps in columns


MIN_FONT_PX, MIN_CELL_PX = 10, 40

# Everything measured in the page, in CSS pixels of the 1,400 × 900 window.
MEASURE = """() => {
  const box = e => e.getBoundingClientRect();
  const table = document.querySelector('table.matrix');
  const scroller = table.parentElement;
  const heads = [...table.querySelectorAll('thead tr:last-child th[scope=col]')].map(th => {
    const text = th.querySelector('.label') || th;
    const r = box(text);
    return {text: th.innerText.trim(), w: r.width, h: r.height, font: parseFloat(getComputedStyle(text).fontSize),
            clipped: text.scrollWidth > text.clientWidth + 1 || text.scrollHeight > text.clientHeight + 1};
  });
  const cells = [...table.querySelectorAll('tbody td.cell')].map(td => box(td).width);
  const groups = [...table.querySelectorAll('tr.groups th.group')].map(th => ({text: th.innerText.trim(),
                                                                               w: box(th).width}));
  const siteCells = [...table.querySelectorAll('tbody th[scope=row]')];
  const badges = [...table.querySelectorAll('tbody td.cell .status')].map(b => parseFloat(getComputedStyle(b).fontSize));
  return {docWidth: document.documentElement.scrollWidth, viewport: window.innerWidth,
          tableRight: box(table).right, scrolls: scroller.scrollWidth > scroller.clientWidth,
          siteSticky: siteCells.every(th => getComputedStyle(th).position === 'sticky'),
          heads, cells, groups, badgeFont: Math.min(...badges),
          rows: table.querySelectorAll('tbody tr[data-site]').length};
}"""


def test_summary_30_sites_by_20_suites_fits_1400_px(wide_server, page):
    """The summary of a large deployment stays readable in a 1,400-pixel-wide window: nothing
    runs off the page, every column header is legible and every cell keeps a usable width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(wide_server + "/")
    m = page.evaluate(MEASURE)
    assert m["viewport"] == 1400 and m["rows"] >= 30 and len(m["heads"]) == 20
    assert len({r.split("/")[0] for r in page.locator("tbody tr[data-site]").evaluate_all(
        "rows => rows.map(r => r.dataset.site)")}) == 30
    # no horizontal overflow: neither the document nor the table's own scrolling box (which
    # would keep the site column in view for a still larger deployment)
    assert m["docWidth"] <= 1400, f"the page is {m['docWidth']} px wide"
    assert not m["scrolls"] and m["tableRight"] <= 1400, f"the table ends at {m['tableRight']} px"
    assert m["siteSticky"]
    # the column groups are there and wide enough to read
    assert [g["text"].upper() for g in m["groups"]][:2] == ["COMPONENT SUITES (L0)", "INTEGRATION PAIRS (L1)"]
    assert all(g["w"] >= 3 * MIN_CELL_PX for g in m["groups"][:2])
    # every suite's header shows its whole name at a legible size
    for head in m["heads"]:
        assert head["w"] > 0 and head["h"] > 0 and not head["clipped"], head
        assert head["font"] >= MIN_FONT_PX, head
    assert {h["text"] for h in m["heads"]} >= set(EXTRA) | {"swift-t-in-flux", "radical-pilot"}
    assert min(m["cells"]) >= MIN_CELL_PX, f"narrowest cell {min(m['cells'])} px"
    assert m["badgeFont"] >= MIN_FONT_PX
    # some cells failed, errored, are still running or never reported
    for kind in ("failed", "error", "unfinished", "missing"):
        assert page.locator(f"td.cell-{kind}").count() >= 1, kind
    page.screenshot(path=str(SCREENSHOTS / "summary-30x20.png"), full_page=True)
