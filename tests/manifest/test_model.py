"""Field rules of the model, and the image matrix."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from exaworks_sdk.manifest.model import Component, Detect, ImageMatrix, KnownIncompatibility, PipChannel, SpackChannel


def test_pip_requirements_are_derived_from_the_pins() -> None:
    channel = PipChannel(package="parsl[radical-pilot]", version="1.0",
                         companions={"radical.pilot": "1.90.0", "uvicorn[standard]": "0.18.3"})
    assert channel.requirements == ["parsl[radical-pilot]==1.0", "radical.pilot==1.90.0", "uvicorn[standard]==0.18.3"]
    assert channel.distributions() == ["parsl", "radical.pilot", "uvicorn"]
    assert channel.pins() == {"parsl": "1.0", "radical-pilot": "1.90.0", "uvicorn": "0.18.3"}
    for bad in ({"package": "a>=1"}, {"package": "a", "version": "1.*"}, {"package": "a", "companions": {"b>1": "1"}}):
        with pytest.raises(ValidationError):
            PipChannel.model_validate(bad)


def test_spack_specs_are_derived_from_the_pins() -> None:
    channel = SpackChannel(package="stc", version="0.9.0", variants=["+java", "build_type=Release"],
                           companions={"turbine": "1.3.0"})
    assert channel.specs == ["stc@0.9.0 +java build_type=Release", "turbine@1.3.0"]
    assert channel.package_names() == ["stc", "turbine"]
    for bad in ({"package": "Py_X"}, {"package": "x", "variants": ["mpi"]}, {"package": "x", "version": "@1"}):
        with pytest.raises(ValidationError):
            SpackChannel.model_validate(bad)


def test_channels_inherit_the_sdk_pin_unless_they_state_their_own() -> None:
    comp = Component.model_validate({
        "name": "x", "summary": "a thing", "homepage": "https://x.org", "license": "MIT", "version": "2.0",
        "pip": {"package": "x"}, "spack": {"package": "py-x", "version": "1.9", "differs": "Spack trails PyPI"},
        "detect": {"import": "x"}, "policies": {},
    })
    assert comp.pip and comp.pip.requirements == ["x==2.0"] and not comp.pip.states_version()
    assert comp.spack and comp.spack.specs == ["py-x@1.9"] and comp.spack.states_version()


def test_detection_needs_an_import_or_executable() -> None:
    assert Detect.model_validate({"import": "parsl"}).import_name == "parsl"
    with pytest.raises(ValidationError, match="give 'import' or 'executable'"):
        Detect.model_validate({"version_command": ["x", "--version"]})


def _matrix(**overrides: object) -> ImageMatrix:
    data = {
        "os": {
            "deb": {"family": "debian", "image": "d", "python": {"3.11": "python3"}, "mpi_packages": {"mpich": ["m"]},
                    "mpi_dev_packages": {"mpich": ["m-dev"]}},
            "rpm": {"family": "rpm", "image": "r", "python": {"3.11": "p311", "3.12": "p312"},
                    "mpi_packages": {"mpich": ["m"]}, "mpi_dev_packages": {"mpich": ["m-devel"]}},
        },
        "mpi": ["mpich", "openmpi"],
        "python": ["3.11", "3.12"],
        "default": {"os": "deb", "mpi": "mpich", "python": "3.11"},
    }
    data.update(overrides)
    return ImageMatrix.model_validate(data)


def test_matrix_drops_pythons_the_os_lacks_and_applies_glob_exclusions() -> None:
    combos = _matrix(exclude=[{"os": "r*", "mpi": "open*"}]).combinations()
    assert {"os": "deb", "mpi": "mpich", "python": "3.11"} in combos
    assert {"os": "deb", "mpi": "mpich", "python": "3.12"} not in combos
    assert not [c for c in combos if c["os"] == "rpm" and c["mpi"] == "openmpi"]
    assert len(combos) == 4


def test_matrix_default_must_be_built() -> None:
    with pytest.raises(ValidationError, match="not one of the built combinations"):
        _matrix(default={"os": "deb", "mpi": "mpich", "python": "3.12"})


def test_every_mpi_flavour_has_its_build_packages_apart() -> None:
    """Run-time packages are shipped; -dev packages, which pull in the compilers, are for build stages."""
    os_images = _matrix().model_dump()["os"]
    os_images["deb"]["mpi_dev_packages"] = {}
    with pytest.raises(ValidationError, match="must name the same MPI flavours"):
        _matrix(os=os_images)


def _known(**overrides: object) -> KnownIncompatibility:
    data: dict[str, object] = {
        "versions": ">=1.61.0,<1.103.0", "suite": "rp-flux", "signature": "no attribute 'n_partitions'",
        "link": "https://github.com/radical-cybertools/radical.pilot/commit/96cf8ff2",
        "reason": "the Flux launch method crashes on start",
    }
    data.update(overrides)
    return KnownIncompatibility.model_validate(data)


def test_known_incompatibility_applies_to_its_version_range_only() -> None:
    entry = _known()
    assert entry.applies_to("1.90.0") and entry.applies_to("1.61.0")
    assert not entry.applies_to("1.60.0") and not entry.applies_to("1.103.0")
    assert not entry.applies_to(None) and not entry.applies_to("not-a-version")
    assert _known(versions=">=1.102.0").applies_to("1.103.0rc1")  # pre-releases count


def test_known_incompatibility_names_tests_by_function() -> None:
    assert _known().affects("test_anything")  # no tests listed: the whole suite
    some = _known(tests=["test_a"])
    assert some.affects("test_a") and some.affects("test_a[8]") and not some.affects("test_b")


def test_known_incompatibility_rejects_bad_ranges_and_patterns() -> None:
    for field, bad, message in (("versions", "1.90", "not a version range"), ("versions", " ", "give a version range"),
                                ("signature", "n_partitions(", "not a regular expression"),
                                ("link", "not a url", "URL")):
        with pytest.raises(ValidationError, match=message):
            _known(**{field: bad})
