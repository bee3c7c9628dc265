"""The one rule for comparing component versions: ``normalize_version``.

Versions reach the dashboard as the harness or a facility's tools printed them: ``v0.81.0`` from
one command, ``0.81.0`` from another, ``2026.02.16`` in a Spack recipe and ``2026.2.16`` in the
metadata pip writes for the same release. The compatibility matrix, ``sdk release check`` and
the exports compare versions only through this function, so those are the same version
everywhere. Stored records keep what was uploaded; only comparisons and keys use the normal form.
"""

from __future__ import annotations

import re
from functools import lru_cache

from packaging.version import InvalidVersion, Version

_PREFIX = re.compile(r"^(?:version|ver|v)[\s:=_-]*(?=\d)")


@lru_cache(maxsize=8192)  # pages normalise the same few versions for every run they read
def normalize_version(raw: str | None) -> str | None:
    """The comparable form of a version string; None for None or an empty string.

    1. surrounding white space is dropped and letters are lower-cased;
    2. a leading ``v``, ``ver`` or ``version`` before the first digit is dropped (``v0.81.0``);
    3. a version PEP 440 can read takes its canonical form: leading zeros of each number go
       (``2026.02.16`` → ``2026.2.16``), pre-releases are spelt one way (``1.0-RC1`` →
       ``1.0rc1``); trailing ``.0`` parts are kept, so ``0.81`` and ``0.81.0`` stay different;
    4. anything else (``8.1.29-cray``, a git hash) is compared as the text of steps 1 and 2.
    """
    if raw is None:
        return None
    text = _PREFIX.sub("", raw.strip().lower())
    if not text:
        return None
    try:
        return str(Version(text))
    except InvalidVersion:
        return text


def same_version(a: str | None, b: str | None) -> bool:
    """Whether two uploaded or pinned versions are the same release (both None: unknown, not same)."""
    left, right = normalize_version(a), normalize_version(b)
    return left is not None and left == right
