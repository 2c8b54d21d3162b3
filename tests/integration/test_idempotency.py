"""Idempotency-Key through the real handlers, on moto: a key names one request (tenant, method,
concrete path), only final responses are remembered, and a remembered response is replayed
only to a key allowed to see it."""

from __future__ import annotations

import pytest

from tests.support.api import (
    catalogue,
    distinct_jpeg,
    get_item,
    land,
    make_item,
    presign,
    problem_of,
    uploads,
)
from tests.support.aws import mocked_aws

READ_ONLY = "media:read"
KEY = {"Idempotency-Key": "retry-7c1e"}


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


def presign_body(size: int = 1000) -> dict:
    return {"filename": "mug.jpg", "content_type": "image/jpeg", "size": size}


def test_the_same_key_and_body_on_two_items_tags_both():
    assert catalogue("create-tag", body={"name": "Summer Sale"})[0] == 201
    first, second = make_item("a.jpg")["id"], make_item("b.jpg")["id"]
    body = {"slug": "summer-sale"}

    for media_id in (first, second):
        status, _, tags = catalogue("add-item-tag", media_id=media_id, body=body, headers=KEY)
        assert status == 201, tags

    assert get_item(second)["tags"] == ["summer-sale"], "the second item was answered from the first"
    assert get_item(first)["tags"] == ["summer-sale"]


def test_a_confirm_sent_before_the_upload_landed_is_not_remembered():
    data = distinct_jpeg()
    upload_id = presign(size=len(data))[2]["data"]["upload_id"]
    confirm = {"upload_id": upload_id}

    early = uploads("confirm-upload", body=confirm, headers=KEY)
    assert problem_of(early) == (409, "upload_missing")
    land(upload_id, data)
    status, _, confirmed = uploads("confirm-upload", body=confirm, headers=KEY)
    assert status == 201 and confirmed["data"]["id"] == upload_id

    # The 201 is final: a retry gets it again, not the repeat-confirm 200.
    status, _, replayed = uploads("confirm-upload", body=confirm, headers=KEY)
    assert (status, replayed) == (201, confirmed)


def test_a_forbidden_answer_is_not_replayed_to_a_key_that_holds_the_scope():
    refused = uploads("presign-upload", body=presign_body(), headers=KEY, scopes=READ_ONLY)
    assert problem_of(refused) == (403, "forbidden")

    status, _, presigned = uploads("presign-upload", body=presign_body(), headers=KEY)
    assert status == 201 and presigned["data"]["upload_id"]


def test_a_stored_answer_is_never_replayed_to_a_key_lacking_the_scope():
    status, _, presigned = uploads("presign-upload", body=presign_body(), headers=KEY)
    assert status == 201

    replayed = uploads("presign-upload", body=presign_body(), headers=KEY, scopes=READ_ONLY)
    assert problem_of(replayed) == (403, "forbidden")
    assert "upload_id" not in replayed[2].get("data", {})
    # The stored answer is still there for the keys allowed to see it.
    again = uploads("presign-upload", body=presign_body(), headers=KEY)
    assert again[2] == presigned


def test_a_validation_error_is_not_remembered_so_the_corrected_body_runs():
    bad = uploads("presign-upload", body={**presign_body(), "size": "1000"}, headers=KEY)
    assert problem_of(bad) == (400, "validation_error")

    status, _, presigned = uploads("presign-upload", body=presign_body(), headers=KEY)
    assert status == 201 and presigned["data"]["upload_id"]


def test_a_too_large_declaration_is_final_and_remembered():
    too_large = uploads("presign-upload", body=presign_body(size=10**12), headers=KEY)
    assert problem_of(too_large) == (413, "payload_too_large")

    # Remembered: the same key with another body is a reused key, not a fresh presign.
    reused = uploads("presign-upload", body=presign_body(), headers=KEY)
    assert problem_of(reused) == (422, "idempotency_key_reused")


def test_a_missing_folder_is_not_remembered_once_the_folder_exists():
    body = {**presign_body(), "folder": "/later"}
    assert problem_of(uploads("presign-upload", body=body, headers=KEY)) == (404, "not_found")
    assert catalogue("create-folder", body={"path": "/later"})[0] == 201

    status, _, presigned = uploads("presign-upload", body=body, headers=KEY)
    assert status == 201 and presigned["data"]["upload_id"]


def test_the_same_key_on_another_route_is_another_request():
    assert catalogue("create-folder", body={"path": "/shared-key"}, headers=KEY)[0] == 201
    status, _, tag = catalogue("create-tag", body={"name": "Shared Key"}, headers=KEY)
    assert status == 201 and tag["data"]["slug"] == "shared-key"
