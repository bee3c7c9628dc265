from __future__ import annotations

import pytest

from test_harness.errors import ConfigError, NothingToDo
from test_harness.registry import default_suites, select


def test_builtin_suites_are_registered_with_existing_modules() -> None:
    suites = default_suites()
    names = [s.name for s in suites]
    assert len(names) == len(set(names))
    for expected in ("parsl", "psij", "radical-pilot", "entk", "maestro", "mpi", "libensemble", "flux",
                     "swift-t", "balsam", "parsl-flux", "rp-flux", "swift-t-in-flux", "parsl-rp",
                     "psij-flux", "psij-rp"):
        assert expected in names
    for suite in suites:
        assert suite.path.is_file(), suite.path
        assert suite.tags & {"component", "integration"}, suite.name


def test_builtin_requirements_are_manifest_components() -> None:
    from exaworks_sdk.manifest import load_manifest

    components = load_manifest().components
    for suite in default_suites():
        assert set(suite.requires) <= set(components), suite.name


def test_select_by_name_glob_tag_keyword(fixture_suites: dict) -> None:
    suites = list(fixture_suites.values())
    assert [s.name for s in select(suites, names=["ok"])] == ["ok"]
    assert [s.name for s in select(suites, names=["*-tool"])] == ["needs-tool"]
    assert [s.name for s in select(suites, tags=["smoke"])] == ["ok"]
    assert [s.name for s in select(suites, keyword="GHOST")] == ["needs-tool"]
    assert "sleepy" not in [s.name for s in select(suites, exclude_tags=["slow"])]
    assert [s.name for s in select(suites)] == [s.name for s in suites]


def test_filters_combine(fixture_suites: dict) -> None:
    suites = list(fixture_suites.values())
    with pytest.raises(NothingToDo, match="tag smoke"):
        select(suites, names=["fails"], tags=["smoke"])


def test_unknown_name_is_a_config_error(fixture_suites: dict) -> None:
    with pytest.raises(ConfigError, match="no suite named nope") as info:
        select(list(fixture_suites.values()), names=["nope"])
    assert info.value.exit_code == 2


def test_smoke_subset_is_quick_component_suites() -> None:
    smoke = select(default_suites(), tags=["smoke"])
    assert {"parsl", "psij", "mpi"} <= {s.name for s in smoke}
    assert not any("slow" in s.tags for s in smoke)
