"""The facility CI pipeline as a CI-neutral intermediate form: site registry + manifest → plain dicts.

``pipeline_ir(manifest, sites)`` lists every job as a plain, fully resolved dict[str, Any]: what it runs,
where (tags, scheduler parameters, variables), when (rules, needs) and with which credentials
(id_tokens). Tests check this form directly. A CI system's renderer (``gitlab.py``) turns it into
that system's files; another CI system is one more renderer module reading the same form.

Job scripts stay one line; the logic lives in ``ci/scripts/pipeline/*.sh``.
"""

from __future__ import annotations

import copy
from typing import Any

from exaworks_sdk.manifest import Facility, Machine, Manifest, token_variable

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


def facility_rules(facility: str, when: str | None = None) -> list[dict[str, str]]:
    rule = {"if": f'${FACILITY_VARIABLE} == "{facility}"'}
    if when:
        rule["when"] = when
    return [rule]


def machine_variables(manifest: Manifest, site: str, machine: Machine) -> dict[str, str]:
    """What the pipeline scripts need to know about one machine, from the registry."""
    variables = {
        "SDK_SITE": site,
        # the name (never the value) of the masked CI/CD variable holding this machine's own token
        "SDK_DASHBOARD_TOKEN_VARIABLE": token_variable(site),
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
        variables["SDK_IMAGE"] = manifest.release.default_image_tag()
    if machine.executor == "batch":
        params = machine.scheduler_parameters
        variables[params.variable] = params.default
    return variables


def _job(kind: str, *, facility: str | None, machine: str | None, site: str | None, variant: str | None,
         tags: list[str], variables: dict[str, str], id_tokens: dict[str, Any], rules: list[dict[str, Any]],
         needs: list[Any] | None) -> dict[str, Any]:
    job = {"kind": kind, "facility": facility, "machine": machine, "site": site, "variant": variant,
           "tags": tags, "variables": variables, "id_tokens": id_tokens, "rules": rules, "needs": needs}
    job.update(copy.deepcopy(KINDS[kind]))
    return job


def job_name(site: str, variant: str, kind: str) -> str:
    return f"{site}-{variant}-{kind}"


def facility_ir(manifest: Manifest, facility: Facility) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """One facility: its shared settings, and install → test → cleanup for each machine × variant."""
    fid = facility.facility
    id_tokens = {facility.id_token.name: {"aud": facility.id_token.aud}}
    machines = {}
    jobs: dict[str, dict[str, Any]] = {}
    for entry in facility.sites():
        name, machine, site = entry.machine_name, entry.machine, entry.id
        variables = machine_variables(manifest, site, machine)
        machines[name] = {"site": site, "tags": list(machine.tags), "variables": variables}
        for variant in machine.variants:
            common: dict[str, Any] = {"facility": fid, "machine": name, "site": site, "variant": variant,
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


def publish_ir(manifest: Manifest) -> dict[str, Any]:
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
                      "tags": [release.image_tag(**combo)] + ([f"{release.image_name}:latest"] if combo == default else [])}
                     for combo in images.combinations()]
    job["matrix"] = [{"SDK_OS": c["os"], "SDK_MPI": c["mpi"], "SDK_PYTHON_VERSION": c["python"]}
                     for c in images.combinations()]
    return job


def pipeline_ir(manifest: Manifest, sites: dict[str, Facility]) -> dict[str, Any]:
    """The whole pipeline as plain data, independent of any CI system's file layout."""
    facilities: dict[str, dict[str, Any]] = {}
    jobs: dict[str, dict[str, Any]] = {}
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
