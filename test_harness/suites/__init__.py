"""The registered suites: which pytest module, which manifest components, which tags.

Tags: ``component`` / ``integration`` (interoperability level 1), ``smoke`` (quick; the
container's default command runs these), ``pair`` (the integration pairs the SDK promises:
Parsl, RP and PSI/J with Flux, Swift/T inside Flux; the container's default command runs these
too), ``slow`` (starts pilots or other long-lived services).
``serial="rp"`` keeps suites that start a RADICAL-Pilot pilot from sharing the node's cores.
"""

from __future__ import annotations

from test_harness.suite import suite

COMPONENT = "component"
INTEGRATION = "integration"
PAIR = "pair"

SUITES = [
    # -- component suites ------------------------------------------------------------------
    suite("parsl", "test_parsl.py", ["parsl"], "python_app, bash_app, dataflow, HighThroughputExecutor",
          tags=[COMPONENT, "smoke"]),
    suite("psij", "test_psij.py", ["psij-python"],
          "local executor: states, exit codes, cancel, stdout/stderr, environment, mpirun with 2 ranks",
          tags=[COMPONENT, "smoke"]),
    suite("radical-pilot", "test_radical_pilot.py", ["radical-pilot"],
          "local.localhost pilot running several tasks; sandbox cleanup", tags=[COMPONENT, "slow"], serial="rp"),
    suite("entk", "test_entk.py", ["radical-entk", "radical-pilot"], "a pipeline of stages on a local pilot",
          tags=[COMPONENT, "slow"], serial="rp"),
    suite("maestro", "test_maestro.py", ["maestrowf"], "a 2-step study with `maestro run -y -s 1`",
          tags=[COMPONENT, "smoke"]),
    suite("mpi", "test_mpi.py", ["mpi", "mpi4py"], "mpi4py ranks under mpiexec -n 2", tags=[COMPONENT, "smoke"]),
    suite("libensemble", "test_libensemble.py", ["libensemble"], "a small local-comms ensemble",
          tags=[COMPONENT, "smoke"]),
    suite("flux", "test_flux.py", ["flux-core"],
          "flux start; submit, wait and status from the CLI and the Python API; Fluxion where flux-sched is found",
          tags=[COMPONENT, "smoke"]),
    suite("swift-t", "test_swift_t.py", ["swift-t", "mpi"], "swift-t -E and a small dataflow script",
          tags=[COMPONENT, "smoke"]),
    suite("balsam", "test_balsam.py", ["balsam"], "client checks; the rest needs a configured Balsam site",
          tags=[COMPONENT]),
    # -- integration suites ----------------------------------------------------------------
    suite("parsl-flux", "test_parsl_flux.py", ["parsl", "flux-core"], "Parsl's FluxExecutor",
          tags=[INTEGRATION, PAIR]),
    suite("rp-flux", "test_rp_flux.py", ["radical-pilot", "flux-core"], "RADICAL-Pilot launching tasks with Flux",
          tags=[INTEGRATION, PAIR, "slow"], serial="rp"),
    suite("swift-t-in-flux", "test_swift_t_flux.py", ["swift-t", "flux-core"], "Swift/T run as a Flux job",
          tags=[INTEGRATION, PAIR]),
    suite("parsl-rp", "test_parsl_rp.py", ["parsl", "radical-pilot"],
          "Parsl's RadicalPilotExecutor (proves the RP 1.90 pin)", tags=[INTEGRATION, "slow"], serial="rp"),
    suite("psij-flux", "test_psij_flux.py", ["psij-python", "flux-core"], "PSI/J's flux executor",
          tags=[INTEGRATION, PAIR]),
    suite("psij-rp", "test_psij_rp.py", ["psij-python", "radical-pilot"], "PSI/J's rp executor",
          tags=[INTEGRATION, "slow"], serial="rp"),
]
