"""One pin per channel: the rules that keep every copy of a version honest.

A component's ``version`` is its SDK pin, the version the SDK tests and ships. Its PyPI
and Spack channels inherit it; a channel states its own version only when it really
differs, and then says why in ``differs``. Requirement strings and Spack specs are
derived from the pins, so they cannot disagree. What is still written twice is checked
here: source tarballs, and constraints that name a pinned package.

Each check returns ``(component, location, message)``; the loader turns the location
into a file, field and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from exaworks_sdk.manifest.model import Component, PipChannel, SpackChannel

Loc = tuple[str | int, ...]
Finding = tuple[str, Loc, str]

_LABEL = {"pip": "PyPI", "spack": "Spack"}
_SPACK_PIN = re.compile(r"^(?P<name>[a-z0-9][a-z0-9-]*)@=?(?P<version>[0-9][\w.+-]*)(?=$|[\s+~^%])")


def pip_requirement(text: str) -> Requirement | None:
    """A constraint as a PEP 508 requirement, or None when it records something else
    (a Spack spec, an environment variable, a command-line option)."""
    if "@" in text or " " in text.strip() or text.startswith("-"):
        return None
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def spack_pin(text: str) -> tuple[str, str] | None:
    """``(package, version)`` when a constraint starts with an exact Spack spec."""
    match = _SPACK_PIN.match(text.strip())
    return (match.group("name"), match.group("version")) if match else None


def channel_problems(key: str, channel: PipChannel | SpackChannel | None, sdk_pin: str | None,
                     prefix: Loc = ()) -> Iterator[tuple[Loc, str]]:
    """A channel either inherits the SDK pin or states another version and says why."""
    if channel is None or sdk_pin is None:
        return
    label, stated = _LABEL[key], channel.states_version()
    if stated and channel.version == sdk_pin:
        yield (*prefix, key, "version"), (f"restates the SDK pin {sdk_pin} ('version'); remove it, "
                                          "the channel inherits it")
    elif stated and not channel.differs:
        yield (*prefix, key, "version"), (f"{label} pins {channel.version} but the SDK pin ('version') is "
                                          f"{sdk_pin}: say why in '{key}.differs', or pin the same version")
    if channel.differs and not (stated and channel.version != sdk_pin):
        yield (*prefix, key, "differs"), (f"says the {label} pin differs, but it is the SDK pin {sdk_pin}; "
                                          "remove 'differs'")


def source_problems(comp: Component) -> Iterator[tuple[Loc, str]]:
    """A source tarball names its version in its url, and agrees with the pin of its package."""
    spack = comp.spack
    for i, src in enumerate(comp.image.sources):
        loc: Loc = ("image", "sources", i)
        if src.version not in str(src.url):
            yield (*loc, "url"), (f"does not mention version {src.version}; "
                                  "a new version needs its own url and sha256")
        expected: tuple[str, str | None] | None = None
        if src.name == comp.name or (spack is not None and src.name == spack.package):
            expected = ("version", comp.version)
        elif spack is not None and src.name in spack.companions and not spack.differs:
            expected = (f"spack.companions.{src.name}", spack.companions[src.name])
        if expected and expected[1] and src.version != expected[1]:
            yield (*loc, "version"), (f"source tarball {src.name} {src.version} disagrees with "
                                      f"[{expected[0]}] {expected[1]}")


def component_problems(comp: Component) -> Iterator[tuple[Loc, str]]:
    yield from channel_problems("pip", comp.pip, comp.version)
    yield from channel_problems("spack", comp.spack, comp.version)
    for name, provider in comp.providers.items():
        yield from channel_problems("spack", provider.spack, provider.version, ("providers", name))
    yield from source_problems(comp)


def _where(channel: PipChannel | SpackChannel, key: str, package: str) -> str:
    """The field that pins ``package`` in a channel, as written."""
    companions = {canonicalize_name(Requirement(n).name) if key == "pip" else n for n in channel.companions}
    if package in companions:
        return f"{key}.companions"
    return f"{key}.version" if channel.states_version() else "version"


def pinned_packages(components: dict[str, Component]) -> tuple[dict[tuple[str, str], tuple[str, str, str]],
                                                                dict[str, tuple[str, str, str]]]:
    """Who pins what: (pip environment, canonical distribution) and Spack package →
    (version, owning component, field)."""
    pip: dict[tuple[str, str], tuple[str, str, str]] = {}
    spack: dict[str, tuple[str, str, str]] = {}
    for comp in components.values():
        if comp.pip:
            for dist, version in comp.pip.pins().items():
                pip[(comp.pip.environment, dist)] = (version, comp.name, _where(comp.pip, "pip", dist))
        if comp.spack:
            for pkg, version in comp.spack.pins().items():
                spack[pkg] = (version, comp.name, _where(comp.spack, "spack", pkg))
        for pname, provider in comp.providers.items():
            for pkg, version in provider.spack.pins().items():
                spack[pkg] = (version, comp.name, f"providers.{pname}.version")
    return pip, spack


def constraint_problems(components: dict[str, Component]) -> list[Finding]:
    """A constraint that names a pinned package must agree with the pin, wherever it lives."""
    pip_pins, spack_pins = pinned_packages(components)
    found: list[Finding] = []
    for comp in components.values():
        env = comp.pip.environment if comp.pip else "sdk"
        for i, con in enumerate(comp.constraints):
            loc: Loc = ("constraints", i, "requirement")
            if (req := pip_requirement(con.requirement)) is not None:
                pinned = pip_pins.get((env, canonicalize_name(req.name)))
                if pinned and not req.specifier.contains(pinned[0], prereleases=True):
                    found.append((comp.name, loc, _disagrees(con.requirement, req.name, pinned)))
            elif (spec := spack_pin(con.requirement)) is not None:
                pinned = spack_pins.get(spec[0])
                if pinned and pinned[0] != spec[1]:
                    found.append((comp.name, loc, _disagrees(con.requirement, spec[0], pinned)))
    return found


def _disagrees(text: str, package: str, pinned: tuple[str, str, str]) -> str:
    version, owner, field = pinned
    return f"{text!r} disagrees with the pin in {owner}.yaml [{field}]: {package} {version}"


def pin_problems(components: dict[str, Component]) -> list[Finding]:
    """Every pin rule over the whole manifest."""
    found = [(c.name, loc, msg) for c in components.values() for loc, msg in component_problems(c)]
    return found + constraint_problems(components)
