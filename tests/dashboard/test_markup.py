"""Markup built in Python (``markup.py``): links to runs built once per request."""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from dashboard_server.markup import run_href


@pytest.mark.parametrize("script_root", ["", "/sdk-dashboard"])
def test_a_run_link_is_the_one_url_for_builds(app: Flask, script_root: str) -> None:
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": script_root}):
        for run in (1, 42, 9_000_000):
            assert run_href(run) == url_for("runs.show_run", run=run) == f"{script_root}/runs/{run}"
