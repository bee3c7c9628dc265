"""Read endpoints: JSON mirrors of the pages, serialised through ``schemas``."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from pydantic import BaseModel

from .. import compat, db, digest, failures, queries, releases
from ..exceptions import BadInput, NotFound
from ..migrate import current_revision
from ..params import page_arg, per_page
from ..schemas import Health
from .blueprint import api_bp


def as_json(out: BaseModel) -> Response:
    """A response model as JSON, written by pydantic's serialiser in one pass (a matrix of
    hundreds of verdicts took twice as long through a dict and ``json.dumps``)."""
    return Response(out.model_dump_json(), mimetype="application/json")


@api_bp.get("/api/v1/health")
def health() -> Any:
    engine = current_app.extensions["sdk_dashboard"]["engine"]
    db.ping(engine)
    return as_json(Health(status="ok", database="ok", schema_revision=current_revision(engine)))


@api_bp.get("/api/v1/summary")
def summary() -> Any:
    out = queries.summary(db.session(), current_app.config["SPARKLINE_LENGTH"])
    return as_json(out)


@api_bp.get("/api/v1/sites")
def sites() -> Any:
    return [site.model_dump(mode="json") for site in queries.list_sites(db.session())]


@api_bp.get("/api/v1/sites/<site>")
def site(site: str) -> Any:
    out = queries.site_detail(db.session(), site, current_app.config["SPARKLINE_LENGTH"])
    return as_json(out)


@api_bp.get("/api/v1/sites/<site>/runs")
def site_runs(site: str) -> Any:
    out = queries.site_runs(db.session(), site, page_arg(), per_page())
    return as_json(out)


@api_bp.get("/api/v1/sites/<site>/runs/<path:run_id>")
def site_run(site: str, run_id: str) -> Any:
    """Look a run up by the client's run id (a legacy run id may match one run per branch)."""
    numbers = queries.find_run(db.session(), site, run_id)
    if not numbers:
        raise NotFound(f"no run {run_id!r} at site {site!r}")
    return [queries.run_detail(db.session(), n).model_dump(mode="json") for n in numbers[:20]]


@api_bp.get("/api/v1/runs/<int:run>")
def run(run: int) -> Any:
    return as_json(queries.run_detail(db.session(), run))


def _history(suite: str, test_id: str) -> Any:
    config = current_app.config
    out = queries.test_history(
        db.session(), suite, test_id, page=page_arg(), per_page=per_page(),
        window=config["FLAKY_WINDOW"], threshold=config["FLAKY_THRESHOLD"],
    )
    return as_json(out)


@api_bp.get("/api/v1/tests/<suite>/<path:test_id>")
def test_history(suite: str, test_id: str) -> Any:
    return _history(suite, test_id)


@api_bp.get("/api/v1/tests")
def test_history_query() -> Any:
    """Same as above for suite names containing '/': ``?suite=…&test_id=…``."""
    suite, test_id = request.args.get("suite"), request.args.get("test_id")
    if not suite or not test_id:
        raise BadInput("query parameters suite and test_id are required", code="missing_field")
    return _history(suite, test_id)


@api_bp.get("/api/v1/compat")
def compat_matrix() -> Any:
    days, suite = compat.args()
    return as_json(compat.matrix(db.session(), days, suite))


@api_bp.get("/api/v1/compat/known-good.txt")
def compat_known_good() -> Any:
    """The newest known-good set of each suite as pip constraints or a Spack packages.yaml."""
    form = compat.export_format()
    days, suite = compat.args()
    text = compat.known_good_text(compat.matrix(db.session(), days, suite), form)
    name = "constraints.txt" if form == "pip" else "packages.yaml"
    return Response(text, mimetype="text/plain", headers={"Content-Disposition": f"inline; filename={name}"})


@api_bp.get("/api/v1/failures")
def failure_groups() -> Any:
    return as_json(failures.failures(db.session(), *failures.args()))


@api_bp.get("/api/v1/digest")
def latest_digest() -> Any:
    return as_json(digest.latest(db.session()))


@api_bp.get("/api/v1/releases")
def release_list() -> Any:
    return as_json(releases.releases(db.session()))


@api_bp.get("/api/v1/releases/<version>")
def release_attestation(version: str) -> Any:
    return as_json(releases.release(db.session(), version))
