"""Every error response is built here: JSON ``{"error": {code, message, details}}`` for the API
(and the legacy ``/result``), an HTML page for the rest."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from .db import is_unavailable
from .endpoints import WRITE_ENDPOINT_NAMES
from .exceptions import AuthError, BadInput, NotFound


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in ("/result", "/api")


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    if wants_json():
        response = jsonify({"error": {"code": code, "message": message, "details": details}})
    else:
        response = Response(
            render_template("error.html", status=status, code=code, message=message), mimetype="text/html"
        )
    response.status_code = status
    if status == 401:
        bearer = request.endpoint in WRITE_ENDPOINT_NAMES
        response.headers["WWW-Authenticate"] = (
            'Bearer realm="sdk-dashboard"' if bearer else 'Basic realm="sdk-dashboard"'
        )
    if status == 503:
        response.headers["Retry-After"] = "30"
    if status == 429:
        response.headers["Retry-After"] = "60"
    return response


def _http(exc: HTTPException) -> Response:
    code = (exc.name or "error").lower().replace(" ", "_")
    message = exc.description or exc.name or "error"
    if exc.code == 413:
        message = "request body is larger than the configured upload limit"
    if exc.code == 429:
        code, message = "too_many_failed_logins", f"too many failed authentications ({exc.description}); retry later"
    response = error_response(exc.code or 500, code, message)
    if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return response


def _database(exc: SQLAlchemyError) -> Response:
    if is_unavailable(exc):
        return error_response(503, "database_unavailable", "the database is not reachable; retry later")
    return _unexpected(exc)


def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _http(exc)
    if isinstance(exc, RecursionError):
        return error_response(400, "too_deep", "input is nested too deeply")
    if is_unavailable(exc):
        return error_response(503, "database_unavailable", "the database is not reachable; retry later")
    from flask import current_app

    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", "unexpected server error; it has been logged")


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(
        BadInput, lambda exc: error_response(exc.status, exc.code, exc.message, exc.details)
    )
    app.register_error_handler(
        AuthError,
        lambda exc: error_response(
            exc.status, "unauthorized" if exc.status == 401 else "forbidden", exc.message
        ),
    )
    app.register_error_handler(NotFound, lambda exc: error_response(404, "not_found", str(exc)))
    app.register_error_handler(SQLAlchemyError, _database)
    app.register_error_handler(Exception, _unexpected)
