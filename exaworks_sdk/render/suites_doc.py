"""Reference tables for the docs that come from code rather than from the manifest alone.

* ``suites_doc``: the harness registry with the manifest's timeouts, and for each suite its
  module docstring and tests (read with ``ast``, so nothing is imported or run);
* ``api_doc``: the upload record fields from the pydantic models in ``exaworks_sdk.records``,
  and the endpoint table from the dashboard's OpenAPI document (built in memory; no database).

Both are deterministic: they depend only on the checkout.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from exaworks_sdk.render import renderer
from exaworks_sdk.render.base import Context

# What each record field means. The model gives the type and limits; a field missing here
# renders with an empty description, and tests/docs/test_reference.py fails until it is added.
FIELD_DOCS = {
    "schema_version": "Record format version; readers reject versions they do not know.",
    "type": "Which record this is; selects the fields below.",
    "id": "Client-made unique id of this record; re-sending it is a no-op (idempotency key).",
    "run_id": "Client-made id of the run; the same in every record of one run.",
    "site": "Site name; must be the site the upload token belongs to.",
    "variant": "Install variant: `spack`, `pip`, `container`, or your own label.",
    "sdk_version": "SDK release under test, e.g. `2026.11`.",
    "started_at": "When the run (or test) started, ISO 8601 with a UTC offset.",
    "pipeline_id": "CI pipeline id (`$CI_PIPELINE_ID`).",
    "branch": "Git branch (`$CI_COMMIT_REF_NAME`).",
    "commit": "Git commit (`$CI_COMMIT_SHA`).",
    "hostname": "Host that ran the harness.",
    "components": "Component name → detected version (`null`: found, version unknown).",
    "environment": "Free-form facts: OS, Python, schedulers, MPI, CI variables.",
    "suite": "Suite name, e.g. `psij`; groups tests on the dashboard.",
    "test_id": "Test id, stable across runs (the pytest node id).",
    "status": "`passed`, `failed`, `skipped` or `error`.",
    "duration": "Seconds.",
    "message": "Skip reason or failure message, one line where possible.",
    "output": "Captured traceback, stdout and stderr.",
    "phases": "Per pytest phase (`setup`, `call`, `teardown`): a Phase.",
    "finished_at": "When the run finished, ISO 8601 with a UTC offset.",
    "exit_code": "The harness's exit code.",
    "counts": "Tests per status, as the writer counted them; the dashboard recounts from the rows.",
}


# -- suites ------------------------------------------------------------------------------------
def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    return ast.unparse(target)


def _skipif_reason(call: ast.expr) -> str | None:
    if isinstance(call, ast.Call) and _decorator_name(call).endswith("mark.skipif"):
        for kw in call.keywords:
            if kw.arg == "reason":
                value = ast.literal_eval(kw.value)
                return str(value)
    return None


def _test_notes(func: ast.FunctionDef, marks: dict[str, str]) -> list[str]:
    """What one test needs beyond its suite: ``@pytest.mark.requires(...)`` and skipif reasons
    (inline, or a module-level ``name = pytest.mark.skipif(..., reason=...)``)."""
    notes: list[str] = []
    for deco in func.decorator_list:
        if isinstance(deco, ast.Call) and _decorator_name(deco).endswith("mark.requires"):
            names = [a.value for a in deco.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            notes.append("also needs " + ", ".join(f"`{n}`" for n in names))
        reason = _skipif_reason(deco) or (marks.get(deco.id) if isinstance(deco, ast.Name) else None)
        if reason:
            notes.append(f"skipped when: {reason}")
    return notes


def _module_facts(path: Path) -> tuple[str, list[tuple[str, list[str]]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree) or ""
    marks = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            reason = _skipif_reason(node.value)
            if reason:
                marks[node.targets[0].id] = reason
    tests = [(node.name, _test_notes(node, marks)) for node in tree.body
             if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
    return doc, tests


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def suites_markdown(ctx: Context) -> str:
    from test_harness.registry import default_suites
    from test_harness.runner import suite_timeout

    components = ctx.manifest.components
    suites = default_suites()
    lines = [
        "| Suite | Level | Needs | Timeout | Tags | Checks |",
        "|---|---|---|---|---|---|",
    ]
    for s in suites:
        level = "integration (L1)" if "integration" in s.tags else "component (L0)"
        tags = ", ".join(sorted(s.tags - {"component", "integration"})) or "—"
        if s.serial:
            tags += f"; serial group `{s.serial}`"
        timeout = suite_timeout(s, components)
        needs = ", ".join(f"`{r}`" for r in s.requires)
        lines.append(f"| [{s.name}](#suite-{s.name}) | {level} | {needs} | {timeout:.0f} s | {tags} | "
                     f"{_one_line(s.description)} |")
    lines.append("")
    for s in suites:
        doc, tests = _module_facts(s.path)
        lines += [f"(suite-{s.name})=", f"### {s.name}", ""]
        lines += [f"`test_harness/suites/{s.path.name}` needs {', '.join(f'`{r}`' for r in s.requires)}.", ""]
        if doc:
            lines += [doc.strip(), ""]
        for name, notes in tests:
            lines.append(f"- `{name}`" + (f" ({'; '.join(notes)})" if notes else ""))
        lines.append("")
    return "\n".join(lines)


@renderer("suites_doc")
def render(ctx: Context) -> dict[str, str]:
    return {"docs/generated/suites.md": suites_markdown(ctx)}


# -- record fields -----------------------------------------------------------------------------
def _type(schema: dict[str, Any]) -> str:
    """A short, readable type for one JSON Schema property."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "const" in schema:
        return f'`{schema["const"]!r}`'.replace("'", '"')
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    kind = schema.get("type", "any")
    if kind == "string" and schema.get("format") == "date-time":
        return "timestamp"
    if kind == "object":
        values = schema.get("additionalProperties")
        keys = schema.get("propertyNames", {})
        key_type = _type(keys) if ("$ref" in keys or "enum" in keys) else "string"
        value_type = _type(values) if isinstance(values, dict) else "any"
        return f"object ({key_type} → {value_type})"
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    return str(kind)


