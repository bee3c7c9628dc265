"""Console script ``sdk-dashboard``: the flask CLI (``cli.py``'s commands) bound to this app."""

from __future__ import annotations

import sys

from flask.cli import FlaskGroup

from .app import create_app


def main() -> None:
    cli = FlaskGroup(create_app=lambda: create_app(), help="ExaWorks SDK dashboard admin.")
    sys.exit(cli.main())
