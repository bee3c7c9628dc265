"""Suites are registered units: a pytest module, its tags and the components it needs.

Selecting suites (by name, tag or keyword) is separate from running them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from test_harness.errors import ConfigError, NothingToDo

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


def select(suites: Sequence[Suite], names: Sequence[str] = (), tags: Sequence[str] = (),
           keyword: str | None = None, exclude_tags: Sequence[str] = ()) -> list[Suite]:
    """Suites matching every given filter, in registry order.

    ``names`` are globs (``parsl*``); an unknown exact name is a configuration error so a
    typo in CI does not silently run nothing. ``tags`` match if the suite has any of them.
    """
    known = {s.name for s in suites}
    unknown = [n for n in names if not any(fnmatch.fnmatchcase(k, n) for k in known)]
    if unknown:
        raise ConfigError(f"no suite named {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    chosen = [
        s for s in suites
        if (not names or any(fnmatch.fnmatchcase(s.name, n) for n in names))
        and (not tags or s.tags & set(tags))
        and not (s.tags & set(exclude_tags))
        and (keyword is None or s.matches_keyword(keyword))
    ]
    if not chosen:
        wanted = ", ".join(
            [f"name {n}" for n in names] + [f"tag {t}" for t in tags]
            + ([f"keyword {keyword!r}"] if keyword else []) + [f"not tag {t}" for t in exclude_tags]
        )
        raise NothingToDo(f"no suite matches {wanted}")
    return chosen


def default_suites() -> list[Suite]:
    from test_harness.suites import SUITES

    return list(SUITES)

