from __future__ import annotations

from pathlib import Path

from test_harness.detect import Detection
from test_harness.environment import capture, install_variant


def test_variant_precedence(tmp_path: Path) -> None:
    assert install_variant({"SDK_VARIANT": "spack"}, root=tmp_path) == "spack"
    assert install_variant({}, root=tmp_path) == "pip"
    assert install_variant({"SPACK_ENV": "/opt/env"}, root=tmp_path) == "spack"
    (tmp_path / ".dockerenv").touch()
    assert install_variant({"SPACK_ENV": "/opt/env"}, root=tmp_path) == "container"


def test_capture_reports_components_ci_and_site() -> None:
    detections = {"parsl": Detection("parsl", True, "2026.10.26", "found"),
                  "flux-core": Detection("flux-core", False, reason="flux-core not found: no `flux` on PATH")}
    env = {"SDK_SITE": "llnl-dane", "CI_PIPELINE_ID": "77", "CI_COMMIT_SHA": "abc", "CI_RUNNER_TAGS": '["dane"]',
           "SDK_VARIANT": "spack"}
    data = capture(detections, env)
    assert data["site"] == "llnl-dane" and data["variant"] == "spack"
    assert data["components"] == {"parsl": "2026.10.26", "flux-core": None}
    assert data["missing"]["flux-core"].endswith("no `flux` on PATH")
    assert data["ci"] == {"CI_PIPELINE_ID": "77", "CI_COMMIT_SHA": "abc", "CI_RUNNER_TAGS": '["dane"]'}
    assert data["cpu_count"] >= 1 and data["arch"] and data["python"].count(".") == 2
    assert isinstance(data["schedulers"], list)
