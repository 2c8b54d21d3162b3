"""Public read and duplicate detection through the real handlers, on moto, with the sample
events from events/."""

from __future__ import annotations

import hashlib

import boto3
import pytest

from medialib.services import api_keys
from tests.support.api import (
    bucket,
    catalogue,
    distinct_jpeg,
    get_item,
    jpeg_bytes,
    land,
    listing,
    make_item,
    media,
    presign,
    problem_of,
    process_records,
    public,
    snapshot,
    total,
    uploads,
)
from tests.support.aws import mocked_aws

PUBLIC_FIELDS = {
    "id",
    "kind",
    "filename",
    "content_type",
    "width",
    "height",
    "alt",
    "url",
    "variants",
    "focal_point",
    "placeholder",
}
UNKNOWN_MEDIA = "med_00000000000000000000000000"


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def public_list(tenant: str = "shop", **query):
    return public("public-list-media", path={"tenant": tenant}, query=query or None)


def public_get(media_id: str, tenant: str = "shop"):
    return public("public-get-media", path={"tenant": tenant, "media_id": media_id})


def stored_keys(prefix: str) -> int:
    return boto3.client("s3").list_objects_v2(Bucket=bucket(), Prefix=prefix).get("KeyCount", 0)


def upload(data: bytes, filename: str = "upload.jpg", tenant_id: str = "demo", **presign_extra) -> str:
    """Presign and store the bytes (not confirmed); returns the upload id."""
    status, _, presigned = presign(filename, size=len(data), tenant_id=tenant_id, **presign_extra)
    assert status == 201, presigned
    upload_id = presigned["data"]["upload_id"]
    land(upload_id, data, tenant_id)
    return upload_id


def confirm(upload_id: str, tenant_id: str = "demo", **body):
    return uploads("confirm-upload", body={"upload_id": upload_id, **body}, tenant_id=tenant_id)


def check(files, tenant_id="demo", scopes="media:read"):
    return uploads("check-duplicates", body={"files": files}, tenant_id=tenant_id, scopes=scopes)


# ---------------------------------------------------------------- public read


@pytest.fixture
def shop():
    """A public tenant with two ready items, and one of each state that must stay hidden."""
    api_keys.create_tenant("shop", public=True)
    catalogue("create-folder", body={"path": "/brand"}, tenant_id="shop")
    first = make_item("mug.jpg", tenant_id="shop")
    second = make_item("logo.jpg", tenant_id="shop", folder="/brand", alt="Our logo")
    failed_data = jpeg_bytes(400, 300)[:600]
    failed = upload(failed_data, "broken.jpg", tenant_id="shop")
    confirm(failed, tenant_id="shop")  # unconfirmed uploads are never listed
    process_records(land(failed, failed_data, "shop"))
    processing = upload(distinct_jpeg(), "slow.jpg", tenant_id="shop")
    assert confirm(processing, tenant_id="shop")[0] == 201
    pending = upload(distinct_jpeg(), "open.jpg", tenant_id="shop")
    assert total("shop") == 4
    return {
        "ready": [first, second],
        "hidden": [failed, processing, pending],
    }


def test_public_list_shows_ready_items_with_reduced_fields_and_cache_headers(shop):
    private = make_item()  # tenant demo, not public
    status, headers, body = public_list()
    assert status == 200
    assert headers["cache-control"] == "public, max-age=60"
    assert headers["access-control-allow-origin"] == "*"
    assert headers["content-type"] == "application/json"
    newest_first = [item["id"] for item in reversed(shop["ready"])]
    assert [item["id"] for item in body["data"]] == newest_first
    assert body["pagination"] == {"limit": 24, "offset": 0, "total": 2, "total_is_estimate": False}
    for item in body["data"]:
        assert set(item) == PUBLIC_FIELDS
    full = {item["id"]: item for item in shop["ready"]}
    for item in body["data"]:
        assert {k: full[item["id"]][k] for k in PUBLIC_FIELDS} == item
        assert item["url"].startswith("https://cdn.example.test/originals/shop/")
        assert item["variants"] and item["placeholder"]["blurhash"]
    assert private["id"] not in [item["id"] for item in body["data"]]


