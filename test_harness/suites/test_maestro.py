"""Maestro: a 2-step study where the second step depends on the first.

Maestro polls every 60 s by default; ``-s 1`` makes it 1 s, so the study takes seconds.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from test_harness.suites.conftest import run

STUDY = """\
description:
    name: sdk_two_steps
    description: Two dependent steps, written by the ExaWorks SDK harness.

env:
    variables:
        OUTPUT_PATH: {output}
        GREETING: hello

study:
    - name: produce
      description: write a file
      run:
          cmd: |
            echo "$(GREETING) from maestro" > produced.txt
    - name: consume
      description: read the first step's file
      run:
          cmd: |
            cat $(produce.workspace)/produced.txt > consumed.txt
            wc -w < consumed.txt > words.txt
          depends: [produce]
"""


def _maestro() -> str:
    path = shutil.which("maestro")
    assert path, "maestro is not on PATH"
    return path


def test_two_step_study(tmp_path: Path) -> None:
    output = tmp_path / "studies"
    spec = tmp_path / "study.yaml"
    spec.write_text(STUDY.format(output=output))
    start = time.monotonic()
    run([_maestro(), "run", "-y", "-s", "1", "-fg", str(spec)], timeout=110)
    studies = list(output.glob("sdk_two_steps_*"))
    assert len(studies) == 1, f"expected one study directory in {output}: {list(output.iterdir())}"
    consumed = studies[0] / "consume" / "consumed.txt"
    words = studies[0] / "consume" / "words.txt"
    assert consumed.read_text().strip() == "hello from maestro"
    assert words.read_text().strip() == "3"
    assert time.monotonic() - start < 100, "the 1 s sleep interval was not honoured"


def test_status_reports_finished(tmp_path: Path) -> None:
    output = tmp_path / "studies"
    spec = tmp_path / "study.yaml"
    spec.write_text(STUDY.format(output=output))
    run([_maestro(), "run", "-y", "-s", "1", "-fg", str(spec)], timeout=110)
    study = next(output.glob("sdk_two_steps_*"))
    status = run([_maestro(), "status", "--layout", "legacy", str(study)], check=False)
    text = status.stdout + status.stderr
    assert text.count("FINISHED") >= 2, text
