"""The upload → process → manage loop through the real handlers, on moto, with the sample
events from events/ (so they stay valid)."""

from __future__ import annotations

import base64
import json

import boto3
import docs_api
import media_api
import pytest
import sweeper
import uploads_api
from botocore.exceptions import ClientError

from tests.support import api
from tests.support.api import CONTEXT, bucket, call, land, presign, process_records
from tests.support.aws import mocked_aws
from tests.support.events import api_event, load_event


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


def jpeg_bytes(width=1600, height=1000, color=(200, 30, 40)) -> bytes:
    return api.jpeg_bytes(width, height, color)


def s3():
    return boto3.client("s3")


def uploaded_item(data: bytes | None = None, **presign_extra) -> dict:
    data = data or jpeg_bytes()
    status, _, presigned = presign(size=len(data), **presign_extra)
    assert status == 201
    upload_id = presigned["data"]["upload_id"]
    record = land(upload_id, data)
    status, _, confirmed = call(uploads_api, api_event("confirm-upload", body={"upload_id": upload_id}))
    assert status == 201, confirmed
    assert process_records(record) == {"batchItemFailures": []}
    status, _, got = call(media_api, api_event("get-media", media_id=upload_id))
    assert status == 200
    return got["data"]


def test_presign_post_binds_exact_key_type_and_size_range():
    status, headers, body = presign(size=2048)
    assert status == 201
    data = body["data"]
    assert data["method"] == "POST" and data["max_size"] == 2048
    fields = data["fields"]
    assert fields["key"] == f"originals/demo/{data['upload_id']}"
    assert fields["Content-Type"] == "image/jpeg"
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 2048] in conditions
    assert {"key": fields["key"]} in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert {"Content-Disposition": "inline; filename*=UTF-8''red-mug.jpg"} in conditions
    assert headers["x-request-id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_presign_put_returns_headers_to_send():
    status, _, body = presign(method="PUT")
    assert status == 201
    assert body["data"]["method"] == "PUT"
    assert body["data"]["headers"] == {
        "Content-Type": "image/jpeg",
        "Content-Disposition": "inline; filename*=UTF-8''red-mug.jpg",
    }
    assert body["data"]["fields"] is None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"filename": "a.exe", "content_type": "application/x-msdownload", "size": 10},
            415,
            "unsupported_media_type",
        ),
        (
            {"filename": "big.jpg", "content_type": "image/jpeg", "size": 26 * 1024 * 1024},
            413,
            "payload_too_large",
        ),
        ({"filename": "../etc/passwd", "content_type": "image/jpeg", "size": 10}, 400, "validation_error"),
        ({"filename": "a.jpg", "content_type": "image/jpeg", "size": 0}, 400, "validation_error"),
        (
            {"filename": "a.jpg", "content_type": "image/jpeg", "size": 10, "colour": "red"},
            400,
            "validation_error",
        ),
        ("{not json", 400, "validation_error"),
    ],
)
def test_presign_rejects_bad_input_with_problem_json_and_creates_nothing(body, status, code):
    got_status, headers, problem = call(uploads_api, api_event("presign-upload", body=body))
    assert (got_status, problem["code"]) == (status, code)
    assert headers["content-type"] == "application/problem+json"
    assert problem["status"] == status and problem["request_id"]
    _, _, listing = call(media_api, api_event("list-media", query=None))
    assert listing["pagination"]["total"] == 0


def test_full_loop_produces_variants_placeholder_and_hash():
    item = uploaded_item(jpeg_bytes(1600, 1000), alt="A red mug")
    assert item["status"] == "ready"
    assert (item["width"], item["height"]) == (1600, 1000)
    assert item["content_type"] == "image/jpeg"
    assert item["alt"] == "A red mug"
    assert [(v["name"], v["width"], v["height"]) for v in item["variants"]] == [
        ("1200", 1200, 750),
        ("800", 800, 500),
        ("400", 400, 250),
        ("150", 150, 94),
    ]
    assert item["placeholder"]["blurhash"]
    assert item["placeholder"]["dominant_color"].startswith("#")
    assert len(item["sha256"]) == 64
    for variant in item["variants"]:
        key = variant["url"].removeprefix("https://cdn.example.test/")
        head = s3().head_object(Bucket=bucket(), Key=key)
        assert head["ContentType"] == "image/webp"


def test_get_returns_etag_and_hides_other_tenants():
    item = uploaded_item()
    status, headers, _ = call(media_api, api_event("get-media", media_id=item["id"]))
    assert status == 200 and headers["etag"] == f'"{item["version"]}"'
    status, _, problem = call(media_api, api_event("get-media", media_id=item["id"], tenant_id="other"))
    assert (status, problem["code"]) == (404, "not_found")


