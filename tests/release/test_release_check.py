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

from dashboard_server.compat import MAX_SETS_PER_CELL
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
    records[0]["environment"]["installed"] = lockfile(variant, records[0]["components"])
    response = requests.post(f"{server.url}/api/v1/records", json={"records": records}, timeout=60,
                             headers={"Authorization": f"Bearer {server.tokens[site]}"})  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text


def lockfile(variant: str, components: dict[str, str | None]) -> dict[str, Any]:
    """What the harness records as installed (``test_harness.installed``): the pip freeze, and in
    a Spack environment ``spack find`` (Spack package names)."""
    installed: dict[str, Any] = {"pip": {"requests": "2.32.3", "parsl": components.get("parsl") or "2026.10.26"}}
    if variant == "spack":
        installed["spack"] = {"flux-core": "0.81.0", "py-parsl": "2026.10.26", "python": "3.11.7"}
    if variant == "container":
        installed["image"] = {"tag": "exaworks/sdk:2026.11-bookworm-mpich-py3.11"}
    return installed


def record(server: Server, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from dashboard_server.admin import main; main()", "releases",
                           "record", str(path), *extra], env=server.env, capture_output=True, text=True, timeout=60,
                          cwd=ROOT)


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
    cited = second["runs"][tioga["run_id"]]
    assert cited["installed"]["spack"]["flux-core"] == "0.81.0" and cited["site"] == "llnl-tioga"
    assert {run["run"] for run in second["runs"].values()} == {c["run"] for c in second["cells"] if c["run"]}

    # The dashboard records the attestations, checks them against its runs, and shows them.
    version = second["version"]
    recorded = record(server, tmp_path / "first.json")
    assert recorded.returncode == 0 and f"recorded release {version} (not ready" in recorded.stdout, recorded.stderr
    badge = requests.get(f"{server.url}/badges/releases/{version}.svg", timeout=30).text
    assert ">not ready<" in badge
    again = record(server, tmp_path / "second.json")
    assert again.returncode == 1 and "already has an attestation" in again.stderr and "--replace" in again.stderr
    assert record(server, tmp_path / "second.json", "--replace").returncode == 0
    assert ">ready<" in requests.get(f"{server.url}/badges/releases/{version}.svg", timeout=30).text
    shown = requests.get(f"{server.url}/api/v1/releases/{version}", timeout=30).json()
    assert shown["ready"] and shown["counts"]["green"] == sum(c["state"] == "green" for c in second["cells"])
    here = next(c for c in shown["cells"] if c["run_id"] == tioga["run_id"])
    assert here["local_run"] == tioga["run"] and shown["runs"][tioga["run_id"]]["installed"] == cited["installed"]
    page = requests.get(f"{server.url}/releases/{version}", timeout=30).text
    assert f'href="/runs/{tioga["run"]}"' in page and "flux-core==0.81.0" in page and "Excluded (" in page
    listed = requests.get(f"{server.url}/api/v1/releases", timeout=30).json()["releases"]
    assert [r["version"] for r in listed] == [version] and listed[0]["ready"]


def test_a_site_testing_nightly_builds_keeps_its_pinned_run(server: Server, tmp_path: Path) -> None:
    """nersc-perlmutter pip runs the pinned set once, then a nightly parsl every 2 hours: more
    sets than the matrix shows of one site and variant (20). The pinned run is still found, so
    its parsl cells are green, not "pin mismatch" against the newest nightly."""
    for site, variant in PAIRS:
        if (site, variant) != ("nersc-perlmutter", "pip"):
            report(server, site, variant)
    report(server, "nersc-perlmutter", "pip", hours_ago=60)
    for night in range(MAX_SETS_PER_CELL + 2):
        report(server, "nersc-perlmutter", "pip", hours_ago=50 - 2 * night, parsl=f"2026.11.30.dev{night}")
    cut = requests.get(f"{server.url}/api/v1/compat", params={"days": 7}, timeout=60).json()["cut"]
    assert cut == [{"site": "nersc-perlmutter", "variant": "pip", "sets": MAX_SETS_PER_CELL + 3,
                    "shown": MAX_SETS_PER_CELL}]
    code, output, attestation = release_check(server, tmp_path / "nightly.json")
    assert code == 0, output
    got = states(attestation)
    assert got[("nersc-perlmutter", "pip", "parsl")] == got[("nersc-perlmutter", "pip", "parsl-rp")] == "green"
    parsl = next(c for c in attestation["cells"] if (c["site"], c["variant"], c["suite"]) == ("nersc-perlmutter",
                                                                                            "pip", "parsl"))
    assert parsl["versions"]["parsl"] == pins(MANIFEST, "pip")["parsl"]


