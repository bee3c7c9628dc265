"""What every renderer shares: the context it reads, the header it writes, one Jinja environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from exaworks_sdk.manifest import Facility, Manifest

MARKER = "Generated from components/ by `sdk render`"
HEADER = f"{MARKER}. Do not edit: change the manifest and run `sdk render`."
_COMMENT = {".md": ("<!-- ", " -->"), ".html": ("<!-- ", " -->")}


@dataclass(frozen=True)
class Context:
    root: Path
    manifest: Manifest
    sites: dict[str, Facility]


def header_for(path: str) -> str:
    """The generated-file header in the comment syntax of the file's type."""
    start, end = _COMMENT.get(Path(path).suffix, ("# ", ""))
    return f"{start}{HEADER}{end}\n"


def is_generated(text: str) -> bool:
    return MARKER in text[:400]


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("exaworks_sdk.render", "templates"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)


def template(name: str) -> jinja2.Template:
    return _ENV.get_template(name)
