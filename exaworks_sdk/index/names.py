"""Every package version and variant the SDK names, and where it is written.

Spack: each component's package and companions, the MPI providers, the frozen specs of
earlier releases, Python for the image matrix's versions, and the site files' externals
and compilers (whose versions are the site's own; only their variants are checked).
PyPI: each pinned distribution, and each pip constraint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

from exaworks_sdk.manifest import Facility, Manifest
from exaworks_sdk.manifest.model import SpackChannel
from exaworks_sdk.manifest.pins import pip_requirement

Loc = tuple[str | int, ...]
_SPEC = re.compile(r"^(?P<name>[a-z0-9][a-z0-9-]*)(@=?(?P<version>[^\s+~^%]+))?(?P<rest>.*)$")
_VARIANT = re.compile(r"""([+~]{1,2}[a-zA-Z_][\w-]*)|([a-zA-Z_][\w-]*:?==?(?:'[^']*'|"[^"]*"|[^\s+~^%]+))""")


@dataclass(frozen=True)
class SpackName:
    package: str
    version: str | None  # Spack's @version: 1.6 matches 1.6 and 1.6.x; None: variants only (externals)
    variants: tuple[str, ...]
    file: Path
    loc: Loc
    owner: str  # the component or machine that names it

    def spec(self) -> str:
        return " ".join([f"{self.package}@{self.version}" if self.version else self.package, *self.variants])


@dataclass(frozen=True)
class PipName:
    distribution: str
    requirement: str  # 'name==version' for a pin, the constraint text otherwise
    pinned: bool
    file: Path
    loc: Loc
    owner: str


def parse_spec(text: str) -> tuple[str, str | None, tuple[str, ...]]:
    """``(package, version, variant tokens)`` of the root of a simple spec; dependencies
    (``^…``) and compilers (``%…``) are not read."""
    match = _SPEC.match(text.strip())
    if not match:
        return text.strip(), None, ()
    rest = re.split(r"\s[\^%]|\^|%", match.group("rest"), maxsplit=1)[0]
    tokens = tuple(a or b for a, b in _VARIANT.findall(rest))
    return match.group("name"), match.group("version"), tokens


def _channel(channel: SpackChannel, file: Path, prefix: Loc, owner: str) -> list[SpackName]:
    """A channel's package, variants and companions. An inherited version is written at the
    component's (or provider's) ``version``: ``prefix`` minus its last part."""
    version_loc = (*prefix, "version") if channel.states_version() else (*prefix[:-1], "version")
    names = [SpackName(channel.package, channel.version, (), file, version_loc, owner)]
    names += [SpackName(channel.package, None, (v,), file, (*prefix, "variants", i), owner)
              for i, v in enumerate(channel.variants)]
    names += [SpackName(pkg, version, (), file, (*prefix, "companions", pkg), owner)
              for pkg, version in channel.companions.items()]
    return names


def spack_names(root: Path, manifest: Manifest, sites: dict[str, Facility]) -> list[SpackName]:
    comp_dir = root / "components"
    names: list[SpackName] = []
    for comp in manifest.components.values():
        path = comp_dir / f"{comp.name}.yaml"
        if comp.spack:
            names += _channel(comp.spack, path, ("spack",), comp.name)
        for pname, provider in comp.providers.items():
            names += _channel(provider.spack, path, ("providers", pname, "spack"), comp.name)
    release_file = comp_dir / "sdk.yaml"
    for rel, frozen in manifest.release.previous_releases.items():
        for comp_name, specs in frozen.items():
            for i, spec in enumerate(specs):
                package, version, variants = parse_spec(spec)
                names.append(SpackName(package, version, variants, release_file,
                                       ("previous_releases", rel, comp_name, i), f"{comp_name} {rel}"))
    for i, python in enumerate(manifest.release.images.python):
        names.append(SpackName("python", python, (), release_file, ("images", "python", i), "python"))
    for fid, facility in sorted(sites.items()):
        path = root / "ci" / "sites" / f"{fid}.yaml"
        for mname, machine in facility.machines.items():
            if machine.spack is None:
                continue
            site, prefix = f"{fid}-{mname}", ("machines", mname, "spack")
            for pkg, externals in machine.spack.externals.items():
                for i, external in enumerate(externals):
                    package, _, variants = parse_spec(external.spec)
                    names.append(SpackName(package, None, variants, path, (*prefix, "externals", pkg, i, "spec"), site))
            if machine.spack.compiler:
                package, _, variants = parse_spec(machine.spack.compiler.spec)
                names.append(SpackName(package, None, variants, path, (*prefix, "compiler", "spec"), site))
    return names


def pip_names(root: Path, manifest: Manifest) -> list[PipName]:
    names: list[PipName] = []
    for comp in manifest.components.values():
        path = root / "components" / f"{comp.name}.yaml"
        if comp.pip:
            main = Requirement(comp.pip.package).name
            loc: Loc = ("pip", "version") if comp.pip.states_version() else ("version",)
            names.append(PipName(main, f"{main}=={comp.pip.version}", True, path, loc, comp.name))
            names += [PipName(Requirement(n).name, f"{Requirement(n).name}=={v}", True, path,
                              ("pip", "companions", n), comp.name) for n, v in comp.pip.companions.items()]
        for i, con in enumerate(comp.constraints):
            if (req := pip_requirement(con.requirement)) is not None:
                names.append(PipName(req.name, con.requirement, False, path, ("constraints", i, "requirement"),
                                     comp.name))
    return names