def test_pending_upload_is_not_listed_or_gettable():
    _, _, presigned = presign()
    upload_id = presigned["data"]["upload_id"]
    status, _, _ = call(media_api, api_event("get-media", media_id=upload_id))
    assert status == 404
    _, _, listing = call(media_api, api_event("list-media", query=None))
    assert listing["data"] == [] and listing["pagination"]["total"] == 0


def test_confirm_without_upload_is_upload_missing_then_repeat_is_200():
    _, _, presigned = presign(size=len(jpeg_bytes()))
    upload_id = presigned["data"]["upload_id"]
    status, _, problem = call(uploads_api, api_event("confirm-upload", body={"upload_id": upload_id}))
    assert (status, problem["code"]) == (409, "upload_missing")
    land(upload_id, jpeg_bytes())
    first = call(uploads_api, api_event("confirm-upload", body={"upload_id": upload_id, "title": "Mug"}))
    again = call(uploads_api, api_event("confirm-upload", body={"upload_id": upload_id}))
    assert first[0] == 201 and again[0] == 200
    assert first[2]["data"]["status"] == "processing"
    assert again[2]["data"]["id"] == upload_id and again[2]["data"]["title"] == "Mug"


def test_confirm_rejects_oversized_put_and_removes_it():
    _, _, presigned = presign(size=100, method="PUT")
    upload_id = presigned["data"]["upload_id"]
    land(upload_id, jpeg_bytes())  # far more than the declared 100 bytes
    status, _, problem = call(uploads_api, api_event("confirm-upload", body={"upload_id": upload_id}))
    assert (status, problem["code"]) == (413, "payload_too_large")
    assert s3().list_objects_v2(Bucket=bucket(), Prefix=f"originals/demo/{upload_id}").get("KeyCount") == 0
    _, _, item = call(media_api, api_event("get-media", media_id=upload_id))
    assert item["data"]["status"] == "failed" and item["data"]["error"]["code"] == "too_large"


def test_confirm_rejects_bytes_of_another_kind():
    _, _, presigned = presign(size=100)
    upload_id = presigned["data"]["upload_id"]
    land(upload_id, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    status, _, problem = call(uploads_api, api_event("confirm-upload", body={"upload_id": upload_id}))
    assert (status, problem["code"]) == (415, "unsupported_media_type")


def test_confirm_of_another_tenants_upload_is_404():
    _, _, presigned = presign()
    event = api_event("confirm-upload", body={"upload_id": presigned["data"]["upload_id"]}, tenant_id="other")
    status, _, problem = call(uploads_api, event)
    assert (status, problem["code"]) == (404, "not_found")


def test_missing_scope_is_403():
    event = api_event(
        "presign-upload",
        body={"filename": "a.jpg", "content_type": "image/jpeg", "size": 5},
        scopes="media:read",
    )
    status, _, problem = call(uploads_api, event)
    assert (status, problem["code"]) == (403, "forbidden")


def test_patch_with_if_match_and_version_conflict():
    item = uploaded_item()
    version = item["version"]
    ok = call(
        media_api,
        api_event(
            "patch-media",
            media_id=item["id"],
            body={"alt": "New alt", "caption": "Hi"},
            headers={"If-Match": f'"{version}"'},
        ),
    )
    assert ok[0] == 200 and ok[2]["data"]["alt"] == "New alt" and ok[2]["data"]["version"] == version + 1
    stale = call(
        media_api,
        api_event(
            "patch-media", media_id=item["id"], body={"alt": "Other"}, headers={"If-Match": f'"{version}"'}
        ),
    )
    assert (stale[0], stale[2]["code"]) == (412, "precondition_failed")
    cleared = call(
        media_api,
        api_event("patch-media", media_id=item["id"], body={"alt": None}, headers={"If-Match": "*"}),
    )
    assert cleared[0] == 200 and cleared[2]["data"]["alt"] is None and cleared[2]["data"]["caption"] == "Hi"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"unknown": 1},
        {"filename": "a/b.jpg"},
        {"filename": None},
        {"alt": "x" * 501},
        {"focal_point": {"x": 101, "y": 5}},
        {"folder": "/a/../b"},
        "[]",
    ],
)
def test_patch_rejects_bad_bodies_and_changes_nothing(body):
    item = uploaded_item()
    status, _, problem = call(
        media_api, api_event("patch-media", media_id=item["id"], body=body, headers={"If-Match": "*"})
    )
    assert (status, problem["code"]) == (400, "validation_error")
    _, _, after = call(media_api, api_event("get-media", media_id=item["id"]))
    assert after["data"]["version"] == item["version"]


