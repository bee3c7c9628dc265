"""The registry's expected cells and the per-variant pins, from the real manifest and ci/sites/."""

from __future__ import annotations

from pathlib import Path

from exaworks_sdk.manifest import load_manifest, load_sites
from exaworks_sdk.manifest.expected import expected_cells, pins, registry_problems


def test_every_machine_variant_suite_is_a_cell(repo_root: Path) -> None:
    manifest, sites = load_manifest(repo_root), load_sites(repo_root)
    cells = expected_cells(manifest, sites)
    machines = [(f.facility, m) for f in sites.values() for m in f.machines.values()]
    assert len(cells) == sum(len(m.variants) for _, m in machines) * len(manifest.suites)
    for cell in cells:
        if cell.excluded is not None:
            assert len(cell.excluded) >= 10  # a stated reason, never a bare "no"


def test_exclusions_follow_the_variant(repo_root: Path) -> None:
    manifest, sites = load_manifest(repo_root), load_sites(repo_root)
    cells = {(c.site, c.variant, c.suite): c for c in expected_cells(manifest, sites)}
    local = [key for key in cells if key[0].startswith("local")]
    assert local
    site = local[0][0]
    pip_flux = cells.get((site, "pip", "parsl-flux"))
    assert pip_flux is not None and not pip_flux.required
    assert cells[(site, "pip", "parsl")].required
    assert not registry_problems(manifest, sites, repo_root)


def test_pins_per_variant(repo_root: Path) -> None:
    manifest = load_manifest(repo_root)
    pip_pins, spack_pins = pins(manifest, "pip"), pins(manifest, "spack")
    assert "parsl" in pip_pins and "parsl" in spack_pins
    assert "mpi" not in pip_pins and "mpi" not in spack_pins  # a virtual: the site's provider
    assert "flux-core" not in pip_pins  # no PyPI channel: the machine's own


def test_a_pin_is_compared_as_its_version_command_prints_it(repo_root: Path) -> None:
    """Swift/T's `swift-t -v` prints STC's version (1.0.6 for the 1.6.8 release, seen with a real
    build); the image's pin is compared as that, and Spack's, which pins stc itself, as it is."""
    manifest = load_manifest(repo_root)
    assert manifest.components["swift-t"].version == "1.6.8"
    assert pins(manifest, "container")["swift-t"] == "1.0.6"
    assert pins(manifest, "spack")["swift-t"] == "0.9.0"
    assert pins(manifest, "container")["parsl"] == manifest.components["parsl"].pip.version  # as it is
