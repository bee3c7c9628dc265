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
    """Load the manifest and site registry and report every problem."""
    path = _root(root)
    manifest = load_manifest(path)
    sites = load_sites(path)
    machines = sum(len(f.machines) for f in sites.values())
    click.echo(f"{manifest.release.name} {manifest.release.version}: {len(manifest.components)} components, "
               f"{len(manifest.policies)} policies, {len(sites)} facilities, {machines} machines: OK")


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
