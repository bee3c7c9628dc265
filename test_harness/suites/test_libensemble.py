"""libEnsemble: a generator and simulator on 2 workers with local (multiprocessing) comms."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize("sim_max", [40])
def test_random_sample_ensemble(tmp_path: Path, sim_max: int) -> None:
    import numpy as np
    from libensemble import Ensemble
    from libensemble.gen_funcs.sampling import uniform_random_sample
    from libensemble.sim_funcs.six_hump_camel import six_hump_camel
    from libensemble.specs import ExitCriteria, GenSpecs, LibeSpecs, SimSpecs

    ensemble = Ensemble(
        libE_specs=LibeSpecs(nworkers=2, comms="local", ensemble_dir_path=str(tmp_path / "ensemble")),
        sim_specs=SimSpecs(sim_f=six_hump_camel, inputs=["x"], outputs=[("f", float)]),
        gen_specs=GenSpecs(gen_f=uniform_random_sample, outputs=[("x", float, (2,))],
                           user={"gen_batch_size": 10, "lb": np.array([-3.0, -2.0]), "ub": np.array([3.0, 2.0])}),
        exit_criteria=ExitCriteria(sim_max=sim_max),
    )
    ensemble.add_random_streams()
    ensemble.run()
    history = ensemble.H
    done = history[history["sim_ended"]]
    assert len(done) >= sim_max
    assert np.all(np.isfinite(done["f"]))
    x = done["x"]
    assert np.all((x[:, 0] >= -3) & (x[:, 0] <= 3) & (x[:, 1] >= -2) & (x[:, 1] <= 2))
    # six-hump camel's global minimum is about -1.0316; random samples never go below it
    assert done["f"].min() >= -1.0317
    assert set(done["sim_worker"]) <= {1, 2}, "sims ran on a worker that does not exist"
