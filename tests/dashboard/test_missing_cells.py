"""Expected cells (issue 18, part 4): every machine × variant × suite the site registry requires
that never reported is "missing" on the summary, a state of its own; excluded ones say why; the
columns are grouped into component suites (L0) and integration suites (L1, the pairs first)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.support.dashboard import facility_tokens
from tests.support.history import PIP_PINNED, SPACK_PINNED, passing, run_at


def _rows(client: FlaskClient) -> dict[tuple[str, str], dict[str, Any]]:
    summary = client.get("/api/v1/summary").get_json()
    return {(row["site"]["name"], row["variant"]): row for row in summary["rows"]}


def test_never_reported_cells_are_missing(app: Flask, client: FlaskClient) -> None:
    tokens = {**facility_tokens(app, "llnl"), **facility_tokens(app, "nersc")}
    run_at(client, tokens["llnl-dane"], "llnl-dane", "spack", hours_ago=30, components=SPACK_PINNED,
           suites=passing("parsl", "flux", "parsl-flux", "psij", "psij-flux"))
    run_at(client, tokens["llnl-dane"], "llnl-dane", "pip", hours_ago=20, components=PIP_PINNED,
           suites={"parsl": {"t": "failed"}, "psij": {"t": "passed"}})
    rows = _rows(client)

    dane = rows[("llnl-dane", "spack")]
    assert set(dane["cells"]) == {"parsl", "flux", "parsl-flux", "psij", "psij-flux"}
    assert "rp-flux" in dane["missing"] and "swift-t-in-flux" in dane["missing"] and "parsl" not in dane["missing"]
    assert dane["excluded"] == {}
    dane_pip = rows[("llnl-dane", "pip")]
    assert "parsl-flux" in dane_pip["excluded"] and "no PyPI channel" in dane_pip["excluded"]["parsl-flux"]
    assert "parsl-flux" not in dane_pip["missing"] and "parsl-rp" in dane_pip["missing"]

    # registry machines and variants that never reported get rows of missing cells
    lassen = rows[("llnl-lassen", "pip")]
    assert lassen["cells"] == {} and "parsl" in lassen["missing"] and "flux" in lassen["excluded"]
    assert ("nersc-perlmutter", "container") in rows and ("llnl-tioga", "spack") in rows
    tioga_pip = rows[("llnl-tioga", "pip")]
    assert "parsl-flux" in tioga_pip["missing"]  # Flux is tioga's scheduler: its pip variant runs the Flux suites
    assert "swift-t-in-flux" in tioga_pip["excluded"]

    groups = client.get("/api/v1/summary").get_json()["groups"]
    assert [g["level"] for g in groups] == ["L0", "L1"]
    assert groups[1]["suites"][:4] == ["parsl-flux", "rp-flux", "swift-t-in-flux", "psij-flux"]
    assert groups[0]["suites"][:2] == ["parsl", "psij"]

    page = client.get("/").get_data(as_text=True)
    assert "Integration pairs (L1)" in page and "Component suites (L0)" in page
    assert 'class="cell cell-missing"' in page and "it never reported" in page
    assert "cannot run here: Flux and Swift/T have no PyPI channel" in page


def test_a_site_outside_the_registry_has_no_missing_cells(client: FlaskClient, token: str) -> None:
    """``local-linux`` is in the registry; a site added by hand under another name is not."""
    from tests.support.dashboard import add_site, issue_token, make_run, upload

    app = client.application
    add_site(app, "hpc-lab-x", facility="lab")
    upload(client, issue_token(app, "hpc-lab-x"), make_run("hpc-lab-x"))
    (row,) = [r for r in client.get("/api/v1/summary").get_json()["rows"] if r["site"]["name"] == "hpc-lab-x"]
    assert row["missing"] == [] and row["excluded"] == {}
