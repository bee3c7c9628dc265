"""Container images: one multi-stage Dockerfile per OS of the image matrix, plus the matrix as shell data.

For each OS in ``images.os`` this writes ``docker/Dockerfile.<os>`` (MPI and Python chosen by build
ARGs whose defaults are the matrix default), its ``.dockerignore``, and ``docker/images.env``, which
``docker/build.sh`` and the publish job source for tags, base images and the allowed combinations.

The Dockerfile text is a template; everything that varies comes from :func:`image_ir`, a plain
dict that the tests read directly.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from exaworks_sdk.manifest import Component, Manifest
from exaworks_sdk.render.base import Context, template
from exaworks_sdk.render.pip import is_pip_requirement, requirements_path
from exaworks_sdk.render.registry import renderer

DOCKER_DIR = "docker"
SOURCE_URL = "https://github.com/ExaWorks/SDK"
LABEL_PREFIX = "org.exaworks.sdk"
# Stages that build one group of components from source, in the order the sdk stage copies them.
SOURCE_STAGES = {"flux": "/opt/flux", "swift-t": "/opt/swift-t"}
# Stages built as images of their own (docker/build.sh --target); ``sdk`` is the full image.
IMAGE_TARGETS = ("python-stack", *SOURCE_STAGES, "sdk")


@dataclass(frozen=True)
class Family:
    """How one OS family installs packages. ``{py}`` is the OS's Python package for a version."""

    install: str                  # shell command; {packages} is replaced
    clean: str                    # run in the same layer: no package lists or caches stay behind
    os_packages: tuple[str, ...]  # always in the image
    python_packages: tuple[str, ...]
    python_dev: str
    build_tools: tuple[str, ...]
    build_setup: str              # before any build-stage install, e.g. enabling extra repositories
    build_install: str            # install command in build stages


FAMILIES = {
    "debian": Family(
        install="apt-get update && apt-get install -y --no-install-recommends {packages}",
        # /var/cache/apt/archives too: a base image without the official images' apt "docker-clean"
        # setting (docker/build.sh's debootstrap fallback before it had one) keeps every .deb there.
        clean="rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log /var/lib/dpkg/*-old"
              " /var/cache/debconf/*-old",
        os_packages=("ca-certificates",),
        python_packages=("{py}", "{py}-venv"),
        python_dev="{py}-dev",
        build_tools=("build-essential", "curl"),
        build_setup="",
        build_install="apt-get update && apt-get install -y --no-install-recommends {packages}",
    ),
    "rpm": Family(
        install="microdnf install -y --nodocs --setopt=install_weak_deps=0 {packages}",
        clean="microdnf clean all && rm -rf /var/cache/yum /var/cache/dnf /var/log/dnf* /var/lib/dnf/history*",
        os_packages=("ca-certificates", "findutils", "gzip", "tar", "which"),
        python_packages=("{py}",),
        python_dev="{py}-devel",
        build_tools=("gcc", "gcc-c++", "gcc-gfortran", "make"),
        # flux's and Swift/T's build dependencies (czmq, lua-posix, ...) are in CRB and EPEL.
        build_setup="microdnf install -y --nodocs epel-release && microdnf clean all",
        build_install="microdnf install -y --nodocs --setopt=install_weak_deps=0 --enablerepo=crb {packages}",
    ),
}

# Packages from the manifest's build lists that are only tools for building; everything else in a
# source stage's list that is not a -dev/-devel package is also needed at run time (lua-posix, jq,
# a JDK, zsh). Shared libraries are found by ldd in the stage itself (docker/runtime-packages.sh).
BUILD_ONLY = {"autoconf", "automake", "libtool", "m4", "make", "pkg-config", "pkgconfig", "cmake",
              "ninja-build", "g++", "gcc-c++", "swig", "ant"}
# Run-time needs the manifest does not list and ldd cannot see: turbine runs tclsh scripts, and stc
# needs a JRE where the manifest lists only a JDK -devel package. Until components/ carries run-time
# packages of its own, they are kept here.
RUNTIME_EXTRA = {"swift-t": {"debian": ["tcl"], "rpm": ["tcl", "java-17-openjdk-headless"]}}