def test_public_list_filters_and_pages(shop):
    first, second = shop["ready"]
    status, _, body = public_list(folder="/brand")
    assert status == 200 and [i["id"] for i in body["data"]] == [second["id"]]
    assert body["pagination"]["total"] == 1
    assert [i["id"] for i in public_list(folder="/")[2]["data"]] == [first["id"]]
    assert public_list(kind="image")[2]["pagination"]["total"] == 2
    assert public_list(kind="video")[2] == {
        "data": [],
        "pagination": {"limit": 24, "offset": 0, "total": 0, "total_is_estimate": False},
    }
    status, _, page = public_list(limit="1", offset="1")
    assert [i["id"] for i in page["data"]] == [first["id"]]
    assert page["pagination"] == {"limit": 1, "offset": 1, "total": 2, "total_is_estimate": False}
    result = public_list(status="failed")  # not a public filter: it never widens the list
    if result[0] == 200:
        assert {i["id"] for i in result[2]["data"]} == {first["id"], second["id"]}
    else:
        assert problem_of(result) == (400, "validation_error")


def test_public_item_is_served_only_when_ready(shop):
    first = shop["ready"][0]
    status, headers, body = public_get(first["id"])
    assert status == 200
    assert headers["cache-control"] == "public, max-age=3600"
    assert headers["access-control-allow-origin"] == "*"
    assert set(body["data"]) == PUBLIC_FIELDS and body["data"]["id"] == first["id"]
    for hidden in shop["hidden"]:
        assert problem_of(public_get(hidden)) == (404, "not_found")
    assert problem_of(public_get(UNKNOWN_MEDIA)) == (404, "not_found")
    foreign = make_item()  # another tenant's ready item, through this tenant's path
    assert problem_of(public_get(foreign["id"])) == (404, "not_found")
    assert problem_of(public_get("med_bad")) == (400, "validation_error")


def test_public_read_is_404_for_tenants_without_public_access(shop):
    api_keys.create_tenant("private")
    hidden = make_item(tenant_id="private")
    for tenant in ("private", "nobody", "demo"):
        assert problem_of(public_list(tenant)) == (404, "not_found"), tenant
    assert problem_of(public_get(hidden["id"], tenant="private")) == (404, "not_found")
    ready = shop["ready"][0]["id"]
    api_keys.update_tenant("shop", public=False)
    assert problem_of(public_list()) == (404, "not_found")
    assert problem_of(public_get(ready)) == (404, "not_found")
    api_keys.update_tenant("shop", public=True)
    assert public_list()[0] == 200 and public_get(ready)[0] == 200
    api_keys.update_tenant("private", public=True)
    assert [i["id"] for i in public_list("private")[2]["data"]] == [hidden["id"]]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"offset": "-1"},
        {"offset": "10001"},
        {"kind": "audio"},
        {"folder": "/a/../b"},
        {"folder": "brand"},
    ],
)
def test_public_list_rejects_bad_queries(shop, query):
    assert problem_of(public_list(**query)) == (400, "validation_error")


def test_public_tenant_outside_the_pattern_is_rejected(shop):
    for tenant in ("Shop", "-shop", "s" * 64, "shop_1"):
        status, _ = problem_of(public_list(tenant))
        assert status in (400, 404), tenant


# ---------------------------------------------------------------- check-duplicates


def test_check_duplicates_by_sha256_when_given_else_by_filename_and_size():
    mug_bytes, logo_bytes = distinct_jpeg(), distinct_jpeg(300, 150)
    mug = make_item("red-mug.jpg", mug_bytes)
    logo = make_item("logo.png", logo_bytes)
    assert mug["sha256"] == sha(mug_bytes)
    files = [
        {"filename": "renamed.jpg", "size": 1, "sha256": sha(mug_bytes)},
        {"filename": "red-mug.jpg", "size": len(mug_bytes)},
        {"filename": "red-mug.jpg", "size": len(mug_bytes) + 1},
        {"filename": "red-mug.jpg", "size": len(mug_bytes), "sha256": "0" * 64},
        {"filename": "logo.png", "size": len(logo_bytes), "sha256": sha(logo_bytes).upper()},
        {"filename": "new.jpg", "size": 10},
    ]
    status, _, body = check(files)
    assert status == 200
    mug_existing = [{"id": mug["id"], "url": mug["url"], "created_at": mug["created_at"]}]
    logo_existing = [{"id": logo["id"], "url": logo["url"], "created_at": logo["created_at"]}]
    assert body["data"]["duplicates"] == [
        {"filename": "renamed.jpg", "size": 1, "sha256": sha(mug_bytes), "existing": mug_existing},
        {"filename": "red-mug.jpg", "size": len(mug_bytes), "sha256": None, "existing": mug_existing},
        {
            "filename": "logo.png",
            "size": len(logo_bytes),
            "sha256": sha(logo_bytes),
            "existing": logo_existing,
        },
    ]
    status, _, theirs = check(files, tenant_id="other")
    assert status == 200 and theirs["data"]["duplicates"] == []


