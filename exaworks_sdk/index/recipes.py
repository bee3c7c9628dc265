"""Versions and variants of Spack packages, read statically from a spack-packages checkout.

Spack is never imported. Each ``package.py`` is parsed with ``ast`` and its class body is
walked for the ``version(...)``, ``variant(...)`` and ``build_system(...)`` directives,
through ``with``/``if``/``for`` blocks (loops over literal data are unrolled), and through
base classes that the checkout defines (build systems, mixins such as ``CudaPackage``).
A recipe whose versions cannot be read this way is an error, never an empty list.
"""

from __future__ import annotations

import ast
import keyword
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUILTIN = Path("repos/spack_repo/builtin")
REPO_MODULE = "spack_repo.builtin"
_UNKNOWN = object()
# Base classes that Spack itself defines (spack.package), with the build system they declare.
CORE_BUILD_SYSTEMS = {"Package": ["generic"]}

# A variant's values: "bool", "any" (free-form or computed), or the allowed values.
VariantValues = str | list[str]


@dataclass
class Recipe:
    versions: list[str] = field(default_factory=list)
    deprecated: list[str] = field(default_factory=list)
    variants: dict[str, VariantValues] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"versions": self.versions, "deprecated": self.deprecated,
                "variants": dict(sorted(self.variants.items()))}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        return cls(list(data["versions"]), list(data.get("deprecated", [])), dict(data.get("variants", {})))


class RecipeError(Exception):
    """A recipe that is missing, or that the static reader cannot follow."""


def package_dir(name: str) -> str:
    """Spack's package API v2 directory name: hyphens become underscores; a leading digit
    or a Python keyword gets a leading underscore."""
    module = name.replace("-", "_")
    return f"_{module}" if module[0].isdigit() or keyword.iskeyword(module) else module


def class_name(name: str) -> str:
    """Spack's class name for a package: 'py-libensemble' → 'PyLibensemble'."""
    cls = "".join(part.capitalize() for part in name.replace("_", "-").split("-"))
    return f"_{cls}" if cls[0].isdigit() else cls


def recipe_path(root: Path, name: str) -> Path:
    return root / BUILTIN / "packages" / package_dir(name) / "package.py"


class RecipeReader:
    """Reads recipes from one spack-packages checkout; parsed modules are cached."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._modules: dict[Path, ast.Module] = {}

    def read(self, name: str) -> Recipe:
        path = recipe_path(self.root, name)
        if not path.is_file():
            raise RecipeError(f"no package {name!r} in {self.root} (looked for {path})")
        module = self._module(path)
        classes = [n for n in module.body if isinstance(n, ast.ClassDef)]
        cls = next((c for c in classes if c.name == class_name(name)), classes[-1] if classes else None)
        if cls is None:
            raise RecipeError(f"{path}: no package class")
        recipe = Recipe()
        self._collect(cls, module, recipe, set())
        if not recipe.versions:
            raise RecipeError(f"{path}: no versions could be read statically")
        return recipe

    def _module(self, path: Path) -> ast.Module:
        if path not in self._modules:
            self._modules[path] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        return self._modules[path]

    def _collect(self, cls: ast.ClassDef, module: ast.Module, recipe: Recipe, seen: set[int]) -> None:
        for base in cls.bases:
            name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else ""
            if name in CORE_BUILD_SYSTEMS:
                recipe.variants.setdefault("build_system", list(CORE_BUILD_SYSTEMS[name]))
            found = self._resolve(name, module)
            if found and id(found[0]) not in seen:
                seen.add(id(found[0]))
                self._collect(*found, recipe, seen)
        self._walk(cls.body, _constants(module), {}, {}, recipe)

    def _resolve(self, name: str, module: ast.Module) -> tuple[ast.ClassDef, ast.Module] | None:
        """A base class defined in this module, or imported from the checkout's own modules."""
        for node in module.body:
            if isinstance(node, ast.ClassDef) and node.name == name:
                return node, module
        for node in module.body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(REPO_MODULE + "."):
                for alias in node.names:
                    if (alias.asname or alias.name) == name:
                        path = self.root / "repos" / Path(*node.module.split("."))  # type: ignore[union-attr]
                        path = path.with_suffix(".py")
                        if path.is_file():
                            other = self._module(path)
                            cls = next((c for c in other.body if isinstance(c, ast.ClassDef) and c.name == alias.name),
                                       None)
                            return (cls, other) if cls else None
        return None

    def _walk(self, body: list[ast.stmt], consts: dict[str, Any], bound: dict[str, Any],
              defaults: dict[str, Any], recipe: Recipe) -> None:
        """Directives in a class body; ``defaults`` are the keywords of enclosing ``default_args``."""
        for stmt in body:
            if isinstance(stmt, ast.With):
                inner = dict(defaults)
                for item in stmt.items:
                    call = item.context_expr
                    if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "default_args":
                        inner.update({k.arg: _evaluate(k.value, consts, bound) for k in call.keywords if k.arg})
                self._walk(stmt.body, consts, bound, inner, recipe)
            elif isinstance(stmt, ast.If):
                self._walk(stmt.body + stmt.orelse, consts, bound, defaults, recipe)
            elif isinstance(stmt, ast.For):
                items = _evaluate(stmt.iter, consts, bound)
                if items is _UNKNOWN:
                    continue
                for item in items:
                    self._walk(stmt.body, consts, {**bound, **_bind(stmt.target, item)}, defaults, recipe)
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                _directive(stmt.value, consts, bound, defaults, recipe)


