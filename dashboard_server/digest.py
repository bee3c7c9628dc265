"""The failure digest: which failures are new, which persist and which were fixed since the
previous digest, so a maintainer reads the changes of a day instead of the whole summary.

``sdk-dashboard digest`` (run by a cron or CI schedule) makes one: it reads the failing tests of
every summary cell's newest run (``latest_results``, so its cost does not grow with history; at
most ``MAX_TESTS_PER_CELL`` of one cell and ``MAX_TESTS_PER_SITE`` of one site, so one site's
broken install does not make it huge), compares them with the previous digest's, stores the result in ``digests`` and, when the
deployment configures it (off by default), sends it as a JSON POST to a webhook (Slack or
Mattermost style: ``{"text": …}``) and by email over SMTP. The newest digest is the ``/digest/``
page and ``GET /api/v1/digest``.
"""

from __future__ import annotations

import smtplib
from collections import Counter
from email.message import EmailMessage
from typing import Any, NamedTuple

import requests
from sqlalchemy import case, func, select, tuple_
from sqlalchemy.orm import Session

from exaworks_sdk.status import FAILING

from .db import IN_CELLS, chunks
from .exceptions import NotFound
from .models import Digest, LatestResult, Site, TestResultRow, utcnow
from .schemas import DigestCut, DigestItem, DigestOut, DigestSite


def _key(item: DigestItem) -> str:
    return _test_key(item.site, item.variant, item.suite, item.test_id)


def _test_key(site: str, variant: str, suite: str, test_id: str) -> str:
    return "\t".join([site, variant, suite, test_id])


MAX_TESTS_PER_CELL = 50  # of one cell (site, variant, suite): a broken install fails a whole suite
MAX_TESTS_PER_SITE = 100  # of one site: its cells take turns, so each keeps its first tests


class Failing(NamedTuple):
    items: dict[str, DigestItem]  # by key
    cut: list[DigestCut]  # listed cells with more failing tests than listed
    crowded: list[DigestSite]  # sites with more failing tests than listed


def failing_now(db: Session) -> Failing:
    """The failing tests of every cell's newest run: of one cell at most ``MAX_TESTS_PER_CELL``,
    the first by name; of one site at most ``MAX_TESTS_PER_SITE``, its cells' first tests before
    any cell's later ones. A site whose JUnit report fails 100,000 cases, or whose 10,000 suites
    all fail, would otherwise make a digest of megabytes, stored, posted and shown to everyone;
    such cells and sites are counted instead."""
    cell = (LatestResult.site_id, LatestResult.variant, TestResultRow.suite)
    in_cell = (
        select(LatestResult.site_id, Site.name.label("site"), LatestResult.variant, TestResultRow.suite,
               TestResultRow.test_id, TestResultRow.run_id, TestResultRow.fingerprint,
               func.row_number().over(partition_by=cell, order_by=TestResultRow.test_id).label("n"),
               func.count().over(partition_by=cell).label("failing"),
               func.count().over(partition_by=LatestResult.site_id).label("site_failing"))
        .select_from(LatestResult).join(Site, Site.id == LatestResult.site_id)
        .join(TestResultRow, (TestResultRow.run_id == LatestResult.run_id)
              & (TestResultRow.suite == LatestResult.suite))
        .where(TestResultRow.status.in_([s.value for s in FAILING]))
    ).subquery()
    in_site = (
        select(in_cell,
               func.row_number().over(partition_by=in_cell.c.site_id,
                                      order_by=(in_cell.c.n, in_cell.c.variant, in_cell.c.suite)).label("m"),
               func.sum(case((in_cell.c.n == 1, 1), else_=0)).over(partition_by=in_cell.c.site_id).label("cells"),
               func.count().over(partition_by=in_cell.c.site_id).label("listable"))
        .where(in_cell.c.n <= MAX_TESTS_PER_CELL)
    ).subquery()
    rows = db.execute(
        select(in_site.c.site, in_site.c.variant, in_site.c.suite, in_site.c.test_id, in_site.c.run_id,
               in_site.c.fingerprint, in_site.c.failing, in_site.c.site_failing, in_site.c.cells, in_site.c.listable)
        .where(in_site.c.m <= MAX_TESTS_PER_SITE)
        .order_by(in_site.c.site, in_site.c.variant, in_site.c.suite, in_site.c.test_id)).tuples()
    items: dict[str, DigestItem] = {}
    cells: dict[tuple[str, str, str], DigestCut] = {}
    sites: dict[str, DigestSite] = {}
    listable: dict[str, int] = {}  # of a site, within the cells' limit: more than listed when the site's was reached
    for site, variant, suite, test_id, run, fp, failing, site_failing, site_cells, site_listable in rows:
        item = DigestItem(site=site, variant=variant, suite=suite, test_id=test_id, run=run, fingerprint=fp)
        items[_key(item)] = item
        cells.setdefault((site, variant, suite), DigestCut(site=site, variant=variant, suite=suite, run=run,
                                                           failing=failing, listed=0)).listed += 1
        sites.setdefault(site, DigestSite(site=site, failing=site_failing, cells=site_cells, listed=0)).listed += 1
        listable[site] = site_listable
    return Failing(items, [c for c in cells.values() if c.failing > c.listed],
                   [s for s in sites.values() if listable[s.site] > s.listed])


