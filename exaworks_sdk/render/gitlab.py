"""The facility CI pipeline: site registry + manifest → intermediate form → GitLab CI YAML.

Three steps, each testable on its own:

1. ``pipeline_ir(manifest, sites)`` lists every job as a plain, fully resolved dict: what it
   runs, where (tags, scheduler parameters, variables), when (rules, needs) and with which
   credentials (id_tokens). Tests check this form directly.
2. A generator, registered with ``@generator(name)``, turns the IR into documents (dicts) keyed
   by output path. ``gitlab`` factors the repeated parts into hidden templates joined with
   ``extends:``; another CI system is one more generator.
3. The ``gitlab`` renderer dumps the documents with a safe YAML dumper: structure is built, not
   templated.

Job scripts stay one line; the logic lives in ``ci/scripts/pipeline/*.sh``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import yaml

from exaworks_sdk.manifest import Facility, Machine, Manifest
from exaworks_sdk.render import renderer
from exaworks_sdk.render.base import Context

SCRIPTS = "ci/scripts/pipeline"
RESULTS_DIR = "sdk-results"
STAGES = ["install", "test", "cleanup", "publish"]
FACILITY_VARIABLE = "SDK_FACILITY"
PUBLISH_VARIABLE = "SDK_PUBLISH_IMAGES"
PUBLISH_JOB = "publish-images"

# What each kind of job runs. The scripts read everything else from the job's variables.
KINDS: dict[str, dict[str, Any]] = {
    "install": {"stage": "install", "script": [f"bash {SCRIPTS}/install.sh"]},
    "test": {
        "stage": "test",
        "script": [f"bash {SCRIPTS}/test.sh"],
        "artifacts": {
            "when": "always",
            "expire_in": "30 days",
            "paths": [f"{RESULTS_DIR}/"],
            "reports": {"junit": f"{RESULTS_DIR}/*.junit.xml"},
        },
    },
    "cleanup": {"stage": "cleanup", "script": [f"bash {SCRIPTS}/cleanup.sh"]},
    "publish": {"stage": "publish", "script": [f"bash {SCRIPTS}/publish-image.sh"]},
}


# -- 1. the intermediate form -------------------------------------------------------------------

def pipeline_variables(sites: dict[str, Facility]) -> dict[str, dict[str, Any]]:
    """Pipeline-wide inputs, shown with their descriptions in GitLab's "Run pipeline" form."""
    return {
        FACILITY_VARIABLE: {
            "value": "",
            "options": ["", *sorted(sites)],
            "description": "Run only this facility's jobs. Each facility's mirror sets it as a CI/CD variable.",
        },
        "SDK_TEST_SELECT": {
            "value": "",
            "description": "Extra `sdk-test run` arguments: suite names (`psij parsl flux`) or options "
                           "(`-t smoke`). Empty runs every suite.",
        },
        PUBLISH_VARIABLE: {
            "value": "false",
            "options": ["false", "true"],
            "description": "Build and push the container images (needs a Docker runner and registry login).",
        },
        "SDK_RESULTS_DIR": {"value": RESULTS_DIR, "description": "Where the harness writes records and JUnit XML."},
    }


def image_tag(manifest: Manifest, combo: dict[str, str]) -> str:
    release = manifest.release
    return f"{release.image_name}:{release.version}-{combo['os']}-{combo['mpi']}-py{combo['python']}"


def facility_rules(facility: str, when: str | None = None) -> list[dict[str, str]]:
    rule = {"if": f'${FACILITY_VARIABLE} == "{facility}"'}
    if when:
        rule["when"] = when
    return [rule]


def machine_variables(manifest: Manifest, site: str, machine: Machine) -> dict[str, str]:
    """What the pipeline scripts need to know about one machine, from the registry."""
    variables = {
        "SDK_SITE": site,
        "SDK_SCHEDULER": machine.scheduler,
        "SDK_MODULES": " ".join(machine.modules),
        "SDK_PYTHON": machine.python,
        "SDK_PIPELINE_DIR": f"{machine.workdir}/exaworks-sdk-ci/$CI_PIPELINE_ID/{site}",
    }
    if machine.spack is not None and "spack" in machine.variants:
        variables["SDK_SPACK_ROOT"] = machine.spack.root
        variables["SDK_SPACK_ENV"] = f"spack/environments/{site}"
    if "container" in machine.variants:
        variables["SDK_CONTAINER_RUNTIME"] = machine.container_runtime
        variables["SDK_IMAGE"] = image_tag(manifest, manifest.release.images.default)
    if machine.executor == "batch":
        params = machine.scheduler_parameters
        variables[params.variable] = params.default
    return variables


