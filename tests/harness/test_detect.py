from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from test_harness.detect import detect, detect_all, missing_reason


def _fake_tool(directory: Path, name: str, output: str) -> Path:
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{output}'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_missing_executable_gives_the_reason(make_component: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    found = detect(make_component("flux-core", executable="flux", version_command=["flux", "version"]))
    assert not found.found
    assert found.reason == "flux-core not found: no `flux` on PATH"


def test_executable_on_path_with_version(make_component: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_tool(tmp_path, "flux", "libflux-core:        0.68.0")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    comp = make_component("flux-core", executable="flux", version_command=["flux", "version"],
                          version_pattern=r"libflux-core:\s*(\S+)")
    found = detect(comp)
    assert found.found and found.version == "0.68.0"


def test_removing_the_tool_from_path_makes_it_missing(make_component: Any, monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    _fake_tool(tmp_path, "swift-t", "STC 0.9.0")
    comp = make_component("swift-t", executable="swift-t", version_command=["swift-t", "-v"])
    monkeypatch.setenv("PATH", str(tmp_path))
    assert detect(comp).found
    monkeypatch.setenv("PATH", str(tmp_path / "elsewhere"))
    assert detect(comp).reason == "swift-t not found: no `swift-t` on PATH"


def test_import_rules(make_component: Any) -> None:
    here = detect(make_component("pydantic", **{"import": "pydantic"}))
    assert here.found and here.version and here.version[0].isdigit()
    gone = detect(make_component("nothing", **{"import": "sdk_no_such_module.sub"}))
    assert not gone.found and "cannot import `sdk_no_such_module.sub`" in gone.reason


def test_both_rules_must_hold(make_component: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    comp = make_component("maestrowf", **{"import": "json", "executable": "maestro"})
    assert detect(comp).reason == "maestrowf not found: no `maestro` on PATH"


def test_missing_reason_joins_and_handles_unknown(make_component: Any, components: dict) -> None:
    found = detect_all(components, ["pyjson", "ghost-tool", "not-in-manifest"])
    assert missing_reason(["pyjson"], found) is None
    reason = missing_reason(["pyjson", "ghost-tool", "not-in-manifest"], found)
    assert "ghost-tool not found: no `sdk-ghost-tool-not-installed` on PATH" in reason
    assert "not-in-manifest is not a component in the manifest" in reason
