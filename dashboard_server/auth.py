"""Who may do what.

* Writes: ``Authorization: Bearer <key_id>:<secret>``, bound to one site (see ``tokens``).
* Reads: public unless ``REQUIRE_LOGIN``; then HTTP basic auth with the viewer or admin
  password from the config (any user name). Health and the OpenAPI document stay public.
"""

from __future__ import annotations

import hmac

from flask import Flask, current_app, request
from sqlalchemy.orm import Session

from .endpoints import WRITE_ENDPOINT_NAMES
from .exceptions import AuthError
from .models import Site, utcnow
from .tokens import verify

PUBLIC_ENDPOINTS = {"api.health", "api.openapi", "static"} | WRITE_ENDPOINT_NAMES


def bearer_site(db: Session) -> Site:
    """The site the request's Bearer token writes for; raises AuthError(401) otherwise."""
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise AuthError(401, "missing 'Authorization: Bearer <token>' header")
    token = verify(db, credential.strip())
    token.last_used_at = utcnow()
    return token.site


def _password_ok(presented: str | None) -> bool:
    if presented is None:
        return False
    ok = False
    for name in ("VIEWER_PASSWORD", "ADMIN_PASSWORD"):
        expected = current_app.config.get(name)
        if expected:
            ok |= hmac.compare_digest(presented.encode(), str(expected).encode())
    return ok


def _check_read_login() -> None:
    if not current_app.config["REQUIRE_LOGIN"] or request.endpoint in PUBLIC_ENDPOINTS:
        return
    auth = request.authorization
    if auth is None or auth.type != "basic" or not _password_ok(auth.password):
        raise AuthError(401, "login required")


def install_read_login(app: Flask) -> None:
    app.before_request(_check_read_login)