def _job(kind: str, *, facility: str | None, machine: str | None, site: str | None, variant: str | None,
         tags: list[str], variables: dict[str, str], id_tokens: dict, rules: list[dict], needs: list | None) -> dict:
    job = {"kind": kind, "facility": facility, "machine": machine, "site": site, "variant": variant,
           "tags": tags, "variables": variables, "id_tokens": id_tokens, "rules": rules, "needs": needs}
    job.update(copy.deepcopy(KINDS[kind]))
    return job


def job_name(site: str, variant: str, kind: str) -> str:
    return f"{site}-{variant}-{kind}"


def facility_ir(manifest: Manifest, facility: Facility) -> tuple[dict, dict[str, dict]]:
    """One facility: its shared settings, and install → test → cleanup for each machine × variant."""
    fid = facility.facility
    id_tokens = {facility.id_token.name: {"aud": facility.id_token.aud}}
    machines = {}
    jobs: dict[str, dict] = {}
    for name, machine in facility.machines.items():
        site = f"{fid}-{name}"
        variables = machine_variables(manifest, site, machine)
        machines[name] = {"site": site, "tags": list(machine.tags), "variables": variables}
        for variant in machine.variants:
            common = {"facility": fid, "machine": name, "site": site, "variant": variant,
                      "tags": list(machine.tags), "variables": {**variables, "SDK_VARIANT": variant},
                      "id_tokens": id_tokens}
            install, test, cleanup = (job_name(site, variant, k) for k in ("install", "test", "cleanup"))
            jobs[install] = _job("install", **common, rules=facility_rules(fid), needs=[])
            jobs[test] = _job("test", **common, rules=facility_rules(fid), needs=[install])
            # Runs even when install or test failed, so no environment outlives its pipeline.
            jobs[cleanup] = _job("cleanup", **common, rules=facility_rules(fid, when="always"),
                                 needs=[{"job": test, "artifacts": False}])
    shared = {"name": facility.name, "maintainer": facility.maintainer, "gitlab_url": facility.gitlab_url,
              "rules": facility_rules(fid), "id_tokens": id_tokens, "machines": machines}
    return shared, jobs


def publish_ir(manifest: Manifest) -> dict:
    """One image per OS × MPI × Python combination of the manifest; the default is also ``latest``.

    No ``needs``: in a pipeline that also tests (``SDK_FACILITY=local``) images publish only
    after every earlier stage passed.
    """
    release = manifest.release
    images = release.images
    default = images.default
    variables = {
        "SDK_IMAGE_NAME": release.image_name,
        "SDK_RELEASE": release.version,
        "SDK_LATEST": f"{default['os']}-{default['mpi']}-{default['python']}",
        **{f"SDK_BASE_IMAGE_{os_id}": spec.image for os_id, spec in images.os.items()},
    }
    job = _job("publish", facility=None, machine=None, site=None, variant=None, tags=[], variables=variables,
               id_tokens={}, rules=[{"if": f'${PUBLISH_VARIABLE} == "true"'}], needs=None)
    job["images"] = [{**combo, "base_image": images.os[combo["os"]].image,
                      "tags": [image_tag(manifest, combo)] + ([f"{release.image_name}:latest"] if combo == default else [])}
                     for combo in images.combinations()]
    job["matrix"] = [{"SDK_OS": c["os"], "SDK_MPI": c["mpi"], "SDK_PYTHON_VERSION": c["python"]}
                     for c in images.combinations()]
    return job


