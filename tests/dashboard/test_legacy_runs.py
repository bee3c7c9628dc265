"""POST /result with old clients' real sequences: which run each record lands in.

The old SDK wrapper runs its pip, spack and conda jobs in one pipeline (one run id, one branch),
the version sites run names no variant in its start and end records, and without a pipeline id
it sends no run id at all; psij-python sends one session per branch under one run id. Each case
here is a whole sequence built from the exact payloads in fixtures/legacy/.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from dashboard_server.models import Run, Site, Token
from tests.support.dashboard import add_site, facility_tokens, interleave, post_all, psij_session, wrapper_job, write

GROUPS = {"pip": {"parsl": "passed", "rp": "passed"}, "spack": {"parsl": "passed", "flux": "failed"},
          "conda": {"rp": "passed"}}


def runs(client, site: str = "llnl-dane") -> list[dict[str, Any]]:
    listed = client.get(f"/api/v1/sites/{site}/runs?per_page=500").json["runs"]
    return [client.get(f"/api/v1/runs/{r['id']}").json for r in listed]


def by_variant(client, site: str = "llnl-dane") -> dict[str, dict[str, Any]]:
    found = runs(client, site)
    variants = {r["variant"]: r for r in found}
    assert len(variants) == len(found), [r["variant"] for r in found]
    return variants


def check_three_variants(client) -> None:
    variants = by_variant(client)
    assert set(variants) == {"pip", "spack", "conda"}
    for group, tools in GROUPS.items():
        run = variants[group]
        assert run["run_id"] == "1187345" and run["branch"] == "master", run
        assert run["finished_at"] is not None, f"{group} was never finished"
        assert {t["suite"]: t["status"] for t in run["tests"]} == tools  # the tool is the suite
        assert run["status"] == ("failed" if "failed" in tools.values() else "passed")
    # TESTS_GROUP is a variant, never a suite column
    summary = client.get("/api/v1/summary").json
    # "rp" is not a suite of the harness registry: it has no column, it folds into "other"
    assert set(summary["suites"]) | {"rp" for row in summary["rows"] if row["other"]} == {"parsl", "rp", "flux"}
    rows = {(row["site"]["name"], row["variant"]) for row in summary["rows"]}
    assert rows == {("llnl-dane", "pip"), ("llnl-dane", "spack"), ("llnl-dane", "conda")}


def test_wrapper_pip_spack_conda_one_after_another_are_three_runs(client, other_token):
    post_all(client, [body for group, tools in GROUPS.items() for body in wrapper_job(other_token, group, tools=tools)])
    check_three_variants(client)


def test_wrapper_jobs_running_at_once_are_three_runs(client, other_token):
    post_all(client, interleave(*(wrapper_job(other_token, group, tools=tools) for group, tools in GROUPS.items())))
    check_three_variants(client)


def test_wrapper_with_branch_suffixes_is_three_runs(client, other_token):
    jobs = [wrapper_job(other_token, group, tools=tools, suffix=True) for group, tools in GROUPS.items()]
    post_all(client, interleave(*jobs))
    check_three_variants(client)


def test_first_end_does_not_finish_the_other_variants(client, other_token):
    pip, spack = (wrapper_job(other_token, g, tools=GROUPS[g]) for g in ("pip", "spack"))
    post_all(client, [pip[0], spack[0], *pip[1:], spack[1]])  # pip ended; spack still testing
    variants = by_variant(client)
    assert variants["pip"]["finished_at"] is not None
    assert variants["spack"]["finished_at"] is None and variants["spack"]["status"] == "unfinished"
    post_all(client, spack[2:])
    assert by_variant(client)["spack"]["finished_at"] is not None


def test_without_a_pipeline_id_each_job_is_its_own_run(client, other_token):
    first = wrapper_job(other_token, "pip", pipeline_id=None, start=datetime(2025, 1, 1, 9))
    second = wrapper_job(other_token, "pip", pipeline_id=None, start=datetime(2025, 1, 2, 9),
                         tools={"parsl": "failed", "rp": "passed"})
    post_all(client, first + second)
    found = runs(client)
    assert len(found) == 2
    assert all(r["generated_id"] and r["run_id"].startswith("auto-") for r in found)
    assert len({r["run_id"] for r in found}) == 2
    assert sorted(r["status"] for r in found) == ["failed", "passed"]
    assert all(r["counts"]["passed"] + r["counts"]["failed"] == 2 for r in found)


def test_psij_sessions_without_a_run_id_are_separate_runs(client, other_token):
    post_all(client, psij_session(other_token, run_id=None) + psij_session(other_token, run_id=None))
    assert len(runs(client)) == 2


def test_psij_branches_of_one_ci_run_are_separate_runs(client, other_token):
    post_all(client, psij_session(other_token, branch="main") + psij_session(other_token, branch="feature/x"))
    assert sorted(r["branch"] for r in runs(client)) == ["feature/x", "main"]


def test_run_identity_is_structured_not_a_joined_string(client, other_token):
    """F11: a '#' in a run id or branch cannot make two runs one."""
    post_all(client, psij_session(other_token, run_id="nightly#feature", branch="x",
                                  tests={"test_a": "passed"}))
    post_all(client, psij_session(other_token, run_id="nightly", branch="feature#x",
                                  tests={"test_b": "failed"}))
    found = {(r["run_id"], r["branch"]): r for r in runs(client)}
    assert set(found) == {("nightly#feature", "x"), ("nightly", "feature#x")}
    assert [t["test_id"] for t in found[("nightly#feature", "x")]["tests"]] == ["test_a"]
    assert [t["test_id"] for t in found[("nightly", "feature#x")]["tests"]] == ["test_b"]


def test_a_wrapper_start_nobody_claims_is_an_error_run(client, other_token):
    """A job that died after `test.py -s`: its run shows, and (once ended) as an error."""
    job = wrapper_job(other_token, "pip")
    post_all(client, [job[0], job[-1]])
    (run,) = runs(client)
    assert run["variant"] == "unknown" and run["status"] == "error" and run["counts"]["passed"] == 0


def set_zone(app, site: str, zone: str) -> None:
    def work(session):
        session.scalar(select(Site).where(Site.name == site)).timezone = zone
    write(app, work)


def test_naive_times_are_read_in_the_sites_time_zone(app, client, other_token):
    set_zone(app, "llnl-dane", "America/Los_Angeles")  # UTC-8 in January
    post_all(client, wrapper_job(other_token, "pip", start=datetime(2025, 1, 1, 9, 0, 0)))
    (run,) = runs(client)
    assert run["started_at"] == "2025-01-01T17:00:00Z"
    assert run["tests"][0]["started_at"] == "2025-01-01T17:00:00Z"
    assert run["finished_at"] == "2025-01-01T17:01:20Z"
    assert run["assumed_utc"] is False


def test_an_offset_in_the_environment_wins_over_the_site_zone(app, client, other_token):
    set_zone(app, "llnl-dane", "America/Los_Angeles")
    job = wrapper_job(other_token, "pip", start=datetime(2025, 7, 1, 9, 0, 0))
    job[0]["data"]["extras"]["utc_offset"] = "-06:00"
    post_all(client, job)
    (run,) = runs(client)
    assert run["started_at"] == "2025-07-01T15:00:00Z"
    assert run["tests"][1]["started_at"] == "2025-07-01T15:00:40Z"


def test_naive_times_without_a_zone_are_flagged(client, other_token):
    post_all(client, wrapper_job(other_token, "pip", start=datetime(2025, 1, 1, 9, 0, 0)))
    (run,) = runs(client)
    assert run["started_at"] == "2025-01-01T09:00:00Z" and run["assumed_utc"] is True
    page = client.get(f"/runs/{run['id']}").get_data(as_text=True)
    assert "read as UTC" in page


def test_psij_times_carry_their_offset(client, other_token):
    post_all(client, psij_session(other_token))
    assert runs(client)[0]["assumed_utc"] is False


def test_legacy_use_updates_last_used(app, client, other_token):
    def last_used(session):
        return session.scalar(select(Token.last_used_at))
    assert write(app, last_used) is None
    post_all(client, psij_session(other_token)[:1])
    assert write(app, last_used) is not None


@pytest.mark.parametrize("facility", ["llnl", "anl"])
def test_every_machine_of_a_facility_uploads_with_its_own_key(client, app, facility, repo_root):
    tokens = facility_tokens(app, facility, repo_root)
    assert len(tokens) >= 2
    for site, key in tokens.items():
        post_all(client, psij_session(key, site=site))
    for site, key in tokens.items():
        assert len(runs(client, site)) == 1
        for other in tokens:
            if other != site:
                body = psij_session(key, site=other)[0]
                assert client.post("/result", json=body).status_code == 403
        assert len(runs(client, site)) == 1


def test_one_facilitys_key_cannot_write_as_another_facilitys_machine(client, app, repo_root):
    llnl, anl = facility_tokens(app, "llnl", repo_root), facility_tokens(app, "anl", repo_root)
    for key in llnl.values():
        for site in anl:
            response = client.post("/result", json=psij_session(key, site=site)[0])
            assert response.status_code == 403 and "belongs to site" in response.json["error"]["message"]
    assert all(not runs(client, site) for site in anl)


def test_pending_runs_do_not_collide(app, client, other_token):
    """Three start records of one pipeline and branch with no variant: three runs, no conflict."""
    post_all(client, [wrapper_job(other_token, g)[0] for g in ("pip", "spack", "conda")])
    pending = write(app, lambda s: s.scalars(select(Run.key_variant)).all())
    assert pending == [None, None, None]


def test_sites_without_records_stay_apart(client, app, other_token):
    add_site(app, "llnl-tioga", facility="llnl", machine="tioga")
    post_all(client, wrapper_job(other_token, "pip"))
    assert runs(client, "llnl-tioga") == []


def test_wrapper_jobs_posting_at_the_same_time(app, other_token):
    """Six jobs of one pipeline, each posting its own sequence while the others post theirs: every
    test lands in its own job's run (claims never collide), and every run ends finished."""
    groups = {f"g{n}": {f"tool{t}": "passed" if (n + t) % 4 else "failed" for t in range(4)} for n in range(6)}
    jobs = {group: wrapper_job(other_token, group, tools=tools) for group, tools in groups.items()}
    barrier = threading.Barrier(len(jobs))

    def job(bodies: list[dict[str, Any]]) -> list[int]:
        client = app.test_client()
        codes = [client.post("/result", json=bodies[0]).status_code]
        barrier.wait()  # every start is in: the tests now race to claim them
        return codes + [client.post("/result", json=body).status_code for body in bodies[1:]]

    with ThreadPoolExecutor(len(jobs)) as pool:
        codes = list(pool.map(job, jobs.values()))
    assert all(set(c) == {200} for c in codes), codes
    client = app.test_client()
    variants = by_variant(client)
    assert set(variants) == set(groups)
    for group, tools in groups.items():
        assert {t["suite"]: t["status"] for t in variants[group]["tests"]} == tools
        assert variants[group]["finished_at"] is not None
