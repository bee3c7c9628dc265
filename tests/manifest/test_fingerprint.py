"""Failure fingerprints: the same failure elsewhere hashes the same; a different one does not."""

from __future__ import annotations

from exaworks_sdk.fingerprint import fingerprint, normalize_failure

DANE = '''Traceback (most recent call last):
  File "/g/g20/ci/builds/abc123/sdk/test_harness/suites/test_parsl_flux.py", line 41, in test_executor
    fut.result(timeout=60)
  File "/usr/lib/python3.11/concurrent/futures/_base.py", line 456, in result
    raise TimeoutError()
E   TimeoutError: job 1234 on dane12.llnl.gov did not start by 2026-11-30T10:01:02Z (0x7f3a2c1e)
'''
PERLMUTTER = DANE.replace("/g/g20/ci/builds/abc123", "/global/homes/x/xci/b/77").replace(
    "dane12.llnl.gov", "nid001234.perlmutter.nersc.gov").replace("1234", "98765").replace(
    "2026-11-30T10:01:02Z", "2026-12-01 22:13:09").replace("0x7f3a2c1e", "0x55d0beef")


def test_same_failure_at_two_sites() -> None:
    message_a = "TimeoutError: job 1234 did not start within 60 s on dane12.llnl.gov"
    message_b = "TimeoutError: job 98765 did not start within 60 s on nid001234.perlmutter.nersc.gov"
    assert fingerprint(message_a, DANE) == fingerprint(message_b, PERLMUTTER)
    normal = normalize_failure(message_a, DANE)
    assert "llnl" not in normal and "1234" not in normal and "/g/g20" not in normal
    assert "in test_executor" in normal and "TimeoutError" in normal


def test_different_failures_differ() -> None:
    assert fingerprint("TimeoutError: job 1 did not start") != fingerprint("KeyError: 'flux_uri'")
    other_place = DANE.replace("in test_executor", "in test_many_tasks")
    assert fingerprint("TimeoutError", DANE) != fingerprint("TimeoutError", other_place)
    assert len(fingerprint("x")) == 16
