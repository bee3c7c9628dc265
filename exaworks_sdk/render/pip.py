"""pip requirement files, one per pip environment, with exact pins and the reasons for constraints."""

from __future__ import annotations

from collections import defaultdict

from exaworks_sdk.manifest.pins import pip_requirement
from exaworks_sdk.render.base import Context
from exaworks_sdk.render.registry import renderer


def requirements_path(environment: str) -> str:
    base = "ci/generated/pip"
    return f"{base}/requirements.txt" if environment == "sdk" else f"{base}/{environment}-requirements.txt"


@renderer("pip", outputs=["ci/generated/pip/*requirements.txt"])
def render(ctx: Context) -> dict[str, str]:
    by_env: dict[str, list[str]] = defaultdict(list)
    pinned: dict[str, set[str]] = defaultdict(set)  # requirement strings already written, per environment
    no_binary: dict[str, list[str]] = defaultdict(list)
    release = ctx.manifest.release
    for comp in ctx.manifest.components.values():
        if comp.pip is None:
            continue
        env = comp.pip.environment
        by_env[env].append(f"# {comp.name} {comp.pip.version} ({comp.license}) {comp.homepage}")
        by_env[env].extend(comp.pip.requirements)
        pinned[env].update(comp.pip.requirements)
        if comp.pip.no_binary:
            no_binary[env].extend(comp.pip.distributions())
    for comp in ctx.manifest.components.values():
        env = comp.pip.environment if comp.pip else "sdk"
        for con in comp.constraints:
            if is_pip_requirement(con.requirement) and con.requirement not in pinned[env]:
                by_env[env].append(f"{con.requirement}  # constraint from components/{comp.name}.yaml")
                pinned[env].add(con.requirement)
    out = {}
    for env, lines in sorted(by_env.items()):
        head = [f"# {release.name} {release.version}: pip environment '{env}'.",
                f"# Install: pip install -r {requirements_path(env)}"]
        if no_binary[env]:
            head.append("# Built from source against the system's libraries:")
            head.append("--no-binary " + ",".join(sorted(set(no_binary[env]))))
        out[requirements_path(env)] = "\n".join(head + lines) + "\n"
    return out


def is_pip_requirement(text: str) -> bool:
    """Constraints also record non-pip facts (Spack specs, env vars); only PEP 508 ones are pip's."""
    return pip_requirement(text) is not None
