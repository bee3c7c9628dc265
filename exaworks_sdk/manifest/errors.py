"""Manifest problems are collected, not raised one at a time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    file: Path
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        field = f" [{self.field}]" if self.field else ""
        return f"{where}{field}: {self.message}"


class ManifestError(Exception):
    """Every problem found in the manifest, each with its file and field."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(self.report())

    def report(self) -> str:
        lines = [f"{len(self.problems)} problem(s) in the manifest:"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)
