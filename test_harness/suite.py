"""A suite: a pytest module, its tags and the manifest components it needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SUITES_DIR = Path(__file__).parent / "suites"


@dataclass(frozen=True)
class Suite:
    """One pytest module run in its own subprocess.

    ``requires`` names manifest components; all must be detected or every test is skipped.
    ``serial`` names a resource group: suites sharing one never run at the same time
    (for example everything that starts a RADICAL-Pilot pilot on this node's cores).
    """

    name: str
    path: Path
    requires: tuple[str, ...]
    description: str
    tags: frozenset[str] = field(default_factory=frozenset)
    serial: str | None = None

    def matches_keyword(self, keyword: str) -> bool:
        text = " ".join([self.name, self.description, *self.requires, *self.tags]).lower()
        return keyword.lower() in text


def suite(name: str, module: str, requires: Sequence[str], description: str,
          tags: Iterable[str] = (), serial: str | None = None, base: Path = SUITES_DIR) -> Suite:
    return Suite(name=name, path=base / module, requires=tuple(requires), description=description,
                 tags=frozenset(tags), serial=serial)
