"""Valid or near-valid input through the real handlers, on moto: every client mistake is a
400 (or 415) problem, never a 5xx, and names at the byte limit fit every key."""

from __future__ import annotations

import base64
import json

import pytest
import uploads_api

from tests.support.api import (
    all_ids,
    call,
    catalogue,
    distinct_jpeg,
    land,
    make_item,
    media,
    presign,
    problem_of,
    process_records,
    uploads,
)
from tests.support.aws import mocked_aws
from tests.support.events import api_event

EMOJI_NAME = "\U0001f600" * 251  # 251 characters, 1,004 bytes
IOTA_NAME = "\u0390" * 171  # 171 characters, 342 bytes, 1,026 bytes once casefolded


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


def if_match(item: dict) -> dict[str, str]:
    return {"If-Match": f'"{item["version"]}"'}


def presign_text(body: str, **kwargs) -> tuple:
    """Presign with a raw body, exactly as the client wrote it."""
    return uploads("presign-upload", body=body, **kwargs)


@pytest.mark.parametrize("filename", [EMOJI_NAME, IOTA_NAME, "photo\u200b.jpg", "a\u2215b.jpg"])
def test_presign_refuses_filenames_whose_keys_overflow_or_that_hide_characters(filename):
    assert problem_of(presign(filename)) == (400, "validation_error")


@pytest.mark.parametrize("filename", [EMOJI_NAME, IOTA_NAME, "evil\u202egpj.exe", "a\uff0fb.jpg"])
def test_patch_refuses_the_same_filenames_and_changes_nothing(filename):
    item = make_item("kept.jpg")
    result = media("patch-media", media_id=item["id"], body={"filename": filename}, headers=if_match(item))
    assert problem_of(result) == (400, "validation_error")
    assert media("get-media", media_id=item["id"])[2]["data"]["filename"] == "kept.jpg"


def test_check_duplicates_refuses_an_overflowing_filename():
    body = {"files": [{"filename": IOTA_NAME, "size": 10}]}
    assert problem_of(uploads("check-duplicates", body=body)) == (400, "validation_error")


def test_a_name_at_the_byte_limit_is_confirmed_processed_and_sorted():
    name = "\U0001f600" * 190 + ".jpg"  # 764 bytes, 194 characters
    data = distinct_jpeg()
    status, _, presigned = presign(name, len(data))
    assert status == 201, presigned
    upload_id = presigned["data"]["upload_id"]
    record = land(upload_id, data)
    status, _, confirmed = uploads("confirm-upload", body={"upload_id": upload_id})
    assert status == 201, confirmed
    assert process_records(record) == {"batchItemFailures": []}
    assert all_ids(sort="filename", order="asc") == [upload_id]
    body = {"files": [{"filename": name, "size": len(data)}]}
    found = uploads("check-duplicates", body=body)[2]["data"]["duplicates"]
    assert [match["existing"][0]["id"] for match in found] == [upload_id]


@pytest.mark.parametrize(
    "body",
    [
        '{"filename": "a\\ud800.jpg", "content_type": "image/jpeg", "size": 10}',
        '{"filename": "a.jpg", "content_type": "image/jpeg", "size": 10, "alt": "\\udfff"}',
        '{"filename": "a.jpg", "content_type": "image/jpeg", "size": 1' + "0" * 4999 + "}",
        '{"filename": "a.jpg", "content_type": "image/jpeg", "size": NaN}',
        "[" * 100_000 + "]" * 100_000,
        '{"filename": "a.jpg", "x": ' + "[" * 40 + "]" * 40 + "}",
        '{"filename": "a.jpg", "content_type": "image/jpeg", "size": 10',
    ],
    ids=["surrogate", "surrogate-alt", "5000-digits", "nan", "deep", "deeper-than-32", "truncated"],
)
def test_bodies_no_parser_should_accept_are_400(body):
    assert problem_of(presign_text(body)) == (400, "validation_error")


def test_a_lone_surrogate_in_a_patch_is_400_not_a_failed_write():
    item = make_item("kept.jpg")
    body = '{"alt": "caf\\udce9"}'
    result = media("patch-media", media_id=item["id"], body=body, headers=if_match(item))
    assert problem_of(result) == (400, "validation_error")


def test_a_base64_body_that_is_not_utf8_is_400():
    event_body = base64.b64encode(b'{"filename": "\xff\xfe.jpg"}').decode()
    event = api_event("presign-upload", body=event_body)
    event["isBase64Encoded"] = True
    assert problem_of(call(uploads_api, event)) == (400, "validation_error")


def test_a_base64_json_body_is_read():
    body = json.dumps({"filename": "b64.jpg", "content_type": "image/jpeg", "size": 10})
    event = api_event("presign-upload", body=base64.b64encode(body.encode()).decode())
    event["isBase64Encoded"] = True
    assert call(uploads_api, event)[0] == 201


@pytest.mark.parametrize("size", [True, "10", 10.0, 5 * 1024**4 + 1])
def test_presign_size_is_a_strict_bounded_integer(size):
    body = {"filename": "a.jpg", "content_type": "image/jpeg", "size": size}
    assert problem_of(uploads("presign-upload", body=body)) == (400, "validation_error")


@pytest.mark.parametrize(
    ("event", "body"),
    [
        ("patch-media", {"focal_point": {"x": "10", "y": 20}}),
        ("patch-media", {"focal_point": {"x": True, "y": 20}}),
        ("patch-media", {"title": 5}),
        ("patch-tag", {"order": "3"}),
        ("create-tag", {"name": "Brand", "color": 16711680}),
        ("check-duplicates", {"files": [{"filename": "a.jpg", "size": "10"}]}),
    ],
)
def test_every_request_model_refuses_coercible_types(event, body):
    handler = media if event == "patch-media" else uploads if event == "check-duplicates" else catalogue
    kwargs: dict = {}
    if event == "patch-media":
        item = make_item("a.jpg")
        kwargs = {"media_id": item["id"], "headers": if_match(item)}
    assert problem_of(handler(event, body=body, **kwargs)) == (400, "validation_error")


def test_query_parameters_still_parse_numbers_and_booleans():
    make_item("q.jpg")
    status, _, page = media("list-media", query={"limit": "5", "offset": "0", "unused": "true"})
    assert status == 200 and page["pagination"]["limit"] == 5


@pytest.mark.parametrize(
    "query", [{"query": "caf\udce9"}, {"limit": "1" + "0" * 5000}, {"folder": "/a\ud800"}]
)
def test_bad_query_strings_are_400(query):
    assert problem_of(media("list-media", query=query)) == (400, "validation_error")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "multipart/form-data", "application/x-www-form-urlencoded"]
)
def test_a_body_that_is_not_json_is_415(content_type):
    body = json.dumps({"filename": "a.jpg", "content_type": "image/jpeg", "size": 10})
    result = uploads("presign-upload", body=body, headers={"Content-Type": content_type})
    assert problem_of(result) == (415, "unsupported_media_type")


def test_an_empty_body_with_another_content_type_is_415_not_500():
    result = uploads("presign-upload", body=None, headers={"Content-Type": "text/plain"})
    assert problem_of(result) == (415, "unsupported_media_type")
