"""Token comparison takes the same time whether or not the token matches, by construction:
the key id (not secret) finds the row, and exactly one ``hmac.compare_digest`` of two sha256
hex digests decides, also when the key id is unknown (against a dummy hash). A statistical
timing test is in tests/dashboard/test_auth.py (slow); this one checks the code path, which
cannot be flaky."""

from __future__ import annotations

import hmac

import pytest

from dashboard_server import auth as auth_module
from dashboard_server import tokens
from tests.support.dashboard import write
from tests.support.plans import statements_run


@pytest.fixture
def compares(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, object]]:
    calls: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def counting(a, b):  # type: ignore[no-untyped-def]
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", counting)
    monkeypatch.setattr(auth_module.hmac, "compare_digest", counting)
    return calls


def verify(app, presented: str, allow_legacy: bool = False):  # type: ignore[no-untyped-def]
    with app.extensions["sdk_dashboard"]["sessionmaker"]() as session:
        try:
            return tokens.verify(session, presented, allow_legacy=allow_legacy).key_id
        except tokens.AuthError as exc:
            return exc.status


def test_one_constant_time_comparison_of_equal_length_digests_decides(app, token, compares):
    key_id, secret = token.split(":", 1)
    cases = {
        "right": token,
        "near miss": f"{key_id}:{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}",
        "far miss": f"{key_id}:{'A' * len(secret)}",
        "empty secret": f"{key_id}:",
        "unknown key id": f"{'0' * 12}:{secret}",
        "huge secret": f"{key_id}:{'x' * 100_000}",
    }
    for name, presented in cases.items():
        compares.clear()
        outcome = verify(app, presented)
        assert outcome == (key_id if name == "right" else 401), name
        assert len(compares) == 1, f"{name}: {len(compares)} comparisons"
        expected, given = compares[0]
        assert isinstance(expected, str) and isinstance(given, str)
        assert len(expected) == len(given) == 64, f"{name}: digests of different length leak timing"


def test_secrets_are_hashed_before_any_comparison_or_lookup(app, token):
    """The database only ever sees the key id or a sha256 of what was presented, so an index
    lookup cannot be timed character by character against the secret."""
    key_id, secret = token.split(":", 1)
    with statements_run(app.extensions["sdk_dashboard"]["engine"]) as run:
        verify(app, token)
        verify(app, f"{key_id}:wrong")
        verify(app, "a-legacy-looking-opaque-key-1234", allow_legacy=True)
        verify(app, token, allow_legacy=True)
    statements = [f"{statement} {parameters}" for statement, parameters in run]
    text = "\n".join(statements)
    assert statements and secret not in text and "a-legacy-looking-opaque-key-1234" not in text
    assert tokens.hash_secret("a-legacy-looking-opaque-key-1234") in text


def test_revocation_and_expiry_are_checked_after_the_comparison(app, token, compares):
    """A revoked token costs the same comparison as a live one; only then is it refused."""
    key_id = token.split(":", 1)[0]
    write(app, lambda s: tokens.revoke(s, key_id))
    assert verify(app, token) == 401 and len(compares) == 1


def test_read_passwords_are_compared_in_constant_time_against_every_configured_one(app, compares):
    app.config.update(REQUIRE_LOGIN=True, VIEWER_PASSWORD="look", ADMIN_PASSWORD="root")
    with app.test_request_context():
        for presented in ("look", "root", "wrong", ""):
            compares.clear()
            auth_module._password_ok(presented)
            assert len(compares) == 2, presented  # no early exit on the first match
