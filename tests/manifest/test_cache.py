"""The harness's cached manifest (exaworks_sdk/manifest/cache.py): the same files give the same
manifest without parsing or validating again, and any change to them is a full load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from exaworks_sdk.manifest import ManifestError, load_manifest


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the manifest's files were parsed again")

    monkeypatch.setattr(yaml, "load", parse)


def test_the_same_files_are_read_back_without_parsing(sdk_tree: Path, cache_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_manifest(sdk_tree, cache_dir=cache_dir)
    _no_parsing(monkeypatch)
    again = load_manifest(sdk_tree, cache_dir=cache_dir)
    assert again == first and again.components["radical-pilot"].known_incompatibilities
    assert again.components["radical-pilot"].known_incompatibilities[0].applies_to("1.70.0")


def test_an_edited_file_is_loaded_and_validated_again(sdk_tree: Path, cache_dir: Path) -> None:
    load_manifest(sdk_tree, cache_dir=cache_dir)
    parsl = sdk_tree / "components" / "parsl.yaml"
    parsl.write_text(parsl.read_text().replace("suite_timeout: 300", "suite_timeout: 5", 1))
    with pytest.raises(ManifestError) as info:
        load_manifest(sdk_tree, cache_dir=cache_dir)
    assert "parsl.yaml" in str(info.value) and "suite_timeout" in str(info.value)
    with pytest.raises(ManifestError):  # a manifest with problems is never stored
        load_manifest(sdk_tree, cache_dir=cache_dir)


def test_a_new_component_file_is_a_miss(sdk_tree: Path, cache_dir: Path) -> None:
    load_manifest(sdk_tree, cache_dir=cache_dir)
    (sdk_tree / "components" / "newtool.yaml").write_text("name: newtool\n")
    with pytest.raises(ManifestError, match="newtool.yaml"):
        load_manifest(sdk_tree, cache_dir=cache_dir)


def test_an_unreadable_entry_is_a_miss_and_is_replaced(sdk_tree: Path, cache_dir: Path) -> None:
    first = load_manifest(sdk_tree, cache_dir=cache_dir)
    (entry,) = cache_dir.glob("manifest-*.pickle")
    entry.write_bytes(b"not a pickle")
    assert load_manifest(sdk_tree, cache_dir=cache_dir) == first
    assert entry.read_bytes() != b"not a pickle"


def test_each_checkout_has_its_own_entry(sdk_tree: Path, repo_root: Path, cache_dir: Path) -> None:
    load_manifest(sdk_tree, cache_dir=cache_dir)
    load_manifest(repo_root, cache_dir=cache_dir)
    assert len(list(cache_dir.glob("manifest-*.pickle"))) == 2


def test_a_cached_manifest_imports_neither_yaml_nor_packaging(repo_root: Path, cache_dir: Path) -> None:
    load_manifest(repo_root, cache_dir=cache_dir)
    code = (f"import sys; from pathlib import Path; from exaworks_sdk.manifest import load_manifest\n"
            f"load_manifest(Path({str(repo_root)!r}), cache_dir=Path({str(cache_dir)!r}))\n"
            f"print(sorted(m for m in ('yaml', 'packaging.requirements') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert proc.stdout.strip() == "[]"
