"""Markup built in Python (``markup.py``): links to runs built once per request, and the\ncompatibility matrix's verdicts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask, url_for

from dashboard_server.markup import codes, run_href, run_links, status_label, status_span, verdicts
from exaworks_sdk.status import Shown


@pytest.mark.parametrize("script_root", ["", "/sdk-dashboard"])
def test_a_run_link_is_the_one_url_for_builds(app: Flask, script_root: str) -> None:
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": script_root}):
        for run in (1, 42, 9_000_000):
            assert run_href(run) == url_for("runs.show_run", run=run) == f"{script_root}/runs/{run}"


def test_a_matrix_verdict_reads_as_the_macro_wrote_it(app: Flask) -> None:
    """``verdicts`` builds in Python what the page's macros built per verdict: names escaped,
    the status as the ``status`` macro shows it, the run linked, its start in the title."""
    started = datetime(2026, 12, 1, 10, 30, 5, tzinfo=UTC)
    items = [{"site": "llnl-dane", "variant": "spack", "status": Shown.PASSED, "run": 7, "started_at": started},
             {"site": "<b>odd</b>", "variant": "p&p", "status": Shown.FIXED, "run": 8, "started_at": started}]
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/sdk"}):
        html = str(verdicts(items))
        macro = app.jinja_env.from_string('{% from "_macros.html" import status %}{{ status(s) }}')
        assert html == (
            f'<span class="verdict">llnl-dane <small>spack</small> <a href="/sdk/runs/7" '
            f'title="2026-12-01 10:30 UTC">{macro.render(s="passed")}</a></span>, '
            f'<span class="verdict">&lt;b&gt;odd&lt;/b&gt; <small>p&amp;p</small> <a href="/sdk/runs/8" '
            f'title="2026-12-01 10:30 UTC">{macro.render(s="fixed")}</a></span>')
        assert str(status_span("fixed")) == macro.render(s="fixed") == (
            f'<span class="status status-fixed">{status_label("fixed")}</span>')
        breakable = app.jinja_env.from_string('{% from "_macros.html" import status %}{{ status(s, breakable=true) }}')
        assert breakable.render(s="unfinished") == '<span class="status status-unfinished">un&shy;finished</span>'
        assert breakable.render(s="<x>") == '<span class="status status-&lt;x&gt;">&lt;x&gt;</span>'


def test_a_failure_groups_tests_and_runs_are_escaped_and_linked(app: Flask) -> None:
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/sdk"}):
        assert str(codes(["psij::test_a", "x::<script>"])) == "<code>psij::test_a</code>, <code>x::&lt;script&gt;</code>"
        assert str(run_links([12, 3])) == '<a href="/sdk/runs/12">#12</a> <a href="/sdk/runs/3">#3</a>'
        assert str(codes([])) == str(run_links([])) == ""
