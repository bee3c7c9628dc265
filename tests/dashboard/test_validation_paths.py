"""``parse_json`` skips the per-string walk when the text cannot hold a NUL or a lone surrogate;
it must refuse exactly what the full walk (``check_value``) refuses, with the same message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard_server.exceptions import BadInput
from dashboard_server.validation import MAX_DEPTH, check_value, parse_json

TEXT = st.text(alphabet=st.sampled_from(["a", "é", "\x00", "\ud800", "\udfff", "\u2028", "\\", '"', "\n"]), max_size=6)
JSON = st.recursive(st.none() | st.booleans() | st.integers(-5, 5) | TEXT,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                    max_leaves=12)


def _outcome(fn: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", fn(*args)
    except BadInput as exc:
        return exc.code, exc.message


def _nest(depth: int, leaf: Any) -> Any:
    for n in range(depth):
        leaf = [leaf] if n % 2 else {"k": leaf}
    return leaf


@settings(max_examples=300, deadline=None)
@given(JSON, st.booleans())
def test_fast_path_refuses_what_the_walk_refuses(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    got, want = _outcome(parse_json, text), _outcome(check_value, json.loads(text))
    assert got[0] == want[0]
    if got[0] != "ok":
        assert got[1] == want[1]


@pytest.mark.parametrize("depth", range(MAX_DEPTH - 2, MAX_DEPTH + 3))
@pytest.mark.parametrize("leaf", [1, "x", [], {}, [1], {"a": None}])
def test_depth_limit_is_the_same(depth: int, leaf: Any) -> None:
    value = _nest(depth, leaf)
    assert _outcome(parse_json, json.dumps(value))[0] == _outcome(check_value, value)[0]
