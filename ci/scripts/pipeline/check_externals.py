"""After concretizing: did Spack use the site's externals, or decide to build them?

    spack python ci/scripts/pipeline/check_externals.py ENV/spack.yaml CONCRETIZED.txt

ENV/spack.yaml is the environment (its ``packages:`` declare the externals and require
the MPI provider); CONCRETIZED.txt is what ``spack concretize`` or ``spack spec`` printed,
where an external is marked ``[e]``. Fails (exit 1) when a declared external was going to
be built, or when the required MPI provider is not in the environment at all (another MPI
was chosen). Declared externals that nothing depends on are only reported.

Run it with ``spack python`` (Spack's own YAML reader is used when PyYAML is missing); it
needs nothing else, so the tests run it against captured output. Spack 1.x still runs on
Python 3.6, so this file keeps to 3.6: no ``from __future__`` annotations, no dataclasses.
"""

import re
import sys
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Set, Tuple

# One node of a printed tree: install status ([e] external, [+] installed, [^] upstream,
# - to build), optional hash, indentation, ^ for a dependency, then name@version.
_NODE = re.compile(r"^(?P<status>\[[e+^]\]|\s?-\s)\s*(?:[a-z0-9]{7,32}\s+)?\^?(?P<name>[a-z0-9][a-z0-9-]*)@"
                   r"(?P<version>[^\s+~%^]+)")


# Spack's MPI providers, to name the one chosen instead of the site's (the message only).
MPI_NAMES = {"cray-mpich", "hpcx-mpi", "intel-mpi", "intel-oneapi-mpi", "mpich", "mpt", "mvapich", "mvapich2",
             "openmpi", "spectrum-mpi"}


class Node(NamedTuple):
    name: str
    version: str
    external: bool


class Report:
    def __init__(self) -> None:
        self.errors: List[str] = []
        self.notes: List[str] = []
        self.used: List[str] = []


def load_yaml(text: str) -> Any:
    try:
        import yaml
    except ImportError:  # under `spack python`
        import spack.util.spack_yaml as syaml  # type: ignore[import-not-found]

        return syaml.load(text)
    return yaml.safe_load(text)


def parse_nodes(text: str) -> List[Node]:
    """Every node of the concretized trees, with whether it is marked external."""
    nodes = []
    for line in text.splitlines():
        match = _NODE.match(line)
        if match:
            nodes.append(Node(match.group("name"), match.group("version"), match.group("status") == "[e]"))
    return nodes


def expectations(env: Dict[str, Any]) -> Tuple[Set[str], Optional[str]]:
    """Packages the environment declares externals for, and the provider it requires for mpi."""
    packages = (env.get("spack") or env).get("packages") or {}
    declared = {name for name, conf in packages.items() if isinstance(conf, dict) and conf.get("externals")}
    require = (packages.get("mpi") or {}).get("require") or []
    first = require[0] if isinstance(require, list) and require else require
    if isinstance(first, dict):
        first = first.get("spec") or (first.get("one_of") or first.get("any_of") or [None])[0]
    provider = re.match(r"^\s*([a-z0-9][a-z0-9-]*)", first) if isinstance(first, str) else None
    return declared, provider.group(1) if provider else None


def check(env: Dict[str, Any], concretized: str) -> Report:
    report = Report()
    nodes = parse_nodes(concretized)
    if not nodes:
        report.errors.append("no concretized specs in the output (expected `spack concretize` or `spack spec`)")
        return report
    declared, mpi = expectations(env)
    seen = {n.name for n in nodes}
    for name in sorted(declared):
        built = sorted({f"{n.name}@{n.version}" for n in nodes if n.name == name and not n.external})
        used = sorted({f"{n.name}@{n.version}" for n in nodes if n.name == name and n.external})
        if built:
            report.errors.append(f"{', '.join(built)} will be built, but spack.yaml declares {name} as an "
                                 "external: the concretizer could not use the site's installation")
        if used:
            report.used += [f"[e] {u}" for u in used]
        elif name not in seen and name == mpi:
            chosen = sorted({f"{n.name}@{n.version}" for n in nodes if n.name in MPI_NAMES})
            report.errors.append(f"the site's MPI, {name}, is declared as an external but is not in the "
                                 f"environment: another MPI was chosen ({', '.join(chosen) or 'unknown'})")
        elif name not in seen:
            report.notes.append(f"{name} is declared as an external but nothing in the environment uses it")
    if mpi and mpi not in declared and mpi not in seen:
        report.errors.append(f"the environment requires {mpi} for mpi, but it is not in the concretized specs")
    return report


def main(argv: List[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    env = load_yaml(Path(argv[0]).read_text(encoding="utf-8")) or {}
    report = check(env, Path(argv[1]).read_text(encoding="utf-8"))
    for line in report.used:
        print(f"external used: {line}")
    for line in report.notes:
        print(f"note: {line}")
    for line in report.errors:
        print(f"error: {line}", file=sys.stderr)
    if report.errors:
        print("The site's externals were not used; see ci/sites/<facility>.yaml (externals, buildable_false, "
              "compiler) and `spack spec` for the reason.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