def test_delete_removes_original_and_variants_and_totals():
    item = uploaded_item()
    keys_before = s3().list_objects_v2(Bucket=bucket(), Prefix=f"variants/demo/{item['id']}/")["KeyCount"]
    assert keys_before == 4
    status, _, _ = call(media_api, api_event("delete-media", media_id=item["id"], headers={"If-Match": "*"}))
    assert status == 204
    assert s3().list_objects_v2(Bucket=bucket(), Prefix="originals/").get("KeyCount") == 0
    assert s3().list_objects_v2(Bucket=bucket(), Prefix="variants/").get("KeyCount") == 0
    _, _, listing = call(media_api, api_event("list-media", query=None))
    assert listing["pagination"]["total"] == 0
    assert call(media_api, api_event("get-media", media_id=item["id"]))[0] == 404


def test_delete_with_stale_if_match_is_412_and_keeps_everything():
    item = uploaded_item()
    status, _, problem = call(
        media_api, api_event("delete-media", media_id=item["id"], headers={"If-Match": '"999"'})
    )
    assert (status, problem["code"]) == (412, "precondition_failed")
    assert call(media_api, api_event("get-media", media_id=item["id"]))[0] == 200


def test_delete_whose_storage_step_fails_is_finished_by_the_sweeper(monkeypatch):
    item = uploaded_item()
    from medialib.adapters import object_storage

    def failing(**_):  # S3 answers the delete with a server error
        raise ClientError({"Error": {"Code": "InternalError", "Message": "down"}}, "DeleteObjects")

    monkeypatch.setattr(object_storage._client(), "delete_objects", failing)
    assert call(media_api, api_event("delete-media", media_id=item["id"]))[0] == 204
    assert s3().list_objects_v2(Bucket=bucket(), Prefix="originals/").get("KeyCount") == 1
    monkeypatch.undo()
    report = sweeper.lambda_handler(load_event("sweeper-scheduled"), CONTEXT)
    assert report["purged"] == 1
    assert s3().list_objects_v2(Bucket=bucket(), Prefix="originals/").get("KeyCount") == 0
    assert s3().list_objects_v2(Bucket=bucket(), Prefix="variants/").get("KeyCount") == 0


def test_duplicate_and_reordered_events_do_not_reprocess():
    data = jpeg_bytes()
    _, _, presigned = presign(size=len(data))
    record = land(presigned["data"]["upload_id"], data)
    body = {"upload_id": presigned["data"]["upload_id"]}
    assert call(uploads_api, api_event("confirm-upload", body=body))[0] == 201
    assert process_records(record, record) == {"batchItemFailures": []}
    _, _, first = call(media_api, api_event("get-media", media_id=presigned["data"]["upload_id"]))
    older = {**record, "sequencer": "0065F1A2B3C4D5E6F0"}
    assert process_records(record, older) == {"batchItemFailures": []}
    _, _, second = call(media_api, api_event("get-media", media_id=presigned["data"]["upload_id"]))
    assert second["data"]["version"] == first["data"]["version"]
    assert second["data"]["status"] == "ready"


@pytest.mark.parametrize("confirm_first", [True, False])
def test_corrupt_image_fails_with_stable_code(confirm_first):
    data = jpeg_bytes()[:600]  # a JPEG header with the scan cut off
    _, _, presigned = presign(size=len(data))
    upload_id = presigned["data"]["upload_id"]
    record = land(upload_id, data)
    confirm = api_event("confirm-upload", body={"upload_id": upload_id})
    if confirm_first:
        assert call(uploads_api, confirm)[0] == 201
    process_records(record)
    if not confirm_first:  # processed ahead of confirm: nothing listed until confirm
        assert call(media_api, api_event("get-media", media_id=upload_id))[0] == 404
        assert call(uploads_api, confirm)[0] == 201
    assert s3().list_objects_v2(Bucket=bucket(), Prefix=f"originals/demo/{upload_id}").get("KeyCount") == 0
    _, _, item = call(media_api, api_event("get-media", media_id=upload_id))
    assert item["data"]["status"] == "failed"
    assert item["data"]["error"]["code"] == "corrupt"
    assert item["data"]["url"] is None


def test_orphan_original_is_removed():
    record = land("med_01JD3Z8Q4W5E6R7T8Y9V0J1Q2P", jpeg_bytes())
    assert process_records(record) == {"batchItemFailures": []}
    assert s3().list_objects_v2(Bucket=bucket(), Prefix="originals/").get("KeyCount") == 0


