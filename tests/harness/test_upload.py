"""Upload against a real dashboard process (gunicorn + SQLite), stopped and started again."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from exaworks_sdk.records import RecordWriter, RunFinish, RunStart, Status, TestResult, new_id, utcnow
from test_harness.cli import main
from test_harness.upload import State, UploadSettings, spooled_files, upload
from tests.support.live_server import Server

SITE = "harness-test"
pytest.importorskip("dashboard_server", reason="the dashboard is not installed")
pytest.importorskip("gunicorn", reason="gunicorn is not installed")


class Dashboard(Server):
    """A dashboard process on a fixed port and database, so it can be stopped and started again."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(f"sqlite:///{workdir / 'dash.sqlite'}", workdir, workers=1, start_timeout=60)
        self.workdir = workdir

    def flask(self, *args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "flask", "--app", "dashboard_server", *args], env=self.env,
                              capture_output=True, text=True, timeout=60, cwd=self.workdir)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    def tests_of(self, run_id: str) -> list[dict]:
        runs = requests.get(f"{self.url}/api/v1/sites/{SITE}/runs/{run_id}", timeout=10).json()
        items = runs.get("runs", runs) if isinstance(runs, dict) else runs
        tests: list[dict] = []
        for run in items:
            detail = requests.get(f"{self.url}/api/v1/runs/{run['number'] if 'number' in run else run['id']}",
                                  timeout=10).json()
            tests += detail.get("tests", [])
        return tests


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Dashboard, str]]:
    dash = Dashboard(tmp_path_factory.mktemp("dashboard"))
    dash.flask("db", "upgrade", "--create")
    dash.flask("sites", "add", SITE, "--facility", "local")
    token = dash.flask("tokens", "issue", SITE).splitlines()[-1]
    dash.start()
    try:
        yield dash, token
    finally:
        dash.stop()


def _record_file(directory: Path, tests: int = 3) -> tuple[Path, str]:
    run_id = new_id()
    path = directory / f"{run_id}.jsonl"
    with RecordWriter(path) as writer:
        writer.write(RunStart(id=new_id(), run_id=run_id, site=SITE, started_at=utcnow()))
        for i in range(tests):
            writer.write(TestResult(id=new_id(), run_id=run_id, suite="upload", test_id=f"test_{i}",
                                    status=Status.PASSED, duration=0.1))
        writer.write(RunFinish(id=new_id(), run_id=run_id, finished_at=utcnow(), status=Status.PASSED,
                               exit_code=0, counts={Status.PASSED: tests}))
    return path, run_id


def _settings(dash: Dashboard, token: str, spool: Path, **kw: object) -> UploadSettings:
    return UploadSettings(url=dash.url, token=token, spool_dir=spool, retries=2, backoff=0.1, timeout=10, **kw)  # type: ignore[arg-type]


def test_upload_is_idempotent(dashboard: tuple[Dashboard, str], tmp_path: Path) -> None:
    dash, token = dashboard
    path, run_id = _record_file(tmp_path)
    first = upload([path], _settings(dash, token, tmp_path / "spool"))
    assert [o.state for o in first] == [State.SENT] and first[0].accepted == 5
    again = upload([path], _settings(dash, token, tmp_path / "spool"))
    assert again[0].state is State.SENT and again[0].accepted == 0 and again[0].duplicates == 5
    assert sorted(t["test_id"] for t in dash.tests_of(run_id)) == ["test_0", "test_1", "test_2"]


def test_dashboard_down_spools_then_resends_exactly_once(dashboard: tuple[Dashboard, str], tmp_path: Path) -> None:
    dash, token = dashboard
    spool = tmp_path / "spool"
    path, run_id = _record_file(tmp_path, tests=4)
    dash.stop()
    try:
        outcome = upload([path], _settings(dash, token, spool))[0]
        assert outcome.state is State.SPOOLED and "cannot reach" in outcome.detail
        assert [p.name for p in spooled_files(spool)] == [path.name]
        # a later upload while still down keeps it
        assert upload([], _settings(dash, token, spool))[0].state is State.SPOOLED
        assert spooled_files(spool)
    finally:
        dash.start()
    resent = upload([], _settings(dash, token, spool))
    assert [o.state for o in resent] == [State.SENT] and resent[0].accepted == 6
    assert spooled_files(spool) == [], "a sent file must leave the spool"
    tests = dash.tests_of(run_id)
    assert sorted(t["test_id"] for t in tests) == [f"test_{i}" for i in range(4)], "every record exactly once"


