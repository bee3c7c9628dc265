"""Is a manifest component installed here, and which version? The rules come from the manifest."""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from exaworks_sdk.manifest import Component

VERSION_COMMAND_TIMEOUT = 20


@dataclass(frozen=True)
class Detection:
    component: str
    found: bool
    version: str | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _import_found(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a missing parent package raises instead of returning None
        return False


@functools.cache
def _top_level_distributions() -> Mapping[str, list[str]]:
    """Which distributions provide each top-level import. Scanning them takes ~0.15 s: read once."""
    return importlib.metadata.packages_distributions()


def _distribution_version(rule_dist: str | None, import_name: str) -> str | None:
    candidates = [rule_dist] if rule_dist else []
    top = import_name.split(".")[0]
    candidates += _top_level_distributions().get(top, [])
    candidates += [import_name, import_name.replace(".", "-"), top]
    for dist in candidates:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _command_version(command: list[str], pattern: str) -> tuple[str | None, str]:
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=VERSION_COMMAND_TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"`{' '.join(command)}` failed: {exc}"
    match = re.search(pattern, proc.stdout + "\n" + proc.stderr)
    if match is None:
        return None, f"`{' '.join(command)}` printed no version matching {pattern!r}"
    return (match.group(1) if match.groups() else match.group(0)), ""


def detect(component: Component) -> Detection:
    """Apply the component's ``detect`` rule: every given way must succeed."""
    rule = component.detect
    name = component.name
    if rule.executable and shutil.which(rule.executable) is None:
        return Detection(name, False, reason=f"{name} not found: no `{rule.executable}` on PATH")
    if rule.import_name and not _import_found(rule.import_name):
        return Detection(name, False, reason=f"{name} not found: cannot import `{rule.import_name}`")
    version = None
    note = ""
    if rule.version_command:
        version, note = _command_version(rule.version_command, rule.version_pattern)
    if version is None and rule.import_name:
        version = _distribution_version(rule.distribution, rule.import_name)
    return Detection(name, True, version=version, reason=note or "found")


def detect_all(components: Mapping[str, Component], names: Iterable[str] | None = None) -> dict[str, Detection]:
    wanted = list(components) if names is None else list(dict.fromkeys(names))
    result: dict[str, Detection] = {}
    for name in wanted:
        comp = components.get(name)
        if comp is None:
            result[name] = Detection(name, False, reason=f"{name} is not a component in the manifest")
        else:
            result[name] = detect(comp)
    return result


def missing_reason(requires: Iterable[str], detections: Mapping[str, Detection]) -> str | None:
    """The skip reason for something that needs ``requires``, or None when all are here."""
    reasons = [detections[r].reason for r in requires if r in detections and not detections[r].found]
    reasons += [f"{r} was not detected" for r in requires if r not in detections]
    return "; ".join(reasons) or None
