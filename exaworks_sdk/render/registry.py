"""The renderer registry: which renderers exist and which files each may write.

A renderer is a function ``render(ctx) -> {path: text}`` registered with
``@renderer(name, outputs=[...])``, where ``outputs`` are the glob patterns of the files it
owns (relative to the repository root). Adding a target is one decorated module:

* a module in ``exaworks_sdk/render/`` is found by walking the package;
* the harness and the dashboard describe themselves (the suites table, the API table) in
  modules named by the ``exaworks_sdk.renderers`` entry point group in ``pyproject.toml``, so
  this package never imports them.
"""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points

from exaworks_sdk.render.base import Context

RenderFunction = Callable[[Context], dict[str, str]]
ENTRY_POINT_GROUP = "exaworks_sdk.renderers"
_PACKAGE = "exaworks_sdk.render"


@dataclass(frozen=True)
class Renderer:
    name: str
    outputs: tuple[str, ...]
    func: RenderFunction

    def owns(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in self.outputs)


RENDERERS: dict[str, Renderer] = {}


def renderer(name: str, outputs: Sequence[str]) -> Callable[[RenderFunction], RenderFunction]:
    """Register ``func`` as renderer ``name``; it may write only paths matching ``outputs``."""
    if not outputs:
        raise ValueError(f"renderer {name!r} declares no outputs")

    def register(func: RenderFunction) -> RenderFunction:
        RENDERERS[name] = Renderer(name, tuple(outputs), func)
        return func
    return register


def load_renderers() -> dict[str, Renderer]:
    """Import every renderer module (this package's, then the entry points'); returns the registry."""
    package = importlib.import_module(_PACKAGE)
    for module in pkgutil.iter_modules(package.__path__):  # helpers such as base and ci register nothing
        importlib.import_module(f"{_PACKAGE}.{module.name}")
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        entry.load()
    return RENDERERS
