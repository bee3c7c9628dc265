"""schemathesis, every check, against a real gunicorn on each database: with a site's token and
without any credential, 0 failures (issue #15). The config file explains the one allowance: a
schema-valid upload may be refused for what a schema cannot say, with a documented status.

``SDK_SCHEMATHESIS_EXAMPLES`` sets the examples per operation (25 by default; CI uses the
default, about 1,500 requests per run)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.dashboard import make_run
from tests.support.live_server import Server

pytestmark = pytest.mark.slow
CONFIG = Path(__file__).parent / "fixtures" / "schemathesis.toml"
ST = Path(sys.executable).with_name("st")


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", "from dashboard_server.admin import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


@pytest.fixture
def server(db_url, tmp_path):  # type: ignore[no-untyped-def]
    server = Server(db_url, tmp_path, workers=2)
    # every unauthenticated request fails authentication: without a generous limit the
    # no-credential run would meet 429 after 30 requests and test little else
    server.env.update(SDK_DASHBOARD_AUTH_FAILURES_PER_ADDRESS="1000000 per minute",
                      SDK_DASHBOARD_AUTH_FAILURES_PER_CREDENTIAL="1000000 per minute")
    cli(server.env, "db", "upgrade", "--create")
    cli(server.env, "sites", "add", "local-linux", "--facility", "local")
    cli(server.env, "sites", "add", "llnl-dane", "--facility", "LLNL")
    token = cli(server.env, "tokens", "issue", "local-linux").splitlines()[-1]
    other = cli(server.env, "tokens", "issue", "llnl-dane").splitlines()[-1]
    server.start()
    for site, credential in (("local-linux", token), ("llnl-dane", other)):
        records = make_run(site, suites={"psij": {"t": "failed", "u": "passed"}, "parsl": {"t": "passed"}})
        response = requests.post(f"{server.url}/api/v1/records", json={"records": records},
                                 headers={"Authorization": f"Bearer {credential}"}, timeout=30)
        assert response.status_code == 200, response.text
    server.token = token  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.mark.parametrize("credential", ["token", "none"])
def test_schemathesis_finds_nothing(server, credential, tmp_path, capsys):  # type: ignore[no-untyped-def]
    examples = os.environ.get("SDK_SCHEMATHESIS_EXAMPLES", "25")
    command = [str(ST), "--config-file", str(CONFIG), "run", f"{server.url}/api/v1/openapi.json",
               "--checks", "all", "-n", examples, "--seed", "15", "--workers", "1",
               "--generation-database", "none", "--report", "junit", "--report-dir", str(tmp_path)]
    if credential == "token":
        command += ["-H", f"Authorization: Bearer {server.token}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1200, cwd=tmp_path)
    counts = re.search(r"(\d+) generated, (.*)", done.stdout)
    with capsys.disabled():
        print(f"\nschemathesis ({credential}): {counts.group(0) if counts else 'no summary'}")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert counts and int(counts.group(1)) > 500 and "failure" not in counts.group(2), done.stdout[-3000:]
    assert server.statuses()[500] == 0