def _still_failing(db: Session, items: list[DigestItem]) -> set[str]:
    """The keys of these tests that fail in their cell's newest run, listed or not: one read per
    cell, through the run's failed tests (``ix_test_results_failing``)."""
    tests: dict[tuple[str, str, str], list[str]] = {}
    for item in items:
        tests.setdefault((item.site, item.variant, item.suite), []).append(item.test_id)
    newest: list[tuple[str, str, str, int]] = []
    for cells in chunks(sorted(tests), IN_CELLS):
        newest += db.execute(select(Site.name, LatestResult.variant, LatestResult.suite, LatestResult.run_id)
                             .join(Site, Site.id == LatestResult.site_id)
                             .where(tuple_(Site.name, LatestResult.variant, LatestResult.suite).in_(cells))).tuples()
    out: set[str] = set()
    for site, variant, suite, run in newest:
        for part in chunks(sorted(tests[(site, variant, suite)])):
            out.update(_test_key(site, variant, suite, test_id) for test_id in db.scalars(
                select(TestResultRow.test_id).where(
                    TestResultRow.run_id == run, TestResultRow.fingerprint.is_not(None), TestResultRow.suite == suite,
                    TestResultRow.test_id.in_(part), TestResultRow.status.in_([s.value for s in FAILING]))))
    return out


def _out(row: Digest) -> DigestOut:
    return DigestOut.model_validate({"id": row.id, "created_at": row.created_at, **row.body})


def make_digest(db: Session) -> DigestOut:
    """Compare the failures now with the previous digest's, and store the result. A test that
    is no longer listed is fixed unless it still fails unlisted: of a cell or site with more
    failures than listed, it is looked up in its cell's newest run (``_still_failing``)."""
    previous = db.scalar(select(Digest).order_by(Digest.id.desc()).limit(1))
    before = {key: DigestItem.model_validate(item) for key, item in (previous.failing if previous else {}).items()}
    now, cut, crowded = failing_now(db)
    partly = {(c.site, c.variant, c.suite) for c in cut}
    crowded_sites = {c.site for c in crowded}
    gone = [before[k] for k in sorted(before.keys() - now.keys())]
    failing = _still_failing(db, [i for i in gone if i.site in crowded_sites or (i.site, i.variant, i.suite) in partly])
    body: dict[str, Any] = {
        "since": previous.created_at.isoformat() if previous else None,
        "new": [now[k].model_dump() for k in sorted(now.keys() - before.keys())],
        "persistent": [now[k].model_dump() for k in sorted(now.keys() & before.keys())],
        "fixed": [i.model_dump() for i in gone if _key(i) not in failing],
        "cut": [c.model_dump() for c in cut],
        "crowded": [c.model_dump() for c in crowded],
    }
    row = Digest(created_at=utcnow(), failing={k: v.model_dump() for k, v in now.items()}, body=body)
    db.add(row)
    db.flush()
    return _out(row)


def latest(db: Session) -> DigestOut:
    row = db.scalar(select(Digest).order_by(Digest.id.desc()).limit(1))
    if row is None:
        raise NotFound("no digest yet: run `sdk-dashboard digest`")
    return _out(row)


class PageList(NamedTuple):
    title: str
    total: int  # tests in the list, folded ones included
    items: list[DigestItem]  # shown one per row
    folded: list[tuple[str, int, int]]  # crowded sites: (site, tests, cells), one row each


