"""Upload tokens: issue, verify, revoke. Only sha256 hashes of secrets are stored.

An issued token reads ``<key_id>:<secret>``: the key id finds the row, the secret is compared
in constant time. The same string works as a Bearer token and as the ``key`` of the legacy
``/result`` format. Legacy opaque keys (e.g. one UUID per facility) are looked up by hash and
are accepted by ``/result`` only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from .exceptions import AuthError
from .models import Site, Token, utcnow

_DUMMY_HASH = hashlib.sha256(b"no such token").hexdigest()
_KEY_ID_CHARS = set("0123456789abcdef")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Issued:
    key_id: str
    token: str  # shown once, never stored


def issue(db: Session, site: Site, *, label: str = "", expires_in: timedelta | None = None) -> Issued:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    db.add(
        Token(
            key_id=key_id,
            site=site,
            secret_hash=hash_secret(secret),
            label=label,
            expires_at=utcnow() + expires_in if expires_in else None,
        )
    )
    return Issued(key_id=key_id, token=f"{key_id}:{secret}")


def add_legacy_key(db: Session, site: Site, key: str, *, label: str = "") -> str:
    """Register an opaque legacy key for ``site``; returns its key id for listing and revoking."""
    if len(key) < 16:
        raise ValueError("legacy keys must be at least 16 characters")
    key_hash = hash_secret(key)
    if db.scalar(select(Token).where(Token.secret_hash == key_hash, Token.is_legacy)):
        raise ValueError("this legacy key is already registered")
    key_id = "legacy-" + secrets.token_hex(4)
    db.add(Token(key_id=key_id, site=site, secret_hash=key_hash, label=label, is_legacy=True))
    return key_id


def revoke(db: Session, key_id: str) -> bool:
    token = db.scalar(select(Token).where(Token.key_id == key_id))
    if token is None:
        return False
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return True


def check_usable(token: Token, now: datetime) -> Token:
    if token.revoked_at is not None:
        raise AuthError(401, "token has been revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise AuthError(401, "token has expired")
    return token


def verify(db: Session, presented: str, *, allow_legacy: bool = False) -> Token:
    """Return the token row for a presented credential or raise AuthError(401)."""
    now = utcnow()
    tokens = select(Token).options(joinedload(Token.site))  # the site comes in the same statement
    key_id, sep, secret = presented.partition(":")
    if sep and 0 < len(key_id) <= 32 and set(key_id) <= _KEY_ID_CHARS:
        token = db.scalar(tokens.where(Token.key_id == key_id, Token.is_legacy.is_(False)))
        expected = token.secret_hash if token is not None else _DUMMY_HASH
        matches = hmac.compare_digest(expected, hash_secret(secret))
        if token is not None and matches:
            return check_usable(token, now)
    if allow_legacy:
        presented_hash = hash_secret(presented)
        token = db.scalar(tokens.where(Token.secret_hash == presented_hash, Token.is_legacy))
        if token is not None and hmac.compare_digest(token.secret_hash, presented_hash):
            return check_usable(token, now)
    raise AuthError(401, "invalid token")
