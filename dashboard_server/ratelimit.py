"""A limit on failed authentications, per credential and per client address (Flask-Limiter).

Only requests whose presented credential was refused count (``auth`` marks them: a wrong,
revoked or expired token or legacy key, a wrong login password); a request with no credential
at all costs nothing to refuse and is not a guess, and a valid token used wrongly (another
site's run, 403) is not a failed authentication. So working uploads and public reads are never
limited. Past the limit every request from that address, or with that credential, gets 429
with ``Retry-After`` until the window passes.

* per credential: the key id of a Bearer token (the part before ``:``) on the upload endpoints,
  or the password of a basic-auth login on the pages (hashed: it is a storage key, never
  logged). The legacy ``/result`` key is opaque and lives in the body, so ``/result`` is
  limited per address only.
* per address: ``request.remote_addr``; behind a reverse proxy set ``TRUSTED_PROXIES`` so the
  client address comes from ``X-Forwarded-For`` (werkzeug's ProxyFix).

Storage is ``RATELIMIT_STORAGE_URI`` (default ``memory://``: counted per gunicorn worker, so the
effective limit is the configured one times the number of workers; a ``redis://`` or
``memcached://`` URI shares the counts between workers and hosts).
"""

from __future__ import annotations

import hashlib

from flask import Flask, Response, g, request
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from .auth import BEARER_ENDPOINTS
from .endpoints import WRITE_ENDPOINT_NAMES


def credential_key() -> str:
    """The header credential this request authenticates with, reduced to what identifies it
    ('' for none, and for ``/result``, whose key is in the body)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    if request.endpoint in BEARER_ENDPOINTS:
        return "bearer:" + value.partition(":")[0][:64] if scheme.lower() == "bearer" and value else ""
    if request.endpoint not in WRITE_ENDPOINT_NAMES and scheme.lower() == "basic" and request.authorization:
        password = request.authorization.password or ""
        return "basic:" + hashlib.sha256(password.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return ""


def _refused(response: Response) -> bool:
    return bool(g.get("auth_failed"))


def install_rate_limit(app: Flask) -> Limiter:
    config = app.config
    if config["TRUSTED_PROXIES"]:
        n = int(config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=config["RATELIMIT_STORAGE_URI"],
        enabled=bool(config["AUTH_FAILURES_PER_ADDRESS"] or config["AUTH_FAILURES_PER_CREDENTIAL"]),
        application_limits=[
            *([ApplicationLimit(config["AUTH_FAILURES_PER_ADDRESS"], key_function=get_remote_address,
                                scope="auth-failures-address", deduct_when=_refused)]
              if config["AUTH_FAILURES_PER_ADDRESS"] else []),
            *([ApplicationLimit(config["AUTH_FAILURES_PER_CREDENTIAL"], key_function=credential_key,
                                scope="auth-failures-credential", deduct_when=_refused,
                                exempt_when=lambda: not credential_key())]
              if config["AUTH_FAILURES_PER_CREDENTIAL"] else []),
        ],
    )
    return limiter