def test_a_forged_attestation_is_refused_with_every_reason(server: Server, tmp_path: Path) -> None:
    for site, variant in PAIRS:
        report(server, site, variant, failing="parsl-flux" if (site, variant) == ("llnl-tioga", "spack") else None)
    code, _, honest = release_check(server, tmp_path / "honest.json")
    assert code == 1 and not honest["ready"]
    forged = json.loads(json.dumps(honest))
    red = next(c for c in forged["cells"] if c["state"] == "red")
    red["state"] = "green"  # claims the failing cell passed
    green = next(c for c in forged["cells"] if c["state"] == "green" and c["suite"] == "psij")
    green["versions"]["psij-python"] = "0.1.0"  # claims another version ran
    other = next(c for c in forged["cells"] if c["state"] == "green" and c is not green)
    other["run_id"] = "not-a-run-here"
    stale = next(c for c in forged["cells"] if c["state"] == "green" and c is not green and c is not other)
    stale["state"] = "stale"
    forged["ready"] = True  # though a cell is stale
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged))
    done = record(server, path)
    assert done.returncode == 1
    err = done.stderr
    assert "disagrees with this dashboard" in err
    assert f"the cell says green, run {red['run_id']} has parsl-flux failed" in err
    assert "the cell says psij-python 0.1.0" in err
    assert "run not-a-run-here of" in err and "is not on this dashboard" in err
    assert "'ready' is true, but the cells say false" in err
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**honest, "manifest_digest": "md5:1", "cells": "none"}))
    done = record(server, broken)
    assert done.returncode == 1 and "not a release attestation" in done.stderr and "manifest_digest" in done.stderr
    assert requests.get(f"{server.url}/api/v1/releases", timeout=30).json() == {"releases": []}
    assert requests.get(f"{server.url}/releases/{honest['version']}", timeout=30).status_code == 404
    assert ">no attestation<" in requests.get(f"{server.url}/badges/releases/{honest['version']}.svg", timeout=30).text


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


def test_a_dashboard_behind_a_login_is_read_with_the_password(db_url: str, tmp_path: Path) -> None:
    server = Server(db_url, tmp_path, workers=1)
    server.env.update(SDK_DASHBOARD_REQUIRE_LOGIN="1", SDK_DASHBOARD_VIEWER_PASSWORD="viewer-secret")
    admin(server.env, "db", "upgrade", "--create")
    server.start()
    try:
        def check(password: str | None) -> subprocess.CompletedProcess[str]:
            env = {k: v for k, v in server.env.items() if k != "SDK_DASHBOARD_PASSWORD"}
            if password is not None:
                env["SDK_DASHBOARD_PASSWORD"] = password
            return subprocess.run([sys.executable, "-m", "exaworks_sdk.cli", "release", "check", "--dashboard",
                                   server.url, "--facility", "local"], env=env, capture_output=True, text=True,
                                  timeout=120, cwd=ROOT)

        anonymous = check(None)
        assert anonymous.returncode == 1
        assert "requires a login (set SDK_DASHBOARD_PASSWORD)" in anonymous.stderr
        assert "the password was refused" in check("wrong").stderr
        allowed = check("viewer-secret")
        assert allowed.returncode == 1 and "Not ready." in allowed.stdout and "missing" in allowed.stdout
    finally:
        server.stop()
