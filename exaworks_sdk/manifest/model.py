"""Typed model of the SDK manifest: the release file plus one file per component.

Field-level rules live here; rules that need several files at once (unknown
dependencies, duplicate names, policy IDs) live in ``loader.py``, and the rules that
keep each pin stated once per channel live in ``pins.py``.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, PrivateAttr, field_validator, model_validator

from exaworks_sdk.manifest.base import Reason, Slug, Strict
from exaworks_sdk.manifest.suites import SuiteSpec

Version = Annotated[str, Field(pattern=r"^[0-9][0-9A-Za-z.+-]*$", max_length=64)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="lower-case hex sha256")]
PolicyId = Annotated[str, Field(pattern=r"^[MR][0-9]+$")]
SpackName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
SpackVariant = Annotated[str, Field(pattern=r"^([+~][a-z_][\w-]*|[a-z_][\w-]*==?[\w.,:+-]+)$")]
PipName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?$", max_length=100)]

# SPDX identifiers the SDK's components use; extend when a component needs another.
SPDX_LICENSES = {
    "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "MIT", "LGPL-3.0-only",
    "LGPL-3.0-or-later", "GPL-3.0-only", "MPL-2.0", "mpich2", "ISC",
}


class PipChannel(Strict):
    """The PyPI channel: one distribution at one version, plus companions pinned with it.

    The requirement strings are derived, never written: ``package==version`` and one
    ``name==version`` per companion.
    """

    package: PipName = Field(description="Distribution, with extras if any, e.g. 'parsl[radical-pilot]'")
    version: Version | None = Field(None, description="Only when PyPI pins another version than the "
                                                      "SDK pin; then 'differs' says why")
    differs: Reason | None = Field(None, description="Why this channel's version differs from the SDK pin")
    companions: dict[PipName, Version] = Field(
        default_factory=dict, description="Other distributions (extras allowed) installed with it, each pinned exactly")
    no_binary: bool = Field(False, description="Build from source against system libraries (mpi4py)")
    environment: Slug = Field("sdk", description="Which pip environment; 'sdk' is the main one")
    _states_version: bool = PrivateAttr(True)

    @property
    def requirements(self) -> list[str]:
        """Exact pins, main distribution first: what pip installs."""
        return [f"{self.package}=={self.version}"] + [f"{n}=={v}" for n, v in self.companions.items()]

    def pins(self) -> dict[str, str]:
        """Canonical distribution name → pinned version, companions included."""
        from packaging.requirements import Requirement
        from packaging.utils import canonicalize_name

        main: dict[str, str] = {canonicalize_name(Requirement(self.package).name): self.version or ""}
        return main | {canonicalize_name(Requirement(n).name): v for n, v in self.companions.items()}

    def distributions(self) -> list[str]:
        """The distribution names the requirements pin, as written (extras and versions dropped)."""
        from packaging.requirements import Requirement

        return [Requirement(n).name for n in (self.package, *self.companions)]

    def states_version(self) -> bool:
        """False when the version was inherited from the component's SDK pin."""
        return self._states_version


class SpackChannel(Strict):
    """The Spack channel: one builtin package at one version, plus companions pinned with it.

    The specs are derived: ``package@version [variants]`` and one ``name@version`` per companion.
    """

    package: SpackName = Field(description="Spack builtin package, e.g. 'py-parsl'")
    version: Version | None = Field(None, description="Only when Spack pins another version than the "
                                                      "SDK pin; then 'differs' says why")
    differs: Reason | None = Field(None, description="Why this channel's version differs from the SDK pin")
    variants: list[SpackVariant] = Field(default_factory=list, description="e.g. '+mpi', '~docs', 'key=value'")
    companions: dict[SpackName, Version] = Field(
        default_factory=dict, description="Other builtin packages the SDK depends on with it, each pinned")
    _states_version: bool = PrivateAttr(True)

    @property
    def specs(self) -> list[str]:
        """Spack specs with exact versions, main package first."""
        main = " ".join([f"{self.package}@{self.version}", *self.variants])
        return [main] + [f"{n}@{v}" for n, v in self.companions.items()]

    def pins(self) -> dict[str, str]:
        """Spack package name → pinned version, companions included."""
        return {self.package: self.version or ""} | dict(self.companions)

    def package_names(self) -> list[str]:
        return list(self.pins())

    def states_version(self) -> bool:
        """False when the version was inherited from the component's (or provider's) SDK pin."""
        return self._states_version


def inherit_pin(channel: PipChannel | SpackChannel | None, sdk_pin: str | None) -> None:
    """Fill a channel's version from the SDK pin when the channel does not state its own."""
    if channel is not None and channel.version is None and sdk_pin is not None:
        channel.version = sdk_pin
        channel._states_version = False


class SourceTarball(Strict):
    name: Slug
    version: Version
    url: HttpUrl
    sha256: Sha256


