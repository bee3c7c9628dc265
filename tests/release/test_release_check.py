"""``sdk release check`` end to end (issue 18, part 3): the real site registry's required cells,
a real dashboard process fed through the upload API by every machine, a check that fails (red,
pin mismatch, stale, missing) and, once the sites report again, passes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from exaworks_sdk.manifest import load_manifest, load_sites
from exaworks_sdk.manifest.expected import expected_cells, pins
from tests.support.dashboard import make_run, now
from tests.support.live_server import Server

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = load_manifest(ROOT)
CELLS = expected_cells(MANIFEST, load_sites(ROOT))
PAIRS = sorted({(c.site, c.variant) for c in CELLS})


def admin(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", "from dashboard_server.admin import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=60, check=True, cwd=ROOT)
    return done.stdout.strip()


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Any:
    server = Server(db_url, tmp_path, workers=1)
    admin(server.env, "db", "upgrade", "--create")
    admin(server.env, "sites", "sync")
    server.tokens = {site: admin(server.env, "tokens", "issue", site).splitlines()[-1]  # type: ignore[attr-defined]
                     for site in sorted({c.site for c in CELLS})}
    server.start()
    yield server
    server.stop()


def detected(variant: str, **override: str | None) -> dict[str, str | None]:
    """What the harness finds: the variant's pins (some spelt with a 'v'), the machine's own Flux and MPI."""
    found: dict[str, str | None] = {"flux-core": "0.80.0", "swift-t": "1.6.0", "mpi": "cray-mpich 8.1.29"}
    found.update({c: (f"v{v}" if c == "flux-core" else v) for c, v in pins(MANIFEST, variant).items()})
    found.update(override)
    return found


def report(server: Server, site: str, variant: str, *, hours_ago: float = 20, failing: str | None = None,
           **override: str | None) -> None:
    """One run of every suite this machine and variant is required to run."""
    suites = {c.suite: {"test_a": "failed" if c.suite == failing else "passed", "test_b": "passed"}
              for c in CELLS if (c.site, c.variant) == (site, variant) and c.required}
    records = make_run(site, variant=variant, suites=suites, started_at=now() - timedelta(hours=hours_ago))
    records[0]["components"] = detected(variant, **override)
    response = requests.post(f"{server.url}/api/v1/records", json={"records": records}, timeout=60,
                             headers={"Authorization": f"Bearer {server.tokens[site]}"})  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text


def release_check(server: Server, out: Path) -> tuple[int, str, dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "exaworks_sdk.cli", "release", "check", "--dashboard", server.url,
                           "--days", "7", "--json", str(out)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    return done.returncode, done.stdout + done.stderr, json.loads(out.read_text())


def states(attestation: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    return {(c["site"], c["variant"], c["suite"]): c["state"] for c in attestation["cells"]}


def test_a_release_check_fails_then_passes(server: Server, tmp_path: Path) -> None:
    assert ("anl-aurora", "pip") in PAIRS and ("uo-frank", "container") in PAIRS
    for site, variant in PAIRS:
        if (site, variant) == ("anl-aurora", "pip"):
            continue  # never reports: missing
        if (site, variant) == ("uo-frank", "container"):
            report(server, site, variant, hours_ago=10 * 24)  # reported, but not this week: stale
        elif (site, variant) == ("llnl-tioga", "spack"):
            report(server, site, variant, failing="parsl-flux")
        elif (site, variant) == ("nersc-perlmutter", "pip"):
            report(server, site, variant, parsl="2026.10.1")  # an older parsl than the pip pin
        else:
            report(server, site, variant)

    code, output, first = release_check(server, tmp_path / "first.json")
    assert code == 1, output
    assert not first["ready"] and first["manifest_digest"].startswith("sha256:") and first["days"] == 7
    got = states(first)
    assert got[("llnl-tioga", "spack", "parsl-flux")] == "red"
    assert got[("llnl-tioga", "spack", "flux")] == "green"
    assert got[("nersc-perlmutter", "pip", "parsl")] == "pin mismatch"
    assert got[("nersc-perlmutter", "pip", "parsl-rp")] == "pin mismatch"
    assert got[("nersc-perlmutter", "pip", "psij")] == "green"  # psij does not use parsl
    assert got[("nersc-perlmutter", "spack", "parsl-flux")] == "green"  # 'v0.81.0' is the pin 0.81.0
    assert {s for k, s in got.items() if k[:2] == ("uo-frank", "container")} == {"stale"}
    assert {s for k, s in got.items() if k[:2] == ("anl-aurora", "pip")} == {"missing", "excluded"}
    assert got[("anl-aurora", "pip", "parsl-flux")] == "excluded"
    excluded = [c for c in first["cells"] if c["state"] == "excluded"]
    assert excluded and all("no PyPI channel" in c["detail"] for c in excluded)
    mismatch = next(c for c in first["cells"] if c["state"] == "pin mismatch")
    assert "parsl 2026.10.1 (pin 2026.10.26)" in mismatch["detail"]
    red = next(c for c in first["cells"] if c["state"] == "red")
    assert red["url"] == f"{server.url}/runs/{red['run']}" and red["detail"] == "failed"
    assert "Not ready." in output and "red          llnl-tioga spack" in output

    report(server, "anl-aurora", "pip")
    report(server, "uo-frank", "container")
    report(server, "llnl-tioga", "spack", hours_ago=2)
    report(server, "nersc-perlmutter", "pip", hours_ago=2)
    code, output, second = release_check(server, tmp_path / "second.json")
    assert code == 0, output
    assert second["ready"] and set(states(second).values()) == {"green", "excluded"}
    assert "Ready to release." in output
    tioga = next(c for c in second["cells"] if (c["site"], c["variant"], c["suite"]) == ("llnl-tioga", "spack",
                                                                                          "parsl-flux"))
    assert tioga["run"] != red["run"] and tioga["versions"]["flux-core"] == "0.81.0"


def test_the_dashboard_must_answer(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "exaworks_sdk.cli", "release", "check", "--dashboard",
                           "http://127.0.0.1:9"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 1 and "cannot read the dashboard" in done.stderr


def test_an_unknown_facility_is_named_with_the_known_ones() -> None:
    done = subprocess.run([sys.executable, "-m", "exaworks_sdk.cli", "release", "check", "--dashboard",
                           "http://127.0.0.1:9", "--facility", "llnl", "--facility", "nowhere"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2
    assert "no facility 'nowhere' in ci/sites/ (known: anl, llnl, local, nersc, ornl, uo)" in done.stderr
