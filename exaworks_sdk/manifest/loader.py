"""The one loader for ``components/`` (release, components, suites), ``POLICIES.md`` and ``ci/sites/``.

Every problem is collected with its file, field and line, then raised together
as a ``ManifestError``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from exaworks_sdk.manifest import cache
from exaworks_sdk.manifest.errors import ManifestError, Problem
from exaworks_sdk.manifest.model import Component, Manifest, Release
from exaworks_sdk.manifest.sites import Facility
from exaworks_sdk.manifest.suites import SUITES_FILE, SuiteRegistry, SuiteSpec

RELEASE_FILE = "sdk.yaml"
_POLICY_HEADING = re.compile(r"^#{2,4}\s+([MR][0-9]+)[\s:.—-]+(.+?)\s*$")
M = TypeVar("M", bound=BaseModel)

if TYPE_CHECKING:  # PyYAML itself is imported when a file is read: a cached manifest needs none of it
    import yaml


def find_root(start: Path | None = None) -> Path:
    """The repository root: $SDK_ROOT, else the nearest parent holding components/sdk.yaml."""
    if env := os.environ.get("SDK_ROOT"):
        return Path(env).resolve()
    for base in (start or Path.cwd(), Path(__file__)):
        for candidate in [base.resolve(), *base.resolve().parents]:
            if (candidate / "components" / RELEASE_FILE).is_file():
                return candidate
    raise ManifestError([Problem(Path("components") / RELEASE_FILE, "", "not found; set SDK_ROOT to the SDK checkout")])


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Follow a pydantic error location through the YAML node tree to a 1-based line."""
    import yaml

    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _loader() -> type[yaml.SafeLoader]:
    """libyaml's parser where PyYAML was built with it (about ten times faster than the pure-Python one)."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path, problems: list[Problem]) -> tuple[Any, str | None]:
    """The file's data and its text; the text is composed into nodes only to place a problem."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        return yaml.load(text, Loader=_loader()), text  # a safe loader, C or Python
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        problems.append(Problem(path, "", f"invalid YAML: {problem}", mark.line + 1 if mark else None))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(path, "", f"cannot read: {exc}"))
    return None, None


def _validate(model: type[M], path: Path, problems: list[Problem]) -> M | None:
    import yaml

    known = len(problems)
    data, text = _read_yaml(path, problems)
    if data is None and (text is None or yaml.compose(text, Loader=_loader()) is None):
        if len(problems) == known:  # read fine, but holds nothing: never accept it silently
            problems.append(Problem(path, "", "the file is empty: fill in the fields, or delete the file", 1))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(path, "", f"expected a mapping at the top level, got {type(data).__name__}", 1))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        node = yaml.compose(text or "", Loader=_loader())
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-after")))
            problems.append(problem_at(path, node, loc, err["msg"].removeprefix("Value error, ")))
        return None


def problem_at(path: Path, node: yaml.Node | None, loc: tuple[Any, ...], message: str) -> Problem:
    """A problem at a location in a YAML file: dotted field and 1-based line."""
    return Problem(path, ".".join(str(p) for p in loc), message, _line_of(node, loc))


def problem_in(path: Path, loc: tuple[Any, ...], message: str) -> Problem:
    """A problem found after loading (e.g. against a package index, or a pin written twice): the file
    is read again for the line. Only files with problems are composed into node trees."""
    import yaml

    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=_loader())
    except (OSError, yaml.YAMLError):
        node = None
    return problem_at(path, node, loc, message)


def parse_policies(path: Path) -> dict[str, str]:
    """Policy IDs and titles from headings such as '### M1 — Open-source license'."""
    policies: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := _POLICY_HEADING.match(line):
            policies[match.group(1)] = match.group(2)
    return policies


def _dependency_order(components: dict[str, Component], files: dict[str, Path],
                      problems: list[Problem]) -> list[str]:
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            problems.append(Problem(files[name], "depends_on", "dependency cycle: " + " -> ".join(chain + [name])))
            return
        state[name] = "active"
        for dep in components[name].depends_on:
            if dep in components:
                visit(dep, chain + [name])
        state[name] = "done"
        order.append(name)

    for name in sorted(components):
        visit(name, [])
    return order


