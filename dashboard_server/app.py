"""The Flask application factory: configuration, database engine, blueprints, error handlers."""

from __future__ import annotations

import gc
from typing import Any

import click
from flask import Flask
from sqlalchemy.orm import sessionmaker

from . import db as dbmod
from . import errors, migrate
from .config import load_config


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(load_config(app.instance_path, config))
    app.json.sort_keys = False  # type: ignore[attr-defined]

    engine = dbmod.make_engine(app.config["DATABASE_URL"], app.config["SQLITE_BUSY_TIMEOUT_MS"])
    app.extensions["sdk_dashboard"] = {
        "engine": engine,
        "sessionmaker": sessionmaker(engine, expire_on_commit=False),
    }
    # A command line (a click context is active) checks its database first: admin_db.py.
    if app.config["AUTO_MIGRATE"] and click.get_current_context(silent=True) is None:
        try:
            migrate.upgrade(engine)
        except Exception as exc:  # the DB may be down at start; /api/v1/health reports it
            if not dbmod.is_unavailable(exc):
                raise
            app.logger.warning("database not reachable at start-up; schema not checked")
    app.teardown_appcontext(dbmod.close_session)

    from .api import api_bp
    from .auth import install_auth
    from .cli import register_commands
    from .headers import install_headers
    from .markup import register_filters
    from .pages import page_blueprints
    from .params import AsciiInt
    from .ratelimit import install_rate_limit
    from .validation import check_url

    app.url_map.converters["int"] = AsciiInt
    app.register_blueprint(api_bp)
    for blueprint in page_blueprints():
        app.register_blueprint(blueprint)
    errors.register(app)
    # before every request, in this order: a client over its failed-login limit is refused
    # first, then a malformed URL, then a missing or wrong credential; only then any work
    app.extensions["sdk_dashboard"]["limiter"] = install_rate_limit(app)
    app.before_request(check_url)
    install_auth(app)
    install_headers(app)
    register_filters(app)
    register_commands(app)
    if not app.testing:
        tune_collector(int(app.config["GC_YOUNG_THRESHOLD"]))
    return app


_tuned = False


def tune_collector(young_threshold: int) -> None:
    """Once per server process: move the objects alive after start-up (modules, models, the
    schema, templates) out of the collector's reach, and let more allocations go by between
    young collections. With Python's default of 700, a 500-record upload, which holds some
    30,000 objects while it runs, promoted them on and on and set off full collections that
    walked the whole heap: about a tenth of the upload's CPU. 0 leaves the collector alone."""
    global _tuned
    if _tuned or young_threshold <= 0:
        return
    _tuned = True
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(max(young_threshold, gc.get_threshold()[0]), older, oldest)
