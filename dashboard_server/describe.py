"""The dashboard describes itself for the docs: its endpoints and status codes, from the OpenAPI
document (built in memory from the response models; no Flask app, no database). It also renders
what it ships from the manifest, because a deployed dashboard has no checkout: the suite registry
(``generated/known_suites.txt``, read by ``registry.py``) the pins of each install variant
(``generated/pins.txt``, read by ``pins.py``) and the cells the site registry expects
(``generated/expected.txt``, read by ``expected.py``).

Registered through the ``exaworks_sdk.renderers`` entry point, so ``sdk render`` writes and
checks both files without the manifest layer importing the dashboard.
"""

from __future__ import annotations

from exaworks_sdk.render.base import Context
from exaworks_sdk.render.registry import renderer

from .expected import EXPECTED_FILE, line
from .openapi import build_document
from .pins import PINS_FILE, Pin
from .registry import KNOWN_SUITES_FILE, SuiteInfo

OUTPUT = "docs/generated/api-endpoints.md"
KNOWN_SUITES = "dashboard_server/generated/" + KNOWN_SUITES_FILE.name
PINS = "dashboard_server/generated/" + PINS_FILE.name
EXPECTED = "dashboard_server/generated/" + EXPECTED_FILE.name


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


def known_suites(ctx: Context) -> str:
    """One tab-separated line per suite of the manifest: name, level, components, tags."""
    lines = ["# The manifest's suites (components/suites.yaml): name, level, components it uses, tags."]
    lines += [SuiteInfo(s.name, s.level, tuple(s.requires), frozenset(s.tags)).line()
              for s in ctx.manifest.suites.values()]
    return "\n".join(lines) + "\n"


def pins(ctx: Context) -> str:
    """One tab-separated line per pin of each install variant (``manifest.expected.pin_rows``)."""
    from exaworks_sdk.manifest.expected import pin_rows

    lines = ["# The manifest's pins per install variant: component, variant, version, normal form, "
             "pip name, Spack name."]
    lines += [Pin(r.component, r.variant, r.version, r.normalized, r.pip_name or "", r.spack_name or "").line()
              for r in pin_rows(ctx.manifest)]
    return "\n".join(lines) + "\n"


def expected(ctx: Context) -> str:
    """One tab-separated line per cell the registry expects (``manifest.expected.expected_cells``)."""
    from exaworks_sdk.manifest.expected import expected_cells

    lines = ["# The site registry's cells: site, variant, suite, why it cannot run there (empty: required)."]
    lines += [line(c.site, c.variant, c.suite, c.excluded) for c in expected_cells(ctx.manifest, ctx.sites)]
    return "\n".join(lines) + "\n"


@renderer("api_doc", outputs=[OUTPUT, KNOWN_SUITES, PINS, EXPECTED])
def render(ctx: Context) -> dict[str, str]:
    return {OUTPUT: endpoints_markdown(), KNOWN_SUITES: known_suites(ctx), PINS: pins(ctx), EXPECTED: expected(ctx)}
