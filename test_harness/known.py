"""Known incompatibilities at run time: which manifest entries apply to a suite here, and what
they make of a test's outcome.

An entry applies when its component was detected at a version inside the entry's range. For a
test it names, a failure whose report contains the entry's signature becomes ``known`` (the
reason and link go into the message); a pass becomes ``fixed`` (the bug no longer reproduces,
retire the entry). Any other outcome is left alone: a different failure stays a failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from exaworks_sdk.status import Status, is_failing

if TYPE_CHECKING:  # a suite's pytest imports this module for classify(): no manifest model there
    from exaworks_sdk.manifest import Component
    from test_harness.detect import Detection


@dataclass(frozen=True)
class KnownEntry:
    """One manifest entry, resolved against the version found here; JSON-ready for the suite process."""

    component: str
    version: str
    tests: tuple[str, ...]
    signature: str
    link: str
    reason: str

    def affects(self, test_name: str) -> bool:
        return not self.tests or test_name.split("[", 1)[0] in self.tests

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> KnownEntry:
        tests = data.get("tests") or ()
        return cls(component=str(data["component"]), version=str(data["version"]),
                   tests=tuple(str(t) for t in tests) if isinstance(tests, (list, tuple)) else (),
                   signature=str(data["signature"]), link=str(data["link"]), reason=str(data["reason"]))


def applicable(components: Mapping[str, Component], detections: Mapping[str, Detection],
               suite: str) -> list[KnownEntry]:
    """The entries for ``suite`` whose component was found here at a version in their range."""
    entries = []
    for name, comp in components.items():
        found = detections.get(name)
        if found is None or not found.found:
            continue
        for k in comp.known_incompatibilities:
            if k.suite == suite and k.applies_to(found.version):
                entries.append(KnownEntry(component=name, version=found.version or "", tests=tuple(k.tests),
                                          signature=k.signature, link=str(k.link), reason=k.reason))
    return entries


def classify(entries: Iterable[KnownEntry], test_name: str, status: Status, message: str,
             report: str) -> tuple[Status, str]:
    """The test's outcome once the known incompatibilities that name it are taken into account."""
    named = [e for e in entries if e.affects(test_name)]
    if not named:
        return status, message
    if status is Status.PASSED:
        what = "; ".join(f"{e.component} {e.version}: {e.link}" for e in named)
        return Status.FIXED, (f"fixed? this test passed although a known incompatibility names it ({what}); "
                              "if it keeps passing, retire the entry from the component's manifest file")
    if is_failing(status):
        text = f"{message}\n{report}"
        for entry in named:
            if re.search(entry.signature, text):
                return Status.KNOWN, (f"known incompatibility, {entry.component} {entry.version}: {entry.reason} "
                                      f"({entry.link})\n--- the failure: {message}")
        sigs = ", ".join(repr(e.signature) for e in named)
        return status, f"{message}\n(a known incompatibility names this test, but its signature {sigs} is not " \
                       "in this failure: this is a different failure)"
    return status, message
