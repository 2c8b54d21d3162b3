"""Every item ends ``ready`` or ``failed``, whatever order storage events, confirms, duplicate
events, dead letters and sweeps arrive in; nothing unconfirmed is ever listed or counted."""

from __future__ import annotations

import itertools
import json
import struct
import zlib
from datetime import UTC, datetime, timedelta

import boto3
import dead_letters
import pytest

from medialib.services import processing
from medialib.services.sweeping import sweep
from tests.support import invariants
from tests.support.api import (
    CONTEXT,
    bucket,
    get_item,
    jpeg_bytes,
    land,
    listing,
    media,
    presign,
    process_records,
    total,
    uploads,
)
from tests.support.aws import mocked_aws
from tests.support.events import load_event, sqs_event_for

LATER = timedelta(minutes=20)  # past the processing stall, before unconfirmed uploads expire


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


def confirm(upload_id: str, tenant_id: str = "demo", **body) -> tuple[int, dict]:
    status, _, answer = uploads("confirm-upload", body={"upload_id": upload_id, **body}, tenant_id=tenant_id)
    return status, answer


def keys(prefix: str) -> list[str]:
    found = boto3.client("s3").list_objects_v2(Bucket=bucket(), Prefix=prefix).get("Contents", [])
    return [item["Key"] for item in found]


def presigned(data: bytes, **extra) -> str:
    status, _, body = presign(size=len(data), **extra)
    assert status == 201, body
    return body["data"]["upload_id"]