def test_list_pages_with_offset_and_cursor_agree():
    ids = [uploaded_item(jpeg_bytes(200, 100))["id"] for _ in range(5)]
    newest_first = list(reversed(ids))
    _, _, page1 = call(media_api, api_event("list-media", query={"limit": "2"}))
    assert page1["media_ids"] == newest_first[:2] and page1["pagination"]["total"] == 5
    cursor = page1["pagination"]["next_cursor"]
    _, _, page2 = call(media_api, api_event("list-media", query={"limit": "2", "cursor": cursor}))
    _, _, offset2 = call(media_api, api_event("list-media", query={"limit": "2", "offset": "2"}))
    assert page2["media_ids"] == offset2["media_ids"] == newest_first[2:4]
    _, _, last = call(media_api, api_event("list-media", query={"limit": "2", "offset": "4"}))
    assert last["media_ids"] == newest_first[4:] and last["pagination"]["next_cursor"] is None
    _, _, asc = call(media_api, api_event("list-media", query={"order": "asc", "limit": "5"}))
    assert asc["media_ids"] == ids


def test_list_filters_and_totals():
    uploaded_item()
    _, _, presigned = presign(size=600)
    process_records(land(presigned["data"]["upload_id"], jpeg_bytes()[:600]))
    call(uploads_api, api_event("confirm-upload", body={"upload_id": presigned["data"]["upload_id"]}))
    _, _, ready = call(media_api, api_event("list-media", query={"status": "ready"}))
    _, _, failed = call(media_api, api_event("list-media", query={"status": "failed"}))
    _, _, images = call(media_api, api_event("list-media", query={"kind": "image", "status": "failed"}))
    _, _, videos = call(media_api, api_event("list-media", query={"kind": "video"}))
    assert ready["pagination"]["total"] == 1 and len(ready["data"]) == 1
    assert failed["pagination"]["total"] == 1 and failed["data"][0]["error"]["code"] == "corrupt"
    assert images["pagination"]["total"] == 1
    assert videos["pagination"]["total"] == 0 and videos["data"] == []


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"offset": "-1"},
        {"sort": "colour"},
        {"order": "up"},
        {"kind": "audio"},
        {"status": "pending"},
        {"cursor": "garbage"},
        {"folder": "/a/../b"},
    ],
)
def test_list_rejects_bad_query(query):
    status, _, problem = call(media_api, api_event("list-media", query=query))
    assert (status, problem["code"]) == (400, "validation_error")


def test_edited_or_foreign_cursor_is_rejected():
    for _ in range(3):
        uploaded_item(jpeg_bytes(200, 100))
    _, _, page = call(media_api, api_event("list-media", query={"limit": "1"}))
    cursor = page["pagination"]["next_cursor"]
    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    assert call(media_api, api_event("list-media", query={"limit": "1", "cursor": tampered}))[0] == 400
    foreign = api_event("list-media", query={"limit": "1", "cursor": cursor}, tenant_id="other")
    assert call(media_api, foreign)[0] == 400
    other_sort = api_event("list-media", query={"limit": "1", "cursor": cursor, "sort": "size"})
    assert call(media_api, other_sort)[0] == 400


def test_openapi_document_and_docs_are_served():
    status, _, document = call(docs_api, load_event("get-openapi"))
    assert status == 200 and document["openapi"].startswith("3.")
    for path in ("/v1/media", "/v1/media/{media_id}", "/v1/media/presign", "/v1/media/confirm"):
        assert path in document["paths"]
    status, headers, html = call(docs_api, load_event("get-docs"))
    assert status == 200 and headers["content-type"].startswith("text/html") and "swagger" in html.lower()


def test_sweeper_expires_unconfirmed_uploads():
    from datetime import UTC, datetime, timedelta

    from medialib.services.sweeping import sweep

    _, _, presigned = presign()
    upload_id = presigned["data"]["upload_id"]
    report = sweep(datetime.now(UTC) + timedelta(hours=3))
    assert report.expired == 1
    status, _, problem = call(uploads_api, api_event("confirm-upload", body={"upload_id": upload_id}))
    assert (status, problem["code"]) == (404, "not_found")