# How each source tarball is built, in the stage named after its component's image.stage. Each
# runs in its own unpacked tree; PREFIX is the stage's install root. A tarball without a recipe
# here is a render error, so a new source cannot be skipped silently.
BUILD_RECIPES = {
    "flux-core": (
        "PYTHON=/opt/sdk/bin/python ./configure --prefix={prefix} --disable-docs",
        "make -j\"$(nproc)\"",
        "make install",
    ),
    "flux-sched": (
        ("PKG_CONFIG_PATH={prefix}/lib/pkgconfig cmake -S . -B build -G Ninja -DCMAKE_INSTALL_PREFIX={prefix}"
         " -DCMAKE_PREFIX_PATH={prefix} -DCMAKE_BUILD_TYPE=Release"),
        "cmake --build build",
        "cmake --install build",
    ),
    # Swift/T's release tag holds its four modules; each is bootstrapped (autoreconf), configured
    # and installed in dependency order. turbine and adlbx are built with the MPI compiler wrapper
    # and find mpi.h and the MPI library through it, for MPICH and Open MPI alike (turbine 1.5
    # has no --with-mpi; 1.3's --with-mpi=/usr failed with Debian's MPICH, whose mpi.h is not in
    # /usr/include).
    "swift-t": (
        "(cd c-utils/code && ./bootstrap && ./configure --prefix={prefix}/exmcutils"
        " && make -j\"$(nproc)\" && make install)",
        "(cd lb/code && ./bootstrap && CC=mpicc ./configure --prefix={prefix}/adlbx --with-c-utils={prefix}/exmcutils"
        " && make -j\"$(nproc)\" && make install)",
        "(cd turbine/code && ./bootstrap && CC=mpicc ./configure --prefix={prefix}/turbine"
        " --with-c-utils={prefix}/exmcutils --with-adlb={prefix}/adlbx --with-tcl=/usr --with-hdf5=no"
        " && make -j\"$(nproc)\" && make install)",
        "(cd stc/code && ./bootstrap && ./configure --prefix={prefix}/stc --with-turbine={prefix}/turbine"
        " && make && make install)",
    ),
}
SOURCE_PATH = {"flux": "/opt/flux/bin", "swift-t": "/opt/swift-t/stc/bin:/opt/swift-t/turbine/bin"}
# Python packages a source stage needs in the venv only to build (the rest come from pip constraints
# of the stage's components, which the stack installs too).
PYTHON_BUILD_ONLY = {"flux": ["ply"]}


def _runtime_packages(family_name: str, stage: str, comps: list[Component]) -> list[str]:
    names = []
    for comp in comps:
        for pkg in getattr(comp.image, family_name):
            if pkg not in BUILD_ONLY and not pkg.endswith(("-dev", "-devel")) and pkg not in names:
                names.append(pkg)
    return names + RUNTIME_EXTRA.get(stage, {}).get(family_name, [])


def _source_stage(manifest: Manifest, family_name: str, stage: str) -> dict[str, Any]:
    comps = [c for c in manifest.components.values() if c.image.stage == stage]
    packages: list[str] = []
    for comp in comps:
        packages += [p for p in getattr(comp.image, family_name) if p not in packages]
    prefix = SOURCE_STAGES[stage]
    sources = []
    for comp in comps:
        for src in comp.image.sources:
            if src.name not in BUILD_RECIPES:
                raise ValueError(f"components/{comp.name}.yaml: no build recipe for source {src.name!r} "
                                 f"in exaworks_sdk/render/docker.py BUILD_RECIPES")
            sources.append({"name": src.name, "version": src.version, "url": str(src.url), "sha256": src.sha256,
                            "steps": [s.format(prefix=prefix) for s in BUILD_RECIPES[src.name]]})
    pins = [con.requirement for comp in comps for con in comp.constraints if is_pip_requirement(con.requirement)]
    return {
        "name": stage, "prefix": prefix, "packages": packages, "sources": sources,
        "python_build": [shlex.quote(r) for r in PYTHON_BUILD_ONLY.get(stage, []) + pins],
        "runtime_packages": _runtime_packages(family_name, stage, comps),
        "path": SOURCE_PATH[stage],
        "labels": _component_labels(comps),
    }


