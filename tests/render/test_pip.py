"""The pip requirement files hold exact pins and the recorded constraints."""

from __future__ import annotations

from pathlib import Path

from packaging.requirements import Requirement

from exaworks_sdk.manifest import load_manifest


def _requirements(path: Path) -> list[Requirement]:
    lines = [ln.split("#")[0].strip() for ln in path.read_text().splitlines()]
    return [Requirement(ln) for ln in lines if ln and not ln.startswith("-")]


def test_main_environment_pins_every_pip_component(repo_root: Path) -> None:
    reqs = {r.name: r for r in _requirements(repo_root / "ci/generated/pip/requirements.txt")}
    for comp in load_manifest(repo_root).components.values():
        if comp.pip and comp.pip.environment == "sdk":
            for text in comp.pip.requirements:
                req = Requirement(text)
                assert str(reqs[req.name].specifier) == str(req.specifier)


def test_known_bad_combinations_are_held_back(repo_root: Path) -> None:
    reqs = {r.name: str(r.specifier) for r in _requirements(repo_root / "ci/generated/pip/requirements.txt")}
    assert reqs["radical.pilot"] == "==1.90.0"
    assert reqs["radical.entk"] == "==1.90.0"
    assert reqs["packaging"] == "<=25"


def test_mpi4py_is_built_from_source(repo_root: Path) -> None:
    assert "--no-binary mpi4py" in (repo_root / "ci/generated/pip/requirements.txt").read_text().splitlines()


def test_balsam_gets_its_own_environment(repo_root: Path) -> None:
    main = {r.name for r in _requirements(repo_root / "ci/generated/pip/requirements.txt")}
    balsam = {r.name for r in _requirements(repo_root / "ci/generated/pip/balsam-requirements.txt")}
    assert "balsam" not in main and "balsam" in balsam
    # its server's pins (pydantic 1, SQLAlchemy 1.4) live there, never in the SDK's environment
    assert {"pydantic", "SQLAlchemy", "gunicorn", "psycopg2-binary"} <= balsam
    assert not ({"pydantic", "SQLAlchemy"} & main)


def test_a_constraint_named_by_two_components_is_written_once(sdk_tree: Path) -> None:
    from exaworks_sdk.render import load_context
    from exaworks_sdk.render.pip import render

    path = sdk_tree / "components/maestrowf.yaml"
    path.write_text(path.read_text().replace("constraints:\n", """constraints:
  - requirement: "packaging<=25"
    why: held with psij-python's pin so both install together
""", 1))
    text = render(load_context(sdk_tree))["ci/generated/pip/requirements.txt"]
    assert [ln for ln in text.splitlines() if ln.startswith("packaging")] == [
        "packaging<=25  # constraint from components/maestrowf.yaml"]
