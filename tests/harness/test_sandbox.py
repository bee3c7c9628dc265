"""A suite's subprocess environment (test_harness/sandbox.py): everything it writes stays in the sandbox."""

from __future__ import annotations

import sys
from pathlib import Path

from test_harness.sandbox import WITHHELD, remove, suite_environment


def test_homes_and_temporary_directories_point_into_the_sandbox(tmp_path: Path) -> None:
    base = {"HOME": "/home/someone", "PATH": "/usr/bin", "SDK_DASHBOARD_TOKEN": "key:secret", "KEEP": "me"}
    env = suite_environment(tmp_path / "box", base)
    for name in ("HOME", "TMPDIR", "RADICAL_BASE", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME",
                 "XDG_STATE_HOME", "SDK_SUITE_SANDBOX", "PWD"):
        assert env[name].startswith(str(tmp_path / "box")), name
    assert (tmp_path / "box" / "home").is_dir() and (tmp_path / "box" / "tmp").is_dir()
    assert env["KEEP"] == "me"
    assert env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] == "1"


def test_the_harness_credentials_never_reach_a_suite(tmp_path: Path) -> None:
    env = suite_environment(tmp_path, {"SDK_DASHBOARD_TOKEN": "key:secret", "PATH": "/usr/bin",
                                       "SDK_DASHBOARD_TOKEN_LLNL_DANE": "dane:secret",
                                       "SDK_DASHBOARD_TOKEN_ANL_POLARIS": "polaris:secret"})
    assert not set(WITHHELD) & env.keys()
    assert not [name for name in env if name.startswith("SDK_DASHBOARD_TOKEN")]
    assert not {"key:secret", "dane:secret", "polaris:secret"} & set(env.values())


def test_the_venv_stays_reachable_for_tools_that_start_login_shells(tmp_path: Path) -> None:
    env = suite_environment(tmp_path, {"PATH": "/usr/bin"})
    if sys.prefix != sys.base_prefix:
        assert env["VIRTUAL_ENV"] == sys.prefix
        assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)


def test_remove_deletes_the_sandbox_and_tolerates_it_missing(tmp_path: Path) -> None:
    box = tmp_path / "box"
    suite_environment(box, {})
    (box / "home" / "left-behind").write_text("x")
    remove(box)
    assert not box.exists()
    remove(box)
