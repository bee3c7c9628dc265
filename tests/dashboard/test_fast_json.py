"""``validation.parse_json`` reads bodies with orjson when it can: the value, or the refusal and
its message, must be what ``json.loads`` with the checking hooks gives."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from dashboard_server import validation
from dashboard_server.exceptions import BadInput

TEXTS = [
    '{"a": 1, "b": [1.5, -0.0, 0, -0, 1e5, 1E-5, 2.5e-400, 1.7976931348623157e308]}',
    '[0.1, 0.2, 0.30000000000000004, 5e-324, 123456789.123456789, 1.0, 100.0, 1e16, 1e22]',
    '[9223372036854775807, -9223372036854775808, 999999999999999999, -999999999999999999]',
    '[18446744073709551615, 18446744073709551616, 99999999999999999999, -9223372036854775809]',
    '[123456789012345678901]', '[1e999]', '[-1e999]', '[NaN]', '[Infinity]', '[-Infinity]',
    '"\\ud800"', '"\\udc00x"', '"\\ud83d\\ude00"', '"\\u0000"', '{"\\u0000": 1}', '"\u00e9\u4e2d\U0001f600"',
    '{"a": 1, "a": 2}', '{"a": 1,}', '[1,]', "", " ", "{", '"\\x"', '"a\nb"', "\ufeff{}", "[01]", "[1.]",
    '[' * 33 + ']' * 33, '[' * 32 + ']' * 32, '[' * 31 + '1' + ']' * 31, '[' * 5000 + ']' * 5000,
    '{"records": [{"id": "aaaaaaaa", "x": {"y": [true, false, null]}}]}', ' \t\r\n{} \n',
]


def outcome(parse: Any, text: str) -> Any:
    try:
        value = parse(text)
    except BadInput as exc:
        return ("refused", exc.status, exc.code, exc.message)
    return ("value", json.dumps(value, sort_keys=True), _types(value))


def _types(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    if isinstance(value, float) and math.copysign(1.0, value) < 0:
        return "negative float"
    return type(value).__name__


def slow(text: str) -> Any:
    def no_fast(_: str) -> Any:
        return validation._SLOW
    original = validation._fast_loads
    validation._fast_loads = no_fast
    try:
        return validation.parse_json(text)
    finally:
        validation._fast_loads = original


@pytest.mark.parametrize("text", TEXTS)
def test_same_value_or_refusal(text: str) -> None:
    assert outcome(validation.parse_json, text) == outcome(slow, text)


def test_random_numbers_read_alike() -> None:
    import random
    rng = random.Random(7)
    numbers = [repr(rng.uniform(-1e6, 1e6)) for _ in range(300)]
    numbers += [repr(rng.random() * 10 ** rng.randint(-300, 300)) for _ in range(300)]
    numbers += [str(rng.randint(-10**18, 10**18)) for _ in range(300)]
    numbers += [f"{rng.randint(0, 10**6)}.{rng.randint(0, 10**18):018d}e{rng.randint(-320, 310)}" for _ in range(300)]
    text = "[" + ", ".join(numbers) + "]"
    assert validation._fast_loads(text) is not validation._SLOW
    assert outcome(validation.parse_json, text) == outcome(slow, text)


@pytest.mark.parametrize("text", [
    '{"id": "1f0589022634423598910f374b4436e"}', '{"id": "ab1234567890123456789012"}',
    '{"id": "5e1234567890123456789012"}', '{"x": "a", "n": 1234567890123456789012}',
    '[1e1234567890123456789012]', '[1.1234567890123456789012]', '[-1234567890123456789012]',
    '{"a":\n 12345678901234567890}', '["x",12345678901234567890]', '[12345678901234567890]',
    '12345678901234567890', '[1E-0000000000000000001]', '[0.5e+1234567890123456789]',
])
def test_long_digit_runs(text: str) -> None:
    """Runs of 19 digits or more: in an id they stay on the fast path; as a number they are read
    by json.loads, whose hooks keep big integers exact or refuse them."""
    assert outcome(validation.parse_json, text) == outcome(slow, text)
    in_string = text.startswith('{"id"') and not text.startswith('{"id": "5e')
    assert (validation._fast_loads(text) is not validation._SLOW) == in_string
