"""The harness describes its suites for the docs (test_harness/describe.py)."""

from __future__ import annotations

from pathlib import Path

from exaworks_sdk.render import load_context
from test_harness.describe import suites_markdown
from test_harness.registry import default_suites

ROOT = Path(__file__).resolve().parents[2]


def test_suites_table_lists_every_registered_suite() -> None:
    text = suites_markdown(load_context(ROOT))
    for suite in default_suites():
        assert f"| [{suite.name}](#suite-{suite.name}) |" in text
        assert f"(suite-{suite.name})=\n### {suite.name}\n" in text
    assert suites_markdown(load_context(ROOT)) == text  # deterministic


def test_suite_sections_show_extra_requirements_and_skip_reasons() -> None:
    text = suites_markdown(load_context(ROOT))
    assert "- `test_mpirun_launcher_two_ranks` (also needs `mpi`)" in text
    assert "Every test is skipped when: the balsam suite runs its own Balsam server, which needs a local " \
           "PostgreSQL server" in text
