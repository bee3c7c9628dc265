"""Is a manifest component installed here, and which version? The rules come from the manifest."""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from exaworks_sdk.manifest import Component, ManifestError, find_root

VERSION_COMMAND_TIMEOUT = 20
MAIN_ENVIRONMENT = "sdk"


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


def _version_candidates(rule_dist: str | None, import_name: str) -> Iterator[str]:
    """Distribution names to ask for the version, best first. The manifest's own name comes first
    and is nearly always installed, so the map of every distribution's imports is built only when not."""
    if rule_dist:
        yield rule_dist
    top = import_name.split(".")[0]
    yield from _top_level_distributions().get(top, [])
    yield from (import_name, import_name.replace(".", "-"), top)


def _distribution_version(rule_dist: str | None, import_name: str) -> str | None:
    for dist in _version_candidates(rule_dist, import_name):
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


def pip_environment(name: str, env: Mapping[str, str] = os.environ) -> Path | None:
    """The prefix of the named pip environment (``pip.environment`` in the manifest), or None.

    ``sdk`` is the environment the harness runs in. Any other (Balsam's, whose pins conflict with
    the SDK's) is a virtual environment beside it: ``$SDK_VENV_<NAME>``, else ``.venv-<name>`` in
    the SDK checkout, as ci/scripts/python-env.sh creates it.
    """
    if name == MAIN_ENVIRONMENT:
        return Path(sys.prefix)
    configured = env.get(f"SDK_VENV_{name.upper().replace('-', '_')}")
    if configured:
        candidate = Path(configured)
    else:
        try:
            candidate = find_root() / f".venv-{name}"
        except ManifestError:
            return None
    return candidate if (candidate / "bin" / "python").exists() else None


def flux_module_path() -> list[Path]:
    """The directories Flux searches for broker modules, as ``flux env`` reports them."""
    try:
        text = subprocess.run(["flux", "env"], capture_output=True, text=True, timeout=VERSION_COMMAND_TIMEOUT,
                              stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    dirs = [os.environ.get("FLUX_MODULE_PATH_PREPEND", "")]
    dirs += re.findall(r'^export FLUX_MODULE_PATH="?([^"\n]*)"?', text, re.MULTILINE)
    return [Path(d) for part in dirs for d in part.split(os.pathsep) if d]


def _in_environment(component: Component, prefix: Path) -> Detection:
    """Detection inside another pip environment: its own bin/ and its own interpreter."""
    rule, name, env_name = component.detect, component.name, component.pip.environment if component.pip else ""
    if rule.executable and not (prefix / "bin" / rule.executable).exists():
        return Detection(name, False, reason=f"{name} not found: no `{rule.executable}` in {prefix}/bin "
                                                f"(pip environment '{env_name}')")
    version = None
    if rule.import_name:
        # The same rule as in the harness's own environment: the import system finds the module (it
        # is not imported: a broken install then fails its suite instead of being skipped, and Balsam's
        # import alone costs its interpreter half a second).
        dist = rule.distribution or rule.import_name
        probe = (f"import importlib.util, importlib.metadata, sys\n"
                 f"if importlib.util.find_spec({rule.import_name!r}) is None: sys.exit(1)\n"
                 f"print(importlib.metadata.version({dist!r}))")
        try:
            proc = subprocess.run([str(prefix / "bin" / "python"), "-c", probe], capture_output=True, text=True,
                                  timeout=VERSION_COMMAND_TIMEOUT, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Detection(name, False, reason=f"{name} not found: {prefix}/bin/python failed: {exc}")
        if proc.returncode != 0:
            return Detection(name, False, reason=f"{name} not found: cannot import `{rule.import_name}` in "
                                                    f"pip environment '{env_name}' ({prefix})")
        version = proc.stdout.strip() or None
    return Detection(name, True, version=version, reason=f"found in pip environment '{env_name}' ({prefix})")


def detect(component: Component) -> Detection:
    """Apply the component's ``detect`` rule: every given way must succeed."""
    rule = component.detect
    name = component.name
    if component.pip and component.pip.environment != MAIN_ENVIRONMENT:
        prefix = pip_environment(component.pip.environment)
        if prefix is None:
            env_name = component.pip.environment
            return Detection(name, False, reason=f"{name} not found: its pip environment '{env_name}' is not set up "
                                                    f"(ci/scripts/python-env.sh makes .venv-{env_name}; "
                                                    f"or set SDK_VENV_{env_name.upper().replace('-', '_')})")
        return _in_environment(component, prefix)
    if rule.executable and shutil.which(rule.executable) is None:
        return Detection(name, False, reason=f"{name} not found: no `{rule.executable}` on PATH")
    if rule.flux_module and not any((d / f"{rule.flux_module}.so").exists() for d in flux_module_path()):
        where = ", ".join(str(d) for d in flux_module_path()) or "no module path from `flux env`"
        return Detection(name, False, reason=f"{name} not found: no Flux module `{rule.flux_module}` ({where})")
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
    """Every named component's detection (all of them by default), in the order asked. They run side
    by side: most of the time goes to waiting for version commands and other environments' Pythons."""
    wanted = list(components) if names is None else list(dict.fromkeys(names))

    def one(name: str) -> Detection:
        comp = components.get(name)
        if comp is None:
            return Detection(name, False, reason=f"{name} is not a component in the manifest")
        return detect(comp)

    if len(wanted) < 2:
        return {name: one(name) for name in wanted}
    with ThreadPoolExecutor(max_workers=min(8, len(wanted)), thread_name_prefix="detect") as pool:
        return dict(zip(wanted, pool.map(one, wanted), strict=True))


def missing_reason(requires: Iterable[str], detections: Mapping[str, Detection]) -> str | None:
    """The skip reason for something that needs ``requires``, or None when all are here."""
    reasons = [detections[r].reason for r in requires if r in detections and not detections[r].found]
    reasons += [f"{r} was not detected" for r in requires if r not in detections]
    return "; ".join(reasons) or None
