"""`docker run -e SDK_DASHBOARD_URL=… -e SDK_DASHBOARD_TOKEN=… IMAGE` files its run at a real dashboard
(gunicorn + SQLite on this host) as site "container", with the image tag as the variant."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker
Docker = Callable[..., subprocess.CompletedProcess[str]]
SITE = "container"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def dashboard(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    pytest.importorskip("gunicorn", reason="gunicorn is not installed (pip install -e .[dashboard])")
    requests = pytest.importorskip("requests")
    workdir = tmp_path_factory.mktemp("dashboard")
    env = dict(os.environ, SDK_DASHBOARD_DATABASE_URL=f"sqlite:///{workdir / 'dash.sqlite'}",
               SDK_DASHBOARD_SECRET_KEY="docker-tests")

    def flask(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "flask", "--app", "dashboard_server", *args], env=env,
                              cwd=workdir, capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    flask("db", "upgrade", "--create")
    flask("sites", "add", SITE, "--facility", "local")
    token = flask("tokens", "issue", SITE).splitlines()[-1]
    url = f"http://127.0.0.1:{_free_port()}"
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "-b", url.removeprefix("http://"),
                             "dashboard_server:create_app()"], env=env, cwd=workdir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not _healthy(requests, url):
            assert time.monotonic() < deadline, "dashboard did not start"
            time.sleep(0.3)
        yield url, token
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _healthy(requests, url: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        return bool(requests.get(f"{url}/api/v1/health", timeout=5).status_code == 200)
    except requests.RequestException:
        return False


def test_the_default_command_uploads_as_site_container_with_the_tag_as_variant(
        run_in: Docker, image: str, dashboard: tuple[str, str], tmp_path: Path) -> None:
    import requests

    url, token = dashboard
    # The default command with one quick smoke suite (-k), so the test takes seconds.
    out = run_in("sdk-smoke", "-k", "maestro", env={"SDK_DASHBOARD_URL": url, "SDK_DASHBOARD_TOKEN": token})
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "sent" in out.stdout
    runs = requests.get(f"{url}/api/v1/sites/{SITE}/runs", timeout=10).json()
    items = runs.get("runs", runs.get("items", [])) if isinstance(runs, dict) else runs
    assert [r["variant"] for r in items] == [image]
    assert items[0]["status"] == "passed"