def _directive(call: ast.Call, consts: dict[str, Any], bound: dict[str, Any], defaults: dict[str, Any],
               recipe: Recipe) -> None:
    name = call.func.id if isinstance(call.func, ast.Name) else None
    args = [_evaluate(a, consts, bound) for a in call.args]
    kwargs = {**defaults, **{k.arg: _evaluate(k.value, consts, bound) for k in call.keywords if k.arg}}
    for k in call.keywords:
        if k.arg == "default" and kwargs["default"] is _UNKNOWN and _is_boolean(k.value):
            kwargs["default"] = True  # e.g. default=sys.platform != "win32"
    if name == "version" and args and isinstance(args[0], (str, int, float)):
        version = str(args[0])
        if version not in recipe.versions:
            recipe.versions.append(version)
        if kwargs.get("deprecated") is True and version not in recipe.deprecated:
            recipe.deprecated.append(version)
    elif name == "variant" and args and isinstance(args[0], str):
        recipe.variants[args[0]] = _values(kwargs)
    elif name in ("build_system", "generator"):  # generator(): CMakePackage's helper in build_systems/cmake.py
        names = [a for a in args if isinstance(a, str)]
        recipe.variants[name] = sorted(set(names) | set(_as_list(recipe.variants.get(name))))


def _values(kwargs: dict[str, Any]) -> VariantValues:
    values = kwargs.get("values", _UNKNOWN if "values" in kwargs else None)
    if values is None:
        return "bool" if isinstance(kwargs.get("default", False), bool) else "any"
    if isinstance(values, (list, tuple)) and all(isinstance(v, (str, int, bool)) for v in values):
        return sorted({str(v) for v in values})
    return "any"


def _is_boolean(node: ast.expr) -> bool:
    """An expression that can only be a bool: a comparison, ``not x``, ``a and b``."""
    return isinstance(node, (ast.Compare, ast.BoolOp)) or (isinstance(node, ast.UnaryOp) and
                                                           isinstance(node.op, ast.Not))


def _as_list(values: VariantValues | None) -> list[str]:
    return values if isinstance(values, list) else []


def _constants(module: ast.Module) -> dict[str, Any]:
    """Module-level names bound to literal data (version tables, variant lists)."""
    found: dict[str, Any] = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = _evaluate(node.value, found, {})
            if value is not _UNKNOWN:
                found[node.targets[0].id] = value
    return found


def _bind(target: ast.expr, value: Any) -> dict[str, Any]:
    if isinstance(target, ast.Name):
        return {target.id: value}
    if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (tuple, list)) and \
            len(target.elts) == len(value):
        return {k: v for t, item in zip(target.elts, value, strict=True) for k, v in _bind(t, item).items()}
    return {}


def _evaluate(node: ast.expr, consts: dict[str, Any], bound: dict[str, Any]) -> Any:
    """Literal data, names bound to it, subscripts and ``.items()/.keys()/.values()`` of it."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    if isinstance(node, ast.Name):
        return bound.get(node.id, consts.get(node.id, _UNKNOWN))
    if isinstance(node, ast.Subscript):
        container, key = _evaluate(node.value, consts, bound), _evaluate(node.slice, consts, bound)
        try:
            return container[key]
        except (KeyError, IndexError, TypeError):
            return _UNKNOWN
    if isinstance(node, (ast.Tuple, ast.List)):  # unreadable items stay unknown; directives skip them
        return [_evaluate(e, consts, bound) for e in node.elts]
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_evaluate(k, consts, bound): _evaluate(v, consts, bound)  # type: ignore[arg-type]
                for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args:
        container = _evaluate(node.func.value, consts, bound)
        if isinstance(container, dict) and node.func.attr in ("items", "keys", "values"):
            return list(getattr(container, node.func.attr)())
    if isinstance(node, ast.JoinedStr):
        parts = [_evaluate(v.value, consts, bound) if isinstance(v, ast.FormattedValue) else v.value
                 for v in node.values if isinstance(v, (ast.FormattedValue, ast.Constant))]
        return _UNKNOWN if any(p is _UNKNOWN for p in parts) else "".join(str(p) for p in parts)
    return _UNKNOWN


def read_recipes(root: Path, names: list[str]) -> Iterator[tuple[str, Recipe | None, str | None]]:
    """``(name, recipe, None)`` for each package found, ``(name, None, why)`` for each not."""
    reader = RecipeReader(root)
    for name in names:
        try:
            yield name, reader.read(name), None
        except RecipeError as exc:
            yield name, None, str(exc)
