"""The facility pipeline: its intermediate form per facility, and the GitLab files rendered from it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from exaworks_sdk.manifest import load_manifest, load_sites
from exaworks_sdk.render import check, render_all
from exaworks_sdk.render.ci import pipeline_ir
from exaworks_sdk.render.gitlab import documents


@pytest.fixture(scope="module")
def ir(repo_root: Path) -> dict:
    return pipeline_ir(load_manifest(repo_root), load_sites(repo_root))


def jobs_of(ir: dict, site: str) -> dict[str, dict]:
    return {name: job for name, job in ir["jobs"].items() if job["site"] == site}


# -- the intermediate form -------------------------------------------------------------------------

def test_every_machine_and_variant_gets_install_test_cleanup(repo_root: Path, ir: dict) -> None:
    for fid, facility in load_sites(repo_root).items():
        for name, machine in facility.machines.items():
            site = f"{fid}-{name}"
            kinds = {(j["variant"], j["kind"]) for j in jobs_of(ir, site).values()}
            assert kinds == {(v, k) for v in machine.variants for k in ("install", "test", "cleanup")}, site


def test_llnl_dane_batch_jobs(ir: dict) -> None:
    jobs = jobs_of(ir, "llnl-dane")
    install, test, cleanup = (jobs[f"llnl-dane-spack-{k}"] for k in ("install", "test", "cleanup"))
    for job in (install, test, cleanup):
        assert job["tags"] == ["dane", "batch"]
        assert job["variables"]["SCHEDULER_PARAMETERS"] == "-N 1 -t 45 -p pdebug"
        assert job["id_tokens"] == {"SITE_ID_TOKEN": {"aud": "$CI_SERVER_URL"}}
        assert job["variables"]["SDK_SITE"] == "llnl-dane" and job["variables"]["SDK_VARIANT"] == "spack"
        assert job["variables"]["SDK_SPACK_ROOT"] == "/usr/workspace/exaworks/spack"
        assert job["variables"]["SDK_SPACK_ENV"] == "spack/environments/llnl-dane"
        assert job["variables"]["SDK_MODULES"] == "gcc/12.1.1 mvapich2/2.3.7"
    assert install["rules"] == test["rules"] == [{"if": '$SDK_FACILITY == "llnl"'}]
    assert cleanup["rules"] == [{"if": '$SDK_FACILITY == "llnl"', "when": "always"}]
    assert install["needs"] == [] and test["needs"] == ["llnl-dane-spack-install"]
    assert cleanup["needs"] == [{"job": "llnl-dane-spack-test", "artifacts": False}]


def test_renamed_scheduler_variable_is_used(ir: dict) -> None:
    """Lassen's Jacamar reads LSB_JOB_PARAMETERS; the default SCHEDULER_PARAMETERS must not appear."""
    for job in jobs_of(ir, "llnl-lassen").values():
        assert job["variables"]["LSB_JOB_PARAMETERS"] == "-nnodes 1 -W 45 -q pdebug"
        assert "SCHEDULER_PARAMETERS" not in job["variables"]
        assert job["variables"]["SDK_SCHEDULER"] == "lsf"


def test_ornl_frontier_jobs(ir: dict) -> None:
    jobs = jobs_of(ir, "ornl-frontier")
    assert {j["variant"] for j in jobs.values()} == {"spack", "pip", "container"}
    for job in jobs.values():
        assert job["tags"] == ["frontier", "batch"]
        assert job["variables"]["SCHEDULER_PARAMETERS"] == "-A CSC449 -N 1 -t 00:45:00 -p batch"
        assert job["rules"][0] == {"if": '$SDK_FACILITY == "ornl"', **({"when": "always"} if job["kind"] == "cleanup" else {})}
        assert job["id_tokens"] == {"SITE_ID_TOKEN": {"aud": "$CI_SERVER_URL"}}
    container = jobs["ornl-frontier-container-install"]["variables"]
    assert container["SDK_CONTAINER_RUNTIME"] == "apptainer"
    assert container["SDK_IMAGE"] == "exaworks/sdk:2026.11-bookworm-mpich-py3.11"


def test_local_shell_site_has_no_scheduler_and_its_own_workdir(ir: dict) -> None:
    jobs = jobs_of(ir, "local-linux")
    for job in jobs.values():
        assert job["tags"] == ["exaworks-local", "shell"]
        assert not {"SCHEDULER_PARAMETERS", "LSB_JOB_PARAMETERS"} & set(job["variables"])
        assert job["variables"]["SDK_PIPELINE_DIR"] == "/tmp/exaworks-sdk-ci/$CI_PIPELINE_ID/local-linux"
        assert job["rules"][0]["if"] == '$SDK_FACILITY == "local"'


