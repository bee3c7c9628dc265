"""Renderers: one module per artifact, each turning the manifest into files.

Every renderer has the same signature, ``render(ctx) -> dict[path, text]``
(paths relative to the repository root), and registers itself with
``@renderer(name)``. ``render_all`` writes them all and removes generated
files that no renderer produces any more; ``check`` diffs without writing.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

from exaworks_sdk.manifest import load_manifest, load_sites
from exaworks_sdk.render.base import Context, header_for, is_generated

Renderer = Callable[[Context], dict[str, str]]
RENDERERS: dict[str, Renderer] = {}

# Where generated files may live; stale ones are looked for only here.
OUTPUT_ROOTS = ("spack", "docker", "ci", "docs", "components", ".gitlab-ci.yml")


def renderer(name: str) -> Callable[[Renderer], Renderer]:
    def register(func: Renderer) -> Renderer:
        RENDERERS[name] = func
        return func
    return register


def load_context(root: Path) -> Context:
    return Context(root=root, manifest=load_manifest(root), sites=load_sites(root))


def render_outputs(ctx: Context, only: list[str] | None = None) -> dict[str, str]:
    """Every generated file, header included, keyed by path relative to the root."""
    _import_renderers()
    outputs: dict[str, str] = {}
    for name, func in RENDERERS.items():
        if only and name not in only:
            continue
        for path, text in func(ctx).items():
            if path in outputs:
                raise RuntimeError(f"two renderers write {path}")
            outputs[path] = text if is_generated(text) else header_for(path) + text
    return outputs


def existing_generated(root: Path) -> set[str]:
    found = set()
    for top in OUTPUT_ROOTS:
        base = root / top
        candidates = [base] if base.is_file() else base.rglob("*") if base.is_dir() else []
        for path in candidates:
            if path.is_file() and "_build" not in path.parts and path.suffix not in {".png", ".tar", ".gz"}:
                try:
                    head = path.open(encoding="utf-8").read(400)
                except (UnicodeDecodeError, OSError):
                    continue
                if is_generated(head):
                    found.add(path.relative_to(root).as_posix())
    return found


def render_all(root: Path) -> list[Path]:
    """Write every generated file and delete generated files nothing produces any more."""
    outputs = render_outputs(load_context(root))
    for stale in existing_generated(root) - outputs.keys():
        (root / stale).unlink()
    written = []
    for rel, text in sorted(outputs.items()):
        path = root / rel
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def check(root: Path) -> list[str]:
    """Problems as readable diffs: changed, missing and stale generated files. Empty means up to date."""
    outputs = render_outputs(load_context(root))
    problems = []
    for rel, text in sorted(outputs.items()):
        path = root / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
            continue
        current = path.read_text(encoding="utf-8")
        if current != text:
            diff = difflib.unified_diff(current.splitlines(keepends=True), text.splitlines(keepends=True),
                                        f"{rel} (on disk)", f"{rel} (rendered)")
            problems.append(f"{rel}: out of date\n" + "".join(diff))
    for stale in sorted(existing_generated(root) - outputs.keys()):
        problems.append(f"{stale}: generated file that nothing renders any more")
    return problems


# Importing a renderer module registers it; add new artifact modules here.
RENDERER_MODULES = ("schema", "pip", "spack", "docs", "gitlab", "docker", "suites_doc")


def _import_renderers() -> None:
    import importlib
    for module in RENDERER_MODULES:
        importlib.import_module(f"exaworks_sdk.render.{module}")
