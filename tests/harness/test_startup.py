"""What ``sdk-test run`` and each suite's pytest import before any work starts.

Every suite's pytest loads the harness plugin, so whatever the plugin imports, each suite pays
and bare pytest does not; the CLI's imports are the fixed start-up of every run (the figures
are in docs/benchmarks.md: ``bench/harness_overhead.py``). Each check runs a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _imported(code: str, modules: tuple[str, ...]) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {list(modules)!r} if m in sys.modules]))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return list(json.loads(proc.stdout.splitlines()[-1]))


def test_the_suite_plugin_needs_neither_pydantic_nor_the_manifest() -> None:
    heavy = ("pydantic", "exaworks_sdk.records", "exaworks_sdk.manifest", "test_harness.detect", "packaging", "yaml")
    assert _imported("import test_harness.plugin", heavy) == []


@pytest.mark.parametrize("module", ["rich", "requests", "junitparser", "test_harness.console",
                                    "test_harness.upload", "test_harness.listing"])
def test_the_cli_imports_what_one_command_needs_only_in_that_command(module: str) -> None:
    assert _imported("import test_harness.cli", (module,)) == []
