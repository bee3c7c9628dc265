"""The generated reference pages: complete, deterministic, and in step with the code."""

from __future__ import annotations

from pathlib import Path

from exaworks_sdk.records import Phase, RunFinish, RunStart, TestResult
from exaworks_sdk.render import load_context
from exaworks_sdk.render.suites_doc import FIELD_DOCS, endpoints_markdown, records_markdown, suites_markdown
from test_harness.registry import default_suites

ROOT = Path(__file__).resolve().parents[2]


def test_every_record_field_is_described() -> None:
    fields = {name for model in (RunStart, TestResult, RunFinish, Phase) for name in model.model_fields}
    missing = sorted(fields - FIELD_DOCS.keys())
    assert not missing, (f"describe {missing} in FIELD_DOCS (exaworks_sdk/render/suites_doc.py), "
                         "then run `sdk render`")


def test_suites_table_lists_every_registered_suite() -> None:
    text = suites_markdown(load_context(ROOT))
    for suite in default_suites():
        assert f"| [{suite.name}](#suite-{suite.name}) |" in text
        assert f"(suite-{suite.name})=\n### {suite.name}\n" in text


def test_suite_sections_show_extra_requirements_and_skip_reasons() -> None:
    text = suites_markdown(load_context(ROOT))
    assert "- `test_mpirun_launcher_two_ranks` (also needs `mpi`)" in text
    assert "- `test_site_is_listed` (skipped when: no Balsam site configured" in text


def test_endpoint_table_covers_the_openapi_document() -> None:
    from dashboard_server.api.openapi import build_document

    text = endpoints_markdown()
    for path, operations in build_document()["paths"].items():
        for method in operations:
            assert f"| {method.upper()} | `{path}` |" in text


def test_reference_pages_are_deterministic() -> None:
    ctx = load_context(ROOT)
    assert suites_markdown(ctx) == suites_markdown(ctx)
    assert records_markdown() == records_markdown()
    assert endpoints_markdown() == endpoints_markdown()
