"""Swift/T inside Flux: Swift/T runs as a Flux job in the session's Flux instance."""

from __future__ import annotations

from pathlib import Path

from test_harness.suites.conftest import run
from test_harness.suites.test_swift_t import DATAFLOW


def test_one_liner_as_flux_job(flux_instance: str) -> None:
    out = run(["flux", "run", "-n", "1", "-c", "1", "swift-t", "-E", "trace(6*7);"], timeout=180).stdout
    assert "trace: 42" in out, out


def test_dataflow_as_flux_job(flux_instance: str, tmp_path: Path) -> None:
    script = tmp_path / "dataflow.swift"
    script.write_text(DATAFLOW)
    out = run(["flux", "run", "-n", "1", "-c", "1", "--cwd", str(tmp_path), "swift-t", "-n", "3", str(script)],
              timeout=300).stdout
    assert "sum=20" in out and "read=hello swift" in out, out
