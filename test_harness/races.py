"""Intermittent upstream bugs (races), recognised by the trace they leave in a component's own files.

A known incompatibility (the manifest's ``known_incompatibilities``, :mod:`test_harness.known`)
fails every time, so a pass means it is fixed. A race fails now and then: most runs pass, and a
pass says nothing about the bug. So a race is no manifest entry and changes no status. It is a
diagnosis: when a run fails or hangs, look for the race's trace in the files the component wrote,
and name the race, its link and the evidence (file and line) in the failure message. The known
races are the ``RACES`` below; each says where its faulty code is and why it loses work.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

TAIL_BYTES = 4 * 1024 * 1024  # the part of each file that is read: its end, where a hung run stops writing
MAX_FILES = 500  # files looked at under one root
SKIPPED_DIRS = frozenset({"env", "rp_install", "site-packages", ".venv"})  # installed software, not logs


@dataclass(frozen=True)
class Race:
    name: str
    distribution: str  # the Python distribution whose code races, for the version found here
    versions: str  # where the faulty code was read, not a range the harness applies
    link: str
    reason: str
    signature: re.Pattern[str]
    files: re.Pattern[str]  # names of the files that carry the trace (searched at any depth)


@dataclass(frozen=True)
class Evidence:
    race: Race
    path: Path
    line: int
    text: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


RP_RAPTOR_WORKER_RLOCK = Race(
    name="RADICAL-Pilot raptor worker starts taking requests before it can run them",
    distribution="radical.pilot",
    versions="1.90.0 (the SDK's pin); unchanged through 1.103.2",
    link="https://github.com/radical-cybertools/radical.pilot/blob/v1.90.0/src/radical/pilot/raptor/worker_default.py#L46-L60",
    reason=("DefaultWorker.__init__ starts its request Getter, callback attached, before it creates self._rlock; "
            "a request that arrives in between fails with AttributeError in _alloc and again in _dealloc, the "
            "Getter's listener thread dies, and the task is never returned: the client (Parsl's "
            "RadicalPilotExecutor) waits for it forever"),
    # the worker's log (`request failed` and its traceback), its task's .out (the listener's
    # stack trace) and .err (`listener died: ... AttributeError("'DefaultWorker' object ...")`)
    signature=re.compile(r"AttributeError\W+'\w*Worker' object has no attribute '_rlock'"),
    files=re.compile(r".*worker.*\.(log|out|err)"),
)

RACES: tuple[Race, ...] = (RP_RAPTOR_WORKER_RLOCK,)


def _candidates(root: Path, names: re.Pattern[str]) -> Iterator[Path]:
    """Files under ``root`` whose name matches, in a stable order; installed software is not walked."""
    count = 0
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            if names.fullmatch(name):
                yield Path(directory) / name
                count += 1
                if count >= MAX_FILES:
                    return


def _first_match(path: Path, signature: re.Pattern[str], tail: int) -> tuple[int, str] | None:
    """(line number, line) of the first match in the last ``tail`` bytes of ``path``. Lines before
    that window are counted, not read into memory, so the number is the line in the whole file."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            start = max(0, size - tail)
            fh.seek(start)
            window = fh.read()
            skipped = 0
            if start:
                window = window.split(b"\n", 1)[1] if b"\n" in window else b""  # drop the cut line
                fh.seek(0)
                remaining = size - len(window)
                while remaining > 0:
                    chunk = fh.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    skipped += chunk.count(b"\n")
                    remaining -= len(chunk)
    except OSError:
        return None
    for number, line in enumerate(window.decode(errors="replace").splitlines(), start=skipped + 1):
        if signature.search(line):
            return number, line.strip()
    return None


def find(root: Path, races: Iterable[Race] = RACES, tail: int = TAIL_BYTES) -> list[Evidence]:
    """Every file under ``root`` that carries a race's trace, with its first matching line."""
    found = []
    if root.is_dir():
        for race in races:
            for path in _candidates(root, race.files):
                match = _first_match(path, race.signature, tail)
                if match:
                    found.append(Evidence(race, path, *match))
    return found


def installed_version(race: Race) -> str:
    try:
        return metadata.version(race.distribution)
    except metadata.PackageNotFoundError:
        return "not installed here"


def explain(evidence: Iterable[Evidence]) -> str:
    """What a failure message says about the races found: one paragraph per race, "" for none."""
    by_race: dict[Race, list[Evidence]] = {}
    for e in evidence:
        by_race.setdefault(e.race, []).append(e)
    paragraphs = []
    for race, found in by_race.items():
        where = "\n".join(f"  {e.where}: {e.text}" for e in found[:5])
        paragraphs.append(
            f"upstream race: {race.name} ({race.distribution} {installed_version(race)} here; faulty code in "
            f"{race.versions}).\n{race.reason}.\nsource: {race.link}\nevidence:\n{where}")
    return "\n".join(paragraphs)
