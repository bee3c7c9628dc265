"""Checks on decoded request bodies and URLs that pydantic does not make: depth, NUL, lone surrogates.

PostgreSQL cannot store NUL characters and lone surrogates cannot be encoded as UTF-8, so both
would otherwise fail deep inside the database layer; here they become a clear 400.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from .exceptions import BadInput

MAX_DEPTH = 32
MIN_YEAR, MAX_YEAR = 1970, 2999
# No field holds an integer this long: bounding the digits before int() stops Python's own
# int-string limit (4,300 digits) from surfacing as a 500, and costs nothing for real input.
MAX_INT_DIGITS = 20
# A clock may run ahead by this much; later timestamps would stay "latest" for ever (config
# FUTURE_SLACK_HOURS overrides it for the running app).
FUTURE_SLACK = timedelta(days=1)
# In JSON text a NUL or a lone surrogate can only arrive as an escape (a raw control character
# is not valid JSON, and decoded UTF-8 holds no surrogates); without one, no string needs a look.
_RISKY_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def decode_utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"body is not valid UTF-8 (byte {exc.start})", code="invalid_utf8"
        ) from None


def _no_constants(name: str) -> Any:
    raise BadInput(f"{name} is not valid JSON (numbers must be finite)", code="invalid_json")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise BadInput(f"integer with more than {MAX_INT_DIGITS} digits", status=422, code="number_out_of_range")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as infinity without ever spelling "Infinity"
        raise BadInput(f"number {text[:40]} is out of range (numbers must be finite)", status=422,
                       code="number_out_of_range")
    return value


# An integer literal of 19 digits or more may be outside the 64-bit range, where orjson would
# give a float; a text that may hold one goes through json.loads (a translation and substring
# searches cost a tenth of a regular expression's scan).
_DIGITS_TO_ZERO = str.maketrans("123456789", "000000000")
_LONG_RUN = "0" * 19


def _may_hold_long_number(text: str) -> bool:
    """True unless every run of 19 or more digits is inside a string: right after a quote or a
    letter, which no number in valid JSON follows, but for an exponent's ``e`` after a digit or
    a point (record ids are hexadecimal, so such runs are common there)."""
    digits = text.translate(_DIGITS_TO_ZERO)
    start = digits.find(_LONG_RUN)
    while start != -1:
        before = digits[start - 1] if start else ""
        if not (before == '"' or (before.isalpha() and (before not in "eE" or digits[start - 2] not in "0."))):
            return True
        end = start + len(_LONG_RUN)
        while end < len(digits) and digits[end] == "0":
            end += 1
        start = digits.find(_LONG_RUN, end)
    return False


def _fast_loads(text: str) -> Any:
    """``json.loads`` with the checks of ``parse_json``'s hooks, by orjson, or ``_SLOW`` when
    it cannot tell: orjson refuses what the hooks refuse (non-finite numbers, deep nesting) and
    reads integers of up to 18 digits as ints, so a text without a 19-digit run parses to the
    same value; anything it refuses goes through ``json.loads`` for the same message."""
    if _may_hold_long_number(text):
        return _SLOW
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return _SLOW


_SLOW = object()


def parse_json(text: str, what: str = "body") -> Any:
    value = _fast_loads(text)
    try:
        if value is _SLOW:
            value = json.loads(text, parse_constant=_no_constants, parse_int=_int, parse_float=_float)
    except RecursionError:
        raise BadInput(f"{what} is nested too deeply", code="too_deep") from None
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            code="invalid_json",
        ) from None
    if "\x00" in text or _RISKY_ESCAPE.search(text) or not _encodes(text):
        check_value(value, what)
    else:
        check_depth(value, what)
    return value


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_depth(value: Any, where: str = "body") -> None:
    """``check_value`` for a value whose strings are known clean: only containers are walked,
    so a batch of records costs a few thousand steps, not one per string with its path."""
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:  # one level of containers at a time
        if depth == MAX_DEPTH and any(level):  # any child is one level too deep
            raise BadInput(f"{where} is nested deeper than {MAX_DEPTH} levels", code="too_deep")
        below: list[Any] = []
        for item in level:
            for sub in item.values() if isinstance(item, dict) else item:
                if isinstance(sub, (dict, list)):
                    below.append(sub)
        level, depth = below, depth + 1


def _check_str(value: str, where: str) -> None:
    if "\x00" in value:
        raise BadInput(f"NUL character in {where}", code="nul_character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"unpaired UTF-16 surrogate in {where}", code="invalid_unicode") from None


def check_url() -> None:
    """Before every request: the path and query string hold no NUL or lone surrogate, which
    PostgreSQL cannot even compare with (a lookup of ``/sites/a%00b`` failed with a 500)."""
    from flask import request

    _check_str(request.path, "the URL path")
    for name, value in request.args.items(multi=True):
        _check_str(name + value, f"query parameter {name!r}")


def check_value(value: Any, where: str = "body") -> None:
    """Reject nesting deeper than MAX_DEPTH and strings with NUL or lone surrogates (iteratively)."""
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadInput(f"{where} is nested deeper than {MAX_DEPTH} levels", code="too_deep")
        if isinstance(item, str):
            _check_str(item, path)
        elif isinstance(item, dict):
            for key, sub in item.items():
                _check_str(str(key), f"a key in {path}")
                stack.append((sub, f"{path}.{key}", depth + 1))
        elif isinstance(item, list):
            for index, sub in enumerate(item):
                stack.append((sub, f"{path}[{index}]", depth + 1))


def future_slack() -> timedelta:
    from flask import current_app, has_app_context

    if has_app_context() and current_app.config.get("FUTURE_SLACK_HOURS") is not None:
        return timedelta(hours=float(current_app.config["FUTURE_SLACK_HOURS"]))
    return FUTURE_SLACK


def latest_allowed() -> datetime:
    """The latest timestamp ``check_timestamp`` accepts now; a batch reads it once."""
    return datetime.now(UTC) + future_slack()


def check_timestamp(value: datetime | None, where: str, latest: datetime | None = None) -> datetime | None:
    """Normalise to UTC and keep timestamps within a sane range: none before 1970 and none
    further in the future than the configured slack (a run dated 2999 would otherwise stay the
    latest result of its suite for ever and hide every real one). ``latest`` is
    ``latest_allowed()`` when the caller checks many timestamps."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise BadInput(f"{where}: timestamp out of range", status=422, code="invalid_timestamp") from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise BadInput(
            f"{where}: timestamp year {value.year} outside {MIN_YEAR}-{MAX_YEAR}",
            status=422,
            code="invalid_timestamp",
        )
    if value > (latest or latest_allowed()):
        raise BadInput(
            f"{where}: timestamp {value.isoformat()} is more than {future_slack()} in the future",
            status=422,
            code="invalid_timestamp",
        )
    return value


def parse_loose_timestamp(value: Any, where: str) -> datetime | None:
    """Legacy timestamps: ISO strings with or without offset (naive = UTC), epoch numbers, null."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadInput(f"{where}: not a timestamp: {value!r}", status=400, code="invalid_timestamp")
    if isinstance(value, (int, float)):
        try:
            parsed = datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise BadInput(f"{where}: timestamp out of range", code="invalid_timestamp") from None
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            shown = value if len(value) <= 64 else value[:64] + "…"
            raise BadInput(
                f"{where}: not a timestamp: {shown!r}", code="invalid_timestamp"
            ) from None
    else:
        raise BadInput(f"{where}: not a timestamp: {type(value).__name__}", code="invalid_timestamp")
    checked = check_timestamp(parsed, where)
    return checked
