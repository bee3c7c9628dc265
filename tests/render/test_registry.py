"""The renderer registry (exaworks_sdk/render/registry.py): adding a target is one decorated module,
and a renderer writes only inside the outputs it declares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from exaworks_sdk.render import RENDERERS, check, load_context, render_all, render_outputs
from exaworks_sdk.render.base import Context
from exaworks_sdk.render.ci import pipeline_ir
from exaworks_sdk.render.registry import load_renderers, renderer


@pytest.fixture
def toy() -> Iterator[str]:
    """A second CI system, written as one decorated function over the CI-neutral pipeline form."""

    @renderer("toy-ci", outputs=["ci/generated/toy/*.yml"])
    def render(ctx: Context) -> dict[str, str]:
        ir = pipeline_ir(ctx.manifest, ctx.sites)
        jobs = {name: {"runs-on": job["tags"], "steps": job["script"]}
                for name, job in ir["jobs"].items() if job["facility"] == "local"}
        return {"ci/generated/toy/local.yml": yaml.safe_dump({"jobs": jobs}, sort_keys=True)}

    yield "toy-ci"
    RENDERERS.pop("toy-ci", None)


def test_a_registered_generator_renders_checks_and_goes_stale(sdk_tree: Path, toy: str) -> None:
    out = render_outputs(load_context(sdk_tree), only=[toy])
    doc = yaml.safe_load(out["ci/generated/toy/local.yml"])
    assert "local-linux-pip-test" in doc["jobs"]
    assert check(sdk_tree) == ["ci/generated/toy/local.yml: missing"]
    render_all(sdk_tree)
    assert check(sdk_tree) == []
    RENDERERS.pop(toy)
    assert check(sdk_tree) == ["ci/generated/toy/local.yml: generated file that nothing renders any more"]
    render_all(sdk_tree)
    assert not (sdk_tree / "ci/generated/toy/local.yml").exists()


def test_a_renderer_cannot_write_outside_its_outputs(sdk_tree: Path) -> None:
    @renderer("stray", outputs=["docs/generated/stray.md"])
    def render(ctx: Context) -> dict[str, str]:
        return {"components/stray.yaml": "name: stray\n"}

    try:
        with pytest.raises(RuntimeError, match="renderer stray wrote components/stray.yaml, outside"):
            render_outputs(load_context(sdk_tree))
    finally:
        RENDERERS.pop("stray")


def test_input_folders_are_never_outputs() -> None:
    for entry in load_renderers().values():
        for pattern in entry.outputs:
            assert not pattern.startswith(("components/", "ci/sites/")), (entry.name, pattern)


def test_the_harness_and_the_dashboard_describe_themselves_through_entry_points() -> None:
    registry = load_renderers()
    assert registry["suites_doc"].func.__module__ == "test_harness.describe"
    assert registry["api_doc"].func.__module__ == "dashboard_server.describe"
    with pytest.raises(ValueError, match="declares no outputs"):
        renderer("nothing", outputs=[])
