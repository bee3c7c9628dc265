"""The docs tables: components with their pins per channel, and policy compliance."""

from __future__ import annotations

from exaworks_sdk.render.base import Context, template
from exaworks_sdk.render.registry import renderer

STATUS_MARK = {"yes": "✅ yes", "partial": "🟡 partial", "no": "❌ no", "n/a": "n/a"}


@renderer("docs", outputs=["docs/generated/components.md", "docs/generated/compliance.md",
                            "docs/generated/constraints.md"])
def render(ctx: Context) -> dict[str, str]:
    m = ctx.manifest
    return {
        "docs/generated/components.md": template("components.md.j2").render(release=m.release, components=m.components),
        "docs/generated/compliance.md": template("compliance.md.j2").render(
            components=m.components, policies=m.policies, mark=STATUS_MARK),
        "docs/generated/constraints.md": template("constraints.md.j2").render(constraints=m.constraints()),
    }