def test_pipeline_directories_are_per_pipeline_and_per_site(ir: dict) -> None:
    dirs = {}
    for job in ir["jobs"].values():
        if job["site"]:
            path = job["variables"]["SDK_PIPELINE_DIR"]
            assert "$CI_PIPELINE_ID" in path and path.endswith("/" + job["site"])
            dirs.setdefault(path, set()).add(job["site"])
    assert all(len(sites) == 1 for sites in dirs.values())


def test_id_token_audience_comes_from_the_registry(sdk_tree: Path) -> None:
    path = sdk_tree / "ci/sites/nersc.yaml"
    path.write_text(path.read_text().replace(
        "machines:", "id_token: {name: NERSC_ID_TOKEN, aud: https://software.nersc.gov}\nmachines:", 1))
    ir = pipeline_ir(load_manifest(sdk_tree), load_sites(sdk_tree))
    for job in jobs_of(ir, "nersc-perlmutter").values():
        assert job["id_tokens"] == {"NERSC_ID_TOKEN": {"aud": "https://software.nersc.gov"}}


def test_publish_covers_the_image_matrix_with_latest_on_the_default(repo_root: Path, ir: dict) -> None:
    manifest = load_manifest(repo_root)
    job = ir["jobs"]["publish-images"]
    assert job["rules"] == [{"if": '$SDK_PUBLISH_IMAGES == "true"'}]
    assert len(job["images"]) == len(manifest.release.images.combinations()) == len(job["matrix"])
    latest = [image for image in job["images"] if "exaworks/sdk:latest" in image["tags"]]
    assert [(i["os"], i["mpi"], i["python"]) for i in latest] == [("bookworm", "mpich", "3.11")]
    assert "exaworks/sdk:2026.11-rocky9-openmpi-py3.12" in {t for i in job["images"] for t in i["tags"]}
    assert job["variables"]["SDK_LATEST"] == "bookworm-mpich-3.11"


def test_no_secret_is_in_the_pipeline(ir: dict) -> None:
    """The jobs name each machine's token variable; they never define one (that is a masked CI/CD variable)."""
    for job in ir["jobs"].values():
        assert not [k for k in job["variables"] if k.startswith("SDK_DASHBOARD_TOKEN") and k != "SDK_DASHBOARD_TOKEN_VARIABLE"]
        assert "SDK_DASHBOARD_URL" not in job["variables"]
    assert "SDK_DASHBOARD_URL" not in yaml.safe_dump(ir)


def test_each_machine_has_its_own_token_variable(repo_root: Path, ir: dict) -> None:
    """One credential per machine: LLNL's three machines and ANL's two each name their own variable."""
    from exaworks_sdk.manifest import all_sites, token_variable

    names = {}
    for site in all_sites(load_sites(repo_root)):
        for job in jobs_of(ir, site.id).values():
            assert job["variables"]["SDK_DASHBOARD_TOKEN_VARIABLE"] == token_variable(site.id)
        names[site.id] = token_variable(site.id)
    assert len(set(names.values())) == len(names)
    assert names["llnl-dane"] == "SDK_DASHBOARD_TOKEN_LLNL_DANE" and names["anl-polaris"] == "SDK_DASHBOARD_TOKEN_ANL_POLARIS"
    llnl = yaml.safe_load((repo_root / "ci/generated/gitlab/llnl.yml").read_text())
    assert llnl[".sdk-llnl-tioga"]["variables"]["SDK_DASHBOARD_TOKEN_VARIABLE"] == "SDK_DASHBOARD_TOKEN_LLNL_TIOGA"


# -- the rendered GitLab files ---------------------------------------------------------------------

def load_pipeline(root: Path) -> dict:
    """``.gitlab-ci.yml`` with its local includes merged in, as GitLab reads it."""
    doc = yaml.safe_load((root / ".gitlab-ci.yml").read_text())
    for include in doc.pop("include", []):
        included = yaml.safe_load((root / include["local"].lstrip("/")).read_text())
        assert not set(included) & set(doc), f"{include['local']} redefines a key"
        doc.update(included)
    return doc


RESERVED = {"include", "stages", "variables", "workflow", "default", "image", "services", "cache",
            "before_script", "after_script"}


