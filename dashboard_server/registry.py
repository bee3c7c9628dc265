"""The suite registry as a deployed dashboard knows it: ``generated/known_suites.txt``.

``sdk render`` writes the file from the manifest's ``components/suites.yaml`` (``describe.py``)
and it ships inside the package, because a deployed dashboard has no checkout. One line per
suite, in registry order: name, level (L0 component, L1 integration), the components it uses,
its tags. The summary gives these suites their columns, grouped by level; the compatibility
matrix reads which components' versions make up each suite's version set.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from exaworks_sdk.manifest.suites import LEVEL_TITLES

KNOWN_SUITES_FILE = Path(__file__).parent / "generated" / "known_suites.txt"


@dataclass(frozen=True)
class SuiteInfo:
    name: str
    level: str
    requires: tuple[str, ...]
    tags: frozenset[str]

    @property
    def pair(self) -> bool:
        return "pair" in self.tags

    def line(self) -> str:
        return "\t".join([self.name, self.level, ",".join(self.requires), ",".join(sorted(self.tags))])

    @classmethod
    def parse(cls, line: str) -> SuiteInfo:
        name, level, requires, tags = (line.split("\t") + ["", "", ""])[:4]
        return cls(name.strip(), level.strip() or "L0", tuple(r for r in requires.strip().split(",") if r),
                   frozenset(t for t in tags.strip().split(",") if t))


@lru_cache(maxsize=1)
def registry() -> dict[str, SuiteInfo]:
    """The registry's suites by name, in registry order."""
    lines = KNOWN_SUITES_FILE.read_text(encoding="utf-8").splitlines()
    suites = [SuiteInfo.parse(line) for line in lines if line.strip() and not line.startswith("#")]
    return {s.name: s for s in suites}


def ordered(names: set[str] | frozenset[str]) -> list[tuple[str, list[str]]]:
    """``names`` grouped for the summary: L0 suites, then L1 (the pairs first), each in registry
    order; suites outside the registry (``EXTRA_SUITES``) last, by name."""
    known = registry()
    groups: list[tuple[str, list[str]]] = []
    for level in LEVEL_TITLES:
        members = [s for s in known.values() if s.level == level and s.name in names]
        members.sort(key=lambda s: not s.pair)
        if members:
            groups.append((level, [s.name for s in members]))
    extra = sorted(n for n in names if n not in known)
    if extra:
        groups.append(("extra", extra))
    return groups
