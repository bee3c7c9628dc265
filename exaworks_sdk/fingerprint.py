"""A failed test's fingerprint: the same failure at different sites, times and hosts hashes the same.

The message and the traceback's shape are normalised (``normalize_failure``) before hashing:
paths, memory addresses, UUIDs, timestamps, host names and numbers are replaced by placeholders,
and of the captured output only the traceback's frames (function names) and pytest's ``E`` lines
are kept, because the rest (log lines, progress) differs from run to run. What stays is the kind
of failure and where in the code it happened.
"""

from __future__ import annotations

import hashlib
import re

_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"), "<time>"),
    (re.compile(r"\b\d{2}:\d{2}:\d{2}(\.\d+)?\b"), "<time>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<uuid>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<addr>"),
    (re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.@+~-]+){2,}[\\/]?"), "<path>"),
    (re.compile(r"\b[a-z][\w-]*(?:\.[a-z][\w-]*){2,}\b", re.I), "<host>"),
    (re.compile(r"\b[0-9a-f]{12,}\b", re.I), "<hex>"),
    (re.compile(r"\d+(\.\d+)*"), "<n>"),
]
_FRAME = re.compile(r'^\s*File "[^"]*", line \d+, in (\S+)')
_PYTEST_FRAME = re.compile(r"^[\w./\\-]+\.py:\d+: in (\S+)")


def normalize_text(text: str) -> str:
    for pattern, placeholder in _RULES:
        text = pattern.sub(placeholder, text)
    return " ".join(text.split())


def _shape(output: str) -> list[str]:
    """The traceback's function names and pytest's ``E`` lines, in order."""
    kept = []
    for line in output.splitlines():
        frame = _FRAME.match(line) or _PYTEST_FRAME.match(line)
        if frame:
            kept.append("in " + frame.group(1))
        elif line.startswith("E "):
            kept.append(normalize_text(line[1:]))
    return kept


def normalize_failure(message: str, output: str = "") -> str:
    return "\n".join([normalize_text(message), *_shape(output)])


def fingerprint(message: str, output: str = "") -> str:
    """16 hex digits of the sha256 of the normalised failure; stable across sites and hosts."""
    return hashlib.sha256(normalize_failure(message, output).encode()).hexdigest()[:16]
