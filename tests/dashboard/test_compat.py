"""The compatibility matrix (issue 18, part 1): version sets per suite from realistic history of
several facilities, machines, variants and versions, uploaded through the real upload API."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from exaworks_sdk.versions import normalize_version
from tests.support.dashboard import facility_tokens
from tests.support.history import PIP_PINNED, SPACK_PINNED, passing, run_at, run_number


@pytest.fixture
def history(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """Ten days at LLNL (dane, tioga) and NERSC (perlmutter): the Spack pins pass at two sites,
    spelt differently; a newer flux-core fails parsl-flux on tioga; a run 200 days old."""
    tokens = {**facility_tokens(app, "llnl"), **facility_tokens(app, "nersc")}
    ran: dict[str, Any] = {}
    ran["old"] = run_at(client, tokens["llnl-dane"], "llnl-dane", "spack", hours_ago=200 * 24,
                        components={**SPACK_PINNED, "parsl": "2025.12.01"}, suites=passing("parsl", "parsl-flux"))
    ran["dane"] = run_at(client, tokens["llnl-dane"], "llnl-dane", "spack", hours_ago=240,
                         components=SPACK_PINNED, suites=passing("parsl", "flux", "parsl-flux", "psij-flux"))
    ran["perlmutter"] = run_at(client, tokens["nersc-perlmutter"], "nersc-perlmutter", "spack", hours_ago=216,
                               components={**SPACK_PINNED, "parsl": "2026.2.16", "flux-core": "0.81.0"},
                               suites=passing("parsl", "flux", "parsl-flux", "rp-flux"))
    ran["tioga"] = run_at(client, tokens["llnl-tioga"], "llnl-tioga", "pip", hours_ago=120,
                          components={**PIP_PINNED, "flux-core": "0.82.0"},
                          suites={"parsl": {"test_a": "passed"},
                                  "parsl-flux": {"test_executor": "failed", "test_many": "passed"}})
    ran["pip"] = run_at(client, tokens["nersc-perlmutter"], "nersc-perlmutter", "pip", hours_ago=48,
                        components=PIP_PINNED, suites=passing("parsl", "psij", "parsl-rp", "psij-rp"))
    return ran


def _set(suite: dict[str, Any], **versions: str | None) -> dict[str, Any]:
    (found,) = [s for s in suite["sets"] if all(s["versions"][k] == v for k, v in versions.items())]
    return found


def test_version_sets_of_an_integration_pair(client: FlaskClient, history: dict[str, Any]) -> None:
    body = client.get("/api/v1/compat?suite=parsl-flux").get_json()
    assert body["days"] == 90
    (suite,) = body["suites"]
    assert (suite["suite"], suite["level"], suite["pair"], suite["components"]) == (
        "parsl-flux", "L1", True, ["parsl", "flux-core"])
    assert len(suite["sets"]) == 2  # the 200-day-old run is outside the window
    assert suite["sets"][0]["versions"] == {"parsl": "2026.10.26", "flux-core": "0.82.0"}  # newest first

    pinned = _set(suite, parsl="2026.2.16", **{"flux-core": "0.81.0"})  # v0.81.0 and 0.81.0 are one
    assert pinned["pinned_in"] == ["spack"] and pinned["known_good"]
    assert [(v["site"], v["variant"], v["status"]) for v in pinned["sites"]] == [
        ("llnl-dane", "spack", "passed"), ("nersc-perlmutter", "spack", "passed")]
    dane = pinned["sites"][0]
    assert dane["uploaded"] == {"parsl": "2026.02.16", "flux-core": "v0.81.0"}  # as uploaded
    assert dane["run"] == run_number(client, "llnl-dane", history["dane"]["run_id"])
    assert "py-parsl==2026.2.16" not in pinned["pip_constraints"]
    assert "parsl==2026.2.16" in pinned["pip_constraints"] and "flux-core==0.81.0" not in pinned["pip_constraints"]
    assert any("flux-core:" in line and "@=0.81.0" in line for line in pinned["spack_constraints"])

    bumped = _set(suite, **{"flux-core": "0.82.0"})
    assert bumped["pinned_in"] == ["pip"]  # pip pins parsl only: flux-core is the machine's own
    assert not bumped["known_good"]
    assert [(v["site"], v["variant"], v["status"]) for v in bumped["sites"]] == [("llnl-tioga", "pip", "failed")]


def test_the_whole_matrix_puts_the_pairs_first(client: FlaskClient, history: dict[str, Any]) -> None:
    suites = client.get("/api/v1/compat").get_json()["suites"]
    names = [s["suite"] for s in suites]
    assert names[:4] == ["parsl-flux", "rp-flux", "swift-t-in-flux", "psij-flux"]
    assert {"parsl-rp", "psij-rp", "parsl", "flux", "balsam"} <= set(names)
    by_name = {s["suite"]: s for s in suites}
    assert by_name["swift-t-in-flux"]["sets"] == []  # nobody ran it
    (psij_rp,) = by_name["psij-rp"]["sets"]
    assert psij_rp["versions"] == {"psij-python": "0.9.11", "radical-pilot": "1.90.0"}
    assert psij_rp["pinned_in"] == ["pip", "container"]
    (parsl_flux_pip,) = [s for s in by_name["psij-flux"]["sets"]]
    assert parsl_flux_pip["pinned_in"] == ["spack"]


def test_the_window_reaches_older_runs(client: FlaskClient, history: dict[str, Any]) -> None:
    (suite,) = client.get("/api/v1/compat?suite=parsl-flux&days=365").get_json()["suites"]
    assert {s["versions"]["parsl"] for s in suite["sets"]} == {"2026.10.26", "2026.2.16", "2025.12.1"}


def test_known_good_exports(client: FlaskClient, history: dict[str, Any]) -> None:
    pip = client.get("/api/v1/compat/known-good.txt?format=pip")
    assert pip.status_code == 200 and pip.mimetype == "text/plain"
    lines = pip.get_data(as_text=True).splitlines()
    assert "parsl==2026.2.16" in lines  # parsl-flux, the first pair, proved the Spack pins
    assert "psij-python==0.9.9" in lines and "radical.pilot==1.92.0" in lines  # psij-flux, rp-flux come first
    assert "psij-python==0.9.11" not in lines
    assert "# parsl-flux: passed at llnl-dane, nersc-perlmutter" in lines
    assert not any(line.startswith("parsl==2026.10.26") for line in lines)  # each package once
    spack = client.get("/api/v1/compat/known-good.txt?format=spack&suite=psij-rp").get_data(as_text=True)
    assert spack.splitlines()[1] == "packages:"
    assert '  py-psij-python:\n    require: ["@=0.9.11"]' in spack


def test_the_page_shows_the_sets(client: FlaskClient, history: dict[str, Any]) -> None:
    page = client.get("/compat/?suite=parsl-flux").get_data(as_text=True)
    assert "pinned: spack" in page and "known good" in page and "0.82.0" in page
    run = run_number(client, "llnl-tioga", history["tioga"]["run_id"])
    assert f'href="/runs/{run}"' in page
    assert client.get("/compat/").status_code == 200


@pytest.mark.parametrize(("url", "code"), [
    ("/api/v1/compat?days=0", 400), ("/api/v1/compat?days=abc", 400), ("/api/v1/compat?days=99999", 400),
    ("/api/v1/compat?suite=nope", 404), ("/api/v1/compat?suite=", 400),
    ("/api/v1/compat/known-good.txt?format=", 400), ("/api/v1/compat/known-good.txt?format=conda", 400),
    ("/compat/?suite=nope", 404),
])
def test_bad_input_is_a_4xx(client: FlaskClient, url: str, code: int) -> None:
    response = client.get(url)
    assert response.status_code == code, response.get_data(as_text=True)


def test_a_set_that_fails_only_as_predicted_is_not_known_good(app: Flask, client: FlaskClient) -> None:
    """rp-flux with RP 1.90.0 on real Flux: both tests fail as its known incompatibility predicts
    ("known"). The matrix shows that verdict; it never exports the set as proven."""
    tokens = facility_tokens(app, "llnl")
    run_at(client, tokens["llnl-dane"], "llnl-dane", "spack", hours_ago=2, components=SPACK_PINNED,
           suites={"rp-flux": {"test_tasks_are_flux_jobs": "known", "test_pilot_on_flux": "known"},
                   "parsl-flux": {"test_executor": "passed"}})
    (suite,) = client.get("/api/v1/compat?suite=rp-flux").get_json()["suites"]
    (only,) = suite["sets"]
    assert [(v["site"], v["status"]) for v in only["sites"]] == [("llnl-dane", "known")]
    assert not only["known_good"]
    lines = client.get("/api/v1/compat/known-good.txt?format=pip").get_data(as_text=True).splitlines()
    assert not any(line.startswith("# rp-flux") for line in lines)
    assert any(line.startswith("# parsl-flux: passed at llnl-dane") for line in lines)


def test_a_suite_the_newest_run_of_its_versions_did_not_run(app: Flask, client: FlaskClient) -> None:
    """A site that runs each suite in a run of its own: the newest run with these versions has
    parsl only, so psij's verdict comes from an older run with the same versions, and a psij
    run with other versions in between does not hide it."""
    tokens = facility_tokens(app, "llnl")
    dane = tokens["llnl-dane"]
    run_at(client, dane, "llnl-dane", "spack", hours_ago=30, components=SPACK_PINNED,
           suites={"psij": {"test_a": "failed"}})
    newer = run_at(client, dane, "llnl-dane", "spack", hours_ago=20, components=SPACK_PINNED,
                   suites={"psij": {"test_a": "passed"}})
    run_at(client, dane, "llnl-dane", "spack", hours_ago=10, components={**SPACK_PINNED, "psij-python": "0.9.10"},
           suites={"psij": {"test_a": "failed"}})
    run_at(client, dane, "llnl-dane", "spack", hours_ago=1, components=SPACK_PINNED,
           suites={"parsl": {"test_a": "passed"}})
    (psij,) = client.get("/api/v1/compat?suite=psij").get_json()["suites"]
    by_version = {s["versions"]["psij-python"]: s["sites"] for s in psij["sets"]}
    assert set(by_version) == {"0.9.9", "0.9.10"}
    (pinned,) = by_version["0.9.9"]
    assert (pinned["status"], pinned["run_id"]) == ("passed", newer["run_id"])
    assert [v["status"] for v in by_version["0.9.10"]] == ["failed"]


def test_a_site_running_nightly_builds_does_not_crowd_the_matrix(
        app: Flask, client: FlaskClient, history: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """One more site tests a nightly parsl build twice a day for a week, after one run of the
    pinned set: 15 component sets. The matrix shows its newest few (lowered here to 5 from 20)
    and the pinned one, says how many it ran, and the other sites' sets are all still there."""
    monkeypatch.setattr("dashboard_server.compat.MAX_SETS_PER_CELL", 5)
    polaris = facility_tokens(app, "anl")["anl-polaris"]
    run_at(client, polaris, "anl-polaris", "pip", hours_ago=12 * 14 + 5, components=PIP_PINNED,
           suites=passing("parsl", "parsl-flux"))
    for night in range(14):
        run_at(client, polaris, "anl-polaris", "pip", hours_ago=12 * night + 1,
               components={**PIP_PINNED, "parsl": f"2026.11.{30 - night // 2}.dev{night}"},
               suites=passing("parsl", "parsl-flux"))
    body = client.get("/api/v1/compat?suite=parsl-flux").get_json()
    assert body["cut"] == [{"site": "anl-polaris", "variant": "pip", "sets": 15, "shown": 5}]
    (suite,) = body["suites"]
    nightly = [s for s in suite["sets"] if any(v["site"] == "anl-polaris" for v in s["sites"])]
    pinned = normalize_version(PIP_PINNED["parsl"])
    assert sorted(s["versions"]["parsl"] for s in nightly) == sorted(
        [f"2026.11.{30 - n // 2}.dev{n}" for n in range(5)] + [pinned])
    (kept,) = [s for s in nightly if s["versions"]["parsl"] == pinned]
    assert "pip" in kept["pinned_in"] and ("anl-polaris", "passed") in {(v["site"], v["status"]) for v in kept["sites"]}
    others = {(v["site"], v["variant"]) for s in suite["sets"] for v in s["sites"]} - {("anl-polaris", "pip")}
    assert others == {("llnl-dane", "spack"), ("nersc-perlmutter", "spack"), ("llnl-tioga", "pip")}
    page = client.get("/compat/").get_data(as_text=True)
    assert "Only the newest 5 component sets" in page and "<strong>anl-polaris</strong> <small>pip</small> (15)" in page
