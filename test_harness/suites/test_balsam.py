"""Balsam for real: a Balsam server on a PostgreSQL cluster of the suite's own, a site on this
machine, and an app whose jobs run through a launcher and are checked.

Balsam pins pydantic 1, so it lives in its own virtual environment (the manifest's ``balsam``
pip environment, which ci/scripts/python-env.sh creates as ``.venv-balsam``). The suite runs in
the SDK's environment and drives Balsam through that environment's commands and Python
(balsam_driver.py). Everything networked stays on loopback: PostgreSQL listens on 127.0.0.1
and a socket in its own directory, Redis (optional: Balsam's event stream) on a Unix socket
only, and the API server (gunicorn, with Balsam's own configuration) on 127.0.0.1. Every
process the suite starts is ended at teardown.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from test_harness import reaper
from test_harness.detect import pip_environment
from test_harness.suites.conftest import kill_process_group, run

DRIVER = Path(__file__).with_name("balsam_driver.py")
PG_BINARIES = ("initdb", "pg_ctl", "createdb")


def _pg_bin() -> Path | None:
    """PostgreSQL's server programs, all from one installation: where `initdb` on PATH really
    lives, else Debian's newest /usr/lib/postgresql/<version>/bin."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name, reverse=True)
    return next((d for d in candidates if all((d / b).exists() for b in PG_BINARIES)), None)


