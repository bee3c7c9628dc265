"""``sdk-test``: list, run, upload, env. Harness errors are caught once, in ``main``.

What only one command needs (requests for upload, junitparser for JUnit XML, the listing) is
imported inside it, and rich (``test_harness.console``) when something is first printed through
it: ``sdk-test run`` starts its first suite before either (``tests/harness/test_startup.py``;
the start-up figure of ``bench/harness_overhead.py``).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import click

from exaworks_sdk.manifest import Manifest, ManifestError, load_manifest, token_variable
from exaworks_sdk.manifest.cache import default_cache_dir
from exaworks_sdk.records import RunStart, new_id, utcnow
from test_harness.config import Config, load_config
from test_harness.detect import Detection, detect_all
from test_harness.environment import capture, component_versions, install_variant
from test_harness.errors import ConfigError, HarnessError, NothingToDo, UploadDeferred, UploadRejected
from test_harness.installed import spack_versions
from test_harness.installed import start as start_installed
from test_harness.registry import default_suites, select
from test_harness.runner import Runner, suite_timeout
from test_harness.suite import Suite


class Context:
    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._manifest: Manifest | None = None

    def config(self, **flags: object) -> Config:
        return load_config(flags, path=self.config_path)

    def manifest(self) -> Manifest:
        if self._manifest is None:  # validated once per manifest content (exaworks_sdk/manifest/cache.py)
            self._manifest = load_manifest(cache_dir=default_cache_dir())
        return self._manifest


pass_ctx = click.make_pass_decorator(Context)


def _progress(event: str, suite: Suite, payload: object) -> None:
    """Live progress lines; rich is imported here, once the first suite has started."""
    from test_harness import console as out

    out.progress(event, suite, payload)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="TOML or YAML settings file (also $SDK_TEST_CONFIG).")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Run the ExaWorks SDK component and integration suites, and report them to the dashboard."""
    ctx.obj = Context(config_path)


def _here(config: Config, manifest: Manifest, detections: Mapping[str, Detection],
          installed: Future[dict[str, Any]]) -> dict[str, Any]:
    """Where this run happens: the ``RunStart`` fields that describe the machine, each captured
    once. ``installed`` (``test_harness.installed.start``) was started before the detections."""
    lockfile = installed.result()
    spack_pins = {name: c.spack.package for name, c in manifest.components.items() if c.spack}
    return {
        "site": config.site or socket.gethostname(),
        "variant": config.variant or install_variant(),
        "hostname": socket.getfqdn(),
        "components": spack_versions(component_versions(detections), lockfile.get("spack", {}), spack_pins),
        "environment": {**capture(detections), "installed": lockfile},
    }


@cli.command("list")
@click.argument("names", nargs=-1)
@click.option("-t", "--tag", "tags", multiple=True, help="Only suites with this tag.")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: each suite, whether it can run here and the outcome to expect.")
@pass_ctx
def list_suites(ctx: Context, names: Sequence[str], tags: Sequence[str], as_json: bool) -> None:
    """Show the suites (NAME globs, or all), what they require and whether they can run here."""
    from test_harness import console as out
    config = ctx.config()
    manifest = ctx.manifest()
    suites = select(default_suites(manifest), names=names, tags=tags)
    detections = detect_all(manifest.components, [r for s in suites for r in s.requires])
    timeouts = {s.name: suite_timeout(s, manifest.components, config.timeout_factor) for s in suites}
    if as_json:
        from test_harness.listing import suite_summary

        rows = [suite_summary(s, manifest.components, detections, timeouts[s.name]) for s in suites]
        click.echo(json.dumps(rows, indent=2))
    else:
        out.console.print(out.suites_table(suites, detections, timeouts))


@cli.command()
@click.argument("names", nargs=-1)
@click.option("-t", "--tag", "tags", multiple=True, help="Run suites with this tag (repeatable).")
@click.option("-x", "--exclude-tag", "exclude_tags", multiple=True, help="Skip suites with this tag.")
@click.option("-k", "keyword", default=None, help="Run suites whose name/description/requirements contain this.")
@click.option("-j", "--jobs", type=int, default=None, help="Suites run in parallel [2; $SDK_JOBS].")
@click.option("--timeout-factor", type=float, default=None, help="Scale the manifest's suite timeouts.")
@click.option("--results-dir", type=click.Path(path_type=Path), default=None,
              help="Where <run_id>.jsonl goes [sdk-results; $SDK_RESULTS_DIR].")
