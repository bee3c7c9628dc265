"""HTML pages, one blueprint per page group; each renders the same model its JSON twin returns."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from exaworks_sdk.status import Shown, worst

from . import db, queries
from .cells import site_statuses, suite_statuses
from .exceptions import BadInput, NotFound
from .markup import badge
from .params import page_arg, per_page

summary_bp = Blueprint("summary", __name__)
sites_bp = Blueprint("sites", __name__, url_prefix="/sites")
runs_bp = Blueprint("runs", __name__, url_prefix="/runs")
tests_bp = Blueprint("tests", __name__, url_prefix="/tests")
badges_bp = Blueprint("badges", __name__, url_prefix="/badges")


def page_blueprints() -> list[Blueprint]:
    return [summary_bp, sites_bp, runs_bp, tests_bp, badges_bp]


@summary_bp.get("/")
def index() -> str:
    out = queries.summary(db.session(), current_app.config["SPARKLINE_LENGTH"])
    facilities: dict[str, list[Any]] = {}
    for row in out.rows:
        facilities.setdefault(row.site.facility or "other", []).append(row)
    return render_template("summary/index.html", summary=out, facilities=facilities,
                           has_other=any(row.other for row in out.rows))


@sites_bp.get("/<site>")
def show(site: str) -> str:
    detail = queries.site_detail(db.session(), site, current_app.config["SPARKLINE_LENGTH"])
    runs = queries.site_runs(db.session(), site, page_arg(), per_page())
    return render_template("sites/show.html", detail=detail, runs=runs)


@runs_bp.get("/<int:run>")
def show_run(run: int) -> str:
    return render_template("runs/show.html", run=queries.run_detail(db.session(), run))


@tests_bp.get("/")
def history() -> Any:
    suite, test_id = request.args.get("suite"), request.args.get("test")
    if not suite or not test_id:
        raise BadInput("choose a test from a run page (suite and test are required)", code="missing_field")
    config = current_app.config
    out = queries.test_history(
        db.session(), suite, test_id, page=page_arg(), per_page=per_page(),
        window=config["FLAKY_WINDOW"], threshold=config["FLAKY_THRESHOLD"],
    )
    return render_template("tests/show.html", history=out)


def _svg(text: str) -> Response:
    response = Response(text, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "max-age=300"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@badges_bp.get("/sites/<site>.svg")
def site_badge(site: str) -> Response:
    """The worst latest status of the site's own suites (reads only its cells)."""
    try:
        status = worst(site_statuses(db.session(), queries.get_site(db.session(), site).id))
    except NotFound:
        status = Shown.UNKNOWN
    return _svg(badge(site, status))


@badges_bp.get("/suites/<suite>.svg")
def suite_badge(suite: str) -> Response:
    """The worst latest status of one suite across sites (reads only that suite's cells)."""
    return _svg(badge(suite, worst(suite_statuses(db.session(), suite))))


@summary_bp.get("/favicon.ico")
def favicon() -> Any:
    return redirect(url_for("static", filename="favicon.svg"))