def _component_labels(comps: list[Component]) -> dict[str, str]:
    labels = {}
    for comp in comps:
        version = comp.pip.version if comp.pip else comp.version
        if version:
            labels[f"{LABEL_PREFIX}.component.{comp.name}.version"] = version
        for src in comp.image.sources:
            if src.name != comp.name:
                labels[f"{LABEL_PREFIX}.component.{comp.name}.{src.name}.version"] = src.version
    return labels


def _own_stage_wheels(manifest: Manifest) -> list[dict[str, Any]]:
    """pip packages built from source in a stage of their own (mpi4py: ~5 min against the image's MPI)."""
    return [{"name": c.name, "requirement": " ".join(shlex.quote(r) for r in c.pip.requirements),
             "distributions": c.pip.distributions()}
            for c in manifest.components.values()
            if c.pip and c.pip.no_binary and c.pip.environment == "sdk" and c.image.stage == "python-stack"]


def _not_in_image(manifest: Manifest) -> list[str]:
    """Distributions in ci/generated/pip/requirements.txt that the python-stack stage must not install."""
    return [name for c in manifest.components.values()
            if c.pip and c.pip.environment == "sdk" and c.image.stage != "python-stack" for name in c.pip.distributions()]


def default_python(manifest: Manifest, os_id: str) -> str:
    """The matrix default Python where this OS has it, else the first of the matrix it has."""
    images = manifest.release.images
    built = [c["python"] for c in images.combinations() if c["os"] == os_id]
    return images.default["python"] if images.default["python"] in built else built[0]


def default_mpi(manifest: Manifest, os_id: str) -> str:
    images = manifest.release.images
    built = [c["mpi"] for c in images.combinations() if c["os"] == os_id]
    return images.default["mpi"] if images.default["mpi"] in built else built[0]


def image_ir(manifest: Manifest, os_id: str) -> dict[str, Any]:
    """Everything one OS's Dockerfile needs, as plain data."""
    images = manifest.release.images
    spec = images.os[os_id]
    family = FAMILIES[spec.family]
    combos = [c for c in images.combinations() if c["os"] == os_id]
    pythons = {py: spec.python[py] for py in images.python if any(c["python"] == py for c in combos)}
    mpis = {m: spec.mpi_packages[m] for m in images.mpi if any(c["mpi"] == m for c in combos)}
    mpi_env: dict[str, dict[str, str]] = {m: {} for m in mpis}
    for mpi, bin_dir in spec.mpi_bin.items():
        if mpi in mpi_env:
            # Packages that keep MPI out of /usr (Rocky's environment modules): put it on the paths.
            lib_dir = bin_dir.rsplit("/", 1)[0] + "/lib"
            mpi_env[mpi].update({"PATH": f"{bin_dir}:$PATH", "LD_LIBRARY_PATH": lib_dir, "MPI_HOME": bin_dir.rsplit("/", 1)[0]})
    if "openmpi" in mpi_env:
        # components/mpi.yaml: Open MPI refuses to run as root without both; containers run as root.
        mpi_env["openmpi"].update({"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"})
    base_packages = [p for c in manifest.components.values() if c.image.stage == "base" for p in getattr(c.image, spec.family)]
    python_stack = [c for c in manifest.components.values() if c.image.stage == "python-stack"]
    source_stages = [_source_stage(manifest, spec.family, s) for s in SOURCE_STAGES]
    sdk_labels = _component_labels(python_stack)
    for stage in source_stages:
        sdk_labels.update(stage["labels"])
    return {
        "os": os_id,
        "family": spec.family,
        "base_image": spec.image.split("#")[0].strip(),
        "release": manifest.release.version,
        "image_name": manifest.release.image_name,
        "default_mpi": default_mpi(manifest, os_id),
        "default_python": default_python(manifest, os_id),
        "os_packages": list(family.os_packages) + base_packages,
        "pythons": {py: {"packages": [p.format(py=pkg) for p in family.python_packages],
                         "dev": family.python_dev.format(py=pkg)} for py, pkg in pythons.items()},
        "mpis": {m: {"packages": pkgs, "dev": spec.mpi_dev_packages[m], "env": mpi_env[m]} for m, pkgs in mpis.items()},
        "build_tools": list(family.build_tools),
        "own_stage_wheels": _own_stage_wheels(manifest),
        "not_in_image": _not_in_image(manifest),
        "python_stack_labels": _component_labels(python_stack),
        "source_stages": source_stages,
        "runtime_package_lists": [f"{s['prefix']}/share/exaworks-sdk/runtime-packages.txt" for s in source_stages],
        "sdk_labels": sdk_labels,
    }


