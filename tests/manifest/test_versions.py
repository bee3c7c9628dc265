"""normalize_version: the one rule the matrix, the release check and the exports compare by."""

from __future__ import annotations

import pytest

from exaworks_sdk.versions import normalize_version, same_version


@pytest.mark.parametrize(("raw", "normal"), [
    ("0.81.0", "0.81.0"),
    ("v0.81.0", "0.81.0"),
    (" Version 0.81.0\n", "0.81.0"),
    ("2026.02.16", "2026.2.16"),
    ("1.0-RC1", "1.0rc1"),
    ("0.81", "0.81"),
    ("8.1.29-cray", "8.1.29-cray"),
    ("deadbeef", "deadbeef"),
    ("", None),
    (None, None),
])
def test_normal_forms(raw: str | None, normal: str | None) -> None:
    assert normalize_version(raw) == normal


def test_same_version() -> None:
    assert same_version("v0.81.0", "0.81.0")
    assert same_version("2026.02.16", "2026.2.16")
    assert not same_version("0.81", "0.81.0")  # trailing zeros are a different string upstream
    assert not same_version(None, None)
