"""The dashboard's exceptions. Code anywhere raises them; ``errors.py`` turns each into a response."""

from __future__ import annotations

from typing import Any


class BadInput(Exception):
    """Client error: status (400/409/413/415/422), a code, a message and optional details."""

    def __init__(
        self, message: str, *, status: int = 400, code: str = "bad_request", details: Any = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class AuthError(Exception):
    """Credential missing or not valid (401) or valid but not allowed here (403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class NotFound(Exception):
    """A site, run or test that does not exist (404)."""
