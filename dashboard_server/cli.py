"""Admin commands: ``flask --app dashboard_server <group> <command>`` or ``sdk-dashboard …``.

Tokens are printed once, when issued, and never again.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

import click
import requests
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from exaworks_sdk.manifest import ManifestError, SiteEntry, all_sites, find_site, load_sites, token_variable

from . import db as dbmod
from . import migrate, retention, tokens
from .admin_db import AdminGroup, open_database
from .deletion import Selection, delete_runs, select_runs
from .models import Site, Token, utcnow

SITE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")

db_cli = AdminGroup("db", help="Database schema.", upgrade=False)
sites_cli = AdminGroup("sites", help="Sites that report results.")
tokens_cli = AdminGroup("tokens", help="Per-site upload tokens.")
legacy_cli = AdminGroup("legacy-keys", help="Opaque keys of old runners (POST /result only).")
records_cli = AdminGroup("records", help="Load result records without going through HTTP.")
retention_cli = AdminGroup("retention", help="Drop old logs, keep statuses.")
runs_cli = AdminGroup("runs", help="Delete runs (a poisoned or mistaken upload).")
releases_cli = AdminGroup("releases", help="Release attestations (written by `sdk release check --json`).")


def _engine() -> Engine:
    engine: Engine = current_app.extensions["sdk_dashboard"]["engine"]
    return engine


def _site(session: Session, name: str) -> Site:
    site = session.scalar(select(Site).where(Site.name == name))
    if site is None:
        raise click.ClickException(f"no site named {name!r}; add it with: sites add {name}")
    return site


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations."""
    migrate.upgrade(_engine(), revision)
    click.echo(f"schema at {migrate.current_revision(_engine())}")


@db_cli.command("current")
def db_current() -> None:
    click.echo(migrate.current_revision(_engine()) or "empty")


@sites_cli.command("add")
@click.argument("name")
@click.option("--facility", default="", help="e.g. LLNL, NERSC, local")
@click.option("--machine", default="")
@click.option("--scheduler", default="", help="slurm, flux, pbs, lsf, none…")
@click.option("--interval-hours", type=float, default=24.0, show_default=True,
              help="expected time between reports; later than this marks the site STALE")
def sites_add(name: str, facility: str, machine: str, scheduler: str, interval_hours: float) -> None:
    """Add or update a site."""
    if not SITE_NAME.fullmatch(name):
        raise click.ClickException("site names use letters, digits, '.', '_' and '-' (e.g. llnl-dane)")

    def work(session: Session) -> str:
        site = session.scalar(select(Site).where(Site.name == name))
        verb = "updated"
        if site is None:
            site, verb = Site(name=name), "added"
            session.add(site)
        site.facility, site.machine, site.scheduler = facility, machine, scheduler
        site.expected_interval_hours = interval_hours
        return verb
    click.echo(f"{dbmod.write(work)} site {name}")


@sites_cli.command("sync")
@click.option("--only", "only", multiple=True, metavar="SITE",
              help="Only these site ids (e.g. llnl-dane); default: every machine in the registry.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="SDK checkout holding ci/sites/ [$SDK_ROOT, else found from here].")
def sites_sync(only: tuple[str, ...], root: Path | None) -> None:
    """Create or update sites from the facility registry (ci/sites/): one per machine, with its
    facility, machine, scheduler, time zone and reporting interval, so none of them is typed twice."""
    entries = _registry(root, only)
    for line in dbmod.write(lambda session: _sync(session, entries)):
        click.echo(line)


def _registry(root: Path | None, only: tuple[str, ...] = (), facility: str | None = None) -> list[SiteEntry]:
    try:
        facilities = load_sites(root)
        if facility is not None:
            if facility not in facilities:
                raise KeyError(f"no facility {facility!r} in ci/sites/ (known: {', '.join(sorted(facilities))})")
            return facilities[facility].sites()
        return [find_site(facilities, name) for name in only] if only else all_sites(facilities)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from None
    except ManifestError as exc:
        raise click.ClickException(exc.report()) from None


def _sync(session: Session, entries: list[SiteEntry]) -> list[str]:
    """Create or update a site per registry entry; one line per site saying which."""
    lines = []
    for entry in entries:
        wanted = {"facility": entry.facility.facility, "machine": entry.machine_name,
                  "scheduler": entry.machine.scheduler, "timezone": entry.facility.timezone or "",
                  "expected_interval_hours": float(entry.machine.report_interval_hours)}
        site = session.scalar(select(Site).where(Site.name == entry.id))
        if site is None:
            session.add(Site(name=entry.id, **wanted))
            lines.append(f"added {entry.id}")
        elif any(getattr(site, k) != v for k, v in wanted.items()):
            for key, value in wanted.items():
                setattr(site, key, value)
            lines.append(f"updated {entry.id}")
        else:
            lines.append(f"unchanged {entry.id}")
    session.flush()
    return lines


@sites_cli.command("list")
def sites_list() -> None:
    with current_app.extensions["sdk_dashboard"]["sessionmaker"]() as session:
        for site in session.scalars(select(Site).order_by(Site.name)):
            click.echo(f"{site.name}\t{site.facility}\t{site.machine}\t{site.scheduler}\t"
                       f"{site.expected_interval_hours}h\tlast seen {site.last_seen_at or 'never'}\t"
                       f"last contact {site.last_contact_at or 'never'}")


@tokens_cli.command("issue")
@click.argument("site", required=False)
@click.option("--facility", default=None, metavar="FACILITY",
              help="One token for every machine of this registry facility (its sites are synced first).")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="SDK checkout holding ci/sites/ (with --facility) [$SDK_ROOT, else found from here].")
