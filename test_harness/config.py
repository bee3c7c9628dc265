"""Settings from flags, then environment variables, then an optional config file (TOML or YAML).

The upload token is the site's own variable when it is set: ``SDK_DASHBOARD_TOKEN_<SITE>``
(``exaworks_sdk.manifest.token_variable``: ``llnl-dane`` → ``SDK_DASHBOARD_TOKEN_LLNL_DANE``),
which is what the rendered pipeline names for each machine; else ``SDK_DASHBOARD_TOKEN``,
else the config file's ``token``/``token_file``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from exaworks_sdk.manifest import token_variable
from test_harness.errors import ConfigError

ENV_VARS = {  # setting → environment variable
    "site": "SDK_SITE",
    "dashboard_url": "SDK_DASHBOARD_URL",
    "token": "SDK_DASHBOARD_TOKEN",
    "variant": "SDK_VARIANT",
    "results_dir": "SDK_RESULTS_DIR",
    "spool_dir": "SDK_SPOOL_DIR",
    "ca_bundle": "SDK_CA_BUNDLE",
    "jobs": "SDK_JOBS",
    "timeout_factor": "SDK_TIMEOUT_FACTOR",
}
CONFIG_ENV = "SDK_TEST_CONFIG"


@dataclass(frozen=True)
class Config:
    site: str | None = None
    dashboard_url: str | None = None
    token: str | None = None
    variant: str | None = None
    results_dir: Path = Path("sdk-results")
    spool_dir: Path | None = None
    ca_bundle: str | None = None
    jobs: int = 2
    timeout_factor: float = 1.0
    token_source: str | None = None  # where the token came from (a variable's name), for messages


    def spool(self) -> Path:
        from test_harness.upload import default_spool_dir  # with requests: only when uploading

        return self.spool_dir or default_spool_dir()


def _read_file(path: Path) -> dict[str, Any]:
    import tomllib  # a config file is optional: its parsers are imported only to read one

    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"config file {path} is not valid: {exc}") from None
    data = data or {}
    if isinstance(data.get("sdk-test"), dict):  # allow a [sdk-test] table in a shared file
        data = data["sdk-test"]
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a mapping of settings")
    if "token_file" in data:  # keep secrets out of the config itself
        token_path = Path(str(data.pop("token_file"))).expanduser()
        try:
            data["token"] = token_path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"config file {path}: cannot read token_file {token_path}: {exc.strerror}") from None
    data = {k.replace("-", "_"): v for k, v in data.items()}
    unknown = sorted(set(data) - {f.name for f in fields(Config)})
    if unknown:
        raise ConfigError(f"config file {path}: unknown setting(s) {', '.join(unknown)}; "
                          f"known: {', '.join(f.name for f in fields(Config))}, token_file")
    return data


def _coerce(name: str, value: Any, origin: str) -> Any:
    try:
        if name in ("results_dir", "spool_dir"):
            return Path(str(value)).expanduser()
        if name == "jobs":
            number = int(value)
            if number < 1:
                raise ValueError("must be at least 1")
            return number
        if name == "timeout_factor":
            factor = float(value)
            if factor <= 0:
                raise ValueError("must be positive")
            return factor
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: {name} = {value!r} is invalid: {exc}") from None
    if name == "dashboard_url" and not str(value).startswith(("http://", "https://")):
        raise ConfigError(f"{origin}: dashboard_url {value!r} must start with https:// (or http://)")
    return str(value)


def load_config(flags: Mapping[str, Any] | None = None, env: Mapping[str, str] = os.environ,
                path: Path | None = None) -> Config:
    """Flags win over environment variables, which win over the config file."""
    path = path or (Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else None)
    values: dict[str, Any] = {}
    if path is not None:
        values.update({k: _coerce(k, v, str(path)) for k, v in _read_file(path).items() if v is not None})
    for name, var in ENV_VARS.items():
        if env.get(var):
            values[name] = _coerce(name, env[var], f"${var}")
    if "token" in values:
        values["token_source"] = f"${ENV_VARS['token']}" if env.get(ENV_VARS["token"]) else f"token in {path}"
    for name, value in (flags or {}).items():
        if value is not None:
            values[name] = _coerce(name, value, f"--{name.replace('_', '-')}")
    own = token_variable(values["site"]) if values.get("site") else None
    if own and env.get(own):  # this machine's own token wins over a facility-wide SDK_DASHBOARD_TOKEN
        values["token"], values["token_source"] = env[own], f"${own}"
    return Config(**values)
