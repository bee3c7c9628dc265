"""``sdk``: validate the manifest and render every artifact from it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from exaworks_sdk.manifest import ManifestError, find_root, load_manifest, load_sites


def _root(value: str | None) -> Path:
    return Path(value).resolve() if value else find_root()


@click.group()
@click.option("--root", envvar="SDK_ROOT", help="SDK checkout (default: found from the current directory).")
@click.pass_context
def cli(ctx: click.Context, root: str | None) -> None:
    """ExaWorks SDK: one manifest, rendered into Spack, Docker, CI and docs."""
    ctx.obj = root


@cli.command()
@click.pass_obj
def validate(root: str | None) -> None:
    """Load the manifest and site registry, check every pin against the package indexes,
    and report every problem."""
    from exaworks_sdk.index.check import check_channels
    from exaworks_sdk.manifest.expected import registry_problems

    path = _root(root)
    manifest = load_manifest(path)
    sites = load_sites(path)
    problems, notes = check_channels(path, manifest, sites)
    problems += registry_problems(manifest, sites, path)
    if problems:
        raise ManifestError(problems)
    machines = sum(len(f.machines) for f in sites.values())
    for note in notes:
        click.echo(note)
    click.echo(f"{manifest.release.name} {manifest.release.version}: {len(manifest.components)} components, "
               f"{len(manifest.suites)} suites, {len(manifest.policies)} policies, {len(sites)} facilities, "
               f"{machines} machines: OK")


@cli.command("spack-index")
@click.option("--from", "checkout", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A local spack-packages checkout (github.com/spack/spack-packages).")
@click.pass_obj
def spack_index(root: str | None, checkout: Path) -> None:
    """Refresh components/index/spack.json: versions and variants of every Spack package the
    SDK names, read statically from CHECKOUT (Spack itself is not needed)."""
    from exaworks_sdk.index.data import SPACK_INDEX
    from exaworks_sdk.index.refresh import RefreshError
    from exaworks_sdk.index.refresh import spack_index as read_index

    path = _root(root)
    try:
        index, missing = read_index(checkout.resolve(), path, load_manifest(path), load_sites(path))
    except RefreshError as exc:
        raise click.ClickException(str(exc)) from None
    for why in missing:
        click.echo(f"warning: {why}", err=True)
    (path / SPACK_INDEX).parent.mkdir(parents=True, exist_ok=True)
    (path / SPACK_INDEX).write_text(index.dumps(), encoding="utf-8")
    click.echo(f"wrote {SPACK_INDEX}: {len(index.packages)} packages from {index.describe()}")


@cli.command("pypi-index")
@click.option("--index-url", default=None, help="Package index to ask (default: pip's configuration).")
@click.pass_obj
def pypi_index(root: str | None, index_url: str | None) -> None:
    """Refresh components/index/pypi.json with `pip index versions` for every distribution the
    SDK pins or constrains. Needs a reachable package index."""
    from exaworks_sdk.index.data import PYPI_INDEX
    from exaworks_sdk.index.refresh import RefreshError
    from exaworks_sdk.index.refresh import pypi_index as read_index

    path = _root(root)
    try:
        index = read_index(path, load_manifest(path), index_url)
    except RefreshError as exc:
        raise click.ClickException(str(exc)) from None
    (path / PYPI_INDEX).parent.mkdir(parents=True, exist_ok=True)
    (path / PYPI_INDEX).write_text(index.dumps(), encoding="utf-8")
    click.echo(f"wrote {PYPI_INDEX}: {len(index.distributions)} distributions from {index.describe()}")


@cli.command()
@click.option("--check", is_flag=True, help="Write nothing; exit 1 with a diff if any generated file is stale.")
@click.pass_obj
def render(root: str | None, check: bool) -> None:
    """Render every generated file from components/ and ci/sites/."""
    from exaworks_sdk import render as rendering

    path = _root(root)
    if check:
        problems = rendering.check(path)
        for problem in problems:
            click.echo(problem, err=True)
        if problems:
            click.echo(f"{len(problems)} generated file(s) out of date; run `sdk render` and commit.", err=True)
            sys.exit(1)
        click.echo("All generated files are up to date.")
        return
    written = rendering.render_all(path)
    for written_path in written:
        click.echo(f"wrote {written_path.relative_to(path)}")
    click.echo(f"{len(written)} file(s) changed.")


@cli.group()
def release() -> None:
    """Release readiness from the manifest, the site registry and the dashboard."""


@release.command("check")
@click.option("--dashboard", envvar="SDK_DASHBOARD_URL", required=True,
              help="Dashboard address (default: $SDK_DASHBOARD_URL).")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 3650),
              help="A cell's run must be this recent.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the result as a JSON attestation here.")
@click.option("--facility", "only", multiple=True, metavar="NAME",
              help="Only this facility's cells (repeatable; default: every facility of ci/sites/).")
@click.pass_obj
def release_check(root: str | None, dashboard: str, days: int, json_file: Path | None, only: tuple[str, ...]) -> None:
    """Every machine × variant × suite the registry requires: green with exactly the pins?
    Exits 1 unless every required cell is green. A dashboard that requires a login is read with
    the password in $SDK_DASHBOARD_PASSWORD."""
    import json
    import os

    from exaworks_sdk.release.check import Dashboard, check, fetch, lockfiles, table

    path = _root(root)
    manifest, sites = load_manifest(path), load_sites(path)
    unknown = sorted(set(only) - set(sites))
    if unknown:
        raise click.BadParameter(f"no facility {', '.join(map(repr, unknown))} in ci/sites/ "
                                 f"(known: {', '.join(sorted(sites))})", param_hint="--facility")
    if only:
        sites = {name: facility for name, facility in sites.items() if name in only}
    reader = Dashboard(dashboard, os.environ.get("SDK_DASHBOARD_PASSWORD") or None)
    try:
        matrix, summary = fetch(reader, days)
        report = check(path, manifest, sites, dashboard, days, matrix, summary)
        if json_file is not None:
            report.runs = lockfiles(reader, report.cells)
    except (OSError, RuntimeError, ValueError) as exc:  # requests' errors are OSErrors
        raise click.ClickException(f"cannot read the dashboard: {exc}") from exc
    for line in table(report):
        click.echo(line)
    if json_file is not None:
        json_file.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    if not report.ready:
        sys.exit(1)


def main() -> None:
    try:
        cli(standalone_mode=False)
    except ManifestError as exc:
        click.echo(exc.report(), err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)


if __name__ == "__main__":
    main()
