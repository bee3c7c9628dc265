"""The docs tables: components with their pins per channel, and policy compliance."""

from __future__ import annotations

from exaworks_sdk.render.base import Context, template
from exaworks_sdk.render.registry import renderer

STATUS_MARK = {"yes": "✅ yes", "partial": "🟡 partial", "no": "❌ no", "n/a": "n/a"}


def link_text(url: object) -> str:
    """'owner/repo@abc1234' for a GitHub commit, 'owner/repo#12' for an issue or pull request."""
    text = str(url)
    parts = text.removeprefix("https://github.com/").rstrip("/").split("/")
    if text.startswith("https://github.com/") and len(parts) >= 4:
        repo, kind, ref = "/".join(parts[:2]), parts[2], parts[3]
        if kind == "commit":
            return f"{repo}@{ref[:9]}"
        if kind in ("issues", "pull"):
            return f"{repo}#{ref}"
    return text


@renderer("docs", outputs=["docs/generated/components.md", "docs/generated/compliance.md",
                           "docs/generated/constraints.md", "docs/generated/known-incompatibilities.md"])
def render(ctx: Context) -> dict[str, str]:
    m = ctx.manifest
    return {
        "docs/generated/components.md": template("components.md.j2").render(release=m.release, components=m.components),
        "docs/generated/compliance.md": template("compliance.md.j2").render(
            components=m.components, policies=m.policies, mark=STATUS_MARK),
        "docs/generated/constraints.md": template("constraints.md.j2").render(constraints=m.constraints()),
        "docs/generated/known-incompatibilities.md": template("known-incompatibilities.md.j2").render(
            entries=m.known_incompatibilities(), link_text=link_text),
    }
