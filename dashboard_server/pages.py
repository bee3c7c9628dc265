"""HTML pages, one blueprint per page group; each renders the same model its JSON twin returns."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from exaworks_sdk.release.attestation import STATES
from exaworks_sdk.status import Shown, worst

from . import compat, db, digest, failures, queries, releases
from .cells import site_statuses, suite_statuses
from .exceptions import BadInput, NotFound
from .markup import badge
from .params import page_arg, per_page

summary_bp = Blueprint("summary", __name__)
sites_bp = Blueprint("sites", __name__, url_prefix="/sites")
runs_bp = Blueprint("runs", __name__, url_prefix="/runs")
tests_bp = Blueprint("tests", __name__, url_prefix="/tests")
badges_bp = Blueprint("badges", __name__, url_prefix="/badges")
compat_bp = Blueprint("compat", __name__, url_prefix="/compat")
failures_bp = Blueprint("failures", __name__, url_prefix="/failures")
digest_bp = Blueprint("digest", __name__, url_prefix="/digest")
releases_bp = Blueprint("releases", __name__, url_prefix="/releases")


def page_blueprints() -> list[Blueprint]:
    return [summary_bp, sites_bp, runs_bp, tests_bp, badges_bp, compat_bp, failures_bp, digest_bp,
            releases_bp]


@summary_bp.get("/")
def index() -> str:
    out = queries.summary(db.session(), current_app.config["SPARKLINE_LENGTH"])
    facilities: dict[str, list[Any]] = {}
    for row in out.rows:
        facilities.setdefault(row.site.facility or "other", []).append(row)
    return render_template("summary/index.html", summary=out, facilities=facilities,
                           columns=[suite for group in out.groups for suite in group.suites],
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


@compat_bp.get("/")
def matrix() -> str:
    days, suite = compat.args()
    return render_template("compat/index.html", matrix=compat.matrix(db.session(), days, suite), suite=suite)


@failures_bp.get("/")
def groups() -> str:
    return render_template("failures/index.html", out=failures.failures(db.session(), *failures.args()))


@digest_bp.get("/")
def newest() -> str:
    newest, site = digest.latest(db.session()), request.args.get("site") or None
    return render_template("digest/index.html", digest=newest, site=site, lists=digest.page_lists(newest, site),
                           base=current_app.config["DASHBOARD_URL"])


@releases_bp.get("/")
def list_releases() -> str:
    return render_template("releases/index.html", out=releases.releases(db.session()))


@releases_bp.get("/<version>")
def show_release(version: str) -> str:
    out = releases.release(db.session(), version)
    groups: dict[str, list[Any]] = {state: [] for state in STATES}
    for cell in out.cells:
        groups[cell.state].append(cell)
    return render_template("releases/show.html", r=out, groups=[(s, c) for s, c in groups.items() if c])


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


@badges_bp.get("/releases/<version>.svg")
def release_badge(version: str) -> Response:
    """Ready (green) or not ready (red) as the release's recorded attestation says; grey when
    it has none."""
    ready = releases.ready_of(db.session(), version)
    status, text = ((Shown.UNKNOWN, "no attestation") if ready is None else
                    (Shown.PASSED, "ready") if ready else (Shown.FAILED, "not ready"))
    return _svg(badge(f"release {version}", status, text))


@summary_bp.get("/favicon.ico")
def favicon() -> Any:
    return redirect(url_for("static", filename="favicon.svg"))
