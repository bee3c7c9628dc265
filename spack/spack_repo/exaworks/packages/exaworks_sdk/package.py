# Generated from components/ by `sdk render`. Do not edit:
# change the manifest and run `sdk render`.
# Copyright ExaWorks SDK contributors.
# SPDX-License-Identifier: (Apache-2.0 OR MIT)

from spack_repo.builtin.build_systems.bundle import BundlePackage

from spack.package import *


class ExaworksSdk(BundlePackage):
    """ExaWorks SDK, a curated, tested stack of HPC workflow tools.

    Each version is one SDK release; its dependencies are the exact versions
    that release was tested with. Components without a Spack recipe
    (balsam) install through pip or the container image.
    """

    homepage = "https://exaworks.org/"

    maintainers("exaworks-team")

    license("MIT")

    version("2026.11")

    variant("flux", default=True, description="Include flux-core, flux-sched")
    variant("libensemble", default=True, description="Include libensemble")
    variant("maestro", default=True, description="Include maestrowf")
    variant("mpi", default=True, description="Include mpi, mpi4py")
    variant("parsl", default=True, description="Include parsl")
    variant("psij", default=True, description="Include psij-python")
    variant("rp", default=True, description="Include radical-pilot, radical-entk")
    variant("swift", default=True, description="Include swift-t")

    conflicts("+swift", when="~mpi", msg="swift-t needs mpi")

    # A bundle links nothing: its components are needed to build and to run.
    with default_args(type=("build", "run")):
        depends_on("python@3.11:3.12")
        depends_on("mpi", when="+mpi")

        # SDK 2026.11
        with when("@2026.11"):
            depends_on("flux-core@0.81.0", when="+flux")
            depends_on("flux-sched@0.48.0", when="+flux")
            depends_on("py-libensemble@1.5.0", when="+libensemble")
            depends_on("py-maestrowf@1.1.9", when="+maestro")
            depends_on("py-mpi4py@4.1.1", when="+mpi")
            depends_on("py-parsl@2026.02.16", when="+parsl")
            depends_on("py-psij-python@0.9.9", when="+psij")
            depends_on("py-radical-pilot@1.92.0", when="+rp")
            depends_on("py-radical-utils@1.91.1", when="+rp")
            depends_on("py-radical-saga@1.90.0", when="+rp")
            depends_on("py-radical-gtod@1.90.0", when="+rp")
            depends_on("py-radical-entk@1.92.0", when="+rp")
            depends_on("stc@0.9.0", when="+swift")
            depends_on("turbine@1.3.0", when="+swift")
            depends_on("adlbx@1.0.0", when="+swift")
            depends_on("exmcutils@0.6.0", when="+swift")
