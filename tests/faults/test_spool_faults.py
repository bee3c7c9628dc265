"""Disk-full and read-only spool directories, on real file systems (tmpfs mounts: as root,
chmod does not stop writes). ``sdk-test upload`` names the spool path and the reason, says
where the record still is, and exits non-zero; a record that was sent is never reported lost."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from exaworks_sdk.records import RecordWriter, RunStart, Status, TestResult, new_id, utcnow
from tests.support.faults import count_stored, provision, write_run
from tests.support.live_server import Server, free_port

pytestmark = pytest.mark.slow
SITE = "faults-spool"


@contextmanager
def tmpfs(where: Path, options: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        pytest.skip("no mount command: the spool fault tests mount small tmpfs file systems")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'}); "
                    "the spool fault tests need root or CAP_SYS_ADMIN")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def big_run(directory: Path, size: int = 200_000) -> Path:
    """A record file larger than the 64 KiB file system it will be spooled to."""
    run_id = new_id()
    path = directory / f"{run_id}.jsonl"
    with RecordWriter(path) as writer:
        writer.write(RunStart(id=new_id(), run_id=run_id, site=SITE, started_at=utcnow()))
        writer.write(TestResult(id=new_id(), run_id=run_id, suite="faults", test_id="test_big_log",
                                status=Status.FAILED, output="x" * size))
    return path


def sdk_test_upload(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "test_harness.cli", "upload", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def env_for(url: str, token: str, spool: Path) -> dict[str, str]:
    return dict(os.environ, SDK_DASHBOARD_URL=url, SDK_DASHBOARD_TOKEN=token, SDK_SPOOL_DIR=str(spool),
                COLUMNS="1000")


@contextmanager
def unusable_spool(case: str, mount: Path) -> Iterator[Path]:
    if case == "file in the way":
        mount.parent.mkdir(parents=True, exist_ok=True)
        mount.write_text("a file where the spool directory should be")
        yield mount
    elif case == "disk full":
        with tmpfs(mount, "size=64k") as root:
            yield root / "spool"
    else:
        with tmpfs(mount, "ro,size=64k") as root:
            yield root if case == "read-only spool" else root / "spool"


@pytest.mark.parametrize("case", ["read-only spool", "read-only parent", "disk full", "file in the way"])
def test_unusable_spool_is_reported_clearly(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = big_run(tmp_path) if case == "disk full" else write_run(tmp_path / "results", SITE)[0]
    original = record.read_bytes()
    mount = tmp_path / "mnt"
    expected = {"read-only spool": "Read-only file system", "read-only parent": "Read-only file system",
                "disk full": "No space left on device",
                "file in the way": "it exists and is not a directory"}[case]
    with unusable_spool(case, mount) as spool:
        # nothing listens on this port: the upload fails at once and the harness tries to spool
        done = sdk_test_upload(env_for(f"http://127.0.0.1:{free_port()}", "0123456789ab:x", spool),
                               "--retries", "0", str(record))
        message = " ".join(done.stderr.split())
        leftovers = sorted(p.name for p in spool.iterdir()) if spool.is_dir() else []
    with capsys.disabled():
        print(f"\nspool fault ({case}): exit {done.returncode}: {message}")
    assert done.returncode not in (0, 75), "a record that is neither sent nor spooled must not look deferred"
    assert f"{record.name} was not sent (cannot reach" in message, message
    assert f"cannot spool {record} into {spool}" in message, message
    assert expected in message, message
    assert f"The record is still at {record}" in message, message
    assert "Traceback" not in done.stderr
    assert record.read_bytes() == original, "the record itself must be untouched"
    assert leftovers == [], f"half-written files left in the spool: {leftovers}"


def test_sent_records_are_not_reported_lost_when_the_spool_is_read_only(tmp_path: Path) -> None:
    """The dashboard accepted the records; a spool that cannot be cleaned must not turn that into a crash."""
    db_url = f"sqlite:///{tmp_path / 'dashboard.sqlite'}"
    token = provision(db_url, [SITE])[SITE]
    fresh, n_fresh = write_run(tmp_path / "results", SITE, tests=3)
    spooled, n_spooled = write_run(tmp_path / "results", SITE, tests=4)
    server = Server(db_url, tmp_path, workers=1)
    server.start()
    try:
        with tmpfs(tmp_path / "spool", "size=1m") as spool:
            shutil.copyfile(spooled, spool / spooled.name)  # left there by an earlier failed upload
            subprocess.run(["mount", "-o", "remount,ro", str(spool)], check=True, capture_output=True)
            env = env_for(server.url, token, spool)
            first = sdk_test_upload(env, str(fresh))  # its spooled copy does not exist: nothing to remove
            second = sdk_test_upload(env)  # the spooled file is sent but cannot be removed
            third = sdk_test_upload(env)  # so it is sent again, as duplicates
    finally:
        server.stop()
    for done in (first, second, third):
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert "could not remove" in " ".join((second.stdout + second.stderr).split())
    assert f"0 accepted, {n_spooled} already there" in " ".join(third.stdout.split())
    stored = count_stored(db_url)
    assert stored.records == n_fresh + n_spooled and stored.duplicates == 0
