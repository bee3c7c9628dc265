"""The ledger's record hash: one content, one hash; hashes stored in the older form (sha256 of the
sorted-key ``json.dumps`` line, before RECORD_HASH_PREFIX) still recognise a record sent again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from dashboard_server.ingest.store import RECORD_HASH_PREFIX, legacy_record_hash, record_hash
from dashboard_server.models import SeenRecord
from exaworks_sdk.records import parse_record
from tests.support.dashboard import make_run, upload, write

HOSTILE: dict[str, Any] = {
    "id": "hash-probe-0001", "run_id": "hash-probe-run-01", "schema_version": 1, "type": "run_start",
    "site": "local-linux", "variant": "pip", "sdk_version": "2026.11", "started_at": "2026-11-20T12:00:00Z",
    "pipeline_id": None, "branch": "main", "commit": None, "hostname": "h\u00e9\u4e2d\U0001f600\u2028\x7f",
    "components": {"z": None, "a": "1.0", "\u00e9": "\"quoted\"\\"},
    "environment": {"floats": [0.1, 1e16, 1e-7, 5e-324, 1.7976931348623157e308, -0.0, 123456789.123456789, 1e22,
                               100.0, 2.5],
                    "ints": [0, -1, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1],
                    "nested": {"b": [{"y": True, "x": False}], "a": {"c": {"d": [[], {}]}}},
                    "text": "tab\tnewline\nnul-free \x01\x1f </script> \ud7ff\ue000\uffff"},
}
# Pinned: a change here (an orjson upgrade writing floats or escapes otherwise) would make every
# record sent again after the upgrade a 409; see RECORD_HASH_PREFIX.
HOSTILE_HASH = "2:aa02dacc02cddfdc74bae96414aeb01d201a53da25ca1ac94c2e8de8099357"


def normalised(record: dict[str, Any]) -> dict[str, Any]:
    return parse_record(record).to_dict()


def test_hash_form_and_pin() -> None:
    digest = record_hash(normalised(HOSTILE))
    assert digest.startswith(RECORD_HASH_PREFIX) and len(digest) == 64
    assert digest == HOSTILE_HASH


def test_key_order_does_not_matter() -> None:
    reordered = dict(reversed(list(HOSTILE.items())))
    reordered["environment"] = dict(reversed(list(HOSTILE["environment"].items())))
    assert record_hash(normalised(reordered)) == record_hash(normalised(HOSTILE))
    changed = dict(HOSTILE, environment={**HOSTILE["environment"], "floats": [0.1, 1e16, 1e-7]})
    assert record_hash(normalised(changed)) != record_hash(normalised(HOSTILE))


def test_integers_beyond_64_bits_keep_the_older_form() -> None:
    data = normalised(dict(HOSTILE, environment={"big": 2**64, "small": -(2**63) - 1}))
    assert record_hash(data) == legacy_record_hash(data)
    assert not record_hash(data).startswith(RECORD_HASH_PREFIX)


def _to_legacy(app: Any, records: list[dict[str, Any]]) -> None:
    """Rewrite the ledger as an older dashboard stored it."""
    legacy = {r["id"]: legacy_record_hash(normalised(r)) for r in records}

    def work(session: Any) -> None:
        for record_id, digest in legacy.items():
            session.execute(update(SeenRecord).where(SeenRecord.record_id == record_id).values(content_hash=digest))
    write(app, work)


def test_records_stored_with_older_hashes_are_duplicates(app, client, token) -> None:
    records = make_run(tests={"test_a": "passed", "test_b": "failed"})
    assert upload(client, token, records).status_code == 200
    _to_legacy(app, records)
    again = upload(client, token, records)
    assert again.status_code == 200, again.json
    assert again.json == {"accepted": 0, "duplicates": 4, "runs": [records[0]["run_id"]]}
    changed = dict(records[1], status="failed")
    assert upload(client, token, [changed]).status_code == 409
    stored = write(app, lambda s: s.scalars(select(SeenRecord.content_hash)).all())
    assert not any(h.startswith(RECORD_HASH_PREFIX) for h in stored)  # a duplicate is not stored again


def test_new_records_get_the_new_form_and_resend_is_duplicate(app, client, token) -> None:
    records = make_run()
    records[0]["environment"] = {"big": 2**64, "ok": 1}
    assert upload(client, token, records).status_code == 200
    stored = dict(write(app, lambda s: s.execute(select(SeenRecord.record_id, SeenRecord.content_hash)).all()))
    assert stored[records[0]["id"]] == legacy_record_hash(normalised(records[0]))
    assert all(stored[r["id"]].startswith(RECORD_HASH_PREFIX) for r in records[1:])
    again = upload(client, token, records)
    assert again.json["duplicates"] == len(records)