def jobs_and_templates(doc: dict) -> dict[str, dict]:
    return {k: v for k, v in doc.items() if k not in RESERVED}


def merge(base: dict, over: dict) -> dict:
    """GitLab's ``extends`` merge: hashes deep-merge, everything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def expand(doc: dict, name: str, seen: tuple[str, ...] = ()) -> dict:
    assert name not in seen, f"extends cycle: {' → '.join(seen + (name,))}"
    job = doc[name]
    parents = job.get("extends", [])
    result: dict = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        result = merge(result, expand(doc, parent, seen + (name,)))
    return merge(result, {k: v for k, v in job.items() if k != "extends"})


def test_every_extends_and_needs_resolves(repo_root: Path) -> None:
    doc = load_pipeline(repo_root)
    entries = jobs_and_templates(doc)
    stages = set(doc["stages"])
    for name, job in entries.items():
        parents = job.get("extends", [])
        for parent in [parents] if isinstance(parents, str) else parents:
            assert parent in entries, f"{name}: extends unknown {parent}"
        expanded = expand(doc, name)
        if name.startswith("."):
            continue
        assert expanded["stage"] in stages, name
        for need in expanded.get("needs", []):
            target = need["job"] if isinstance(need, dict) else need
            assert target in entries and not target.startswith("."), f"{name}: needs unknown {target}"
            assert doc["stages"].index(entries_stage(doc, target)) <= doc["stages"].index(expanded["stage"])


def entries_stage(doc: dict, name: str) -> str:
    return expand(doc, name)["stage"]


def test_expanded_jobs_equal_the_intermediate_form(repo_root: Path, ir: dict) -> None:
    """The templates only factor things out: after ``extends`` each job says exactly what the IR says."""
    doc = load_pipeline(repo_root)
    concrete = {k for k in jobs_and_templates(doc) if not k.startswith(".")}
    assert concrete == set(ir["jobs"])
    keys = ("stage", "script", "tags", "variables", "id_tokens", "rules", "needs", "artifacts")
    for name, job in ir["jobs"].items():
        expanded = expand(doc, name)
        expected = {k: job[k] for k in keys if job.get(k) or (k == "needs" and job.get(k) is not None)}
        assert {k: expanded[k] for k in keys if k in expanded} == expected, name
        if job.get("matrix"):
            assert expanded["parallel"] == {"matrix": job["matrix"]}


def test_each_facility_has_its_own_file(repo_root: Path, ir: dict) -> None:
    docs = documents(ir)
    assert set(docs) == {".gitlab-ci.yml"} | {f"ci/generated/gitlab/{f}.yml" for f in ir["facilities"]}
    llnl = docs["ci/generated/gitlab/llnl.yml"]
    assert llnl[".sdk-llnl"]["rules"] == [{"if": '$SDK_FACILITY == "llnl"'}]
    assert all(j["facility"] == "llnl" for n, j in ir["jobs"].items() if n in llnl)


def test_a_hand_edit_of_the_pipeline_is_caught(sdk_tree: Path) -> None:
    for rel, old, new in ((".gitlab-ci.yml", "stage: test", "stage: tests"),
                          ("ci/generated/gitlab/ornl.yml", "frontier", "frontier2")):
        path = sdk_tree / rel
        original = path.read_text()
        path.write_text(original.replace(old, new, 1))
        (problem,) = check(sdk_tree)
        assert problem.startswith(f"{rel}: out of date")
        path.write_text(original)
    assert check(sdk_tree) == []


def test_a_registry_edit_reaches_the_pipeline(sdk_tree: Path) -> None:
    path = sdk_tree / "ci/sites/ornl.yaml"
    path.write_text(path.read_text().replace("-A CSC449 -N 1 -t 00:45:00 -p batch", "-A CSC449 -N 2 -t 01:00:00"))
    assert any(p.startswith("ci/generated/gitlab/ornl.yml: out of date") for p in check(sdk_tree))
    render_all(sdk_tree)
    assert "SCHEDULER_PARAMETERS: -A CSC449 -N 2 -t 01:00:00" in (sdk_tree / "ci/generated/gitlab/ornl.yml").read_text()


def test_rendered_files_are_plain_yaml_without_anchors(repo_root: Path) -> None:
    for path in [repo_root / ".gitlab-ci.yml", *(repo_root / "ci/generated/gitlab").glob("*.yml")]:
        text = path.read_text()
        assert "&id" not in text and "*id" not in text, path
