from __future__ import annotations

from pathlib import Path

from test_harness.detect import Detection
from test_harness.environment import capture, component_versions, install_variant


def test_variant_detection(tmp_path: Path) -> None:
    assert install_variant({}, root=tmp_path) == "pip"
    assert install_variant({"SPACK_ENV": "/opt/env"}, root=tmp_path) == "spack"
    (tmp_path / ".dockerenv").touch()
    assert install_variant({"SPACK_ENV": "/opt/env"}, root=tmp_path) == "container"


def test_capture_reports_machine_facts_and_ci_but_not_the_run_fields() -> None:
    detections = {"parsl": Detection("parsl", True, "2026.10.26", "found"),
                  "maestrowf": Detection("maestrowf", True, None, "found"),
                  "flux-core": Detection("flux-core", False, reason="flux-core not found: no `flux` on PATH")}
    env = {"CI_PIPELINE_ID": "77", "CI_COMMIT_SHA": "abc", "CI_RUNNER_TAGS": '["dane"]'}
    data = capture(detections, env)
    assert not {"site", "variant", "hostname", "components"} & data.keys()  # RunStart's own fields
    assert component_versions(detections) == {"parsl": "2026.10.26", "maestrowf": None}
    assert data["missing"]["flux-core"].endswith("no `flux` on PATH")
    assert data["ci"] == {"CI_PIPELINE_ID": "77", "CI_COMMIT_SHA": "abc", "CI_RUNNER_TAGS": '["dane"]'}
    assert data["cpu_count"] >= 1 and data["arch"] and data["python"].count(".") == 2
    assert isinstance(data["schedulers"], list)
