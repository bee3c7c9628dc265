"""The result-record reference table for the docs, from the pydantic models in ``exaworks_sdk.records``:
types and limits from their JSON Schema, meanings from each field's description."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from exaworks_sdk.records import MAX_TEXT, SCHEMA_VERSION, Phase, RunFinish, RunStart, TestResult
from exaworks_sdk.render.base import Context
from exaworks_sdk.render.registry import renderer

OUTPUT = "docs/generated/records.md"


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _type(schema: dict[str, Any]) -> str:
    """A short, readable type for one JSON Schema property."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
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
                     f"{_limits(prop) or '—'} | {_one_line(prop.get('description', ''))} |")
    return lines


def _json(value: Any) -> str:
    return str(json.dumps(value))


def records_markdown() -> str:
    common = ("schema_version", "id", "run_id")
    lines = [
        f"Every record carries these fields (format version {SCHEMA_VERSION}):", "",
        *_model_table(RunStart, only=common), "",
    ]
    for model in (RunStart, TestResult, RunFinish):
        doc = " ".join((model.__doc__ or "").split())
        lines += [f"#### {model.__name__} (`type: {model.model_fields['type'].default}`)", "", doc, "",
                  *_model_table(model, skip=common), ""]
    lines += ["#### Phase", "", " ".join((Phase.__doc__ or "").split()), "", *_model_table(Phase), "",
              f"Text fields (`message`, `output`) hold at most {MAX_TEXT:,} characters.", ""]
    return "\n".join(lines)




@renderer("records_doc", outputs=[OUTPUT])
def render(ctx: Context) -> dict[str, str]:
    return {OUTPUT: records_markdown()}