def _cross_check(components: dict[str, Component], files: dict[str, Path], invalid: set[str],
                 policies: dict[str, str], problems: list[Problem]) -> None:
    for name, comp in components.items():
        path = files[name]
        if path.stem != name:
            problems.append(Problem(path, "name", f"component {name!r} must live in {name}.yaml"))
        for i, dep in enumerate(comp.depends_on):
            if dep not in components and dep not in invalid:
                problems.append(Problem(path, f"depends_on.{i}", f"unknown dependency {dep!r}"))
        for pid in comp.policies:
            if pid not in policies:
                problems.append(Problem(path, f"policies.{pid}", "no such policy in POLICIES.md"))
        for pid in policies.keys() - comp.policies.keys():
            problems.append(Problem(path, "policies", f"no compliance entry for {pid} ({policies[pid]})"))


def _suite_problems(registry: SuiteRegistry | None, path: Path, components: dict[str, Component],
                    invalid: set[str], files: dict[str, Path], problems: list[Problem]) -> dict[str, SuiteSpec]:
    """The suites by name; each component a suite requires must exist, and each known
    incompatibility must name a suite."""
    suites = {s.name: s for s in registry.suites} if registry is not None else {}
    for i, suite in enumerate(registry.suites if registry is not None else []):
        for j, name in enumerate(suite.requires):
            if name not in components and name not in invalid:
                problems.append(problem_in(path, ("suites", i, "requires", j),
                                           f"suite {suite.name!r} requires {name!r}, which is not a component"))
    if registry is None:
        return suites
    for comp in components.values():
        for i, known in enumerate(comp.known_incompatibilities):
            if known.suite not in suites:
                problems.append(problem_in(files[comp.name], ("known_incompatibilities", i, "suite"),
                                           f"no suite named {known.suite!r} in components/{SUITES_FILE}"))
    return suites


def load_manifest(root: Path | None = None, *, cache_dir: Path | None = None) -> Manifest:
    """Load and cross-check the whole manifest, raising every problem at once.

    With ``cache_dir``, a manifest this code validated before from the same files is read back
    from there instead (``exaworks_sdk/manifest/cache.py``; the harness's start-up uses it)."""
    root = find_root() if root is None else Path(root)
    if cache_dir is None:
        return _load(root)
    wanted = cache.key(root, code=sorted(Path(__file__).parent.glob("*.py")))  # the rules: model, pins, loader
    manifest = cache.read(cache_dir, root, wanted)
    if manifest is None:
        manifest = _load(root)
        cache.write(cache_dir, root, wanted, manifest)
    return manifest


def _load(root: Path) -> Manifest:
    comp_dir = root / "components"
    problems: list[Problem] = []
    release = _validate(Release, comp_dir / RELEASE_FILE, problems)
    policies_path = root / "POLICIES.md"
    policies = parse_policies(policies_path) if policies_path.is_file() else {}
    if not policies:
        problems.append(Problem(policies_path, "", "no policies found (headings like '### M1 — title')"))

    components: dict[str, Component] = {}
    files: dict[str, Path] = {}
    invalid: set[str] = set()
    for path in sorted(comp_dir.glob("*.yaml")):
        if path.name in (RELEASE_FILE, SUITES_FILE):
            continue
        comp = _validate(Component, path, problems)
        if comp is None:
            invalid.add(path.stem)  # already reported; do not cascade into its dependents
            continue
        if comp.name in components:
            problems.append(Problem(path, "name", f"duplicate component name {comp.name!r} (also in {files[comp.name]})"))
            continue
        components[comp.name] = comp
        files[comp.name] = path

    _cross_check(components, files, invalid, policies, problems)
    registry = _validate(SuiteRegistry, comp_dir / SUITES_FILE, problems)
    suites = _suite_problems(registry, comp_dir / SUITES_FILE, components, invalid, files, problems)
    from exaworks_sdk.manifest.pins import pin_problems  # packaging: only when the files are validated

    for name, loc, message in pin_problems(components):
        problems.append(problem_in(files[name], loc, message))
    order = _dependency_order(components, files, problems)
    if problems or release is None:
        raise ManifestError(problems)
    return Manifest(release=release, components={n: components[n] for n in order}, policies=policies,
                    suites=suites)


def load_sites(root: Path | None = None) -> dict[str, Facility]:
    """Every facility in ``ci/sites/``, keyed by facility id."""
    root = find_root() if root is None else Path(root)
    problems: list[Problem] = []
    facilities: dict[str, Facility] = {}
    for path in sorted((root / "ci" / "sites").glob("*.yaml")):
        facility = _validate(Facility, path, problems)
        if facility is None:
            continue
        if facility.facility != path.stem:
            problems.append(Problem(path, "facility", f"must match the file name {path.stem!r}"))
        facilities[facility.facility] = facility
    if problems:
        raise ManifestError(problems)
    return facilities
