"""Safe HTML fragments built in Python: ANSI-coloured logs, SVG sparklines and badges.

Everything a client sent is escaped before it is wrapped in markup we generate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from flask import Flask, g, url_for
from markupsafe import Markup, escape

from exaworks_sdk.status import Shown
from exaworks_sdk.status import label as status_label

STATUS_COLOURS = {
    "passed": "#2e7d32",
    "failed": "#c62828",
    "error": "#6a1b9a",
    "skipped": "#9e9e9e",
    "known": "#8d6e63",
    "fixed": "#00838f",
    "unfinished": "#ef6c00",
    "missing": "#455a64",
    "unknown": "#757575",
}

_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_OTHER_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_COLOURS = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]


def _classes(codes: list[int], current: set[str]) -> set[str]:
    classes = set(current)
    for code in codes or [0]:
        if code == 0:
            classes.clear()
        elif code == 1:
            classes.add("ansi-bold")
        elif 30 <= code <= 37 or 90 <= code <= 97:
            classes = {c for c in classes if not c.startswith("ansi-fg")}
            classes.add(f"ansi-fg-{_COLOURS[code % 10]}")
        elif code == 39:
            classes = {c for c in classes if not c.startswith("ansi-fg")}
        elif 40 <= code <= 47:
            classes = {c for c in classes if not c.startswith("ansi-bg")}
            classes.add(f"ansi-bg-{_COLOURS[code % 10]}")
        elif code == 49:
            classes = {c for c in classes if not c.startswith("ansi-bg")}
    return classes


def ansi_to_html(text: str) -> Markup:
    """Escape ``text`` and turn SGR colour codes into ``<span class="ansi-…">``; drop other escapes."""
    out: list[str] = []
    classes: set[str] = set()
    position = 0
    for match in _SGR.finditer(text):
        out.append(_span(text[position:match.start()], classes))
        codes = [int(c) for c in match.group(1).split(";") if c.isdigit() and len(c) < 4]
        classes = _classes(codes, classes)
        position = match.end()
    out.append(_span(text[position:], classes))
    return Markup("".join(out))


def _span(chunk: str, classes: set[str]) -> str:
    chunk = _OTHER_ESCAPES.sub("", chunk).replace("\x1b", "")
    if not chunk:
        return ""
    if not classes:
        return str(escape(chunk))
    return f'<span class="{" ".join(sorted(classes))}">{escape(chunk)}</span>'


def sparkline(statuses: list[str], width: int = 4, gap: int = 1, height: int = 14) -> Markup:
    """Bars, oldest first: a failure is full height, a pass is short, others are mid-height."""
    return _sparkline(tuple(statuses), width, gap, height)


@lru_cache(maxsize=4096)
def _sparkline(statuses: tuple[str, ...], width: int, gap: int, height: int) -> Markup:
    """The summary draws hundreds of sparklines and most repeat (twenty passes): each distinct
    one is built once."""
    n = max(len(statuses), 1)
    total = n * (width + gap)
    bars = []
    for i, status in enumerate(statuses):
        h = {"passed": height * 0.45, "skipped": height * 0.3, "known": height * 0.6}.get(status, height)
        colour = STATUS_COLOURS.get(status, STATUS_COLOURS["unknown"])
        bars.append(
            f'<rect x="{i * (width + gap)}" y="{height - h:.1f}" width="{width}" height="{h:.1f}" '
            f'fill="{colour}"><title>{escape(status_label(status))}</title></rect>'
        )
    label = escape(", ".join(map(status_label, statuses)) or "no history")
    return Markup(
        f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{total}" height="{height}" '
        f'viewBox="0 0 {total} {height}" preserveAspectRatio="none" role="img" aria-label="recent: {label}">{"".join(bars)}</svg>'
    )


def badge(label: str, status: str, text: str | None = None) -> str:
    """A shields-style SVG badge in the status's colour, saying ``text`` (default: the status);
    text widths are estimated (no font metrics on the server)."""
    colour = STATUS_COLOURS.get(status, STATUS_COLOURS["unknown"])
    shown = text if text is not None else status_label(status)
    lw, sw = 7 * len(label) + 12, 7 * len(shown) + 12
    label_e, status_e = escape(label), escape(shown)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lw + sw}" height="20" role="img" '
        f'aria-label="{label_e}: {status_e}"><title>{label_e}: {status_e}</title>'
        f'<rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{sw}" height="20" fill="{colour}"/>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{lw / 2}" y="14">{label_e}</text><text x="{lw + sw / 2}" y="14">{status_e}</text>'
        f"</g></svg>"
    )


def when(value: datetime | None) -> str:
    if value is None:
        return "never"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def ago(value: datetime | None) -> str:
    if value is None:
        return "never"
    seconds = (datetime.now(UTC) - value).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


RUN_PLACEHOLDER = 987_654_321_012


def run_href(run: int) -> str:
    """``url_for("runs.show_run", run=run)`` for pages that link hundreds of runs: the rule is
    built once per request (building it costs about a third of rendering a matrix verdict) and
    only the number changes."""
    parts = g.get("run_href_parts")
    if parts is None:  # the URL of a run numbered by a placeholder, wherever the rule puts it
        parts = g.run_href_parts = url_for("runs.show_run", run=RUN_PLACEHOLDER).split(str(RUN_PLACEHOLDER))
    return f"{parts[0]}{int(run)}{parts[1]}"


@lru_cache(maxsize=128)
def status_span(value: str, breakable: bool = False) -> Markup:
    """A status as every page shows it (the ``status`` macro), built once per status; with
    ``breakable``, "unfinished" may break in a narrow summary column."""
    label = Markup("un&shy;finished") if breakable and value == "unfinished" else escape(status_label(value))
    return Markup(f'<span class="status status-{escape(value)}">{label}</span>')


@lru_cache(maxsize=1024)
def _escaped(text: str) -> str:
    return str(escape(text))


@lru_cache(maxsize=4096)
def _when(value: datetime) -> str:
    return when(value)


def verdicts(items: Iterable[Mapping[str, Any]]) -> Markup:
    """The compatibility matrix's site verdicts of one version set, comma separated: site,
    variant, and the status linked to the run. A matrix shows hundreds, and a macro call and a
    filter each cost more than building the whole verdict here; names and times repeat (a run's
    suites share its start), so each is escaped or formatted once."""
    return Markup(", ".join(
        f'<span class="verdict">{_escaped(v["site"])} <small>{_escaped(v["variant"])}</small> '
        f'<a href="{run_href(v["run"])}" title="{_when(v["started_at"])}">{status_span(v["status"])}</a></span>'
        for v in items))


def codes(items: Iterable[str]) -> Markup:
    """``items`` as comma-separated ``<code>`` elements (a failure group lists up to 50 tests)."""
    return Markup(", ".join(f"<code>{escape(item)}</code>" for item in items))


def run_links(runs: Iterable[int]) -> Markup:
    """Links to these runs, "#<number>" each (a failures page links hundreds)."""
    return Markup(" ".join(f'<a href="{run_href(run)}">#{int(run)}</a>' for run in runs))


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(ansi=ansi_to_html, sparkline=sparkline, when=when, ago=ago,
                                 status_label=status_label)
    app.jinja_env.globals["run_href"] = run_href
    app.jinja_env.globals.update(verdicts=verdicts, codes=codes, run_links=run_links, status_span=status_span)
    app.jinja_env.globals["STATUS_COLOURS"] = STATUS_COLOURS
    app.jinja_env.globals["LEGEND"] = [s for s in Shown if s is not Shown.UNKNOWN]


assert set(STATUS_COLOURS) == set(Shown), "every status has a colour"