def page_lists(digest: DigestOut, site: str | None = None) -> list[PageList]:
    """The digest page's new, persistent and fixed lists. A crowded site's tests are one row of
    each list, linking to that site's own view (``site``), which lists them all: a site that
    fails everything does not make the page that every maintainer reads a hundred rows longer."""
    crowded = set() if site else {c.site for c in digest.crowded}
    out = []
    for title, items in (("New", digest.new), ("Persistent", digest.persistent), ("Fixed", digest.fixed)):
        if site:
            items = [i for i in items if i.site == site]
        folded: dict[str, set[tuple[str, str]]] = {}
        tests: Counter[str] = Counter()
        shown = []
        for item in items:
            if item.site in crowded:
                folded.setdefault(item.site, set()).add((item.variant, item.suite))
                tests[item.site] += 1
            else:
                shown.append(item)
        out.append(PageList(title, len(items), shown,
                            [(name, tests[name], len(cells)) for name, cells in sorted(folded.items())]))
    return out


MAX_TESTS_LISTED = 3  # of one cell: more are one line with their number
MAX_TEXT = 12_000  # characters: Mattermost refuses posts over 16,383 by default, Slack cuts at 40,000


def _lines(items: list[DigestItem], base: str, failing: dict[tuple[str, str, str], int]) -> list[str]:
    """One line per failing test; one line per cell (site, variant, suite) with more than
    ``MAX_TESTS_LISTED``: a broken install fails a whole suite, and its thousand tests are one fact
    (``failing``: how many, of the cells with more than the digest lists)."""
    cells: dict[tuple[str, str, str], list[DigestItem]] = {}
    for item in items:
        cells.setdefault((item.site, item.variant, item.suite), []).append(item)
    lines = []
    for (site, variant, suite), found in cells.items():
        if len(found) <= MAX_TESTS_LISTED:
            lines += [f"- {site} {variant} {suite}::{i.test_id} {base}/runs/{i.run}" for i in found]
        else:
            named = ", ".join(i.test_id for i in found[:MAX_TESTS_LISTED])
            of = f" of {failing[(site, variant, suite)]:,} failing" if (site, variant, suite) in failing else ""
            lines.append(f"- {site} {variant} {suite}: {len(found):,} tests{of} ({named}, …) {base}/runs/{found[0].run}")
    return lines


def as_text(digest: DigestOut, base_url: str) -> str:
    """The digest in plain words with links, for a chat message or an email: at most
    ``MAX_TEXT`` characters, the rest left to the digest page."""
    base = base_url.rstrip("/")
    over = [f"{len(found)} {what}" for found, what in ((digest.cut, "cells"), (digest.crowded, "sites")) if found]
    lines = [f"ExaWorks SDK dashboard digest: {len(digest.new)} new, {len(digest.persistent)} persistent, "
             f"{len(digest.fixed)} fixed failures" + (f" since {digest.since:%Y-%m-%d %H:%M} UTC" if digest.since else "")
             + (f" ({' and '.join(over)} fail more tests than listed)" if over else "")]
    if digest.crowded:  # their tests are on the page, not in the message
        lines += ["Too many to list:", *(f"- {c.site}: {c.failing:,} failing tests in {c.cells:,} cells "
                                          f"{base}/sites/{c.site}" for c in digest.crowded)]
    crowded = {c.site for c in digest.crowded}
    failing = {(c.site, c.variant, c.suite): c.failing for c in digest.cut}
    for title, items in (("New", digest.new), ("Persistent", digest.persistent), ("Fixed", digest.fixed)):
        shown = [i for i in items if i.site not in crowded]
        if shown:
            lines += [f"{title}:", *_lines(shown, base, failing)]
    kept, size = [], 0
    for n, line in enumerate(lines):
        if size + len(line) + 1 > MAX_TEXT - 200:  # room for the last line
            kept.append(f"… and {len(lines) - n:,} more lines: {base}/digest/")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept) + "\n"


def send(digest: DigestOut, config: dict[str, Any]) -> list[str]:
    """Send through what the deployment configured; returns where it went."""
    text = as_text(digest, config.get("DASHBOARD_URL") or "")
    sent = []
    if config.get("DIGEST_WEBHOOK_URL"):
        response = requests.post(config["DIGEST_WEBHOOK_URL"], json={"text": text, "digest": digest.model_dump(mode="json")},
                                 timeout=30)
        response.raise_for_status()
        sent.append("webhook")
    if config.get("DIGEST_SMTP_HOST") and config.get("DIGEST_EMAIL_TO"):
        message = EmailMessage()
        message["Subject"] = text.splitlines()[0]
        message["From"] = config.get("DIGEST_EMAIL_FROM") or "sdk-dashboard@localhost"
        message["To"] = config["DIGEST_EMAIL_TO"]
        message.set_content(text)
        with smtplib.SMTP(config["DIGEST_SMTP_HOST"], int(config.get("DIGEST_SMTP_PORT") or 25), timeout=30) as smtp:
            smtp.send_message(message)
        sent.append("email")
    return sent
