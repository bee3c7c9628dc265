"""The dashboard describes itself for the docs: its endpoints and status codes, from the OpenAPI
document (built in memory from the response models; no Flask app, no database).

Registered through the ``exaworks_sdk.renderers`` entry point, so ``sdk render`` writes and
checks ``docs/generated/api-endpoints.md`` without the manifest layer importing the dashboard.
"""

from __future__ import annotations

from exaworks_sdk.render.base import Context
from exaworks_sdk.render.registry import renderer

from .openapi import build_document

OUTPUT = "docs/generated/api-endpoints.md"


def endpoints_markdown() -> str:
    document = build_document()
    lines = ["| Method | Path | What | Parameters | Auth |", "|---|---|---|---|---|"]
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            params = ", ".join(
                f"`{p['name']}`" + ("" if p.get("required") or p["in"] == "path" else "?")
                for p in op.get("parameters", []) if p["in"] == "query") or "—"
            auth = ("—" if "security" not in op else "Bearer site token" if op["security"]
                    else "key in the body")
            lines.append(f"| {method.upper()} | `{path}` | {op['summary']} | {params} | {auth} |")
    lines += ["", "Status codes other than 200:", ""]
    codes: dict[str, str] = {}
    for operations in document["paths"].values():
        for op in operations.values():
            for code, response in op["responses"].items():
                if code != "200":
                    codes.setdefault(code, response["description"])
    lines += ["| Status | Meaning |", "|---|---|"]
    lines += [f"| {code} | {codes[code]} |" for code in sorted(codes)]
    lines.append("")
    return "\n".join(lines)


@renderer("api_doc", outputs=[OUTPUT])
def render(ctx: Context) -> dict[str, str]:
    return {OUTPUT: endpoints_markdown()}
