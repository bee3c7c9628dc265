"""MPI through mpi4py: mpi4py must be built against the MPI whose mpiexec is on PATH
(the PyPI wheel fails against Debian's MPI with `libmpi.so.12` errors)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from test_harness.suites.conftest import run

# Each rank writes its own file: the ranks' stdout streams are merged by mpiexec
# and two lines written at once can land on one line.
PROGRAM = """
import json, pathlib, sys
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
pathlib.Path(sys.argv[1], f"rank{rank}.json").write_text(json.dumps(
    {"rank": rank, "size": size, "total": total, "reply": reply, "gathered": gathered}))
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
    out = tmp_path / "out"
    out.mkdir()
    proc = run([_mpiexec(), "-n", "2", sys.executable, str(script), str(out)], timeout=120)
    results = [json.loads(path.read_text()) for path in sorted(out.glob("rank*.json"))]
    assert [r["rank"] for r in results] == [0, 1], proc.stdout + proc.stderr
    assert all(r["size"] == 2 for r in results)
    assert all(r["total"] == 3 for r in results), "allreduce(rank+1) over 2 ranks must be 3"
    assert results[1]["reply"] == {"hello": "from 0"}
    assert [g[0] for g in results[0]["gathered"]] == [0, 1]
