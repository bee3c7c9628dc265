"""Spack recipes read statically: versions and variants through loops, blocks and base classes."""

from __future__ import annotations

from pathlib import Path

import pytest

from exaworks_sdk.index.recipes import (
    RecipeError,
    RecipeReader,
    class_name,
    package_dir,
    read_recipes,
)

CHECKOUT = Path(__file__).resolve().parents[1] / "fixtures" / "spack-packages"


def test_package_names_map_to_api_v2_directories_and_classes() -> None:
    assert package_dir("py-libensemble") == "py_libensemble"
    assert package_dir("3demo") == "_3demo" and package_dir("pass") == "_pass"
    assert class_name("py-libensemble") == "PyLibensemble" and class_name("3demo") == "_3demo"


def test_versions_from_literals_loops_and_default_args() -> None:
    recipe = RecipeReader(CHECKOUT).read("py-demo")
    assert recipe.versions == ["develop", "2.0.0", "1.2.0", "1.1.0", "1.0.0", "0.9"]
    assert recipe.deprecated == ["1.0.0", "0.9"]


def test_variants_with_their_values_including_base_classes_and_mixins() -> None:
    variants = RecipeReader(CHECKOUT).read("py-demo").variants
    assert variants["build_system"] == ["python_pip"]
    assert variants["gpu"] == "bool"  # from DemoMixin, defined in the same file
    assert variants["mpi"] == "bool" and variants["pycmd"] == "bool"
    assert variants["backend"] == ["tcp", "zmq"]
    assert variants["targets"] == "any"
    assert variants["yaml"] == variants["toml"] == "bool"


def test_base_classes_from_build_systems_and_other_packages() -> None:
    recipe = RecipeReader(CHECKOUT).read("demo-mpi")
    assert recipe.versions == ["4.3.2", "4.3.10", "5.0.0"]
    assert recipe.variants["build_system"] == ["autotools", "cmake"]
    assert recipe.variants["build_type"] == ["Debug", "Release"] and recipe.variants["ipo"] == "bool"
    assert recipe.variants["generator"] == ["make", "ninja"]
    assert recipe.variants["gpu"] == "bool"  # DemoMixin, imported from py_demo's package.py


def test_leading_digit_package_on_spacks_own_base_class() -> None:
    recipe = RecipeReader(CHECKOUT).read("3demo")
    assert recipe.versions == ["3.0"] and recipe.variants == {"build_system": ["generic"]}


def test_missing_or_unreadable_recipes_are_errors_not_empty() -> None:
    with pytest.raises(RecipeError, match="no package 'py-nothing'"):
        RecipeReader(CHECKOUT).read("py-nothing")
    with pytest.raises(RecipeError, match="no versions could be read statically"):
        RecipeReader(CHECKOUT).read("no-versions")
    results = {name: (recipe is not None, why) for name, recipe, why in read_recipes(CHECKOUT, ["py-demo", "x"])}
    assert results["py-demo"] == (True, None) and results["x"][0] is False and "no package 'x'" in results["x"][1]
