"""The committed JSON Schemas match the model and validate the real files."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from exaworks_sdk.render.schema import SCHEMAS, schema_text


def test_committed_schemas_are_current(repo_root: Path) -> None:
    for rel, model in SCHEMAS.items():
        committed = (repo_root / rel).read_text()
        assert committed == schema_text(model), f"{rel} is stale: run `sdk render` and commit it"


def test_schemas_validate_the_real_manifest(repo_root: Path) -> None:
    component = json.loads((repo_root / "docs/generated/schema/component.schema.json").read_text())
    for path in (repo_root / "components").glob("*.yaml"):
        if path.name not in ("sdk.yaml", "suites.yaml"):
            jsonschema.validate(yaml.safe_load(path.read_text()), component)
    suites = json.loads((repo_root / "docs/generated/schema/suites.schema.json").read_text())
    jsonschema.validate(yaml.safe_load((repo_root / "components/suites.yaml").read_text()), suites)
    release = json.loads((repo_root / "docs/generated/schema/release.schema.json").read_text())
    jsonschema.validate(yaml.safe_load((repo_root / "components/sdk.yaml").read_text()), release)
    facility = json.loads((repo_root / "docs/generated/schema/facility.schema.json").read_text())
    for path in (repo_root / "ci/sites").glob("*.yaml"):
        jsonschema.validate(yaml.safe_load(path.read_text()), facility)