def pipeline_ir(manifest: Manifest, sites: dict[str, Facility]) -> dict:
    """The whole pipeline as plain data, independent of any CI system's file layout."""
    facilities: dict[str, dict] = {}
    jobs: dict[str, dict] = {}
    for fid, facility in sorted(sites.items()):
        facilities[fid], facility_jobs = facility_ir(manifest, facility)
        jobs.update(facility_jobs)
    jobs[PUBLISH_JOB] = publish_ir(manifest)
    return {
        "release": manifest.release.version,
        "stages": list(STAGES),
        "variables": pipeline_variables(sites),
        "facilities": facilities,
        "jobs": jobs,
    }


# -- 2. generators: IR → documents ----------------------------------------------------------------

Generator = Callable[[dict], dict[str, dict]]
GENERATORS: dict[str, Generator] = {}


def generator(name: str) -> Callable[[Generator], Generator]:
    def register(func: Generator) -> Generator:
        GENERATORS[name] = func
        return func
    return register


def facility_file(facility: str) -> str:
    return f"ci/gitlab/{facility}.yml"


def _template(name: str) -> str:
    return f".sdk-{name}"


def _inherited(job: dict, base: dict) -> dict:
    """What a concrete job must still say after inheriting ``base``: only the differences."""
    own: dict[str, Any] = {}
    for key, value in job.items():
        if key == "variables":
            extra = {k: v for k, v in value.items() if base.get("variables", {}).get(k) != v}
            if extra:
                own["variables"] = extra
        elif base.get(key) != value:
            own[key] = value
    return own


_GITLAB_KEYS = ("stage", "tags", "variables", "id_tokens", "rules", "needs", "script", "artifacts")


def _gitlab_job(job: dict) -> dict:
    out = {k: job[k] for k in _GITLAB_KEYS if job.get(k) or (k == "needs" and job.get(k) is not None)}
    if job.get("matrix"):
        out["parallel"] = {"matrix": job["matrix"]}
    return out


@generator("gitlab")
def gitlab(ir: dict) -> dict[str, dict]:
    """``.gitlab-ci.yml`` (stages, inputs, job-kind templates, publishing) plus one file per facility.

    Hidden templates: ``.sdk-<kind>`` (stage, script, artifacts), ``.sdk-<facility>`` (rules,
    id_tokens) and ``.sdk-<site>`` (tags, variables; extends the facility's). Each concrete job
    extends its kind and its site and states only what differs.
    """
    root: dict[str, Any] = {
        "include": [{"local": f"/{facility_file(f)}"} for f in ir["facilities"]],
        "stages": ir["stages"],
        "variables": ir["variables"],
    }
    for kind in ("install", "test", "cleanup"):
        root[_template(kind)] = dict(KINDS[kind])
    root[PUBLISH_JOB] = _gitlab_job(ir["jobs"][PUBLISH_JOB])
    docs = {".gitlab-ci.yml": root}

    for fid, facility in ir["facilities"].items():
        doc: dict[str, Any] = {_template(fid): {"rules": facility["rules"], "id_tokens": facility["id_tokens"]}}
        for machine in facility["machines"].values():
            doc[_template(machine["site"])] = {"extends": _template(fid), "tags": machine["tags"],
                                               "variables": machine["variables"]}
        for name, job in ir["jobs"].items():
            if job["facility"] != fid:
                continue
            machine = facility["machines"][job["machine"]]
            base = {**KINDS[job["kind"]], "tags": machine["tags"], "variables": machine["variables"],
                    "rules": facility["rules"], "id_tokens": facility["id_tokens"]}
            doc[name] = {"extends": [_template(job["kind"]), _template(job["site"])],
                         **_gitlab_job(_inherited(job, base))}
        docs[facility_file(fid)] = doc
    return docs


# -- 3. the renderer ------------------------------------------------------------------------------

class _NoAliases(yaml.SafeDumper):
    """Shared sub-dicts (one facility's id_tokens in many jobs) are written out, never as &anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(doc: dict) -> str:
    """YAML with a blank line between top-level entries, so each job reads as a block."""
    return "\n".join(yaml.dump({key: value}, Dumper=_NoAliases, sort_keys=False, width=110, default_flow_style=False)
                     for key, value in doc.items())


@renderer("gitlab")
def render(ctx: Context) -> dict[str, str]:
    ir = pipeline_ir(ctx.manifest, ctx.sites)
    return {path: dump(doc) for path, doc in GENERATORS["gitlab"](ir).items()}
