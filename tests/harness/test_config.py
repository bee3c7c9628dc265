from __future__ import annotations

from pathlib import Path

import pytest

from test_harness.config import load_config
from test_harness.errors import ConfigError


def test_flags_beat_env_beat_file(tmp_path: Path) -> None:
    cfg = tmp_path / "sdk-test.toml"
    cfg.write_text('site = "from-file"\ndashboard_url = "https://file.example"\njobs = 4\n')
    env = {"SDK_SITE": "from-env", "SDK_DASHBOARD_TOKEN": "tok"}
    config = load_config({"site": "from-flag", "jobs": None}, env=env, path=cfg)
    assert config.site == "from-flag"
    assert config.dashboard_url == "https://file.example"
    assert config.token == "tok"
    assert config.jobs == 4
    assert load_config({}, env=env, path=cfg).site == "from-env"


def test_yaml_file_with_token_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("abc:def\n")
    cfg = tmp_path / "sdk-test.yaml"
    cfg.write_text(f"sdk-test:\n  token_file: {tmp_path / 'token'}\n  results-dir: {tmp_path / 'out'}\n")
    config = load_config({}, env={}, path=cfg)
    assert config.token == "abc:def"
    assert config.results_dir == tmp_path / "out"


@pytest.mark.parametrize("text, message", [
    ("colour = 'blue'\n", "unknown setting"),
    ("jobs = 0\n", "jobs = 0 is invalid"),
    ("dashboard_url = 'ftp://x'\n", "must start with https://"),
    ("site = [\n", "is not valid"),
])
def test_bad_config_is_a_config_error(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config({}, env={}, path=cfg)
    assert info.value.exit_code == 2


def test_config_file_from_env(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("timeout_factor = 2.5\n")
    assert load_config({}, env={"SDK_TEST_CONFIG": str(cfg)}).timeout_factor == 2.5


def test_the_sites_own_token_beats_the_shared_one() -> None:
    env = {"SDK_SITE": "llnl-dane", "SDK_DASHBOARD_TOKEN": "shared:x", "SDK_DASHBOARD_TOKEN_LLNL_DANE": "own:y",
           "SDK_DASHBOARD_TOKEN_LLNL_TIOGA": "tioga:z"}
    config = load_config({}, env=env)
    assert config.token == "own:y" and config.token_source == "$SDK_DASHBOARD_TOKEN_LLNL_DANE"
    assert load_config({"site": "llnl-tioga"}, env=env).token == "tioga:z"  # --site picks the variable
    assert load_config({"site": "anl-polaris"}, env=env).token == "shared:x"
    assert load_config({}, env={"SDK_DASHBOARD_TOKEN": "shared:x"}).token_source == "$SDK_DASHBOARD_TOKEN"


def test_base_url_of_old_upload_addresses() -> None:
    from test_harness.upload import base_url

    assert base_url("https://dash.example.org") == ("https://dash.example.org", None)
    for old in ("https://dash.example.org/result", "https://dash.example.org/result/",
                "https://dash.example.org/api/v1/records"):
        base, warning = base_url(old)
        assert base == "https://dash.example.org" and warning and "base address" in warning
    assert base_url("https://dash.example.org/sdk/result")[0] == "https://dash.example.org/sdk"
