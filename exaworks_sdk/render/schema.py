"""JSON Schemas generated from the typed model, so editors and other tools can validate the YAML."""

from __future__ import annotations

import json

from pydantic import BaseModel

from exaworks_sdk.manifest import Component, Facility, Release
from exaworks_sdk.manifest.suites import SuiteRegistry
from exaworks_sdk.render.base import HEADER, Context
from exaworks_sdk.render.registry import renderer

SCHEMAS: dict[str, type[BaseModel]] = {
    "docs/generated/schema/component.schema.json": Component,
    "docs/generated/schema/release.schema.json": Release,
    "docs/generated/schema/facility.schema.json": Facility,
    "docs/generated/schema/suites.schema.json": SuiteRegistry,
}


def schema_text(model: type[BaseModel]) -> str:
    schema = {"$comment": HEADER, "$schema": "https://json-schema.org/draft/2020-12/schema"}
    schema.update(model.model_json_schema(by_alias=True))
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


@renderer("schema", outputs=["docs/generated/schema/*.schema.json"])
def render(ctx: Context) -> dict[str, str]:
    return {path: schema_text(model) for path, model in SCHEMAS.items()}
