"""Typed model of the facility site registry, ``ci/sites/<facility>.yaml``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from exaworks_sdk.manifest.model import Slug, Strict

Variant = Literal["spack", "pip", "container"]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class SchedulerParameters(Strict):
    variable: str = Field("SCHEDULER_PARAMETERS", pattern=r"^[A-Z_][A-Z0-9_]*$",
                          description="Jacamar lets admins rename this variable")
    default: str = ""


class SpackExternal(Strict):
    spec: str
    prefix: str | None = None
    modules: list[str] = Field(default_factory=list)


Language = Literal["c", "cxx", "fortran"]


class SpackCompiler(Strict):
    """The site's compiler, declared to Spack 1.x as an external of its package (gcc, cce, llvm…).

    The environment requires it for every language it lists, so every package that
    compiles C, C++ or Fortran uses it, while externals (which have no compiler) stay usable.
    """

    spec: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*@[0-9][\w.]*(\s+\S+)*$",
                      description="Compiler package and exact version, e.g. 'gcc@12.3.0'")
    prefix: str
    compilers: dict[Language, str] = Field(min_length=1, description="language → compiler executable")
    modules: list[str] = Field(default_factory=list, description="Modules that make it work")

    def package(self) -> str:
        return self.spec.split("@", 1)[0]

    def requirement(self) -> str:
        """``name@version``, what c/cxx/fortran require."""
        return self.spec.split()[0]


class SpackSite(Strict):
    root: str = Field(description="Where the facility's Spack instance lives")
    externals: dict[Slug, list[SpackExternal]] = Field(default_factory=dict, description="package → externals")
    buildable_false: list[Slug] = Field(default_factory=list, description="Packages that must come from externals")
    mpi_provider: str = "mpich"
    compiler: SpackCompiler | None = Field(None, description="Without one, Spack detects the compilers on PATH")
    target: str | None = None


class Machine(Strict):
    description: str = ""
    tags: list[str] = Field(min_length=1)
    executor: Literal["shell", "batch"]
    scheduler: Literal["slurm", "lsf", "pbs", "flux", "none"]
    scheduler_parameters: SchedulerParameters = Field(default_factory=SchedulerParameters)
    variants: list[Variant] = Field(min_length=1)
    spack: SpackSite | None = None
    container_runtime: Literal["podman", "apptainer", "docker"] = "podman"
    modules: list[str] = Field(default_factory=list)
    report_interval_hours: int = Field(24, ge=1, le=24 * 31)
    maintainer: Email
    workdir: str = Field("$CI_BUILDS_DIR", description="Parent of the per-pipeline environment directory")
    python: str = "python3"

    @model_validator(mode="after")
    def _spack_needs_instance(self) -> Machine:
        if "spack" in self.variants and self.spack is None:
            raise ValueError("the spack variant needs a 'spack' section (root, externals)")
        return self


class IdToken(Strict):
    """The OIDC token Jacamar runners require (GitLab 17+): job variable name and audience."""

    name: str = Field("SITE_ID_TOKEN", pattern=r"^[A-Z_][A-Z0-9_]*$")
    aud: str = Field("$CI_SERVER_URL", description="Audience the facility's runners expect; "
                                                     "CI/CD variables are expanded (GitLab 16.1+)")


class Facility(Strict):
    facility: Slug
    name: str
    maintainer: Email
    gitlab_url: str | None = Field(None, description="The facility GitLab instance that hosts the SDK mirror")
    timezone: str | None = Field(None, description="IANA time zone of the machines (e.g. America/Chicago): how "
                                                   "the dashboard reads old clients' timestamps that carry no UTC offset")
    id_token: IdToken = Field(default_factory=IdToken)
    machines: dict[Slug, Machine] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{value!r} is not an IANA time zone name (e.g. America/Chicago)") from None
        return value

    def sites(self) -> list[SiteEntry]:
        """One site per machine, in registry order."""
        return [SiteEntry(self, name, machine) for name, machine in self.machines.items()]


def site_id(facility: str, machine: str) -> str:
    """The one spelling of a site's identity: the dashboard's site name, the pipeline's
    ``SDK_SITE``, the Spack environment's directory name."""
    return f"{facility}-{machine}"


TOKEN_VARIABLE = "SDK_DASHBOARD_TOKEN"


def token_variable(site: str) -> str:
    """The CI/CD variable that holds a site's own upload token: ``llnl-dane`` →
    ``SDK_DASHBOARD_TOKEN_LLNL_DANE``. The rendered jobs name it, ``sdk-test upload`` reads it,
    ``sdk-dashboard tokens issue --facility`` prints it; each machine has its own, so a
    facility's machines never share one credential (a token writes for its own site only)."""
    return f"{TOKEN_VARIABLE}_{re.sub(r'[^A-Za-z0-9]', '_', site).upper()}"


@dataclass(frozen=True)
class SiteEntry:
    """One machine of a facility, with the id everything else calls it by."""

    facility: Facility
    machine_name: str
    machine: Machine

    @property
    def id(self) -> str:
        return site_id(self.facility.facility, self.machine_name)


def all_sites(facilities: dict[str, Facility]) -> list[SiteEntry]:
    return [site for fid in sorted(facilities) for site in facilities[fid].sites()]


def find_site(facilities: dict[str, Facility], wanted: str) -> SiteEntry:
    for site in all_sites(facilities):
        if site.id == wanted:
            return site
    known = ", ".join(site.id for site in all_sites(facilities))
    raise KeyError(f"site {wanted!r} is not in ci/sites/ (known: {known})")