def palette_png_without_plte() -> bytes:
    """A 1x1 palette PNG whose PLTE chunk is missing (67 bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 3, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def test_an_oversized_upload_processed_before_confirm_is_never_listed():
    upload_id = presigned(b"x" * 100, method="PUT")  # PUT cannot bound the size
    data = jpeg_bytes(400, 300)
    assert len(data) > 100
    record = land(upload_id, data)
    assert process_records(record) == {"batchItemFailures": []}
    assert get_item(upload_id) is None
    assert listing()["media_ids"] == [] and total() == 0
    status, problem = confirm(upload_id)
    assert (status, problem["code"]) == (413, "payload_too_large")
    assert get_item(upload_id)["error"]["code"] == "too_large"
    assert keys(f"originals/demo/{upload_id}") == [] and keys(f"variants/demo/{upload_id}") == []
    assert invariants.violations() == []


def test_an_svg_declared_as_png_is_a_type_mismatch_in_either_order():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for process_first in (True, False):
        upload_id = presigned(svg, content_type="image/png")
        record = land(upload_id, svg)
        if process_first:
            process_records(record)
            assert get_item(upload_id) is None
        status, problem = confirm(upload_id)
        assert status == 415 and problem["errors"] == [{"field": "content_type", "message": "type_mismatch"}]
        process_records(record)  # a late event changes nothing
        item = get_item(upload_id)
        assert (item["status"], item["error"]["code"]) == ("failed", "type_mismatch")
    assert invariants.violations() == []


def test_a_put_that_replaces_a_ready_original_with_another_type_fails_it():
    data = jpeg_bytes(300, 200)
    upload_id = presigned(data)
    record = land(upload_id, data)
    assert confirm(upload_id)[0] == 201
    process_records(record)
    assert get_item(upload_id)["status"] == "ready"
    replaced = land(upload_id, b"%PDF-1.7\n" + b"0" * 100)  # the PUT URL is still valid
    process_records({**replaced, "sequencer": "0065F1A2B3C4D5E6F8"})
    item = get_item(upload_id)
    assert (item["status"], item["error"]["code"], item["variants"]) == ("failed", "type_mismatch", [])
    assert invariants.violations() == []


def test_common_aliases_of_a_type_are_accepted_and_stored_canonically():
    status, _, body = presign(size=10, content_type="image/jpg")
    assert status == 201 and body["data"]["fields"]["Content-Type"] == "image/jpeg"


STEPS = ("event", "confirm", "duplicate_event", "sweep")


@pytest.mark.parametrize("order", list(itertools.permutations(STEPS)), ids="-".join)
def test_every_order_of_event_confirm_duplicate_and_sweep_ends_in_the_same_state(order):
    data = jpeg_bytes(640, 480)
    upload_id = presigned(data)
    record = land(upload_id, data)
    later = datetime.now(UTC) + LATER
    answers = []
    for step in order:
        if step in ("event", "duplicate_event"):
            assert process_records(record) == {"batchItemFailures": []}
        elif step == "confirm":
            answers.append(confirm(upload_id)[0])
        else:
            sweep(later)
    assert answers == [201]
    sweep(later)  # whatever was left for the sweeper
    item = get_item(upload_id)
    assert item["status"] == "ready"
    assert [variant["name"] for variant in item["variants"]] == ["400", "150"]
    assert item["sha256"] and item["placeholder"]["blurhash"]
    assert listing()["media_ids"] == [upload_id] and total() == 1 and total(status="ready") == 1
    assert invariants.violations() == []


def test_processing_that_lands_between_confirms_read_and_write_is_not_lost(monkeypatch):
    from medialib.adapters import object_storage

    data = jpeg_bytes(640, 480)
    upload_id = presigned(data)
    record = land(upload_id, data)
    real_stat = object_storage.stat
    raced = []

    def process_first(key):
        if not raced:  # the storage event is processed while confirm is judging the bytes
            raced.append(process_records(record))
        return real_stat(key)

    monkeypatch.setattr(object_storage, "stat", process_first)
    assert confirm(upload_id)[0] == 201
    assert raced == [{"batchItemFailures": []}]
    assert get_item(upload_id)["status"] == "ready"  # not left processing for the sweeper
    assert invariants.violations() == []


def test_a_poison_image_fails_the_item_instead_of_retrying_forever():
    data = palette_png_without_plte()
    upload_id = presigned(data, content_type="image/png")
    record = land(upload_id, data)
    assert confirm(upload_id)[0] == 201
    assert process_records(record) == {"batchItemFailures": []}
    item = get_item(upload_id)
    assert (item["status"], item["error"]["code"]) == ("failed", "corrupt")
    assert invariants.violations() == []


def dead_letter(record: dict) -> dict:
    return dead_letters.lambda_handler(sqs_event_for([record]), CONTEXT)


def test_a_dead_letter_ends_its_confirmed_item_failed():
    data = jpeg_bytes(300, 200)
    upload_id = presigned(data)
    record = land(upload_id, data)
    assert confirm(upload_id)[0] == 201
    assert dead_letter(record) == {"batchItemFailures": []}
    item = get_item(upload_id)
    assert (item["status"], item["error"]["code"]) == ("failed", "processing_failed")
    assert keys(f"originals/demo/{upload_id}") == []
    assert total(status="failed") == 1 and total(status="processing") == 0
    assert invariants.violations() == []


def test_a_dead_letter_before_confirm_is_kept_for_confirm():
    data = jpeg_bytes(300, 200)
    upload_id = presigned(data)
    record = land(upload_id, data)
    assert dead_letter(record) == {"batchItemFailures": []}
    assert get_item(upload_id) is None and total() == 0
    status, answer = confirm(upload_id)
    assert status == 201 and answer["data"]["status"] == "failed"
    assert answer["data"]["error"]["code"] == "processing_failed"
    assert invariants.violations() == []


def test_a_dead_letter_for_a_ready_item_changes_nothing():
    data = jpeg_bytes(300, 200)
    upload_id = presigned(data)
    record = land(upload_id, data)
    assert confirm(upload_id)[0] == 201
    process_records(record)
    before = get_item(upload_id)
    assert dead_letter(record) == {"batchItemFailures": []}
    assert get_item(upload_id) == before


def stalled(tenant_id: str) -> str:
    """A confirmed item whose storage event was lost."""
    data = jpeg_bytes(300, 200, color=(len(tenant_id) * 40, 20, 20))
    _, _, body = presign(size=len(data), tenant_id=tenant_id)
    upload_id = body["data"]["upload_id"]
    land(upload_id, data, tenant_id)
    assert confirm(upload_id, tenant_id)[0] == 201
    return upload_id


def test_one_items_unexpected_failure_does_not_stop_the_sweep_for_others(monkeypatch):
    poisoned, healthy = stalled("acme"), stalled("globex")
    real_process = processing._process

    def crash_on_poisoned(media_item, landed):
        if media_item.id == poisoned:
            raise RuntimeError("a bug the code did not expect")
        return real_process(media_item, landed)

    monkeypatch.setattr(processing, "_process", crash_on_poisoned)
    report = sweep(datetime.now(UTC) + LATER)
    assert report.reprocessed == {poisoned: "failed:processing_failed", healthy: "ready"}
    assert get_item(poisoned, "acme")["error"]["code"] == "processing_failed"
    assert get_item(healthy, "globex")["status"] == "ready"
    assert invariants.violations() == []


def test_storage_trouble_during_a_sweep_leaves_the_item_for_the_next_one(monkeypatch):
    from botocore.exceptions import ClientError

    from medialib.adapters import object_storage

    upload_id = stalled("acme")
    client = object_storage._client()
    real_get = client.get_object

    def slow_down(**params):
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow down"}}, "GetObject")

    monkeypatch.setattr(client, "get_object", slow_down)
    report = sweep(datetime.now(UTC) + LATER)
    assert report.reprocessed == {upload_id: "error:unavailable"}
    assert get_item(upload_id, "acme")["status"] == "processing"
    monkeypatch.setattr(client, "get_object", real_get)
    assert sweep(datetime.now(UTC) + LATER).reprocessed == {upload_id: "ready"}
    assert invariants.violations() == []


def test_a_processing_item_whose_original_vanished_ends_failed():
    upload_id = stalled("acme")
    boto3.client("s3").delete_object(Bucket=bucket(), Key=f"originals/acme/{upload_id}")
    report = sweep(datetime.now(UTC) + LATER)
    assert report.reprocessed == {upload_id: "failed:processing_failed"}
    assert invariants.violations() == []


def test_the_sample_dead_letter_event_is_handled():
    event = load_event("dead-letter-original-landed")
    assert processing.landed_objects(json.loads(event["Records"][0]["body"]))
    assert dead_letters.lambda_handler(event, CONTEXT) == {"batchItemFailures": []}


def test_get_of_an_unconfirmed_item_with_results_is_404_for_everyone():
    data = jpeg_bytes(300, 200)
    upload_id = presigned(data)
    process_records(land(upload_id, data))
    assert media("get-media", media_id=upload_id)[0] == 404
    assert media("get-media", media_id=upload_id, tenant_id="other")[0] == 404


def test_the_sweeper_finishes_a_tag_delete_interrupted_midway():
    from tests.support.api import catalogue, make_item
    from tests.support.faults import FAULTS, Recorder, injected

    item = make_item()
    _, _, tag = catalogue("create-tag", body={"name": "Brand"})
    assert catalogue("add-item-tag", media_id=item["id"], body={"slug": "brand"})[0] == 201
    detach = Recorder(fail_at=3, fault=FAULTS["s3_5xx"])  # after the mark, during the detach
    with injected(detach):
        status = catalogue("delete-tag", path={"tag_id": tag["data"]["id"]})[0]
    assert status == 503 and detach.failed is not None
    assert sweep(datetime.now(UTC) + LATER).tag_deletes_finished == 1
    assert catalogue("list-tags")[2]["data"] == [] and get_item(item["id"])["tags"] == []
    assert invariants.violations() == []


def test_an_svg_larger_than_processing_sanitises_is_refused_at_presign():
    status, _, problem = presign(size=6 * 1024 * 1024, content_type="image/svg+xml", filename="big.svg")
    assert (status, problem["code"]) == (413, "payload_too_large")
