"""Typed model of the suite registry, ``components/suites.yaml``: every test suite the SDK runs.

A suite is one pytest module of the harness (``test_harness/suites/<module>``) with the manifest
components it needs and its tags. The harness builds its runnable suites from this file, the
dashboard's known suites are rendered from it, and ``sdk release check`` reads it for the
components each suite uses; no second list exists anywhere.

Levels: a ``component`` suite tests one tool (interoperability level 0, L0); an ``integration``
suite tests two together (level 1, L1). ``pair`` marks the integration pairs the SDK promises.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from exaworks_sdk.manifest.base import Slug, Strict

SUITES_FILE = "suites.yaml"
COMPONENT, INTEGRATION, PAIR = "component", "integration", "pair"
Level = Literal["L0", "L1"]
LEVEL_TITLES: dict[str, str] = {"L0": "Component suites (L0)", "L1": "Integration pairs (L1)"}
Module = Annotated[str, Field(pattern=r"^test_[a-z0-9_]+\.py$", description="pytest module in test_harness/suites/")]


class SuiteSpec(Strict):
    """One registered suite."""

    name: Slug
    module: Module
    requires: list[Slug] = Field(min_length=1, description="Manifest components; all must be detected, "
                                                           "else every test is skipped")
    description: str = Field(min_length=5)
    tags: list[Slug] = Field(description="'component' or 'integration' (exactly one), plus 'pair', 'smoke', "
                                         "'slow' or your own")
    serial: Slug | None = Field(None, description="Resource group: suites sharing one never run at the same "
                                                  "time (e.g. 'rp': everything that starts a RADICAL-Pilot pilot)")

    @model_validator(mode="after")
    def _one_level(self) -> SuiteSpec:
        levels = {COMPONENT, INTEGRATION} & set(self.tags)
        if len(levels) != 1:
            raise ValueError("tag the suite 'component' (L0) or 'integration' (L1), exactly one of them")
        if PAIR in self.tags and INTEGRATION not in self.tags:
            raise ValueError("'pair' marks an integration suite; add 'integration'")
        return self

    @property
    def level(self) -> Level:
        return "L1" if INTEGRATION in self.tags else "L0"

    @property
    def is_pair(self) -> bool:
        return PAIR in self.tags


class SuiteRegistry(Strict):
    """``components/suites.yaml``: the suites in the order the harness runs them."""

    suites: list[SuiteSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> SuiteRegistry:
        seen: set[str] = set()
        for suite in self.suites:
            if suite.name in seen:
                raise ValueError(f"suite {suite.name!r} is registered twice")
            seen.add(suite.name)
        return self


def grouped(suites: list[SuiteSpec]) -> dict[str, list[SuiteSpec]]:
    """Suites by level, L0 then L1; within L1 the pairs first. Registry order otherwise."""
    out: dict[str, list[SuiteSpec]] = {"L0": [], "L1": []}
    for suite in suites:
        out[suite.level].append(suite)
    out["L1"].sort(key=lambda s: not s.is_pair)  # stable: registry order within each kind
    return out
