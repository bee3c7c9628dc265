from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from test_harness import detect as detect_module
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


def _fake_flux(directory: Path, module_dir: Path) -> None:
    path = directory / "flux"
    path.write_text(f'#!/bin/sh\n[ "$1" = env ] && echo \'export FLUX_MODULE_PATH="{module_dir}"\'\n'
                    "[ \"$1\" = version ] && echo 'libflux-core:        0.81.0'\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_flux_module_rule_needs_the_module_on_fluxs_path(make_component: Any, monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    modules = tmp_path / "lib" / "flux" / "modules"
    modules.mkdir(parents=True)
    _fake_flux(tmp_path, modules)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("FLUX_MODULE_PATH_PREPEND", raising=False)
    comp = make_component("flux-sched", executable="flux", flux_module="sched-fluxion-qmanager")
    missing = detect(comp)
    assert not missing.found, "flux on PATH alone must not count as flux-sched"
    assert "no Flux module `sched-fluxion-qmanager`" in missing.reason and str(modules) in missing.reason
    (modules / "sched-fluxion-qmanager.so").write_bytes(b"")
    assert detect(comp).found
    (modules / "sched-fluxion-qmanager.so").unlink()
    elsewhere = tmp_path / "fluxion-prefix"
    elsewhere.mkdir()
    (elsewhere / "sched-fluxion-qmanager.so").write_bytes(b"")
    monkeypatch.setenv("FLUX_MODULE_PATH_PREPEND", str(elsewhere))  # how a separate flux-sched prefix joins
    assert detect(comp).found


def test_other_pip_environment_is_detected_in_its_own_venv(make_component: Any, monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    comp = make_component("pydantic-elsewhere", **{"import": "pydantic"})
    comp = comp.model_copy(update={"pip": comp.pip.model_copy(update={"environment": "other-env"})})
    monkeypatch.setenv("SDK_VENV_OTHER_ENV", str(tmp_path / "no-such-venv"))
    gone = detect(comp)
    assert not gone.found and "pip environment 'other-env' is not set up" in gone.reason
    monkeypatch.setenv("SDK_VENV_OTHER_ENV", sys.prefix)  # any venv with pydantic stands in for it
    found = detect(comp)
    assert found.found and found.version and found.version[0].isdigit()
    assert "pip environment 'other-env'" in found.reason
    blocked = make_component("nope", **{"import": "sdk_no_such_module"})
    blocked = blocked.model_copy(update={"pip": blocked.pip.model_copy(update={"environment": "other-env"})})
    assert "cannot import `sdk_no_such_module` in pip environment 'other-env'" in detect(blocked).reason


def test_the_map_of_every_distribution_is_read_only_when_the_named_one_is_missing(
        make_component: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading every installed distribution's top-level imports costs a fifth of a second; the
    manifest names the distribution, so that is asked first."""
    def scan_everything() -> None:
        raise AssertionError("read the map of every installed distribution")

    monkeypatch.setattr(detect_module, "_top_level_distributions", scan_everything)
    found = detect(make_component("pydantic", **{"import": "pydantic", "distribution": "pydantic"}))
    assert found.found and found.version and found.version[0].isdigit()


def test_detections_run_side_by_side(make_component: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Version commands and other environments' interpreters are waited for together, not in turn."""
    for name in ("slow-a", "slow-b", "slow-c"):
        tool = tmp_path / name
        tool.write_text("#!/bin/sh\nsleep 3\necho 'version 1.2.3'\n")
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    comps = {n: make_component(n, executable=n, version_command=[n]) for n in ("slow-a", "slow-b", "slow-c")}
    started = time.monotonic()
    found = detect_all(comps)
    assert [d.version for d in found.values()] == ["1.2.3"] * 3 and list(found) == list(comps)
    assert time.monotonic() - started < 8, "the three 3-second version commands ran one after another"


def test_in_another_environment_found_means_found_by_the_import_system(
        make_component: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As in the harness's own environment: the module is found, not imported. An installed module
    that fails to import is found, so its suite fails rather than being skipped."""
    (tmp_path / "sdk_breaks_on_import.py").write_text("raise ImportError('broken install')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("SDK_VENV_OTHER_ENV", sys.prefix)
    comp = make_component("broken", **{"import": "sdk_breaks_on_import", "distribution": "pydantic"})
    comp = comp.model_copy(update={"pip": comp.pip.model_copy(update={"environment": "other-env"})})
    assert detect(comp).found
