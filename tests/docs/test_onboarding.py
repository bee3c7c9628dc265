"""docs/facility-onboarding.md, followed literally: every file the page includes from
docs/onboarding/ is run as a new facility would run it, against a real dashboard.

One facility, ``acme`` with two machines, goes through the page in order: its registry file
validates and renders (step 1-2, the page's own commands in a git checkout), the admin's
command issues one token per machine (step 3), each machine uploads with its own token
through ``sdk-test upload`` as the rendered jobs do (step 4), and a psij ``testing.conf``
and the old wrapper's variables, as the page gives them, reach the same sites. The table of
4xx answers is checked against answers the dashboard really gives.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from exaworks_sdk.records import RunFinish, RunStart, TestResult, new_id, utcnow
from tests.support.dashboard import make_run, psij_session, wrapper_job
from tests.support.live_server import Server

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "facility-onboarding.md"
FILES = ROOT / "docs" / "onboarding"
BIN = Path(sys.executable).parent
PLACEHOLDER_URL = "https://dashboard.example.org"
SITES = ["acme-cobalt", "acme-quartz"]

pytestmark = pytest.mark.slow


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@dataclass
class Acme:
    tree: Path
    server: Server
    tokens: dict[str, str]  # CI/CD variable name → token, as step 3 printed them
    job_variables: dict[str, dict[str, str]]  # site → its rendered test job's variables

    @property
    def url(self) -> str:
        return self.server.url

    def token(self, site: str) -> str:
        return self.tokens[self.job_variables[site]["SDK_DASHBOARD_TOKEN_VARIABLE"]]

    def runs(self, site: str) -> list[dict[str, Any]]:
        listed = requests.get(f"{self.url}/api/v1/sites/{site}/runs", timeout=10).json()["runs"]
        return [requests.get(f"{self.url}/api/v1/runs/{r['id']}", timeout=10).json() for r in listed]


def git(tree: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    subprocess.run(["git", *args], cwd=tree, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Acme]:
    tree = tmp_path_factory.mktemp("checkout")
    for rel in ("components", "ci", "spack", "docs/generated", "docker"):
        shutil.copytree(ROOT / rel, tree / rel, ignore=shutil.ignore_patterns("__pycache__"))
    for rel in ("POLICIES.md", ".gitlab-ci.yml"):
        shutil.copy2(ROOT / rel, tree / rel)
    (tree / ".venv").symlink_to(Path(sys.prefix))
    git(tree, "init", "-q", "-b", "main")
    git(tree, "add", "-A")
    git(tree, "commit", "-qm", "the SDK")

    # Step 1: the registry file, as the page shows it. Step 2: the page's commands.
    shutil.copy2(FILES / "acme.yaml", tree / "ci/sites/acme.yaml")
    step2 = run(["bash", "-e", str(FILES / "render.sh")], tree, env={**os.environ, "SDK_ROOT": str(tree),
                "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"})
    assert step2.returncode == 0, step2.stdout + step2.stderr
    rendered = yaml.safe_load((tree / "ci/generated/gitlab/acme.yml").read_text())
    job_variables = {}
    for site in SITES:
        merged: dict[str, str] = {}
        for template in rendered[f"{site}-pip-test"]["extends"]:
            merged.update(rendered.get(template, {}).get("variables", {}))
        merged.update(rendered[f"{site}-pip-test"].get("variables", {}))
        job_variables[site] = merged

    # Step 3: the admin's command, on the server's (existing) database, with the server's environment.
    state = tmp_path_factory.mktemp("server")
    server = Server(f"sqlite:///{state / 'dashboard.sqlite'}", state, workers=2)
    server.env["SDK_DASHBOARD_MAX_UPLOAD_MB"] = "1"
    env_file = state / "sdk-dashboard.env"
    env_file.write_text(f"SDK_DASHBOARD_DATABASE_URL={server.env['SDK_DASHBOARD_DATABASE_URL']}\n")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("SDK_DASHBOARD_DATABASE_URL", None)
    created = run([str(BIN / "sdk-dashboard"), "db", "upgrade", "--create"], tree, env={**env, **server.env})
    assert created.returncode == 0, created.stderr  # the server's database, as its first start leaves it
    script = (FILES / "issue-tokens.sh").read_text().replace("/etc/sdk-dashboard.env", str(env_file))
    step3 = run(["bash", "-e", "-c", script], tree, env=env)
    assert step3.returncode == 0, step3.stderr
    assert f"database: {server.env['SDK_DASHBOARD_DATABASE_URL']}" in step3.stderr
    tokens = dict(line.split("=", 1) for line in step3.stdout.splitlines())
    server.start()
    try:
        yield Acme(tree, server, tokens, job_variables)
    finally:
        server.stop()


def test_step2_renders_a_job_set_and_a_token_variable_per_machine(acme: Acme) -> None:
    rendered = yaml.safe_load((acme.tree / "ci/generated/gitlab/acme.yml").read_text())
    jobs = {name for name in rendered if not name.startswith(".")}
    assert jobs == {f"acme-cobalt-{v}-{k}" for v in ("spack", "pip") for k in ("install", "test", "cleanup")} | {
        f"acme-quartz-pip-{k}" for k in ("install", "test", "cleanup")}
    assert acme.job_variables["acme-cobalt"]["SDK_DASHBOARD_TOKEN_VARIABLE"] == "SDK_DASHBOARD_TOKEN_ACME_COBALT"
    assert acme.job_variables["acme-quartz"]["SDK_DASHBOARD_TOKEN_VARIABLE"] == "SDK_DASHBOARD_TOKEN_ACME_QUARTZ"
    assert "/ci/generated/gitlab/acme.yml" in (acme.tree / ".gitlab-ci.yml").read_text()
    committed = subprocess.run(["git", "log", "--format=%s", "-1"], cwd=acme.tree, capture_output=True, text=True)
    assert committed.stdout.strip() == "Add ACME's cobalt and quartz to the site registry"


def test_step3_prints_the_variables_the_jobs_read(acme: Acme) -> None:
    assert set(acme.tokens) == {acme.job_variables[site]["SDK_DASHBOARD_TOKEN_VARIABLE"] for site in SITES}
    listed = {s["name"]: s for s in requests.get(f"{acme.url}/api/v1/sites", timeout=10).json()}
    assert {"acme-cobalt", "acme-quartz"} <= set(listed)
    assert listed["acme-quartz"]["scheduler"] == "flux" and listed["acme-quartz"]["expected_interval_hours"] == 48


def record_file(directory: Path, site: str) -> tuple[Path, str]:
    path = directory / f"{site}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in make_run(site, suites={"psij": {"t": "passed"},
                                                                                   "parsl": {"u": "passed"}})))
    return path, json.loads(path.read_text().splitlines()[0])["run_id"]


def sdk_test_upload(acme: Acme, site: str, path: Path, url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`sdk-test upload` as the rendered test job runs it: the job's variables plus the project's
    CI/CD variables of step 4 (every machine's token at once)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SDK_")}
    env.update(acme.job_variables[site], SDK_VARIANT="pip", SDK_DASHBOARD_URL=url, SDK_SPOOL_DIR=str(tmp_path / "spool"),
               COLUMNS="300", NO_PROXY="127.0.0.1", **acme.tokens)
    return run([str(BIN / "sdk-test"), "upload", str(path)], tmp_path, env=env)


def test_step4_each_machine_uploads_with_its_own_token(acme: Acme, tmp_path: Path) -> None:
    for site in SITES:
        path, run_id = record_file(tmp_path, site)
        done = sdk_test_upload(acme, site, path, acme.url, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"with the token from ${acme.job_variables[site]['SDK_DASHBOARD_TOKEN_VARIABLE']}" in done.stdout
        assert run_id in {r["run_id"] for r in acme.runs(site)}


def test_step4_an_old_result_url_is_named_and_still_works(acme: Acme, tmp_path: Path) -> None:
    path, run_id = record_file(tmp_path, "acme-quartz")
    done = sdk_test_upload(acme, "acme-quartz", path, acme.url + "/result", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ends in /result" in done.stderr and f"Set SDK_DASHBOARD_URL={acme.url}" in " ".join(done.stderr.split())
    assert run_id in {r["run_id"] for r in acme.runs("acme-quartz")}


def psij_conf(acme: Acme, **changes: str) -> dict[str, str]:
    """The page's testing.conf, read as psij's ci_runner reads it ("key = value" lines, '#' comments)."""
    text = (FILES / "testing.conf").read_text().replace(PLACEHOLDER_URL, acme.url)
    text = text.replace("<key_id>:<secret>", acme.token("acme-cobalt"))
    conf = {}
    for line in text.splitlines():
        if line.strip() and not line.strip().startswith("#"):
            name, value = line.split("=", 1)
            conf[name.strip()] = value.strip()
    return {**conf, **changes}


def psij_literal(value: str) -> str:
    """psij's rule for `id` and `key`: a "<string>" is taken literally, without its quotes;
    `hostname` means the host name."""
    if value == "hostname":
        return socket.getfqdn()
    assert value[0] == value[-1] == '"', f"psij refuses {value!r}: a string must be in double quotes"
    return value[1:-1]


def psij_upload(conf: dict[str, str]) -> list[requests.Response]:
    site, key = psij_literal(conf["id"]), psij_literal(conf["key"])
    return [requests.post(f"{conf['server_url']}/result", json=body, timeout=10)
            for body in psij_session(key, site=site, run_id="2026120214-" + new_id() * 2)]


def test_psij_testing_conf_from_the_page_reaches_its_site(acme: Acme) -> None:
    conf = psij_conf(acme)
    assert psij_literal(conf["id"]) == "acme-cobalt"
    responses = psij_upload(conf)
    assert [r.status_code for r in responses] == [200] * len(responses)
    assert any(r["source"] == "legacy" and r["counts"]["passed"] == 1 for r in acme.runs("acme-cobalt"))


def test_psij_with_its_default_id_is_forbidden(acme: Acme) -> None:
    responses = psij_upload(psij_conf(acme, id="hostname"))
    assert responses[0].status_code == 403 and "belongs to site 'acme-cobalt'" in responses[0].json()["error"]["message"]


def test_old_wrapper_variables_from_the_page(acme: Acme) -> None:
    variables = yaml.safe_load((FILES / "old-wrapper.yml").read_text())["variables"]
    url = variables["SDK_DASHBOARD_URL"].replace(PLACEHOLDER_URL, acme.url)
    assert url.endswith("/result")
    site, key = variables["SITE_ID"], acme.token(variables["SITE_ID"])
    pipeline = "98765"  # CI_PIPELINE_ID, as GitLab sets it
    for group in ("pip", "spack", "conda"):  # TESTS_GROUP of each job of the pipeline
        for body in wrapper_job(key, group, site=site, pipeline_id=pipeline, tools={"parsl": "passed"}):
            assert requests.post(url, json=body, timeout=10).status_code == 200
    runs = [r for r in acme.runs(site) if r["run_id"] == pipeline]
    assert sorted(r["variant"] for r in runs) == ["conda", "pip", "spack"]
    assert all(r["finished_at"] and r["assumed_utc"] is False for r in runs)  # read in America/Chicago
    assert {t["suite"] for r in runs for t in r["tests"]} == {"parsl"}


# -- what each 4xx means ------------------------------------------------------------------------

def documented_refusals() -> set[tuple[int, str]]:
    section = PAGE.read_text().split("## What each 4xx means", 1)[1].split("\n## ", 1)[0]
    return {(int(status), code) for status, code in re.findall(r"^\| (4\d\d) \| `([a-z_]+)` \|", section, re.M)}


def refusals(acme: Acme) -> dict[tuple[int, str], requests.Response]:
    """One real request per documented answer."""
    url, cobalt, quartz = acme.url, acme.token("acme-cobalt"), acme.token("acme-quartz")
    bearer = {"Authorization": f"Bearer {cobalt}"}
    legacy = psij_session(cobalt, site="acme-cobalt")[1]
    records = make_run("acme-cobalt")
    start = RunStart(id=new_id(), run_id=new_id(), site="acme-cobalt", started_at=utcnow()).to_dict()
    test = TestResult(id=new_id(), run_id=start["run_id"], suite="s", test_id="t", status="passed").to_dict()
    changed = {**test, "status": "failed"}
    post = lambda path, **kw: requests.post(url + path, timeout=30, **kw)  # noqa: E731
    return {
        (400, "invalid_json"): post("/result", data=b"{not json", headers={"Content-Type": "application/json"}),
        (400, "missing_field"): post("/result", json={"key": legacy["key"], "data": legacy["data"]}),
        (400, "invalid_timestamp"): post("/result", json={**legacy, "data": {**legacy["data"], "test_start_time": "soon"}}),
        (401, "unauthorized"): post("/api/v1/records", json={"records": records}, headers={"Authorization": "Bearer x:y"}),
        (403, "forbidden"): post("/api/v1/records", json={"records": make_run("acme-quartz")}, headers=bearer),
        (404, "not_found"): post("/api/v1/record", json={"records": records}, headers=bearer),
        (409, "conflict"): (post("/api/v1/records", json={"records": [start, test]}, headers=bearer),
                            post("/api/v1/records", json={"records": [start, changed]}, headers=bearer))[1],
        (413, "request_entity_too_large"): post("/api/v1/records", data=b"x" * (2 * 1024 * 1024),
                                                headers={**bearer, "Content-Type": "application/json"}),
        (415, "unsupported_media_type"): post("/api/v1/records", data=b"<xml/>",
                                              headers={**bearer, "Content-Type": "application/xml"}),
        (422, "invalid_records"): post("/api/v1/records", json={"records": [{"type": "run_start"}]}, headers=bearer),
        (422, "unknown_run"): post("/api/v1/records", json={"records": [RunFinish(
            id=new_id(), run_id=new_id(), finished_at=utcnow(), status="passed").to_dict()]},
            headers={"Authorization": f"Bearer {quartz}"}),
        (422, "invalid_timestamp"): post("/result", json={**legacy, "data": {**legacy["data"],
                                                                             "test_start_time": "2999-01-01 00:00:00"}}),
        (422, "too_many_suites"): post("/api/v1/records", headers=bearer, json={"records": make_run(
            "acme-cobalt", suites={f"suite-{i}": {"t": "passed"} for i in range(201)})}),
    }


def test_every_documented_4xx_is_what_the_dashboard_answers(acme: Acme) -> None:
    answers = refusals(acme)
    assert documented_refusals() == set(answers), "the page's table and the answers below differ"
    for (status, code), response in answers.items():
        assert response.status_code == status, (status, code, response.text[:300])
        assert response.json()["error"]["code"] == code, (status, response.json())
