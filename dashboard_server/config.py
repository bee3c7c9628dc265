"""Dashboard settings: defaults, overridden by ``SDK_DASHBOARD_*`` env vars, overridden by a dict."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .limits import MAX_SUITES_PER_RUN, MAX_SUITES_PER_SITE

# name -> (default, parser). Env var is SDK_DASHBOARD_<name>.
_BOOL_TRUE = {"1", "true", "yes", "on"}


def _bool(value: str) -> bool:
    return value.strip().lower() in _BOOL_TRUE


SETTINGS: dict[str, tuple[Any, Callable[[str], Any]]] = {
    "DATABASE_URL": (None, str),
    "SECRET_KEY": (None, str),
    "MAX_UPLOAD_MB": (20, float),
    "REQUIRE_LOGIN": (False, _bool),
    "VIEWER_PASSWORD": (None, str),
    "ADMIN_PASSWORD": (None, str),
    "RETENTION_DAYS": (None, int),
    "AUTO_MIGRATE": (True, _bool),
    "GC_YOUNG_THRESHOLD": (20_000, int),
    "RUNS_PER_PAGE": (50, int),
    "SPARKLINE_LENGTH": (20, int),
    "FLAKY_WINDOW": (10, int),
    "FLAKY_THRESHOLD": (2, int),
    "SQLITE_BUSY_TIMEOUT_MS": (15000, int),
    "FUTURE_SLACK_HOURS": (24, float),
    "MAX_SUITES_PER_RUN": (MAX_SUITES_PER_RUN, int),
    "MAX_SUITES_PER_SITE": (MAX_SUITES_PER_SITE, int),
    "EXTRA_SUITES": (None, str),
    "AUTH_FAILURES_PER_ADDRESS": ("30 per minute", str),
    "AUTH_FAILURES_PER_CREDENTIAL": ("10 per minute", str),
    "RATELIMIT_STORAGE_URI": ("memory://", str),
    "TRUSTED_PROXIES": (0, int),
    # the failure digest (digest.py): off unless configured
    "DASHBOARD_URL": ("", str),
    "DIGEST_WEBHOOK_URL": (None, str),
    "DIGEST_SMTP_HOST": (None, str),
    "DIGEST_SMTP_PORT": (25, int),
    "DIGEST_EMAIL_FROM": (None, str),
    "DIGEST_EMAIL_TO": (None, str),
}


def load_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the effective settings. Keys may be given with or without the SDK_DASHBOARD_ prefix."""
    config: dict[str, Any] = {}
    for name, (default, parse) in SETTINGS.items():
        raw = os.environ.get(f"SDK_DASHBOARD_{name}")
        config[name] = parse(raw) if raw not in (None, "") else default
    for key, value in (overrides or {}).items():
        config[key.removeprefix("SDK_DASHBOARD_")] = value
    if not config["DATABASE_URL"]:
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        config["DATABASE_URL"] = f"sqlite:///{Path(instance_path) / 'dashboard.sqlite'}"
    if not config["SECRET_KEY"]:
        # Only signs nothing persistent today; a per-process key is safe but set one in production.
        config["SECRET_KEY"] = secrets.token_hex(32)
    config["MAX_CONTENT_LENGTH"] = int(float(config["MAX_UPLOAD_MB"]) * 1024 * 1024)
    return config