def _install(family: Family, packages: list[str], build: bool = False) -> str:
    """One RUN body: install, then clean in the same layer."""
    cmd = (family.build_install if build else family.install).format(packages=" ".join(packages))
    return f"{cmd} \\\n && {family.clean}"


def dockerfile(manifest: Manifest, os_id: str) -> str:
    ir = image_ir(manifest, os_id)
    family = FAMILIES[ir["family"]]
    return template("Dockerfile.j2").render(
        ir=ir, family=family, source_url=SOURCE_URL, label_prefix=LABEL_PREFIX,
        install=lambda pkgs, build=False: _install(family, pkgs, build),
        dockerfile=f"{DOCKER_DIR}/Dockerfile.{os_id}", requirements=requirements_path("sdk"),
    )


def images_env(manifest: Manifest) -> str:
    release = manifest.release
    images = release.images
    lines = {
        "SDK_IMAGE_NAME": release.image_name,
        "SDK_RELEASE": release.version,
        "SDK_DEFAULT_OS": images.default["os"],
        "SDK_DEFAULT_MPI": images.default["mpi"],
        "SDK_DEFAULT_PYTHON": images.default["python"],
        "SDK_COMBINATIONS": " ".join(f"{c['os']}-{c['mpi']}-{c['python']}" for c in images.combinations()),
    }
    for os_id, spec in images.os.items():
        lines[f"SDK_BASE_IMAGE_{os_id}"] = spec.image.split("#")[0].strip()
        lines[f"SDK_OS_FAMILY_{os_id}"] = spec.family
        lines[f"SDK_DEFAULT_MPI_{os_id}"] = default_mpi(manifest, os_id)
        lines[f"SDK_DEFAULT_PYTHON_{os_id}"] = default_python(manifest, os_id)
    body = "".join(f"{k}={shlex.quote(v)}\n" for k, v in lines.items())
    cases = "".join(f"    {c['os']}-{c['mpi']}-{c['python']}-{target}) echo "
                    f"{shlex.quote(release.image_tag(c['os'], c['mpi'], c['python'], target))} ;;\n"
                    for c in images.combinations() for target in IMAGE_TARGETS)
    return ("# The image matrix as shell variables, sourced by docker/build.sh and the publish job.\n"
            "# Combinations are <os>-<mpi>-<python>; sdk_image_tag prints each one's tag.\n"
            + body
            + "\n# sdk_image_tag OS MPI PYTHON [TARGET]: the image tag (Release.image_tag in the manifest model)\n"
            + 'sdk_image_tag() {\n  case "$1-$2-$3-${4:-sdk}" in\n' + cases
            + '    *) echo "no image $1-$2-$3 (target ${4:-sdk}) in the matrix" >&2; return 1 ;;\n  esac\n}\n')


@renderer("docker", outputs=["docker/Dockerfile.*", "docker/images.env"])
def render(ctx: Context) -> dict[str, str]:
    m = ctx.manifest
    out = {f"{DOCKER_DIR}/images.env": images_env(m)}
    for os_id in m.release.images.os:
        out[f"{DOCKER_DIR}/Dockerfile.{os_id}"] = dockerfile(m, os_id)
        out[f"{DOCKER_DIR}/Dockerfile.{os_id}.dockerignore"] = template("Dockerfile.dockerignore.j2").render(
            requirements=requirements_path("sdk"))
    return out
