"""Which suites exist (the manifest's ``components/suites.yaml``) and which of them to run.

Selecting suites (by name, tag or keyword) is separate from running them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from exaworks_sdk.manifest import Manifest, load_manifest
from test_harness.errors import ConfigError, NothingToDo
from test_harness.suite import Suite, suite


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


def default_suites(manifest: Manifest | None = None) -> list[Suite]:
    """The manifest's suites (``components/suites.yaml``), in registry order, as runnable suites."""
    manifest = load_manifest() if manifest is None else manifest
    return [suite(s.name, s.module, s.requires, s.description, tags=s.tags, serial=s.serial)
            for s in manifest.suites.values()]

