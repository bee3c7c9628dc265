from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from exaworks_sdk.manifest import Component
from test_harness.suite import Suite

FIXTURES = Path(__file__).parent / "fixtures"
SUITES = FIXTURES / "suites"
collect_ignore = ["fixtures"]


def _make_component(name: str, timeout: int = 60, **detect: Any) -> Component:
    return Component.model_validate({
        "name": name, "summary": f"{name} for harness tests", "homepage": "https://example.org",
        "license": "MIT", "version": "1.0", "pip": {"package": name},
        "detect": detect, "suite_timeout": timeout, "policies": {},
    })


@pytest.fixture(name="make_component")
def make_component_fixture() -> Any:
    return _make_component


@pytest.fixture
def components() -> dict[str, Component]:
    """A tiny manifest: one component that is here (Python's json), one whose executable is not."""
    return {
        "pyjson": _make_component("pyjson", timeout=60, **{"import": "json"}),
        "ghost-tool": _make_component("ghost-tool", timeout=60, executable="sdk-ghost-tool-not-installed"),
        "sleepy": _make_component("sleepy", timeout=10, **{"import": "time"}),
    }


def fixture_suite(name: str, module: str, requires: tuple[str, ...], tags: tuple[str, ...] = ()) -> Suite:
    return Suite(name=name, path=SUITES / module, requires=requires, description=f"{name} fixture",
                 tags=frozenset(tags))


@pytest.fixture
def fixture_suites() -> dict[str, Suite]:
    return {
        "ok": fixture_suite("ok", "suite_ok.py", ("pyjson",), ("smoke",)),
        "fails": fixture_suite("fails", "suite_fails.py", ("pyjson",)),
        "needs-tool": fixture_suite("needs-tool", "suite_needs_tool.py", ("ghost-tool",)),
        "sleepy": fixture_suite("sleepy", "suite_sleepy.py", ("sleepy",), ("slow",)),
    }
