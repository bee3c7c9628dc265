"""The record reference table (exaworks_sdk/render/records_doc.py) comes from the models' own fields."""

from __future__ import annotations

from exaworks_sdk.records import Phase, RunFinish, RunStart, TestResult
from exaworks_sdk.render.records_doc import records_markdown


def test_every_record_field_is_described_on_the_model() -> None:
    undescribed = [f"{model.__name__}.{name}" for model in (RunStart, TestResult, RunFinish, Phase)
                   for name, field in model.model_fields.items() if not field.description]
    assert not undescribed, f"give {undescribed} a Field(description=...) in exaworks_sdk/records.py"


def test_the_table_shows_each_description_and_limit() -> None:
    text = records_markdown()
    assert "| `site` | string | yes | — | 1–512 chars | Site name; must be the site the upload token belongs to. |" in text
    assert "`known` when a recorded known incompatibility reproduced" in text
    assert records_markdown() == text  # deterministic
