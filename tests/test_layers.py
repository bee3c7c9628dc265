"""The import graph of the three packages: imports point down, and nothing imports in a circle.

``exaworks_sdk`` (manifest, records, status, renderers) is the ground floor; ``test_harness`` and
``dashboard_server`` stand on it and never import each other. Inside the dashboard the read side
(queries, pages) does not import the write side (ingest), and pages do not import the API.
Every import counts, including those inside functions: a late import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("exaworks_sdk", "test_harness", "dashboard_server")
FORBIDDEN = {  # importer prefix → imported prefixes it must never name
    "exaworks_sdk": ("test_harness", "dashboard_server"),
    "test_harness": ("dashboard_server",),
    "dashboard_server": ("test_harness",),
    "dashboard_server.queries": ("dashboard_server.ingest", "dashboard_server.api"),
    "dashboard_server.pages": ("dashboard_server.ingest", "dashboard_server.api"),
    "dashboard_server.streaks": ("dashboard_server.ingest",),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom, modules: set[str]) -> list[str]:
    """What ``from X import a, b`` depends on: each of ``X.a``, ``X.b`` that is a module, and
    ``X`` itself only for names that are not (they are defined in X)."""
    if node.level == 0:
        base = node.module or ""
    else:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - node.level + 1]
        base = ".".join(anchor + ([node.module] if node.module else []))
    found = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules]
    if len(found) < len(node.names):
        found.append(base)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                candidates = _resolve(name, path.name == "__init__.py", node, set(modules))
            else:
                continue
            targets.update(c for c in candidates if c in modules and c != name)
        graph[name] = targets
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_import_cycles() -> None:
    cycle = _cycle(import_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_imports_point_down() -> None:
    upward = [f"{importer} imports {target}"
              for importer, targets in import_graph().items() for target in sorted(targets)
              for prefix, banned in FORBIDDEN.items()
              if (importer == prefix or importer.startswith(prefix + "."))
              and any(target == b or target.startswith(b + ".") for b in banned)]
    assert not upward, "\n".join(upward)


def test_the_checker_sees_what_it_checks() -> None:
    graph = import_graph()
    assert "exaworks_sdk.status" in graph["dashboard_server.queries"]
    assert "dashboard_server.exceptions" in graph["dashboard_server.ingest.store"]  # relative imports
    assert "exaworks_sdk.manifest" in graph["test_harness.registry"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
