"""Balsam: the client runs without a server; everything else needs a Balsam site, which a
facility configures (BALSAM_SITE_PATH, or a logged-in client in the real $HOME)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from test_harness.suites.conftest import run


def _real_home() -> Path:
    return Path(os.environ.get("SDK_REAL_HOME") or os.environ["HOME"])


def _site_configured() -> str | None:
    if os.environ.get("BALSAM_SITE_PATH"):
        return os.environ["BALSAM_SITE_PATH"]
    client = _real_home() / ".balsam" / "client.yml"
    return str(client) if client.exists() else None


needs_site = pytest.mark.skipif(
    _site_configured() is None,
    reason="no Balsam site configured: set BALSAM_SITE_PATH or log in with `balsam login` "
           "(Balsam needs its own server with PostgreSQL and Redis)")


def test_client_imports_and_cli() -> None:
    import balsam

    assert balsam.__version__
    out = run(["balsam", "--help"]).stdout
    for command in ("login", "site", "app", "job"):
        assert command in out, out


@needs_site
def test_site_is_listed() -> None:
    env = dict(os.environ, HOME=str(_real_home()))
    out = run(["balsam", "site", "ls"], env=env, timeout=120).stdout
    assert out.strip(), "balsam site ls printed nothing"


@needs_site
def test_job_listing() -> None:
    env = dict(os.environ, HOME=str(_real_home()))
    if os.environ.get("BALSAM_SITE_PATH"):
        env["BALSAM_SITE_PATH"] = os.environ["BALSAM_SITE_PATH"]
    run(["balsam", "job", "ls"], env=env, timeout=120)