@click.option("--label", default="")
@click.option("--expires-days", type=click.IntRange(min=1), default=None,
              help="days until it expires (1 or more); default: no expiry")
def tokens_issue(site: str | None, facility: str | None, root: Path | None, label: str,
                 expires_days: int | None) -> None:
    """Issue a token for SITE, or one per machine of --facility, and print it (the only time it is shown).

    With --facility, each line is NAME=TOKEN, where NAME is the CI/CD variable that machine's
    jobs read (SDK_DASHBOARD_TOKEN_<SITE>): a token writes for its own site only.
    """
    if (site is None) == (facility is None):
        raise click.UsageError("give a SITE or --facility FACILITY (not both)")
    expires = timedelta(days=expires_days) if expires_days is not None else None
    if site is not None:
        issued = dbmod.write(lambda s: tokens.issue(s, _site(s, site), label=label, expires_in=expires))
        click.echo(f"key id: {issued.key_id}", err=True)
        click.echo(issued.token)
        return
    entries = _registry(root, facility=facility)

    def work(session: Session) -> tuple[list[str], list[tuple[str, tokens.Issued]]]:
        synced = _sync(session, entries)
        return synced, [(entry.id, tokens.issue(session, _site(session, entry.id), label=label, expires_in=expires))
                        for entry in entries]
    synced, issued_all = dbmod.write(work)
    for line in synced:
        click.echo(line, err=True)
    for name, issued in issued_all:
        click.echo(f"{token_variable(name)}={issued.token}")
        click.echo(f"key id {issued.key_id}: {name}", err=True)
    where = entries[0].facility.gitlab_url or "the facility's GitLab"
    click.echo(f"Set each NAME=TOKEN line above as a masked, protected CI/CD variable of the SDK mirror in {where} "
               f"(Settings > CI/CD > Variables). Each machine's jobs read their own; no machine can write as another.",
               err=True)


@tokens_cli.command("list")
@click.option("--site", default=None)
def tokens_list(site: str | None) -> None:
    """Key ids and state; secrets are never shown."""
    with current_app.extensions["sdk_dashboard"]["sessionmaker"]() as session:
        query = select(Token).order_by(Token.created_at)
        if site:
            query = query.where(Token.site_id == _site(session, site).id)
        now = utcnow()
        for token in session.scalars(query):
            state = ("revoked" if token.revoked_at else
                     "expired" if token.expires_at is not None and token.expires_at <= now else
                     "legacy" if token.is_legacy else "active")
            click.echo(f"{token.key_id}\t{token.site.name}\t{state}\texpires {token.expires_at or 'never'}\t"
                       f"last used {token.last_used_at or 'never'}\t{token.label}")


@tokens_cli.command("revoke")
@click.argument("key_id")
def tokens_revoke(key_id: str) -> None:
    """Revoke a token or legacy key by its key id."""
    if not dbmod.write(lambda s: tokens.revoke(s, key_id)):
        raise click.ClickException(f"no token with key id {key_id!r}")
    click.echo(f"revoked {key_id}")


@legacy_cli.command("add")
@click.argument("site")
@click.option("--key-file", type=click.File("r"), default="-",
              help="file holding the key (default: read it from stdin, so it stays out of shell history)")
@click.option("--label", default="")
def legacy_add(site: str, key_file: TextIO, label: str) -> None:
    """Register an old runner's opaque key for SITE."""
    key = key_file.read().strip()
    try:
        key_id = dbmod.write(lambda s: tokens.add_legacy_key(s, _site(s, site), key, label=label))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"registered legacy key {key_id} for {site}")


