"""Admin commands through ``flask`` (CliRunner) and the ``sdk-dashboard`` entry point."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from dashboard_server.models import Site
from tests.support.dashboard import auth, make_run, upload, write


def invoke(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_site_token_lifecycle(app):
    result = invoke(app, "sites", "add", "nersc-perlmutter", "--facility", "NERSC",
                    "--machine", "perlmutter", "--scheduler", "slurm", "--interval-hours", "48")
    assert result.exit_code == 0, result.output
    assert "added site nersc-perlmutter" in result.output
    assert "updated" in invoke(app, "sites", "add", "nersc-perlmutter", "--facility", "NERSC").output
    assert "nersc-perlmutter" in invoke(app, "sites", "list").output
    for bad in ("a/b", "<script>", "", "-x"):
        assert invoke(app, "sites", "add", "--", bad).exit_code != 0

    issued = invoke(app, "tokens", "issue", "nersc-perlmutter", "--label", "ci", "--expires-days", "30")
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip().splitlines()[-1]
    key_id, _, secret = token.partition(":")
    client = app.test_client()
    assert upload(client, token, make_run("nersc-perlmutter")).status_code == 200

    listing = invoke(app, "tokens", "list").output
    assert key_id in listing and "active" in listing and secret not in listing
    assert invoke(app, "tokens", "revoke", key_id).exit_code == 0
    assert upload(client, token, make_run("nersc-perlmutter")).status_code == 401
    assert "revoked" in invoke(app, "tokens", "list", "--site", "nersc-perlmutter").output
    assert invoke(app, "tokens", "revoke", "nope").exit_code != 0
    assert invoke(app, "tokens", "issue", "no-such-site").exit_code != 0


def test_legacy_key_from_stdin(app):
    invoke(app, "sites", "add", "anl-polaris", "--facility", "ANL")
    key = "0f9e8d7c-6b5a-4f3e-2d1c-0b9a8f7e6d5c"
    result = invoke(app, "legacy-keys", "add", "anl-polaris", input=key + "\n")
    assert result.exit_code == 0 and "registered legacy key" in result.output
    body = {"id": "anl-polaris", "key": key, "data": {"module": "m", "test_name": "t", "results": {}}}
    assert app.test_client().post("/result", json=body).status_code == 200
    assert invoke(app, "legacy-keys", "add", "anl-polaris", input=key).exit_code != 0  # duplicate
    assert invoke(app, "legacy-keys", "add", "anl-polaris", input="short").exit_code != 0


def test_records_load_and_retention(app, tmp_path, token):
    path = tmp_path / "run.jsonl"
    import json

    path.write_text("".join(json.dumps(r) + "\n" for r in make_run(tests={"t": "failed"}, output="log")))
    result = invoke(app, "records", "load", str(path), "--site", "local-linux")
    assert "accepted 3" in result.output, result.output
    assert "duplicates 3" in invoke(app, "records", "load", str(path), "--site", "local-linux").output
    assert invoke(app, "retention", "run").exit_code != 0  # no days configured
    assert "cleared logs of 0" in invoke(app, "retention", "run", "--days", "1").output


def test_db_commands(app):
    from dashboard_server.migrate import head_revision

    assert head_revision() in invoke(app, "db", "upgrade").output
    assert invoke(app, "db", "current").stdout.strip() == head_revision()


def admin(env, *args):
    return subprocess.run([sys.executable, "-c", "from dashboard_server.admin import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=60)


def test_console_entry_point(tmp_path):
    env = dict(os.environ, SDK_DASHBOARD_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite'}")
    assert "added site" in admin(env, "sites", "add", "local-linux", "--create").stdout
    issued = admin(env, "tokens", "issue", "local-linux")
    assert issued.returncode == 0 and ":" in issued.stdout
    assert f"database: sqlite:///{tmp_path / 'cli.sqlite'}" in issued.stderr
    assert issued.stdout.strip() not in admin(env, "tokens", "list").stdout
    assert auth(issued.stdout.strip())


def test_refuses_a_database_it_would_create(tmp_path):
    """Run without the server's environment, it used to create instance/dashboard.sqlite and
    issue a token the server then rejected; now it names the database and stops."""
    path = tmp_path / "nowhere" / "dashboard.sqlite"
    path.parent.mkdir()
    env = dict(os.environ, SDK_DASHBOARD_DATABASE_URL=f"sqlite:///{path}")
    for args in (["tokens", "issue", "llnl-dane"], ["sites", "list"], ["db", "current"]):
        refused = admin(env, *args)
        assert refused.returncode != 0, args
        assert f"database: sqlite:///{path}" in refused.stderr
        assert "does not exist" in refused.stderr and "--create" in refused.stderr
    assert not path.exists()
    created = admin(env, "db", "upgrade", "--create")
    assert created.returncode == 0 and path.is_file(), created.stderr
    assert admin(env, "sites", "list").returncode == 0


def test_refuses_an_empty_postgres_database(app, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("the SQLite case is a missing file (above)")
    from sqlalchemy import create_engine

    app.extensions["sdk_dashboard"]["engine"].dispose()
    engine = create_engine(db_url)
    with engine.begin() as conn:  # the schema is gone: an empty database, as a new server has
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    env = dict(os.environ, SDK_DASHBOARD_DATABASE_URL=db_url)
    refused = admin(env, "sites", "list")
    assert refused.returncode != 0 and "holds no dashboard schema" in refused.stderr
    assert "postgres" in refused.stderr and "--create" in refused.stderr
    assert admin(env, "sites", "sync", "--create", "--only", "llnl-dane").returncode == 0
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT name FROM sites").scalars().all() == ["llnl-dane"]
    finally:
        engine.dispose()


def test_tokens_for_every_machine_of_a_facility(app, repo_root):
    from exaworks_sdk.manifest import load_sites, token_variable

    result = invoke(app, "tokens", "issue", "--facility", "llnl", "--root", str(repo_root), "--label", "gitlab-ci")
    assert result.exit_code == 0, result.output
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    machines = [entry.id for entry in load_sites(repo_root)["llnl"].sites()]
    assert list(lines) == [token_variable(site) for site in machines] == [
        "SDK_DASHBOARD_TOKEN_LLNL_DANE", "SDK_DASHBOARD_TOKEN_LLNL_TIOGA", "SDK_DASHBOARD_TOKEN_LLNL_LASSEN"]
    assert "masked, protected CI/CD variable" in result.stderr and "lc.llnl.gov" in result.stderr
    client = app.test_client()
    for site in machines:
        own = lines[token_variable(site)]
        assert upload(client, own, make_run(site)).status_code == 200
        for other in machines:
            if other != site:
                assert upload(client, own, make_run(other)).status_code == 403
    assert invoke(app, "tokens", "issue", "--facility", "nope", "--root", str(repo_root)).exit_code != 0
    assert invoke(app, "tokens", "issue").exit_code != 0  # a SITE or --facility


def test_sites_sync_creates_every_machine_from_the_registry(app, repo_root, sdk_tree):
    from exaworks_sdk.manifest import all_sites, load_sites

    result = invoke(app, "sites", "sync", "--root", str(repo_root))
    assert result.exit_code == 0, result.output
    expected = [site.id for site in all_sites(load_sites(repo_root))]
    assert {"llnl-dane", "llnl-tioga", "llnl-lassen", "anl-polaris", "anl-aurora"} <= set(expected)
    assert result.stdout.splitlines() == [f"added {site}" for site in expected]
    listing = invoke(app, "sites", "list").output
    assert "llnl-lassen\tllnl\tlassen\tlsf\t48.0h" in listing  # interval from ci/sites/llnl.yaml
    assert "unchanged llnl-dane" in invoke(app, "sites", "sync", "--root", str(repo_root)).output

    path = sdk_tree / "ci/sites/llnl.yaml"
    path.write_text(path.read_text().replace("report_interval_hours: 48", "report_interval_hours: 72"))
    again = invoke(app, "sites", "sync", "--root", str(sdk_tree), "--only", "llnl-lassen")
    assert again.stdout.splitlines() == ["updated llnl-lassen"]
    assert "llnl-lassen\tllnl\tlassen\tlsf\t72.0h" in invoke(app, "sites", "list").output
    path.write_text(path.read_text().replace("timezone: America/Los_Angeles", "timezone: America/Denver"))
    assert invoke(app, "sites", "sync", "--root", str(sdk_tree), "--only", "llnl-dane").stdout == "updated llnl-dane\n"
    zone = write(app, lambda s: s.scalar(select(Site.timezone).where(Site.name == "llnl-dane")))
    assert zone == "America/Denver"  # how the dashboard reads this site's naive legacy times

    unknown = invoke(app, "sites", "sync", "--root", str(repo_root), "--only", "llnl-nope")
    assert unknown.exit_code != 0 and "llnl-nope" in unknown.output and "llnl-dane" in unknown.output
