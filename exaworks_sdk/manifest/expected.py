"""What a release requires: the pins of each install variant and the cells the registry expects.

* ``variant_pin``: the version of a component that an install variant is pinned to. Each variant
  installs from one channel, so its pin is that channel's (a Spack channel may trail PyPI): the
  ``spack`` variant takes the Spack channel's, ``pip`` the PyPI channel's, ``container`` the
  image's (PyPI's for what pip installs there, the SDK pin for what the image builds from
  source). A component a variant does not install (Flux under ``pip``: the site's own, if any)
  or whose provider the site chooses (MPI) has no pin there.
* ``expected_cells``: every machine × install variant × suite of the registry, each either
  required or excluded with the machine's stated reason (``cannot_run`` in ``ci/sites/``).

``sdk release check`` and the dashboard's ``manifest sync`` both read these, so the required
cells and the pins are stated once.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

from exaworks_sdk.manifest.base import Strict
from exaworks_sdk.manifest.errors import Problem
from exaworks_sdk.manifest.loader import problem_in
from exaworks_sdk.manifest.model import Component, Manifest
from exaworks_sdk.manifest.sites import Facility, all_sites
from exaworks_sdk.versions import normalize_version

VARIANTS = ("spack", "pip", "container")


def variant_pin(component: Component, variant: str) -> str | None:
    """The version ``variant`` installs ``component`` at, as the harness will detect and upload it
    (the manifest's pin, or what its version command prints for that pin); None: not pinned."""
    pin = _stated_pin(component, variant)
    return component.detect.reports.get(pin, pin) if pin is not None else None


def _stated_pin(component: Component, variant: str) -> str | None:
    if component.providers:
        return None  # a virtual component (MPI): the site's provider, not a pin
    if variant == "spack":
        return component.spack.version if component.spack else None
    if variant == "pip":
        return component.pip.version if component.pip else None
    if variant == "container":
        if component.image.stage == "none":
            return None
        if component.pip and component.pip.environment == "sdk":
            return component.pip.version
        return component.version if component.image.sources else None
    return component.version


def pins(manifest: Manifest, variant: str) -> dict[str, str]:
    """Component → pinned version (as written) for one install variant; unpinned ones left out."""
    out = {}
    for name, component in manifest.components.items():
        pin = variant_pin(component, variant)
        if pin is not None:
            out[name] = pin
    return out


class PinRow(Strict):
    """One component's pin in one variant, with the package names the exports need."""

    component: str
    variant: str
    version: str
    normalized: str
    pip_name: str | None = None
    spack_name: str | None = None


def pin_rows(manifest: Manifest) -> list[PinRow]:
    """Every (component, variant) pin, for the dashboard's ``manifest sync``."""
    rows = []
    for variant in VARIANTS:
        for name, version in pins(manifest, variant).items():
            comp = manifest.components[name]
            rows.append(PinRow(component=name, variant=variant, version=version,
                               normalized=normalize_version(version) or version,
                               pip_name=Requirement(comp.pip.package).name if comp.pip else None,
                               spack_name=comp.spack.package if comp.spack else None))
    return rows


@dataclass(frozen=True)
class ExpectedCell:
    """One machine × variant × suite the registry expects; ``excluded`` is why not, when it cannot run."""

    site: str
    facility: str
    variant: str
    suite: str
    excluded: str | None = None

    @property
    def required(self) -> bool:
        return self.excluded is None


def expected_cells(manifest: Manifest, facilities: dict[str, Facility]) -> list[ExpectedCell]:
    """Every cell of the registry, in registry order (facility, machine, variant, suite)."""
    return [ExpectedCell(site=entry.id, facility=entry.facility.facility, variant=variant, suite=suite,
                         excluded=entry.machine.excluded(suite, variant))
            for entry in all_sites(facilities) for variant in entry.machine.variants for suite in manifest.suites]


def registry_problems(manifest: Manifest, facilities: dict[str, Facility], root: Path) -> list[Problem]:
    """Exclusions that name no suite, or a variant the machine does not run."""
    problems = []
    for fid, facility in sorted(facilities.items()):
        path = root / "ci" / "sites" / f"{fid}.yaml"
        for machine_name, machine in facility.machines.items():
            for i, rule in enumerate(machine.cannot_run):
                for j, pattern in enumerate(rule.suites):
                    if not any(fnmatch.fnmatchcase(suite, pattern) for suite in manifest.suites):
                        problems.append(problem_in(path, ("machines", machine_name, "cannot_run", i, "suites", j),
                                                   f"{pattern!r} matches no suite of components/suites.yaml"))
                for j, variant in enumerate(rule.variants):
                    if variant not in machine.variants:
                        problems.append(problem_in(path, ("machines", machine_name, "cannot_run", i, "variants", j),
                                                   f"the machine does not run the {variant!r} variant"))
    return problems