@records_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--site", required=True)
def records_load(path: Path, site: str) -> None:
    """Store a harness JSON Lines file for SITE (as an upload would, idempotently)."""
    from .ingest.records import parse_batch, split_body, store_batch

    records = parse_batch(split_body(path.read_text(encoding="utf-8"), "application/x-ndjson"))
    result = dbmod.write(lambda s: store_batch(s, _site(s, site), records))
    click.echo(f"accepted {result.accepted}, duplicates {result.duplicates}, runs {', '.join(result.runs)}")


@retention_cli.command("run")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="default: RETENTION_DAYS from the config")
def retention_run(days: int | None) -> None:
    days = days if days is not None else current_app.config.get("RETENTION_DAYS")
    if not days or int(days) < 1:
        raise click.ClickException("give --days N (N >= 1) or set SDK_DASHBOARD_RETENTION_DAYS to N")
    changed = dbmod.write(lambda s: retention.prune_logs(s, int(days)))
    click.echo(f"cleared logs of {changed} test results older than {days} days")


@runs_cli.command("delete")
@click.argument("site")
@click.option("--run", "number", type=click.IntRange(min=1), default=None, help="dashboard run number (/runs/N)")
@click.option("--run-id", default=None, help="the client's run id")
@click.option("--since", type=click.DateTime(), default=None, help="runs started at or after (UTC)")
@click.option("--until", type=click.DateTime(), default=None, help="runs started before (UTC)")
@click.option("--dry-run", is_flag=True, help="only print what would be deleted")
def runs_delete(site: str, number: int | None, run_id: str | None, since: datetime | None,
                until: datetime | None, dry_run: bool) -> None:
    """Delete one run of SITE, or its runs in a time range, with their tests."""
    if number is None and run_id is None and since is None and until is None:
        raise click.UsageError("say which runs: --run, --run-id, or a range with --since and/or --until")
    since, until = (None if t is None else t.replace(tzinfo=UTC) for t in (since, until))

    def work(session: Session) -> Selection:
        selection = select_runs(session, _site(session, site), number=number, run_id=run_id,
                                since=since, until=until)
        if not dry_run:
            delete_runs(session, selection)
        return selection
    selection = dbmod.write(work)
    for number_, client_id, variant, started in selection.runs:
        click.echo(f"{number_}\t{client_id}\t{variant}\tstarted {started:%Y-%m-%d %H:%M:%S}")
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {len(selection.runs)} run(s) with {selection.tests} test result(s) of {site}; "
               f"{len(selection.cells)} summary cell(s) recomputed")


@releases_cli.command("record")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace the release's attestation if it has one.")
def releases_record(path: Path, replace: bool) -> None:
    """Store the attestation at PATH, once every run it cites agrees with this dashboard; it is
    then shown at /releases/<version>."""
    import json

    from . import releases
    from .exceptions import BadInput

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        row = dbmod.write(lambda s: releases.record(s, data, replace))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: not JSON: {exc}") from None
    except BadInput as exc:
        lines = [f"{path}: {exc.message}", *(f"  {p}" for p in (exc.details or []))]
        raise click.ClickException("\n".join(lines)) from None
    state = "ready" if row.ready else "not ready"
    click.echo(f"recorded release {row.version} ({state}, checked {row.checked_at:%Y-%m-%d %H:%M} UTC): "
               f"{(current_app.config['DASHBOARD_URL'] or '').rstrip('/')}/releases/{row.version}")


@releases_cli.command("list")
def releases_list() -> None:
    from . import releases

    with current_app.extensions["sdk_dashboard"]["sessionmaker"]() as session:
        briefs = releases.releases(session).releases
    for brief in briefs:
        click.echo(f"{brief.version}\t{'ready' if brief.ready else 'not ready'}\t{brief.checked_at:%Y-%m-%d %H:%M}")


@click.command("digest")
@click.option("--send/--no-send", default=True, show_default=True,
              help="Send it to the configured webhook and email (SDK_DASHBOARD_DIGEST_*); nothing is configured "
                   "by default.")
@click.option("--create", is_flag=True, help="Create the database (or its schema) if it does not exist yet.")
@with_appcontext
def digest_command(send: bool, create: bool) -> None:
    """Make a failure digest: new, persistent and fixed failures since the previous one."""
    from . import digest

    open_database(create, upgrade=True)
    out = dbmod.write(digest.make_digest)
    click.echo(digest.as_text(out, current_app.config["DASHBOARD_URL"]), nl=False)
    if send:
        try:
            for where in digest.send(out, current_app.config):
                click.echo(f"sent by {where}", err=True)
        except (OSError, requests.RequestException) as exc:
            raise click.ClickException(f"digest {out.id} stored, but sending it failed: {exc}") from exc


def register_commands(app: Flask) -> None:
    for group in (db_cli, sites_cli, tokens_cli, legacy_cli, records_cli, retention_cli, runs_cli, releases_cli):
        app.cli.add_command(group)
    app.cli.add_command(digest_command)
