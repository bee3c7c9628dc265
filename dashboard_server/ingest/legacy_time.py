"""How legacy timestamps are read.

Old clients send ``str(datetime.now())``: local wall-clock time with no UTC offset. Reading
that as UTC puts a site at UTC-6 six hours early, so a naive timestamp is read in the first
of these that is known, and never silently as UTC:

1. an offset in the timestamp itself (``+00:00``, ``Z``) — current psij sends these;
2. the run's environment (the start record's ``extras``, or its ``config``): ``utc_offset``
   (``"-06:00"``) or ``timezone`` (an IANA name such as ``"America/Chicago"``);
3. the site's time zone, from its facility's ``timezone`` in the registry (``sites sync``);
4. otherwise UTC, and the run is flagged ``assumed_utc`` so pages and the API say so.

Epoch numbers are UTC by definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..validation import check_timestamp, parse_loose_timestamp

_OFFSET = re.compile(r"^(?:UTC)?(?P<sign>[+-])(?P<h>\d{1,2}):?(?P<m>\d{2})?$")


def zone(name: Any) -> tzinfo | None:
    """A time zone from an IANA name or a ``±HH:MM`` offset; None when it is neither."""
    if not isinstance(name, str) or not name.strip():
        return None
    text = name.strip()
    match = _OFFSET.match(text)
    if match:
        minutes = int(match["h"]) * 60 + int(match["m"] or 0)
        if minutes > 14 * 60:
            return None
        return timezone(timedelta(minutes=-minutes if match["sign"] == "-" else minutes))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def environment_zone(environment: Any) -> tzinfo | None:
    """The zone a run's environment declares (``utc_offset`` or ``timezone``, top level or in ``config``)."""
    if not isinstance(environment, dict):
        return None
    places = [environment]
    if isinstance(environment.get("config"), dict):
        places.append(environment["config"])
    for place in places:
        for name in ("utc_offset", "timezone"):
            found = zone(place.get(name))
            if found is not None:
                return found
    return None


def is_naive(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    text = value.strip()
    if not text or text.endswith(("Z", "z")):
        return False
    try:
        return datetime.fromisoformat(text).tzinfo is None
    except ValueError:
        return False


@dataclass
class Clock:
    """Reads one record's timestamps; ``assumed_utc`` is set once a naive one had no zone."""

    zone: tzinfo | None
    assumed_utc: bool = False

    def read(self, value: Any, where: str) -> datetime | None:
        parsed = parse_loose_timestamp(value, where)  # validates, and reads a naive value as UTC
        if parsed is None or not is_naive(value):
            return parsed
        if self.zone is None:
            self.assumed_utc = True
            return parsed
        local = parsed.replace(tzinfo=None).replace(tzinfo=self.zone)
        return check_timestamp(local.astimezone(UTC), where)