def _limits(schema: dict[str, Any]) -> str:
    parts = []
    for sub in [schema, *schema.get("anyOf", [])]:
        if "minLength" in sub or "maxLength" in sub:
            parts.append(f"{sub.get('minLength', 0)}–{sub['maxLength']} chars" if "maxLength" in sub
                         else f"≥ {sub['minLength']} chars")
        if "pattern" in sub:
            parts.append(f"`{sub['pattern']}`")
        if "minimum" in sub:
            parts.append(f"≥ {sub['minimum']}")
    return ", ".join(parts)


def _model_table(model: Any, skip: Iterable[str] = (), only: Iterable[str] | None = None) -> list[str]:
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", []))
    wanted = None if only is None else set(only)
    lines = ["| Field | Type | Required | Default | Limits | Meaning |", "|---|---|---|---|---|---|"]
    for name, prop in schema["properties"].items():
        if name in skip or (wanted is not None and name not in wanted):
            continue
        default = "—" if name in required or "default" not in prop else f"`{_json(prop['default'])}`"
        lines.append(f"| `{name}` | {_type(prop)} | {'yes' if name in required else 'no'} | {default} | "
                     f"{_limits(prop) or '—'} | {FIELD_DOCS.get(name, '')} |")
    return lines


def _json(value: Any) -> str:
    return json.dumps(value)


def records_markdown() -> str:
    from exaworks_sdk.records import MAX_TEXT, SCHEMA_VERSION, Phase, RunFinish, RunStart, TestResult

    common = ("schema_version", "id", "run_id")
    lines = [
        f"Every record carries these fields (format version {SCHEMA_VERSION}):", "",
        *_model_table(RunStart, only=common), "",
    ]
    for model in (RunStart, TestResult, RunFinish):
        doc = " ".join((model.__doc__ or "").split())
        lines += [f"#### {model.__name__} (`type: {model.model_fields['type'].default}`)", "", doc, "",
                  *_model_table(model, skip=common), ""]
    lines += ["#### Phase", "", "One pytest phase of a TestResult.", "", *_model_table(Phase), "",
              f"Text fields (`message`, `output`) hold at most {MAX_TEXT:,} characters.", ""]
    return "\n".join(lines)


# -- endpoints ---------------------------------------------------------------------------------
def endpoints_markdown() -> str:
    from dashboard_server.api.openapi import build_document

    document = build_document()
    lines = ["| Method | Path | What | Parameters | Auth |", "|---|---|---|---|---|"]
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            params = ", ".join(
                f"`{p['name']}`" + ("" if p.get("required") or p["in"] == "path" else "?")
                for p in op.get("parameters", []) if p["in"] == "query") or "—"
            auth = ("—" if "security" not in op else "Bearer site token" if op["security"]
                    else "key in the body")
            lines.append(f"| {method.upper()} | `{path}` | {op['summary']} | {params} | {auth} |")
    lines += ["", "Status codes other than 200:", ""]
    codes: dict[str, str] = {}
    for operations in document["paths"].values():
        for op in operations.values():
            for code, response in op["responses"].items():
                if code != "200":
                    codes.setdefault(code, response["description"])
    lines += ["| Status | Meaning |", "|---|---|"]
    lines += [f"| {code} | {codes[code]} |" for code in sorted(codes)]
    lines.append("")
    return "\n".join(lines)


@renderer("api_doc")
def render_api(ctx: Context) -> dict[str, str]:
    return {"docs/generated/records.md": records_markdown(),
            "docs/generated/api-endpoints.md": endpoints_markdown()}