def test_check_duplicates_lists_every_copy_and_forgets_deleted_and_failed_ones():
    data = distinct_jpeg()
    one = make_item("a.jpg", data)
    two = make_item("b.jpg", data)
    status, _, body = check([{"filename": "x.jpg", "size": 5, "sha256": sha(data)}])
    assert status == 200
    assert sorted(e["id"] for e in body["data"]["duplicates"][0]["existing"]) == sorted(
        [one["id"], two["id"]]
    )
    assert media("delete-media", media_id=one["id"])[0] == 204
    _, _, body = check([{"filename": "x.jpg", "size": 5, "sha256": sha(data)}])
    assert [e["id"] for e in body["data"]["duplicates"][0]["existing"]] == [two["id"]]
    broken = jpeg_bytes(400, 300)[:600]
    failed = upload(broken, "broken.jpg")
    confirm(failed)  # unconfirmed uploads are never listed
    process_records(land(failed, broken))
    assert get_item(failed)["status"] == "failed" and get_item(failed)["sha256"] == sha(broken)
    _, _, body = check(
        [
            {"filename": "x.jpg", "size": 5, "sha256": sha(broken)},
            {"filename": "broken.jpg", "size": len(broken)},
        ]
    )
    assert body["data"]["duplicates"] == []


def test_check_duplicates_accepts_100_files():
    files = [{"filename": f"f{i}.jpg", "size": i} for i in range(100)]
    status, _, body = check(files)
    assert status == 200 and body["data"]["duplicates"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"files": [{"filename": f"f{i}.jpg", "size": i} for i in range(101)]},
        {"files": []},
        {},
        {"files": "a.jpg"},
        {"files": [{"filename": "a.jpg", "size": 1, "sha256": "xyz"}]},
        {"files": [{"filename": "a.jpg", "size": 1, "sha256": "a" * 63}]},
        {"files": [{"filename": "a.jpg", "size": -1}]},
        {"files": [{"filename": "a/b.jpg", "size": 1}]},
        {"files": [{"filename": "", "size": 1}]},
        {"files": [{"size": 1}]},
        {"files": [{"filename": "a.jpg", "size": 1, "md5": "x"}]},
        {"files": [], "more": True},
        "{not json",
    ],
)
def test_check_duplicates_rejects_bad_input(body):
    make_item()
    before = snapshot()
    result = uploads("check-duplicates", body=body)
    assert problem_of(result) == (400, "validation_error")
    assert snapshot() == before


def test_check_duplicates_needs_the_read_scope():
    files = [{"filename": "a.jpg", "size": 1}]
    assert problem_of(check(files, scopes="media:write media:delete")) == (403, "forbidden")
    assert check(files, scopes="media:read")[0] == 200


# ---------------------------------------------------------------- on_duplicate


def test_confirm_reject_refuses_a_duplicate_and_discards_the_upload():
    data = distinct_jpeg()
    existing = make_item("original.jpg", data)
    before = snapshot()
    upload_id = upload(data, "copy.jpg")
    status, headers, problem = confirm(upload_id, on_duplicate="reject")
    assert (status, problem["code"]) == (409, "duplicate")
    assert headers["content-type"] == "application/problem+json"
    assert problem["existing"]["id"] == existing["id"]
    assert get_item(upload_id) is None
    assert stored_keys(f"originals/demo/{upload_id}") == 0
    assert snapshot() == before
    assert get_item(existing["id"])["version"] == existing["version"]


def test_confirm_return_existing_answers_with_the_existing_item_and_discards_the_upload():
    data = distinct_jpeg()
    existing = make_item("original.jpg", data)
    before = snapshot()
    upload_id = upload(data, "copy.jpg", alt="ignored")
    status, headers, body = confirm(upload_id, on_duplicate="return_existing")
    assert status == 200
    assert body["data"] == existing
    assert headers["etag"] == f'"{existing["version"]}"'
    assert get_item(upload_id) is None
    assert stored_keys(f"originals/demo/{upload_id}") == 0
    assert snapshot() == before