class ImageInstall(Strict):
    """How the component gets into the container images."""

    stage: Literal["base", "python-stack", "flux", "swift-t", "none"] = "python-stack"
    debian: list[str] = Field(default_factory=list, description="Debian packages")
    rpm: list[str] = Field(default_factory=list, description="RPM packages (Rocky Linux)")
    sources: list[SourceTarball] = Field(default_factory=list)


class Detect(Strict):
    """How the harness decides the component is installed; at least one way is required."""

    import_name: str | None = Field(None, alias="import")
    distribution: str | None = Field(None, description="pip distribution name for the version, if not the import")
    executable: str | None = None
    flux_module: str | None = Field(
        None, description="A Flux broker module (e.g. sched-fluxion-qmanager) that must be on the module "
                          "search path `flux env` reports; for components that only add modules to Flux")
    version_command: list[str] | None = None
    version_pattern: str = r"(\d+(?:\.\d+)+)"
    reports: dict[Version, Version] = Field(
        default_factory=dict, description="What the version command prints for a pinned version that it does not "
                                          "print as itself, e.g. Swift/T 1.6.8's `swift-t -v` prints STC's 1.0.6")

    @model_validator(mode="after")
    def _some_way(self) -> Detect:
        if not (self.import_name or self.executable):
            raise ValueError("give 'import' or 'executable' so the harness can detect it")
        return self


class Constraint(Strict):
    requirement: str = Field(description="What is held back or forced, e.g. 'radical.pilot==1.90.0'")
    why: str = Field(min_length=10, description="The reason, and which suite proves it")


class KnownIncompatibility(Strict):
    """An upstream bug that breaks an SDK suite at some versions of this component.

    The harness reports each affected test as ``known`` while the bug reproduces (its failure
    report matches ``signature``) and as ``fixed`` once it passes, so the entry can be retired.
    A failure that does not match ``signature`` stays a failure: the entry hides nothing else.
    """

    versions: str = Field(description="PEP 440 range of this component's versions, e.g. '>=1.61.0,<1.103.0'")
    suite: Slug = Field(description="The affected suite")
    tests: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="Test function names in that suite; empty means every test")
    signature: str = Field(min_length=3, description="Regular expression found in the failing test's report")
    link: HttpUrl = Field(description="The upstream issue or commit")
    reason: str = Field(min_length=10, description="What breaks, and why")
    fixed_in: Version | None = Field(None, description="The first upstream release with the fix, if any")

    @field_validator("versions")
    @classmethod
    def _specifier(cls, value: str) -> str:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            SpecifierSet(value)
        except InvalidSpecifier:
            raise ValueError(f"{value!r} is not a version range (use e.g. '>=1.61.0,<1.103.0')") from None
        if not value.strip():
            raise ValueError("give a version range; '>=0' means every version")
        return value

    @field_validator("signature")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
        return value

    def applies_to(self, version: str | None) -> bool:
        """Whether a detected version falls in the range; an unknown version never does."""
        if version is None:
            return False
        from packaging.specifiers import SpecifierSet
        from packaging.version import InvalidVersion
        from packaging.version import Version as PackagingVersion

        try:
            return SpecifierSet(self.versions).contains(PackagingVersion(version), prereleases=True)
        except InvalidVersion:
            return False

    def affects(self, test_name: str) -> bool:
        """``test_name`` is a pytest name, parameters included (``test_x[8]`` matches ``test_x``)."""
        return not self.tests or test_name.split("[", 1)[0] in self.tests


class Compliance(Strict):
    status: Literal["yes", "partial", "no", "n/a"]
    note: str = ""


class Provider(Strict):
    """One interchangeable implementation of a virtual component (MPI: mpich, openmpi)."""

    version: Version = Field(description="The provider's SDK pin; its Spack channel inherits it")
    spack: SpackChannel
    image: ImageInstall
    license: str
    homepage: HttpUrl

    @model_validator(mode="after")
    def _inherit(self) -> Provider:
        inherit_pin(self.spack, self.version)
        return self