PG_BIN = _pg_bin()
pytestmark = pytest.mark.skipif(
    PG_BIN is None, reason="the balsam suite runs its own Balsam server, which needs a local PostgreSQL "
                           "server (initdb, pg_ctl, createdb: Debian's postgresql package); none found")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Balsam:
    """The Balsam environment's commands, with the environment a Balsam user would have."""

    def __init__(self, prefix: Path, home: Path, extra: dict[str, str]) -> None:
        self.prefix = prefix
        self.env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
        self.env.update(PATH=f"{prefix / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", HOME=str(home),
                        VIRTUAL_ENV=str(prefix), **extra)

    def run(self, *args: str, timeout: float = 120, check: bool = True, cwd: Path | None = None
            ) -> subprocess.CompletedProcess[str]:
        return run([str(self.prefix / "bin" / args[0]), *args[1:]], timeout=timeout, check=check,
                   env=self.env, cwd=cwd)

    def driver(self, *args: str, timeout: float = 180) -> dict[str, Any]:
        out = self.run("python", str(DRIVER), *args, timeout=timeout).stdout
        return json.loads(out.strip().splitlines()[-1])

    def start(self, *args: str, cwd: Path, log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as fh:
            return subprocess.Popen([str(self.prefix / "bin" / args[0]), *args[1:]], cwd=cwd, env=self.env,
                                    stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)


class Postgres:
    """A throwaway cluster. initdb refuses to run as root, so as root it runs as `postgres`, in a
    directory under /tmp that user can reach (the suite's own sandbox is private to root)."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        self.top = Path(tempfile.mkdtemp(prefix="sdk-balsam-", dir="/tmp" if self.as_root else None))
        self.data = self.top / "pg"
        self.port = _free_port()
        self.user = "postgres" if self.as_root else (os.environ.get("USER") or "balsam")

    def _pg(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return run(command, timeout=timeout)

    def start(self) -> str:
        self.top.chmod(0o755)
        self.data.mkdir(mode=0o700)
        if self.as_root:
            shutil.chown(self.data, "postgres")
        self._pg("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.data / "server.log"), "-w", "-o",
                 f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        self._pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "balsam")
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/balsam"

    def new_database(self, name: str) -> str:
        self._pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            command = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
            subprocess.run(["runuser", "-u", "postgres", "--", *command] if self.as_root else command,
                           capture_output=True, timeout=60)
        shutil.rmtree(self.top, ignore_errors=True)


def _wait_for_http(url: str, proc: subprocess.Popen[bytes], logs: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            said = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
                             for p in sorted(logs.glob("gunicorn*")))
            pytest.fail(f"the Balsam server exited {proc.returncode}:\n{said}")
        try:
            urllib.request.urlopen(url, timeout=5)  # noqa: S310 - our own server on loopback
            return
        except urllib.error.HTTPError:
            return  # it answers (404 at the root is Balsam's answer)
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the Balsam server did not answer at {url} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    assert PG_BIN is not None
    pg = Postgres(PG_BIN)
    try:
        pg.start()
        yield pg
    finally:
        pg.stop()


@pytest.fixture(scope="module")
def server(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Schema, Redis (when installed), then Balsam's API server under gunicorn on 127.0.0.1."""
    prefix = pip_environment("balsam")
    assert prefix is not None, "the harness detected balsam, so its environment exists"
    work = tmp_path_factory.mktemp("balsam")
    logs = work / "logs"
    logs.mkdir()
    port = _free_port()
    extra = {"BALSAM_DATABASE_URL": f"postgresql://{postgres.user}@127.0.0.1:{postgres.port}/balsam",
             "BALSAM_AUTH_SECRET_KEY": secrets.token_hex(32), "BALSAM_AUTH_LOGIN_METHODS": '["password"]',
             "BALSAM_LOG_DIR": str(logs), "SERVER_PORT": str(port)}
    redis_socket = postgres.top / "redis.sock"  # short path: Unix socket names are limited to 107 bytes
    extra["BALSAM_REDIS_PARAMS"] = json.dumps({"unix_socket_path": str(redis_socket)})
    balsam = Balsam(prefix, Path(os.environ["HOME"]), extra)
    with reaper.ends_what_it_starts():
        procs: list[subprocess.Popen[Any]] = []
        try:
            if shutil.which("redis-server"):
                procs.append(subprocess.Popen(
                    ["redis-server", "--port", "0", "--unixsocket", str(redis_socket), "--save", "",
                     "--appendonly", "no", "--dir", str(postgres.top)],
                    stdout=(logs / "redis.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True))
            balsam.driver("schema")
            config = balsam.run("python", "-c", "import balsam.server, pathlib; print(pathlib.Path("
                                "balsam.server.__file__).parent / 'gunicorn.conf.example.py')").stdout.strip()
            log = logs / "gunicorn.out"
            # Balsam's own gunicorn configuration binds 0.0.0.0; -b on the command line wins.
            gunicorn = balsam.start("gunicorn", "-c", config, "-b", f"127.0.0.1:{port}", "balsam.server.main:app",
                                    cwd=work, log=log)
            procs.append(gunicorn)
            url = f"http://127.0.0.1:{port}"
            _wait_for_http(url + "/", gunicorn, logs)
            yield {"balsam": balsam, "url": url, "work": work, "logs": logs, "redis": len(procs) == 2}
        finally:
            for proc in reversed(procs):
                kill_process_group(proc)


@pytest.fixture(scope="module")
def site(server: dict[str, Any]) -> dict[str, Any]:
    balsam: Balsam = server["balsam"]
    login = balsam.driver("login", server["url"], f"sdk-{secrets.token_hex(4)}", secrets.token_urlsafe(16))
    site_path = server["work"] / "site"
    created = balsam.driver("site", str(site_path), f"sdk-site-{secrets.token_hex(4)}")
    return {**server, "login": login, "site_path": site_path, "site_id": created["site_id"],
            "defaults": created["defaults"]}


def test_client_cli() -> None:
    prefix = pip_environment("balsam")
    assert prefix is not None
    out = run([str(prefix / "bin" / "balsam"), "--help"]).stdout
    for command in ("login", "site", "app", "job", "server"):
        assert command in out, out


def test_schema_by_the_packages_migrations(postgres: Postgres, server: dict[str, Any]) -> None:
    """`balsam server migrate`, the documented way to create the schema, on an empty database."""
    balsam: Balsam = server["balsam"]
    env = {**balsam.env, "BALSAM_DATABASE_URL": postgres.new_database("balsam_migrate"),
           "BALSAM_CLI_TRACEBACK": "1"}
    proc = run([str(balsam.prefix / "bin" / "balsam"), "server", "migrate"], check=False, env=env, timeout=180)
    assert proc.returncode == 0 and "Migrations complete" in proc.stdout, proc.stdout + proc.stderr


def test_schema_by_create_tables(postgres: Postgres, server: dict[str, Any]) -> None:
    """Balsam's own `balsam.server.models.create_tables()` on an empty database."""
    balsam: Balsam = server["balsam"]
    env = {**balsam.env, "BALSAM_DATABASE_URL": postgres.new_database("balsam_create_tables")}
    proc = run([str(balsam.prefix / "bin" / "python"), str(DRIVER), "create-tables"], check=False, env=env,
               timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_server_registers_and_logs_in_a_user(site: dict[str, Any]) -> None:
    assert site["login"]["user"]["id"] >= 1
    assert Path(site["login"]["client_settings"]).is_file(), "balsam login writes ~/.balsam/client.yml"


def test_site_is_listed(site: dict[str, Any]) -> None:
    out = site["balsam"].run("balsam", "site", "ls").stdout
    assert str(site["site_path"]) in out or site["site_path"].name in out, out
    assert (site["site_path"] / "settings.yml").is_file()


def test_app_jobs_run_through_a_launcher(site: dict[str, Any]) -> None:
    """An app with two jobs and a batch job: the site's service submits a launcher through the
    local scheduler, the launcher runs the jobs, and each job's output is its own."""
    balsam: Balsam = site["balsam"]
    submitted = balsam.driver("submit", str(site["site_path"]), "2")
    log = site["logs"] / "site-service.out"
    balsam.env["BALSAM_SITE_PATH"] = str(site["site_path"])
    service = balsam.start("python", "-m", "balsam.site.service.main", cwd=site["site_path"], log=log)
    try:
        time.sleep(1)
        if service.poll() is not None:
            pytest.fail(f"the site service exited {service.returncode}:\n{log.read_text()[-4000:]}")
        result = balsam.driver("wait", str(site["site_path"]), *map(str, submitted["job_ids"]), "--timeout", "150",
                               timeout=200)
    finally:
        kill_process_group(service)
    states = {job["id"]: job["state"] for job in result["jobs"]}
    assert set(states.values()) == {"JOB_FINISHED"}, json.dumps(result, indent=1)
    for job in result["jobs"]:
        assert job["stdout"] == f"hello {job['parameters']['who']} from balsam\n", job
        assert "PREPROCESSED->RUNNING" in job["events"] and "RUN_DONE->JOB_FINISHED" in job["events"], job
    out = balsam.run("balsam", "job", "ls", cwd=site["site_path"]).stdout
    assert out.count("JOB_FINISHED") >= 2, out