def test_a_duplicate_already_processed_before_confirm_is_discarded_with_its_variants():
    data = distinct_jpeg(1000, 500)
    existing = make_item("original.jpg", data)
    before = snapshot()
    upload_id = upload(data, "copy.jpg")
    process_records(land(upload_id, data))  # processing ran before the client confirmed
    assert stored_keys(f"variants/demo/{upload_id}/") > 0
    status, _, problem = confirm(upload_id, on_duplicate="reject")
    assert (status, problem["code"]) == (409, "duplicate")
    assert stored_keys(f"originals/demo/{upload_id}") == 0
    assert stored_keys(f"variants/demo/{upload_id}/") == 0
    assert get_item(upload_id) is None
    assert snapshot() == before
    assert get_item(existing["id"]) == existing


def test_on_duplicate_given_at_presign_applies_unless_confirm_overrides_it():
    data = distinct_jpeg()
    existing = make_item("original.jpg", data)
    rejected = upload(data, on_duplicate="reject")
    assert problem_of(confirm(rejected)) == (409, "duplicate")
    returned = upload(data, on_duplicate="return_existing")
    status, _, body = confirm(returned)
    assert status == 200 and body["data"]["id"] == existing["id"]
    overridden = upload(data, on_duplicate="reject")
    status, _, body = confirm(overridden, on_duplicate="allow")
    assert status == 201 and body["data"]["id"] == overridden
    overridden_too = upload(data, on_duplicate="return_existing")
    assert problem_of(confirm(overridden_too, on_duplicate="reject")) == (409, "duplicate")
    assert total() == 2


def test_allow_is_the_default_and_keeps_both_copies():
    data = distinct_jpeg()
    existing = make_item("original.jpg", data)
    copy = make_item("copy.jpg", data)
    assert copy["id"] != existing["id"] and copy["sha256"] == existing["sha256"]
    assert total() == 2
    _, _, body = check([{"filename": "x.jpg", "size": 1, "sha256": sha(data)}])
    assert len(body["data"]["duplicates"][0]["existing"]) == 2


def test_duplicates_are_decided_from_the_stored_bytes_not_the_declared_name_or_size():
    data = distinct_jpeg()
    existing = make_item("original.jpg", data)
    other = distinct_jpeg()
    same_name = upload(other, "original.jpg")
    status, _, body = confirm(same_name, on_duplicate="reject")
    assert status == 201 and body["data"]["id"] == same_name
    same_bytes = upload(data, "something-else.jpg")
    status, _, problem = confirm(same_bytes, on_duplicate="reject")
    assert (status, problem["code"], problem["existing"]["id"]) == (409, "duplicate", existing["id"])


def test_only_this_tenants_ready_copies_count_as_duplicates():
    data = distinct_jpeg()
    make_item("theirs.jpg", data, tenant_id="other")
    mine = upload(data, "mine.jpg")
    status, _, body = confirm(mine, on_duplicate="reject")
    assert status == 201 and body["data"]["id"] == mine
    broken = jpeg_bytes(400, 300)[:600]
    failed = upload(broken, "broken.jpg")
    confirm(failed)  # unconfirmed uploads are never listed
    process_records(land(failed, broken))
    assert get_item(failed)["status"] == "failed"
    again = upload(broken, "broken-again.jpg")
    assert confirm(again, on_duplicate="reject")[0] == 201


@pytest.mark.parametrize("value", ["skip", "", None, "REJECT", 1])
def test_bad_on_duplicate_values_are_rejected(value):
    data = distinct_jpeg()
    before = snapshot()
    status, _, problem = presign("a.jpg", size=len(data), on_duplicate=value)
    assert (status, problem["code"]) == (400, "validation_error")
    upload_id = upload(data)
    assert problem_of(confirm(upload_id, on_duplicate=value)) == (400, "validation_error")
    assert snapshot() == before
    assert confirm(upload_id)[0] == 201


def test_a_repeated_return_existing_confirm_returns_the_existing_item_again():
    data = distinct_jpeg()
    existing = make_item("original.jpg", data)
    upload_id = upload(data, "copy.jpg")
    first = confirm(upload_id, on_duplicate="return_existing")
    assert first[0] == 200 and first[2]["data"]["id"] == existing["id"]
    again = confirm(upload_id, on_duplicate="return_existing")
    assert again[0] == 200 and again[2]["data"]["id"] == existing["id"]


def test_listing_never_shows_a_discarded_duplicate():
    data = distinct_jpeg()
    existing = make_item("original.jpg", data)
    for policy in ("reject", "return_existing"):
        confirm(upload(data, f"{policy}.jpg"), on_duplicate=policy)
    assert listing()["media_ids"] == [existing["id"]]
    assert total(status="processing") == 0 and total(unused="true") == 1
