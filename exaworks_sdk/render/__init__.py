"""Renderers: the manifest (and the packages' own descriptions) turned into files.

Every renderer has the same signature, ``render(ctx) -> dict[path, text]`` (paths relative
to the repository root), and registers itself with the files it owns (``registry.py``).
``render_all`` writes them all and removes generated files that no renderer produces any
more; ``check`` diffs without writing. Neither ever touches a file outside the declared
outputs, so input folders (``components/``, ``ci/sites/``) stay hand-written only.
"""

from __future__ import annotations

import difflib
import glob
from pathlib import Path

from exaworks_sdk.manifest import load_manifest, load_sites
from exaworks_sdk.render.base import Context, header_for, is_generated
from exaworks_sdk.render.registry import RENDERERS, Renderer, load_renderers, renderer

__all__ = ["Context", "RENDERERS", "Renderer", "check", "load_context", "render_all", "render_outputs",
           "renderer"]


def load_context(root: Path) -> Context:
    return Context(root=root, manifest=load_manifest(root), sites=load_sites(root))


def render_outputs(ctx: Context, only: list[str] | None = None) -> dict[str, str]:
    """Every generated file, header included, keyed by path relative to the root."""
    outputs: dict[str, str] = {}
    for name, entry in load_renderers().items():
        if only and name not in only:
            continue
        for path, text in entry.func(ctx).items():
            if not entry.owns(path):
                raise RuntimeError(f"renderer {name} wrote {path}, outside its declared outputs {entry.outputs}")
            if path in outputs:
                raise RuntimeError(f"two renderers write {path}")
            outputs[path] = text if is_generated(text) else header_for(path) + text
    return outputs


# Folders that hold generated files only. Files whose tools fix where they live (.gitlab-ci.yml,
# spack/, docker/Dockerfile.*) are found through the renderers' declared outputs instead.
GENERATED_DIRS = ("ci/generated", "docs/generated")


def existing_generated(root: Path) -> set[str]:
    """Generated files on disk (by their header): in the generated folders, or matching some
    renderer's declared outputs. Nothing else is ever looked at, let alone deleted."""
    found = set()
    patterns = [f"{folder}/**/*" for folder in GENERATED_DIRS]
    patterns += [pattern for entry in load_renderers().values() for pattern in entry.outputs]
    for pattern in patterns:
        for match in glob.glob(pattern, root_dir=root, recursive=True, include_hidden=True):
            path = root / match
            if path.is_file() and _has_header(path):
                found.add(Path(match).as_posix())
    return found


def _has_header(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as fh:
            return is_generated(fh.read(400))
    except (UnicodeDecodeError, OSError):
        return False


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
