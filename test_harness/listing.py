"""What ``sdk-test list --json`` says about a suite here: can it run, and what should a run end with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exaworks_sdk.manifest import Component
from exaworks_sdk.status import Status
from test_harness.detect import Detection, missing_reason
from test_harness.known import applicable
from test_harness.suite import Suite


def suite_summary(suite: Suite, components: Mapping[str, Component], detections: Mapping[str, Detection],
                  timeout: float) -> dict[str, Any]:
    """One suite as ``sdk-test list --json`` prints it: whether it can run here, why not, and the
    suite status a run here should end with: ``skipped`` when it cannot run, ``known`` when a
    known incompatibility applies at the versions found, else ``passed``. Scripts (the demo,
    the local pipeline) read their expectations from this instead of keeping lists of their own."""
    reason = missing_reason(suite.requires, detections)
    entries = [] if reason else applicable(components, detections, suite.name)
    return {
        "name": suite.name,
        "tags": sorted(suite.tags),
        "requires": list(suite.requires),
        "timeout": timeout,
        "runnable": reason is None,
        "reason": reason,
        "versions": {r: detections[r].version for r in suite.requires if r in detections and detections[r].found},
        "known_incompatibilities": [e.to_dict() for e in entries],
        "expect": Status.SKIPPED.value if reason else Status.KNOWN.value if entries else Status.PASSED.value,
    }
