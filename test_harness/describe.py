"""The harness describes itself for the docs: the suite registry with the manifest's timeouts, and
for each suite its module docstring and tests (read with ``ast``, so nothing is imported or run).

Registered through the ``exaworks_sdk.renderers`` entry point, so ``sdk render`` writes and
checks ``docs/generated/suites.md`` without the manifest layer importing the harness.
"""

from __future__ import annotations

import ast
from pathlib import Path

from exaworks_sdk.render.base import Context
from exaworks_sdk.render.registry import renderer
from test_harness.registry import default_suites
from test_harness.runner import suite_timeout

OUTPUT = "docs/generated/suites.md"
# The dashboard's known suites: its summary gives each its own column and folds any other suite
# a site reports into one "other" column. A plain file, so the dashboard reads it without
# importing the harness.
KNOWN_SUITES = "dashboard_server/generated/known_suites.txt"


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


def _module_facts(path: Path) -> tuple[str, list[tuple[str, list[str]]], str | None]:
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
    return doc, tests, marks.get("pytestmark")  # a module-level mark applies to every test


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def suites_markdown(ctx: Context) -> str:
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
        doc, tests, module_skip = _module_facts(s.path)
        lines += [f"(suite-{s.name})=", f"### {s.name}", ""]
        lines += [f"`test_harness/suites/{s.path.name}` needs {', '.join(f'`{r}`' for r in s.requires)}.", ""]
        if module_skip:
            lines += [f"Every test is skipped when: {module_skip}.", ""]
        if doc:
            lines += [doc.strip(), ""]
        for name, notes in tests:
            lines.append(f"- `{name}`" + (f" ({'; '.join(notes)})" if notes else ""))
        lines.append("")
    return "\n".join(lines)


def known_suites() -> str:
    return "\n".join(sorted(suite.name for suite in default_suites())) + "\n"


@renderer("suites_doc", outputs=[OUTPUT, KNOWN_SUITES])
def render(ctx: Context) -> dict[str, str]:
    return {OUTPUT: suites_markdown(ctx), KNOWN_SUITES: known_suites()}
