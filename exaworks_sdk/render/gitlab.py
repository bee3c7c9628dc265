"""The GitLab CI files: the CI-neutral pipeline form (``ci.py``) → ``.gitlab-ci.yml`` + one file per facility.

The repeated parts are factored into hidden templates joined with ``extends:``; the documents
are built as dicts and dumped with a safe YAML dumper: structure is built, not templated.
"""

from __future__ import annotations

from typing import Any

import yaml

from exaworks_sdk.render.base import Context
from exaworks_sdk.render.ci import KINDS, PUBLISH_JOB, pipeline_ir
from exaworks_sdk.render.registry import renderer

FACILITY_DIR = "ci/generated/gitlab"


def facility_file(facility: str) -> str:
    return f"{FACILITY_DIR}/{facility}.yml"


def _template(name: str) -> str:
    return f".sdk-{name}"


def _inherited(job: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
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


def _gitlab_job(job: dict[str, Any]) -> dict[str, Any]:
    out = {k: job[k] for k in _GITLAB_KEYS if job.get(k) or (k == "needs" and job.get(k) is not None)}
    if job.get("matrix"):
        out["parallel"] = {"matrix": job["matrix"]}
    return out


def documents(ir: dict[str, Any]) -> dict[str, dict[str, Any]]:
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


class _NoAliases(yaml.SafeDumper):
    """Shared sub-dicts (one facility's id_tokens in many jobs) are written out, never as &anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(doc: dict[str, Any]) -> str:
    """YAML with a blank line between top-level entries, so each job reads as a block."""
    return "\n".join(yaml.dump({key: value}, Dumper=_NoAliases, sort_keys=False, width=110, default_flow_style=False)
                     for key, value in doc.items())


@renderer("gitlab", outputs=[".gitlab-ci.yml", f"{FACILITY_DIR}/*.yml"])
def render(ctx: Context) -> dict[str, str]:
    return {path: dump(doc) for path, doc in documents(pipeline_ir(ctx.manifest, ctx.sites)).items()}
