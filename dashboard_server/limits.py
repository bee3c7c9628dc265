"""Limits on what an upload may carry, in one place: the ingest code enforces them, the OpenAPI
document states them, and the column lengths in ``models`` come from the same table
(``exaworks_sdk.records.LIMITS``). Imports nothing but the record format, so the OpenAPI
document builds with the base install."""

from __future__ import annotations

from exaworks_sdk.records import LIMITS, MAX_NAME

# JUnit query parameters and their longest values.
JUNIT_PARAMS: dict[str, int] = {"run_id": LIMITS["run_id"], "suite": MAX_NAME, "variant": LIMITS["variant"],
                                "branch": LIMITS["branch"], "sdk_version": LIMITS["sdk_version"], "started_at": 64}
# Defaults of the config settings of the same names (SDK_DASHBOARD_MAX_SUITES_PER_RUN, …).
MAX_SUITES_PER_RUN = 200
MAX_SUITES_PER_SITE = 200


def configured(name: str) -> int:
    """A limit from the running app's config, or its default outside one."""
    from flask import current_app, has_app_context

    if has_app_context() and current_app.config.get(name) is not None:
        return int(current_app.config[name])
    return int(globals()[name])
