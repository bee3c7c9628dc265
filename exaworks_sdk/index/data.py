"""The committed package indexes: what Spack's builtin repo and the PyPI index offer for
every package the SDK names, and where that was read from.

``components/index/spack.json`` is refreshed by ``sdk spack-index --from PATH`` (a local
spack-packages checkout) and ``components/index/pypi.json`` by ``sdk pypi-index`` (wherever
pip reaches an index). ``sdk validate`` reads both offline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exaworks_sdk.index.recipes import Recipe

SPACK_INDEX = Path("components/index/spack.json")
PYPI_INDEX = Path("components/index/pypi.json")
FORMAT = 1


def _dump(data: dict[str, Any], table: str) -> str:
    """JSON with one line per package in ``table``, so a refresh diffs package by package."""
    head = {k: v for k, v in data.items() if k != table}
    lines = [f"  {json.dumps(name)}: {json.dumps(entry)}" for name, entry in data[table].items()]
    text = json.dumps(head, indent=1)[:-2]
    return text + f',\n {json.dumps(table)}: {{\n' + ",\n".join(lines) + "\n }\n}\n"


@dataclass
class SpackIndex:
    """Recipes by package name; ``None`` for a name the checkout has no package for."""

    source: dict[str, str | None]  # repository, commit, date
    packages: dict[str, Recipe | None] = field(default_factory=dict)

    def describe(self) -> str:
        commit = (self.source.get("commit") or "unknown commit")[:10]
        date = (self.source.get("date") or "")[:10]
        return f"spack-packages {commit}" + (f", {date}" if date else "")

    def dumps(self) -> str:
        return _dump({
            "$comment": "Spack builtin versions and variants of every package the SDK names. "
                        "Refresh: sdk spack-index --from <spack-packages checkout>",
            "format": FORMAT,
            "source": self.source,
            "packages": {n: r.to_dict() if r else None for n, r in sorted(self.packages.items())},
        }, "packages")

    @classmethod
    def load(cls, path: Path) -> SpackIndex:
        data = json.loads(path.read_text(encoding="utf-8"))
        packages = {n: Recipe.from_dict(r) if r else None for n, r in data["packages"].items()}
        return cls(dict(data["source"]), packages)


@dataclass
class PypiIndex:
    """Known release versions by canonical distribution name; ``None`` where the index has none."""

    source: dict[str, str | None]  # index, date
    distributions: dict[str, list[str] | None] = field(default_factory=dict)

    def describe(self) -> str:
        where = self.source.get("index") or "pip's configured index"
        return f"{where}, read {(self.source.get('date') or '?')[:10]}"

    def dumps(self) -> str:
        return _dump({
            "$comment": "Release versions on the package index of every distribution the SDK pins or "
                        "constrains. Refresh: sdk pypi-index",
            "format": FORMAT,
            "source": self.source,
            "distributions": dict(sorted(self.distributions.items())),
        }, "distributions")

    @classmethod
    def load(cls, path: Path) -> PypiIndex:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(dict(data["source"]), dict(data["distributions"]))
