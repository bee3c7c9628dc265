"""MPI through mpi4py: mpi4py must be built against the MPI whose mpiexec is on PATH
(the PyPI wheel fails against Debian's MPI with `libmpi.so.12` errors)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from test_harness.suites.conftest import run

PROGRAM = """
import json, sys
from mpi4py import MPI
comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
total = comm.allreduce(rank + 1, op=MPI.SUM)
if rank == 0:
    comm.send({"hello": "from 0"}, dest=1, tag=11)
    reply = None
elif rank == 1:
    reply = comm.recv(source=0, tag=11)
gathered = comm.gather((rank, MPI.Get_processor_name()), root=0)
print(json.dumps({"rank": rank, "size": size, "total": total, "reply": reply,
                  "gathered": gathered}), flush=True)
"""


def _mpiexec() -> str:
    path = shutil.which("mpiexec")
    assert path, "mpiexec is not on PATH"
    return path


def test_mpi4py_imports_against_system_mpi() -> None:
    proc = run([sys.executable, "-c", "from mpi4py import MPI; print(MPI.Get_library_version())"])
    assert proc.stdout.strip(), "MPI.Get_library_version() returned nothing"
    flavour = run([_mpiexec(), "--version"], check=False)
    text = proc.stdout + flavour.stdout
    assert any(name in text for name in ("MPICH", "Open MPI", "HYDRA", "Intel")), text


def test_two_ranks_communicate(tmp_path: Path) -> None:
    script = tmp_path / "ranks.py"
    script.write_text(PROGRAM)
    proc = run([_mpiexec(), "-n", "2", sys.executable, str(script)], timeout=120)
    results = sorted((json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")),
                     key=lambda r: r["rank"])
    assert [r["rank"] for r in results] == [0, 1], proc.stdout
    assert all(r["size"] == 2 for r in results)
    assert all(r["total"] == 3 for r in results), "allreduce(rank+1) over 2 ranks must be 3"
    assert results[1]["reply"] == {"hello": "from 0"}
    assert [g[0] for g in results[0]["gathered"]] == [0, 1]
