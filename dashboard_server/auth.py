"""Who may do what.

* Writes: ``Authorization: Bearer <key_id>:<secret>``, bound to one site (see ``tokens``). The
  credential is checked from the headers before the body is read or parsed and before a write
  transaction (SQLite's write lock) is taken, so an anonymous client costs one indexed lookup.
  The legacy ``/result`` carries its key inside the body by design; there the key is checked
  right after the (size-limited) JSON is parsed, still before ``data`` is validated or a write
  transaction opens.
* Reads: public unless ``REQUIRE_LOGIN``; then HTTP basic auth with the viewer or admin
  password from the config (any user name). Health and the OpenAPI document stay public.
"""

from __future__ import annotations

import hmac

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session, joinedload

from .endpoints import WRITE_ENDPOINT_NAMES, WRITE_ENDPOINTS
from .exceptions import AuthError
from .models import Site, Token, utcnow
from .tokens import check_usable, verify

PUBLIC_ENDPOINTS = {"api.health", "api.openapi", "static"} | WRITE_ENDPOINT_NAMES
BEARER_ENDPOINTS = frozenset(e.endpoint for e in WRITE_ENDPOINTS if e.credential == "bearer")


def presented_bearer() -> str:
    """The Bearer credential of this request; AuthError(401) when there is none."""
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise AuthError(401, "missing 'Authorization: Bearer <token>' header")
    return credential.strip()


def check_credential(presented: str, *, allow_legacy: bool = False) -> Token:
    """Verify a credential in a short read session of its own (no write lock) and remember the
    token (with its site loaded) for ``upload_site``; raises AuthError(401)."""
    with current_app.extensions["sdk_dashboard"]["sessionmaker"]() as session:
        try:
            token = verify(session, presented, allow_legacy=allow_legacy)
        except AuthError:
            g.auth_failed = True  # counted by the rate limit on failed authentications
            raise
        _ = token.site.name  # loaded while the session is open
    g.upload_token = token
    return token


def _check_upload_credential() -> None:
    if request.endpoint in BEARER_ENDPOINTS:
        check_credential(presented_bearer())


def upload_site(db: Session) -> Site:
    """Inside the write transaction: the site of the token checked before it, still usable
    (a revocation in between wins), with its last use recorded."""
    checked: Token | None = g.get("upload_token")
    if checked is None:
        raise AuthError(401, "credential not checked")
    token = db.get(Token, checked.id, options=[joinedload(Token.site)])  # the site in the same statement
    if token is None:
        raise AuthError(401, "invalid token")
    check_usable(token, utcnow())
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
    if auth is None or auth.type != "basic":
        raise AuthError(401, "login required")
    if not _password_ok(auth.password):
        g.auth_failed = True
        raise AuthError(401, "login required")


def install_auth(app: Flask) -> None:
    app.before_request(_check_upload_credential)
    app.before_request(_check_read_login)
