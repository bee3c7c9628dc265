"""The docs tables list every component, pin and policy."""

from __future__ import annotations

from pathlib import Path

from exaworks_sdk.manifest import load_manifest


def test_components_table_lists_every_pin(repo_root: Path) -> None:
    text = (repo_root / "docs/generated/components.md").read_text()
    manifest = load_manifest(repo_root)
    for comp in manifest.components.values():
        assert f"[{comp.name}" in text
        for spec in comp.spack.specs if comp.spack else []:
            assert spec in text


def test_compliance_table_has_a_cell_per_component_and_policy(repo_root: Path) -> None:
    manifest = load_manifest(repo_root)
    rows = [ln for ln in (repo_root / "docs/generated/compliance.md").read_text().splitlines()
            if ln.startswith("| ") and not ln.startswith("| Component")]
    assert len(rows) == len(manifest.components)
    balsam = next(r for r in rows if r.startswith("| balsam "))
    cells = [c.strip() for c in balsam.strip("|").split("|")][1:]
    assert len(cells) == len(manifest.policies)
    assert cells[list(manifest.policies).index("M3")] == "❌ no"


def test_constraints_page_gives_every_reason(repo_root: Path) -> None:
    text = (repo_root / "docs/generated/constraints.md").read_text()
    for _name, con in load_manifest(repo_root).constraints():
        assert con.requirement in text and con.why[:40] in text


def test_known_incompatibilities_page_gives_range_suite_link_and_reason(repo_root: Path) -> None:
    text = (repo_root / "docs/generated/known-incompatibilities.md").read_text()
    entries = load_manifest(repo_root).known_incompatibilities()
    assert entries, "the manifest records the RP x Flux x Parsl conflict"
    for name, entry in entries:
        row = next(ln for ln in text.splitlines()
                   if ln.startswith(f"| {name} | `{entry.versions}`") and entry.reason[:40] in ln)
        assert entry.suite in row and str(entry.link) in row and entry.reason[:40] in row
        for test in entry.tests:
            assert f"`{test}`" in row