class Component(Strict):
    name: Slug
    summary: str = Field(min_length=5)
    homepage: HttpUrl
    license: str = Field(description="SPDX license identifier")
    version: Version | None = Field(None, description="The SDK pin: the version the SDK tests and ships. "
                                                      "Each channel inherits it unless it states its own")
    variant: Slug | None = Field(None, description="Spack variant that enables it; none means always included")
    depends_on: list[Slug] = Field(default_factory=list)
    pip: PipChannel | None = None
    spack: SpackChannel | None = None
    image: ImageInstall = Field(default_factory=ImageInstall)
    providers: dict[Slug, Provider] = Field(default_factory=dict)
    detect: Detect
    suite_timeout: int = Field(300, ge=10, le=7200, description="Seconds before a hung suite is killed")
    constraints: list[Constraint] = Field(default_factory=list)
    known_incompatibilities: list[KnownIncompatibility] = Field(
        default_factory=list, description="Upstream bugs that break an SDK suite at some of its versions")
    policies: dict[PolicyId, Compliance]

    @field_validator("license")
    @classmethod
    def _spdx(cls, value: str) -> str:
        if value not in SPDX_LICENSES:
            raise ValueError(f"{value!r} is not a known SPDX identifier ({', '.join(sorted(SPDX_LICENSES))})")
        return value

    @model_validator(mode="after")
    def _installable(self) -> Component:
        if not (self.pip or self.spack or self.providers):
            raise ValueError("missing pin: give at least a 'pip' or 'spack' channel")
        if self.version is None and not self.providers:
            raise ValueError("missing pin: 'version' is required (only virtual components with providers omit it)")
        inherit_pin(self.pip, self.version)
        inherit_pin(self.spack, self.version)
        return self


class OSImage(Strict):
    family: Literal["debian", "rpm"]
    image: str = Field(description="Base image reference; 'name@sha256:… # tag' when the digest is known")
    python: dict[str, str] = Field(description="Python version → the OS package that provides it")
    mpi_packages: dict[Slug, list[str]] = Field(
        description="MPI flavour → the OS packages it needs at run time (libraries and launcher); shipped")
    mpi_dev_packages: dict[Slug, list[str]] = Field(
        description="MPI flavour → the OS packages for building against it (headers, compiler wrappers, and the "
                    "compilers they pull in); build stages only")
    mpi_bin: dict[Slug, str] = Field(default_factory=dict, description="MPI flavour → bin dir, if not on PATH")

    @model_validator(mode="after")
    def _dev_for_every_flavour(self) -> OSImage:
        if self.mpi_dev_packages.keys() != self.mpi_packages.keys():
            raise ValueError(f"mpi_packages and mpi_dev_packages must name the same MPI flavours: "
                             f"{sorted(self.mpi_packages)} and {sorted(self.mpi_dev_packages)}")
        return self


class ImageMatrix(Strict):
    """Base images are data: OS × MPI × Python, minus exclusions (globs allowed)."""

    os: dict[Slug, OSImage]
    mpi: list[Slug]
    python: list[str]
    exclude: list[dict[Literal["os", "mpi", "python"], str]] = Field(default_factory=list)
    default: dict[Literal["os", "mpi", "python"], str]

    def combinations(self) -> list[dict[str, str]]:
        combos = []
        for os_id, mpi, py in itertools.product(self.os, self.mpi, self.python):
            combo = {"os": os_id, "mpi": mpi, "python": py}
            if py not in self.os[os_id].python:
                continue
            if any(all(fnmatch.fnmatch(combo[k], pat) for k, pat in rule.items()) for rule in self.exclude):
                continue
            combos.append(combo)
        return combos

    @model_validator(mode="after")
    def _default_is_built(self) -> ImageMatrix:
        if self.default not in self.combinations():
            raise ValueError(f"default {self.default} is not one of the built combinations")
        return self


class Release(Strict):
    name: Slug
    version: Version
    summary: str
    homepage: HttpUrl
    maintainers: list[str] = Field(min_length=1)
    image_name: str = "exaworks/sdk"
    images: ImageMatrix
    spack_concretizer: dict[str, object] = Field(default_factory=dict)
    previous_releases: dict[Version, dict[Slug, list[str]]] = Field(
        default_factory=dict, description="Frozen Spack specs of earlier releases, per component"
    )

    def image_tag(self, os: str, mpi: str, python: str, target: str = "sdk") -> str:
        """The one spelling of an image tag: ``<name>:<release>-<os>-<mpi>-py<python>``, with
        ``-<target>`` for a build target below the full ``sdk`` image."""
        suffix = "" if target == "sdk" else f"-{target}"
        return f"{self.image_name}:{self.version}-{os}-{mpi}-py{python}{suffix}"

    def default_image_tag(self) -> str:
        default = self.images.default
        return self.image_tag(default["os"], default["mpi"], default["python"])


class Manifest(BaseModel):
    """The loaded, cross-checked manifest. Components are in dependency order."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    release: Release
    components: dict[str, Component]
    policies: dict[str, str] = Field(description="Policy ID → title, from POLICIES.md")
    suites: dict[str, SuiteSpec] = Field(default_factory=dict, description="The suite registry, in run order")

    def component(self, name: str) -> Component:
        return self.components[name]

    def with_variant(self) -> list[Component]:
        return [c for c in self.components.values() if c.variant]

    def constraints(self) -> list[tuple[str, Constraint]]:
        return [(c.name, k) for c in self.components.values() for k in c.constraints]

    def known_incompatibilities(self) -> list[tuple[str, KnownIncompatibility]]:
        return [(c.name, k) for c in self.components.values() for k in c.known_incompatibilities]