def test_idempotency_key_replays_the_first_presign_and_refuses_another_body():
    body = {"filename": "a.jpg", "content_type": "image/jpeg", "size": 10}
    first = call(uploads_api, api_event("presign-upload", body=body, headers={"Idempotency-Key": "k-1"}))
    again = call(uploads_api, api_event("presign-upload", body=body, headers={"idempotency-key": "k-1"}))
    assert first[0] == 201 and again[0] == 201
    assert again[2]["data"]["upload_id"] == first[2]["data"]["upload_id"]
    other = call(
        uploads_api,
        api_event("presign-upload", body={**body, "size": 11}, headers={"Idempotency-Key": "k-1"}),
    )
    assert (other[0], other[2]["code"]) == (422, "idempotency_key_reused")
    elsewhere = api_event("presign-upload", body=body, headers={"Idempotency-Key": "k-1"}, tenant_id="other")
    assert call(uploads_api, elsewhere)[2]["data"]["upload_id"] != first[2]["data"]["upload_id"]
    fresh = call(uploads_api, api_event("presign-upload", body=body))
    assert fresh[2]["data"]["upload_id"] != first[2]["data"]["upload_id"]
    too_long = call(
        uploads_api, api_event("presign-upload", body=body, headers={"Idempotency-Key": "x" * 256})
    )
    assert (too_long[0], too_long[2]["code"]) == (400, "validation_error")


def test_svg_originals_are_delivered_as_attachments():
    status, _, body = presign(filename="logo ünïcode.svg", content_type="image/svg+xml")
    assert status == 201
    assert (
        body["data"]["fields"]["Content-Disposition"]
        == "attachment; filename*=UTF-8''logo%20%C3%BCn%C3%AFcode.svg"
    )


def test_processing_that_races_a_confirm_settles_at_once(monkeypatch):
    from medialib.adapters import media_store

    data = jpeg_bytes()[:600]  # corrupt: processing will fail it
    _, _, presigned = presign(size=len(data))
    upload_id = presigned["data"]["upload_id"]
    record = land(upload_id, data)
    real_replace = media_store.replace
    raced = []

    def confirm_first(before, after, **kwargs):
        if not raced:  # the client's confirm lands between processing's read and its write
            raced.append(None)
            raced[0] = call(uploads_api, api_event("confirm-upload", body={"upload_id": upload_id}))[0]
        return real_replace(before, after, **kwargs)

    monkeypatch.setattr(media_store, "replace", confirm_first)
    assert process_records(record) == {"batchItemFailures": []}  # no retry through the queue
    assert raced == [201]
    _, _, item = call(media_api, api_event("get-media", media_id=upload_id))
    assert (item["data"]["status"], item["data"]["error"]["code"]) == ("failed", "corrupt")


def test_processing_never_revives_an_upload_discarded_as_a_copy(monkeypatch):
    from medialib.adapters import object_storage

    data = jpeg_bytes(300, 200)
    original = uploaded_item(data)
    _, _, presigned = presign(size=len(data))
    copy_id = presigned["data"]["upload_id"]
    record = land(copy_id, data)
    real_put_variant = object_storage.put_variant
    discarded = []

    def discard_first(key, body):
        if not discarded:  # confirm(return_existing) discards the copy while it is being processed
            confirm = api_event(
                "confirm-upload", body={"upload_id": copy_id, "on_duplicate": "return_existing"}
            )
            discarded.append(call(uploads_api, confirm))
        return real_put_variant(key, body)

    monkeypatch.setattr(object_storage, "put_variant", discard_first)
    assert process_records(record) == {"batchItemFailures": []}
    assert discarded[0][0] == 200 and discarded[0][2]["data"]["id"] == original["id"]
    assert call(media_api, api_event("get-media", media_id=copy_id))[0] == 404
    assert s3().list_objects_v2(Bucket=bucket(), Prefix=f"variants/demo/{copy_id}/").get("KeyCount") == 0
    assert s3().list_objects_v2(Bucket=bucket(), Prefix=f"originals/demo/{copy_id}").get("KeyCount") == 0
    _, _, listing = call(media_api, api_event("list-media", query=None))
    assert listing["media_ids"] == [original["id"]] and listing["pagination"]["total"] == 1


def test_sweeper_processes_items_whose_event_was_lost():
    from datetime import UTC, datetime, timedelta

    from medialib.services.sweeping import sweep

    data = jpeg_bytes(640, 480)
    _, _, presigned = presign(size=len(data))
    upload_id = presigned["data"]["upload_id"]
    land(upload_id, data)  # its storage event never reaches the queue
    assert call(uploads_api, api_event("confirm-upload", body={"upload_id": upload_id}))[0] == 201
    assert sweep(datetime.now(UTC) + timedelta(minutes=5)).reprocessed == {}  # not stalled yet
    report = sweep(datetime.now(UTC) + timedelta(minutes=20))
    assert report.reprocessed == {upload_id: "ready"}
    _, _, item = call(media_api, api_event("get-media", media_id=upload_id))
    assert item["data"]["status"] == "ready"
    assert [v["name"] for v in item["data"]["variants"]] == ["400", "150"]
