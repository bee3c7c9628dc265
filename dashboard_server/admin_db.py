"""Which database an admin command acts on, said every time, and never one it would create.

Run without the server's environment, ``sdk-dashboard`` used to create a fresh
``instance/dashboard.sqlite`` in the checkout and act on it: a token issued there was then
rejected by the server, and nothing said why. Now every admin command prints the database it
uses (password hidden) on stderr, and refuses one that does not exist yet, or holds no schema,
unless ``--create`` is given.

``create_app`` does not migrate when it is built for a command line (a click context is
active): the admin command does it here, after the check.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from . import migrate


def describe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def missing_reason(engine: Engine) -> str | None:
    """Why ``engine``'s database would have to be created (None: it exists with a schema)."""
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if path in (None, "", ":memory:"):
            return "is an in-memory database"
        if not Path(str(path)).is_file():
            return f"does not exist (no file {path})"
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot open the database {describe(engine)}: {exc.__class__.__name__}: "
                                   f"{getattr(exc, 'orig', exc)}") from None
    if "alembic_version" not in tables:
        return "holds no dashboard schema"
    return None


def open_database(create: bool, upgrade: bool) -> None:
    """Say which database this command uses; refuse to create one unless ``create``."""
    engine: Engine = current_app.extensions["sdk_dashboard"]["engine"]
    click.echo(f"database: {describe(engine)}", err=True)
    reason = missing_reason(engine)
    if reason is not None and not create:
        raise click.ClickException(
            f"the database {describe(engine)} {reason}. If you meant the server's database, run with the "
            f"server's environment (SDK_DASHBOARD_DATABASE_URL); to create a new one here, add --create."
        )
    if upgrade and (reason is not None or current_app.config["AUTO_MIGRATE"]):
        migrate.upgrade(engine)


class AdminGroup(AppGroup):
    """An ``AppGroup`` whose every command takes ``--create`` and checks its database first;
    ``upgrade`` also brings the schema to head (the ``db`` group does that itself)."""

    def __init__(self, *args: Any, upgrade: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.upgrade = upgrade

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], click.Command]:  # type: ignore[override]
        make = super().command(*args, **kwargs)

        def decorator(function: Callable[..., Any]) -> click.Command:
            @functools.wraps(function)
            def checked(*a: Any, create: bool, **kw: Any) -> Any:
                open_database(create, self.upgrade)
                return function(*a, **kw)

            option = click.option("--create", is_flag=True,
                                  help="Create the database (or its schema) if it does not exist yet.")
            return make(option(checked))
        return decorator