@click.option("--site", default=None, help="Site id for the record [$SDK_SITE, else the hostname].")
@click.option("--variant", default=None, help="spack, pip or container [$SDK_VARIANT, else detected].")
@click.option("--junit/--no-junit", default=True, show_default=True, help="Also write JUnit XML.")
@click.option("--upload", "do_upload", is_flag=True, help="Upload the record when the run ends.")
@click.option("--keep-sandboxes", is_flag=True, help="Keep each suite's temporary directory.")
@pass_ctx
def run(ctx: Context, names: Sequence[str], tags: Sequence[str], exclude_tags: Sequence[str],
        keyword: str | None, jobs: int | None, timeout_factor: float | None, results_dir: Path | None,
        site: str | None, variant: str | None, junit: bool, do_upload: bool, keep_sandboxes: bool) -> None:
    """Run suites selected by NAME (globs), tag or keyword; all suites by default."""
    config = ctx.config(jobs=jobs, timeout_factor=timeout_factor, results_dir=results_dir,
                        site=site, variant=variant)
    if do_upload and not config.dashboard_url:
        raise ConfigError("--upload needs the dashboard address: set SDK_DASHBOARD_URL or dashboard_url")
    manifest = ctx.manifest()
    suites = select(default_suites(manifest), names=names, tags=tags, keyword=keyword, exclude_tags=exclude_tags)
    lockfile = start_installed()
    detections = detect_all(manifest.components)
    run_id = new_id()
    records = config.results_dir / f"{run_id}.jsonl"
    start = RunStart(
        id=new_id(), run_id=run_id, sdk_version=manifest.release.version, started_at=utcnow(),
        pipeline_id=os.environ.get("CI_PIPELINE_ID"), branch=os.environ.get("CI_COMMIT_REF_NAME"),
        commit=os.environ.get("CI_COMMIT_SHA"), **_here(config, manifest, detections, lockfile),
    )
    click.echo(f"run {run_id}: {len(suites)} suite(s), {config.jobs} at a time → {records}")
    runner = Runner(manifest.components, detections, jobs=config.jobs, timeout_factor=config.timeout_factor,
                    keep_sandboxes=keep_sandboxes, listener=_progress, reap=True)
    result = runner.run(suites, records, start)
    from test_harness import console as out

    out.console.print(out.summary_table(result))
    out.console.print(f"record: {records}")
    if junit:
        from test_harness.junit import write_junit

        out.console.print(f"junit:  {write_junit(records, records.with_suffix('.junit.xml'))}")
    exit_code = result.exit_code
    if do_upload:
        try:
            _upload(config, [records], include_spool=True, ca_bundle=None, retries=None)
        except HarnessError as exc:
            out.err_console.print(f"[red]upload:[/] {exc}")
            exit_code = exit_code or exc.exit_code
    sys.exit(exit_code)


def _upload(config: Config, files: Sequence[Path], include_spool: bool, ca_bundle: str | None,
            retries: int | None) -> None:
    from test_harness import console as out
    from test_harness.upload import State, UploadSettings, base_url, spooled_files, upload

    if not config.dashboard_url:
        raise ConfigError("no dashboard address: set SDK_DASHBOARD_URL or dashboard_url in the config file")
    own = f"{token_variable(config.site)} (this site's own) or " if config.site else ""
    if not config.token:
        raise ConfigError(f"no site token: set {own}SDK_DASHBOARD_TOKEN (or token_file in the config file)")
    url, warning = base_url(config.dashboard_url)
    if warning:
        out.err_console.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
    out.console.print(f"uploading to {url} with the token from {config.token_source or 'the configuration'}",
                      soft_wrap=True, highlight=False)
    settings = UploadSettings(url=url, token=config.token, spool_dir=config.spool(),
                              ca_bundle=ca_bundle or config.ca_bundle,
                              **({"retries": retries} if retries is not None else {}))
    if not files and not spooled_files(settings.spool_dir):
        raise NothingToDo(f"nothing to upload: no files given and the spool {settings.spool_dir} is empty")
    outcomes = upload(files, settings, include_spool=include_spool)
    out.upload_report(outcomes)
    states = {o.state for o in outcomes}
    if State.REJECTED in states:
        raise UploadRejected("the dashboard rejected some records (see above)")
    if State.SPOOLED in states:
        raise UploadDeferred("the dashboard could not be reached; the records are spooled")


@cli.command("upload")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--spool/--no-spool", "include_spool", default=None,
              help="Also resend everything spooled [on when no FILES are given].")
@click.option("--ca-bundle", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CA certificates to verify the dashboard with (REQUESTS_CA_BUNDLE is honoured too).")
@click.option("--retries", type=click.IntRange(0, 20), default=None, help="Retries per request [5].")
@pass_ctx
def upload_cmd(ctx: Context, files: Sequence[Path], include_spool: bool | None, ca_bundle: str | None,
               retries: int | None) -> None:
    """Send record files (and anything spooled) to the dashboard."""
    config = ctx.config()
    _upload(config, files, include_spool=not files if include_spool is None else include_spool,
            ca_bundle=ca_bundle, retries=retries)


@cli.command("env")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_ctx
def env_cmd(ctx: Context, as_json: bool) -> None:
    """Print the captured environment: host, OS, components, variant, schedulers, MPI, CI."""
    from test_harness import console as out
    lockfile = start_installed()
    here = _here(ctx.config(), ctx.manifest(), detect_all(ctx.manifest().components), lockfile)
    out.environment({**{k: v for k, v in here.items() if k != "environment"}, **here["environment"]}, as_json)


def _with_own_bin_on_path() -> None:
    """Tools installed beside this Python (``maestro``, ``radical-pilot-*``) count as installed
    even when the environment was not activated, e.g. ``/opt/sdk/bin/sdk-test run``."""
    own_bin = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "").split(os.pathsep)
    if own_bin not in path:
        os.environ["PATH"] = os.pathsep.join([own_bin, *path])


def _error(text: str) -> None:
    from test_harness import console as out

    out.err_console.print(text)


def main(argv: Sequence[str] | None = None) -> int:
    _with_own_bin_on_path()
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="sdk-test", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        _error("aborted")
        return 130
    except ManifestError as exc:
        _error(f"[red]manifest:[/] {exc.report()}")
        return ManifestError.exit_code
    except HarnessError as exc:
        _error(f"[red]error:[/] {exc}")
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