def test_bad_token_is_reported_and_not_marked_sent(dashboard: tuple[Dashboard, str], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    dash, _ = dashboard
    path, _ = _record_file(tmp_path)
    spool = tmp_path / "spool"
    monkeypatch.setenv("SDK_DASHBOARD_URL", dash.url)
    monkeypatch.setenv("SDK_DASHBOARD_TOKEN", "nosuchkey:wrongsecret")
    monkeypatch.setenv("SDK_SPOOL_DIR", str(spool))
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["upload", str(path)]) == 4
    err = capsys.readouterr().err
    assert "rejected" in err and "HTTP 401" in err
    assert [p.name for p in spooled_files(spool)] == [path.name], "a rejected file stays spooled"


def test_unwritable_spool_is_a_clear_error(tmp_path: Path) -> None:
    from test_harness.errors import HarnessError
    from test_harness.upload import spool

    path, _ = _record_file(tmp_path)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(HarnessError, match="cannot spool .* still at"):
        spool(path, blocker / "spool")


def test_nothing_to_upload_exit_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDK_DASHBOARD_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SDK_DASHBOARD_TOKEN", "a:b")
    monkeypatch.setenv("SDK_SPOOL_DIR", str(tmp_path / "empty"))
    assert main(["upload"]) == 3


def _cli_env(monkeypatch: pytest.MonkeyPatch, url: str, spool: Path, **env: str) -> None:
    for name in ("SDK_DASHBOARD_TOKEN", "SDK_SITE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SDK_DASHBOARD_URL", url)
    monkeypatch.setenv("SDK_SPOOL_DIR", str(spool))
    monkeypatch.setenv("COLUMNS", "300")
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_the_sites_own_token_variable_wins(dashboard: tuple[Dashboard, str], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The rendered job sets SDK_SITE; the site's own SDK_DASHBOARD_TOKEN_<SITE> beats a facility-wide one."""
    dash, token = dashboard
    path, run_id = _record_file(tmp_path)
    _cli_env(monkeypatch, dash.url, tmp_path / "spool", SDK_SITE=SITE, SDK_DASHBOARD_TOKEN_HARNESS_TEST=token,
             SDK_DASHBOARD_TOKEN="nosuchkey:wrongsecret")
    assert main(["upload", str(path)]) == 0
    assert "with the token from $SDK_DASHBOARD_TOKEN_HARNESS_TEST" in capsys.readouterr().out
    assert len(dash.tests_of(run_id)) == 3


def test_an_old_result_url_is_named_and_used_as_the_base(dashboard: tuple[Dashboard, str], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The old wrapper's SDK_DASHBOARD_URL was the full /result URL: say so instead of a bare 404."""
    dash, token = dashboard
    path, run_id = _record_file(tmp_path)
    _cli_env(monkeypatch, dash.url + "/result", tmp_path / "spool", SDK_DASHBOARD_TOKEN=token)
    assert main(["upload", str(path)]) == 0
    err = capsys.readouterr().err
    assert "ends in /result" in err and f"Set SDK_DASHBOARD_URL={dash.url}" in err
    assert len(dash.tests_of(run_id)) == 3


def test_a_wrong_base_address_says_what_to_set(dashboard: tuple[Dashboard, str], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    dash, token = dashboard
    path, _ = _record_file(tmp_path)
    _cli_env(monkeypatch, dash.url + "/dashboard", tmp_path / "spool", SDK_DASHBOARD_TOKEN=token)
    assert main(["upload", str(path)]) == 4
    err = " ".join(capsys.readouterr().err.split())
    assert "HTTP 404" in err and "must be the dashboard's base address" in err
