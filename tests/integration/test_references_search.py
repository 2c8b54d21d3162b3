"""Entity references, search, sorting, pagination and totals through the real handlers, on
moto, with the sample events from events/."""

from __future__ import annotations

import boto3
import pytest

from medialib.adapters import catalogue_store, media_listing, media_store
from tests.support.api import (
    all_ids,
    assert_totals_match_listings,
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
    seed_items,
    snapshot,
    total,
    uploads,
)
from tests.support.aws import mocked_aws

PRODUCT = {"entity_type": "product", "entity_id": "p_123"}
POST = {"entity_type": "blog_post", "entity_id": "gid:shop.Post-7_b"}
UNKNOWN_MEDIA = "med_00000000000000000000000000"


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


def put_entity(media_ids, entity=PRODUCT, tenant_id="demo"):
    return catalogue("put-entity-media", path=entity, body={"media_ids": media_ids}, tenant_id=tenant_id)


def entity_ids(entity=PRODUCT, tenant_id="demo") -> list[str]:
    status, _, body = catalogue("get-entity-media", path=entity, tenant_id=tenant_id)
    assert status == 200, body
    assert body["media_ids"] == [item["id"] for item in body["data"]]
    return body["media_ids"]


def used_by(media_id: str) -> list[dict]:
    return get_item(media_id)["used_by"]


def ref(entity) -> dict:
    return {"type": entity["entity_type"], "id": entity["entity_id"]}


def delete(media_id: str, **query):
    return media("delete-media", media_id=media_id, query=query or None)


def processing_item(filename="processing.jpg") -> str:
    data = distinct_jpeg()
    _, _, presigned = presign(filename, size=len(data))
    upload_id = presigned["data"]["upload_id"]
    land(upload_id, data)
    assert uploads("confirm-upload", body={"upload_id": upload_id})[0] == 201
    return upload_id


def failed_item(filename="broken.jpg") -> str:
    data = jpeg_bytes(400, 300)[:600]  # a JPEG header with the scan cut off
    _, _, presigned = presign(filename, size=len(data))
    upload_id = presigned["data"]["upload_id"]
    record = land(upload_id, data)
    uploads("confirm-upload", body={"upload_id": upload_id})  # unconfirmed uploads are never listed
    process_records(record)
    assert get_item(upload_id)["status"] == "failed"
    return upload_id


def pending_upload() -> str:
    return presign()[2]["data"]["upload_id"]


# ---------------------------------------------------------------- references


def test_put_entity_media_attaches_reorders_and_detaches_in_one_call():
    a, b, c = (make_item(f"{n}.jpg")["id"] for n in "abc")
    assert entity_ids() == []
    status, _, body = put_entity([a, b])
    assert status == 200 and body["media_ids"] == [a, b]
    assert [item["used_by"] for item in body["data"]] == [[ref(PRODUCT)], [ref(PRODUCT)]]
    assert entity_ids() == [a, b]
    assert used_by(a) == [ref(PRODUCT)] and used_by(c) == []
    status, _, body = put_entity([c, b])  # attach c, keep b (moved), detach a
    assert status == 200 and body["media_ids"] == [c, b]
    assert entity_ids() == [c, b]
    assert used_by(a) == [] and used_by(b) == [ref(PRODUCT)] and used_by(c) == [ref(PRODUCT)]
    b_version = get_item(b)["version"]
    assert put_entity([b, c, b])[2]["media_ids"] == [b, c]  # reorder only; repeats collapse
    assert get_item(b)["version"] == b_version  # a reorder touches only the entity
    assert entity_ids() == [b, c]
    assert put_entity([])[0] == 200
    assert entity_ids() == []
    assert [used_by(i) for i in (a, b, c)] == [[], [], []]
    assert total(unused="true") == 3
    assert_totals_match_listings()


def test_an_item_lists_every_entity_that_uses_it_and_entities_are_per_tenant():
    item = make_item()["id"]
    other = make_item()["id"]
    assert put_entity([item], PRODUCT)[0] == 200
    assert put_entity([other, item], POST)[0] == 200
    assert used_by(item) == [ref(PRODUCT), ref(POST)]
    assert used_by(other) == [ref(POST)]
    assert entity_ids(POST) == [other, item]
    assert entity_ids(PRODUCT, tenant_id="other") == []
    assert problem_of(put_entity([item], PRODUCT, tenant_id="other")) == (400, "validation_error")
    listed = {entry["id"]: entry["used_by"] for entry in listing()["data"]}
    assert listed == {item: [ref(PRODUCT), ref(POST)], other: [ref(POST)]}


def test_unknown_media_ids_are_listed_and_nothing_changes():
    kept = make_item()["id"]
    put_entity([kept])
    foreign = make_item(tenant_id="other")["id"]
    pending = pending_upload()
    gone = make_item()["id"]
    assert delete(gone)[0] == 204
    before = snapshot()
    status, _, problem = put_entity([kept, UNKNOWN_MEDIA, foreign, pending, gone])
    assert (status, problem["code"]) == (400, "validation_error")
    reported = " ".join(error["message"] for error in problem["errors"])
    for media_id in (UNKNOWN_MEDIA, foreign, pending, gone):
        assert media_id in reported
    assert kept not in reported
    assert {error["field"] for error in problem["errors"]} == {"media_ids"}
    assert snapshot() == before
    assert entity_ids() == [kept]


@pytest.mark.parametrize(
    ("entity", "body"),
    [
        ({"entity_type": "Product", "entity_id": "p1"}, {"media_ids": []}),
        ({"entity_type": "1product", "entity_id": "p1"}, {"media_ids": []}),
        ({"entity_type": "pro-duct", "entity_id": "p1"}, {"media_ids": []}),
        ({"entity_type": "p" * 33, "entity_id": "p1"}, {"media_ids": []}),
        ({"entity_type": "product", "entity_id": "p" * 129}, {"media_ids": []}),
        ({"entity_type": "product", "entity_id": "p 1"}, {"media_ids": []}),
        ({"entity_type": "product", "entity_id": "p%2F1"}, {"media_ids": []}),
        ({"entity_type": "product", "entity_id": "p<1>"}, {"media_ids": []}),
        (PRODUCT, {"media_ids": ["not-a-media-id"]}),
        (PRODUCT, {"media_ids": "med_01JD3Z8Q4W5E6R7T8Y9V0J1Q2P"}),
        (PRODUCT, {"media": []}),
        (PRODUCT, {"media_ids": [], "extra": 1}),
        (PRODUCT, {}),
        (PRODUCT, "{not json"),
    ],
)
def test_bad_entity_paths_and_bodies_are_rejected_and_change_nothing(entity, body):
    item = make_item()["id"]
    put_entity([item])
    before = snapshot()
    status, _, problem = catalogue("put-entity-media", path=entity, body=body)
    assert (status, problem["code"]) == (400, "validation_error")
    if body == {"media_ids": []}:
        assert problem_of(catalogue("get-entity-media", path=entity)) == (400, "validation_error")
    assert snapshot() == before


def test_entity_limits_are_inclusive():
    longest = {"entity_type": "t" * 32, "entity_id": "i" * 128}
    item = make_item()["id"]
    assert put_entity([item], longest)[0] == 200
    assert entity_ids(longest) == [item]
    assert used_by(item) == [ref(longest)]


def test_at_most_40_media_per_entity():
    ids = seed_items(41)
    assert put_entity(ids[:40])[0] == 200
    assert entity_ids() == ids[:40]
    before = snapshot()
    assert problem_of(put_entity(ids)) == (400, "validation_error")
    assert problem_of(put_entity([*ids[:40], ids[0], ids[40]])) == (400, "validation_error")
    assert snapshot() == before
    assert total(unused="true") == 1


def test_replacing_every_attachment_of_a_full_entity_is_accepted():
    """40 detached and 40 attached items are more writes than one DynamoDB transaction takes."""
    first, second = seed_items(40, prefix="first"), seed_items(40, prefix="second")
    assert put_entity(first)[0] == 200
    status, _, body = put_entity(second)
    assert status == 200, body
    assert body["media_ids"] == second and entity_ids() == second
    assert all(item["used_by"] == [ref(PRODUCT)] for item in body["data"])
    assert set(all_ids(unused="true")) == set(first) and total(unused="true") == 40
    status, _, body = put_entity([*first[:20], *second[:20]])
    assert status == 200 and entity_ids() == [*first[:20], *second[:20]]
    assert total(unused="true") == 40
    assert_totals_match_listings()


def test_delete_in_use_is_409_listing_the_entities_and_force_detaches_everywhere():
    item = make_item()
    neighbour = make_item()["id"]
    put_entity([neighbour, item["id"]], PRODUCT)
    put_entity([item["id"]], POST)
    before = snapshot()
    status, headers, problem = delete(item["id"])
    assert (status, problem["code"]) == (409, "in_use")
    assert headers["content-type"] == "application/problem+json"
    assert sorted(problem["used_by"], key=lambda r: r["type"]) == [ref(POST), ref(PRODUCT)]
    assert snapshot() == before
    assert boto3.client("s3").list_objects_v2(Bucket=bucket(), Prefix=f"originals/demo/{item['id']}")[
        "KeyCount"
    ]
    assert problem_of(delete(item["id"], force="maybe")) == (400, "validation_error")
    assert delete(item["id"], force="true")[0] == 204
    assert get_item(item["id"]) is None
    assert entity_ids(PRODUCT) == [neighbour] and entity_ids(POST) == []
    assert used_by(neighbour) == [ref(PRODUCT)]
    s3 = boto3.client("s3")
    assert s3.list_objects_v2(Bucket=bucket(), Prefix=f"originals/demo/{item['id']}")["KeyCount"] == 0
    assert s3.list_objects_v2(Bucket=bucket(), Prefix=f"variants/demo/{item['id']}/")["KeyCount"] == 0
    assert total() == 1 and total(unused="true") == 0
    assert put_entity([item["id"]], POST)[0] == 400  # it is gone for good
    assert_totals_match_listings()


def test_force_delete_of_an_unused_item_just_deletes_it():
    item = make_item()["id"]
    assert delete(item, force="true")[0] == 204
    assert get_item(item) is None and total() == 0 and total(unused="true") == 0


def test_delete_that_read_the_item_before_a_concurrent_attach_fails_and_keeps_the_reference(monkeypatch):
    item = make_item()
    real_delete = media_store.delete

    def attached_meanwhile(*args, **kwargs):
        assert put_entity([item["id"]])[0] == 200  # lands between the delete's read and write
        return real_delete(*args, **kwargs)

    monkeypatch.setattr(media_store, "delete", attached_meanwhile)
    status, _, problem = delete(item["id"])
    monkeypatch.setattr(media_store, "delete", real_delete)
    assert status == 409 and problem["code"] in ("version_conflict", "in_use")
    assert used_by(item["id"]) == [ref(PRODUCT)]
    assert entity_ids() == [item["id"]]
    assert boto3.client("s3").list_objects_v2(Bucket=bucket(), Prefix=f"originals/demo/{item['id']}")[
        "KeyCount"
    ]
    status, _, problem = delete(item["id"])
    assert (status, problem["code"]) == (409, "in_use") and problem["used_by"] == [ref(PRODUCT)]


def test_attach_that_read_an_item_deleted_meanwhile_reports_it_unknown(monkeypatch):
    doomed = make_item()["id"]
    kept = make_item()["id"]
    real_batch_get = media_listing.batch_get
    raced = []

    def deleted_meanwhile(tenant_id, media_ids):
        found = real_batch_get(tenant_id, media_ids)
        if not raced:
            raced.append(True)
            assert delete(doomed)[0] == 204  # another request deletes it after this read
        return found

    monkeypatch.setattr(media_listing, "batch_get", deleted_meanwhile)
    status, _, problem = put_entity([kept, doomed])
    monkeypatch.setattr(media_listing, "batch_get", real_batch_get)
    assert raced
    assert (status, problem["code"]) == (400, "validation_error")
    assert any(doomed in error["message"] for error in problem["errors"])
    assert entity_ids() == [] and used_by(kept) == []


def test_force_delete_racing_an_entity_edit_leaves_no_dangling_reference(monkeypatch):
    item = make_item()["id"]
    other = make_item()["id"]
    put_entity([item])
    real_get_entity = catalogue_store.get_entity
    raced = []

    def edited_meanwhile(tenant_id, entity_type, entity_id):
        entity = real_get_entity(tenant_id, entity_type, entity_id)
        if not raced:
            raced.append(True)
            assert put_entity([other, item])[0] == 200  # the entity's version moves on
        return entity

    monkeypatch.setattr(catalogue_store, "get_entity", edited_meanwhile)
    status, _, problem = delete(item, force="true")
    monkeypatch.setattr(catalogue_store, "get_entity", real_get_entity)
    assert raced
    if status == 409:  # the detach lost: nothing changed, and a retry succeeds
        assert problem["code"] == "version_conflict"
        assert get_item(item) is not None and used_by(item) == [ref(PRODUCT)]
        assert entity_ids() == [other, item]
        assert delete(item, force="true")[0] == 204
    else:
        assert status == 204
    assert get_item(item) is None
    assert entity_ids() == [other] and used_by(other) == [ref(PRODUCT)]
    assert_totals_match_listings()


def test_unused_filter_lists_items_attached_nowhere():
    a, b, c = (make_item(f"{n}.jpg")["id"] for n in "abc")
    failed = failed_item()
    assert set(all_ids(unused="true")) == {a, b, c, failed} and total(unused="true") == 4
    put_entity([a])
    put_entity([a, b], POST)
    page = listing(unused="true", sort="filename", order="asc")
    assert page["media_ids"] == [failed, c] and page["pagination"]["total"] == 2
    assert listing(unused="true", status="ready")["media_ids"] == [c]
    assert listing(unused="true", query="broken")["media_ids"] == [failed]
    assert listing(unused="false")["pagination"]["total"] == 4  # false is no filter
    put_entity([], POST)
    assert set(all_ids(unused="true")) == {b, c, failed} and total(unused="true") == 3
    assert problem_of(media("list-media", query={"unused": "sometimes"})) == (400, "validation_error")
    assert_totals_match_listings()


# ---------------------------------------------------------------- search


@pytest.fixture
def library():
    items = {
        "dash": make_item("company-logo.png"),
        "underscore": make_item("logo_dark.svg"),
        "inside": make_item("biglogos.jpg"),  # "logo" inside a word: no match
        "alt": make_item("mug.jpg", alt="Blue LOGO mug"),
        "title": make_item("x.jpg", title="Logotype study"),
        "caption": make_item("y.jpg"),
        "none": make_item("red-mug.jpg", alt="A red mug"),
    }
    status, _, patched = media(
        "patch-media",
        media_id=items["caption"]["id"],
        body={"caption": "Our new logo, in green"},
        headers={"If-Match": "*"},
    )
    assert status == 200
    items["caption"] = patched["data"]
    return {name: item["id"] for name, item in items.items()}


def search_ids(**query) -> list[str]:
    return listing(**query)["media_ids"]


def test_query_matches_word_prefixes_in_filename_alt_title_and_caption(library):
    matching = {library[n] for n in ("dash", "underscore", "alt", "title", "caption")}
    for query in ("logo", "Logo", "LOGO", "lo", "  logo  ", "logo!"):
        page = listing(query=query, limit="100")
        assert set(page["media_ids"]) == matching and page["pagination"]["total"] == 5, query
    assert search_ids(query="Logo dark") == [library["underscore"]]
    assert search_ids(query="dark logo") == [library["underscore"]]
    assert search_ids(query="company-logo") == [library["dash"]]
    assert search_ids(query="company-logo.png") == [library["dash"]]
    assert search_ids(query="green") == [library["caption"]]
    assert search_ids(query="mug") == [library["none"], library["alt"]]  # newest first
    assert search_ids(query="ogo") == []
    assert search_ids(query="biglogo") == [library["inside"]]
    assert listing(query="nothing-like-it")["pagination"] == {
        "limit": 24,
        "offset": 0,
        "total": 0,
        "total_is_estimate": False,
        "next_cursor": None,
    }
    assert listing(query="logo", tenant_id="other")["media_ids"] == []


def test_search_combines_with_filters_and_sorts(library):
    catalogue("create-folder", body={"path": "/brand"})
    catalogue("create-tag", body={"name": "Brand"})
    for name in ("dash", "underscore"):
        media("patch-media", media_id=library[name], body={"folder": "/brand"}, headers={"If-Match": "*"})
    catalogue("add-item-tag", media_id=library["dash"], body={"slug": "brand"})
    catalogue("add-item-tag", media_id=library["alt"], body={"slug": "brand"})
    put_entity([library["title"]])
    assert set(search_ids(query="logo", folder="/brand")) == {library["dash"], library["underscore"]}
    assert listing(query="logo", folder="/brand")["pagination"]["total"] == 2
    assert set(search_ids(query="logo", tag="brand")) == {library["dash"], library["alt"]}
    assert search_ids(query="logo", tag="brand", folder="/brand") == [library["dash"]]
    assert set(search_ids(query="logo", unused="true")) == {
        library[n] for n in ("dash", "underscore", "alt", "caption")
    }
    assert search_ids(query="logo", kind="video") == []
    assert search_ids(query="logo", status="ready", folder="/", unused="false", tag="brand") == [
        library["alt"]
    ]
    by_name = search_ids(query="logo", sort="filename", order="asc")
    names = {
        library[n]: f
        for n, f in (
            ("dash", "company-logo.png"),
            ("underscore", "logo_dark.svg"),
            ("alt", "mug.jpg"),
            ("title", "x.jpg"),
            ("caption", "y.jpg"),
        )
    }
    assert [names[i] for i in by_name] == sorted(names.values())
    assert search_ids(query="logo", sort="filename", order="desc") == list(reversed(by_name))
    newest_first = search_ids(query="logo")
    assert newest_first == sorted(newest_first, reverse=True)
    assert search_ids(query="logo", order="asc") == list(reversed(newest_first))
    items = {i: get_item(i) for i in newest_first}
    assert search_ids(query="logo", sort="size", order="asc") == sorted(
        newest_first, key=lambda i: (items[i]["size"], i)
    )


def test_search_follows_edits_and_deletes(library):
    media("patch-media", media_id=library["alt"], body={"alt": "Plain mug"}, headers={"If-Match": "*"})
    assert library["alt"] not in search_ids(query="logo", limit="100")
    assert search_ids(query="plain") == [library["alt"]]
    media(
        "patch-media", media_id=library["none"], body={"filename": "Logo-red.jpg"}, headers={"If-Match": "*"}
    )
    assert library["none"] in search_ids(query="logo", limit="100")
    assert delete(library["dash"])[0] == 204
    assert search_ids(query="company") == []
    assert total(query="logo") == 4


@pytest.mark.parametrize(
    "query",
    ["x" * 500, "x" * 201, "!!!", "", " ", "-_-", "...", "a b c d e f g h i"],
)
def test_bad_search_queries_are_rejected(query):
    catalogue("create-tag", body={"name": "Red"})
    for extra in ({}, {"tag": "red"}, {"sort": "size", "folder": "/"}):
        assert problem_of(media("list-media", query={"query": query, **extra})) == (400, "validation_error")


def test_bad_search_query_is_rejected_even_when_a_tag_matches_nothing():
    assert problem_of(media("list-media", query={"query": "!!!", "tag": "no-such-tag"})) == (
        400,
        "validation_error",
    )


def test_search_pages_with_offset_and_cursor_agree():
    ids = [make_item(f"report-{n}.jpg")["id"] for n in range(5)]
    make_item("unrelated.jpg")
    for sort, order in (("created_at", "desc"), ("filename", "asc"), ("size", "desc")):
        expected = search_ids(query="report", sort=sort, order=order, limit="100")
        assert sorted(expected) == sorted(ids)
        walked, cursor = [], None
        for page_number in range(3):
            query = {"query": "report", "sort": sort, "order": order, "limit": "2"}
            by_offset = listing(**query, offset=str(2 * page_number))
            page = listing(**query, **({"cursor": cursor} if cursor else {}))
            assert (
                page["media_ids"] == by_offset["media_ids"] == expected[2 * page_number : 2 * page_number + 2]
            )
            assert page["pagination"]["total"] == 5
            walked += page["media_ids"]
            cursor = page["pagination"]["next_cursor"]
        assert cursor is None and walked == expected


# ---------------------------------------------------------------- sorting and cursors


@pytest.fixture
def sortable():
    """Five ready items whose filename, size and creation orders all differ."""
    specs = [("b.jpg", 300), ("A.jpg", 120), ("d.jpg", 500), ("c.jpg", 180), ("E.jpg", 240)]
    items = [make_item(name, distinct_jpeg(width, width // 2)) for name, width in specs]
    assert len({item["size"] for item in items}) == 5
    return items


def expected_order(items, sort, order):
    keys = {
        "created_at": lambda m: m["id"],
        "filename": lambda m: (m["filename"].casefold(), m["id"]),
        "size": lambda m: (m["size"], m["id"]),
    }
    return [m["id"] for m in sorted(items, key=keys[sort], reverse=order == "desc")]


@pytest.mark.parametrize("sort", ["created_at", "filename", "size"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sorts_page_alike_by_offset_and_by_cursor(sortable, sort, order):
    expected = expected_order(sortable, sort, order)
    assert len(set(expected)) == 5
    by_cursor, cursor = [], None
    for page_number in range(3):
        query = {"sort": sort, "order": order, "limit": "2"}
        page = listing(**query, **({"cursor": cursor} if cursor else {}))
        by_offset = listing(**query, offset=str(2 * page_number))
        assert page["media_ids"] == by_offset["media_ids"] == expected[2 * page_number : 2 * page_number + 2]
        assert page["pagination"]["total"] == 5
        by_cursor += page["media_ids"]
        cursor = page["pagination"]["next_cursor"]
        assert (cursor is None) == (page_number == 2)
    assert by_cursor == expected
    assert listing(sort=sort, order=order, limit="2", offset="5")["media_ids"] == []


@pytest.mark.parametrize("sort", ["created_at", "filename", "size"])
def test_sorts_under_filters_page_alike_by_offset_and_by_cursor(sortable, sort):
    catalogue("create-folder", body={"path": "/picked"})
    catalogue("create-tag", body={"name": "Picked"})
    picked = sortable[:4]
    for item in picked:
        media("patch-media", media_id=item["id"], body={"folder": "/picked"}, headers={"If-Match": "*"})
        catalogue("add-item-tag", media_id=item["id"], body={"slug": "picked"})
    put_entity([picked[0]["id"]])
    for filters, members in (
        ({"folder": "/picked"}, picked),
        ({"tag": "picked"}, picked),
        ({"tag": "picked", "unused": "true"}, picked[1:]),
        ({"folder": "/picked", "kind": "image", "status": "ready"}, picked),
    ):
        expected = expected_order(members, sort, "asc")
        walked, cursor = [], None
        for page_number in range(2):
            query = {**filters, "sort": sort, "order": "asc", "limit": "2"}
            page = listing(**query, **({"cursor": cursor} if cursor else {}))
            by_offset = listing(**query, offset=str(2 * page_number))
            assert page["media_ids"] == by_offset["media_ids"], filters
            if page["pagination"]["total_is_estimate"]:  # filters no one counter covers
                assert len(filters) > 1 and page["pagination"]["total"] >= len(members), filters
            else:
                assert page["pagination"]["total"] == len(members), filters
            walked += page["media_ids"]
            cursor = page["pagination"]["next_cursor"]
        assert walked == expected, filters


def test_filename_sort_puts_a_name_before_its_longer_names_like_search_does():
    short = make_item("photo")["id"]
    longer = make_item("photo 2")["id"]
    assert search_ids(sort="filename", order="asc", query="photo") == [short, longer]
    assert search_ids(sort="filename", order="asc") == [short, longer]


def test_edited_foreign_or_replayed_cursors_are_rejected(sortable):
    catalogue("create-tag", body={"name": "Picked"})
    for item in sortable:
        catalogue("add-item-tag", media_id=item["id"], body={"slug": "picked"})
    cases = [
        {"sort": "filename", "limit": "2"},
        {"query": "jpg", "limit": "2"},
        {"tag": "picked", "limit": "2"},
        {"unused": "true", "sort": "size", "limit": "2"},
    ]
    for query in cases:
        cursor = listing(**query)["pagination"]["next_cursor"]
        assert cursor
        tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
        for bad in (
            {**query, "cursor": tampered},
            {**query, "cursor": cursor + "x"},
            {**query, "cursor": "garbage"},
            {**query, "cursor": "x" * 3000},
            {**query, "cursor": cursor, "order": "asc"},
            {**query, "cursor": cursor, "kind": "image"},
            {**{k: v for k, v in query.items() if k == "limit"}, "cursor": cursor},
        ):
            assert problem_of(media("list-media", query=bad)) == (400, "validation_error"), (query, bad)
        assert problem_of(media("list-media", query={**query, "cursor": cursor}, tenant_id="other")) == (
            400,
            "validation_error",
        )
        assert listing(**query, cursor=cursor)["media_ids"]  # the genuine cursor still works


# ---------------------------------------------------------------- totals


def test_totals_of_every_single_filter_follow_each_change():
    catalogue("create-folder", body={"path": "/a"})
    catalogue("create-tag", body={"name": "Red"})
    catalogue("create-tag", body={"name": "Blue"})
    one = make_item("one.jpg")["id"]
    two = make_item("two.jpg", folder="/a")["id"]
    three = make_item("three.jpg")["id"]
    stuck = processing_item()
    broken = failed_item()
    pending_upload()  # never counted
    totals = assert_totals_match_listings()
    assert totals == {
        "all": 5,
        "unused": 5,
        "status=processing": 1,
        "status=ready": 3,
        "status=failed": 1,
        "folder=/": 4,
        "folder=/a": 1,
        "tag=blue": 0,
        "tag=red": 0,
    }
    assert total(kind="image") == 5 and total(kind="video") == 0
    catalogue("add-item-tag", media_id=one, body={"slug": "red"})
    catalogue("add-item-tag", media_id=two, body={"slug": "red"})
    catalogue("add-item-tag", media_id=two, body={"slug": "blue"})
    media("patch-media", media_id=three, body={"folder": "/a"}, headers={"If-Match": "*"})
    put_entity([one, stuck])
    totals = assert_totals_match_listings()
    assert (totals["tag=red"], totals["tag=blue"], totals["folder=/a"], totals["unused"]) == (2, 1, 2, 3)
    assert total(tag="red,blue") == 1 and total(folder="/a", tag="red") == 1
    assert total(tag="red", unused="true") == 1
    catalogue("replace-item-tags", media_id=two, body={"tag_ids": []})
    assert delete(one, force="true")[0] == 204
    assert delete(broken)[0] == 204
    totals = assert_totals_match_listings()
    assert totals == {
        "all": 3,
        "unused": 2,
        "status=processing": 1,
        "status=ready": 2,
        "status=failed": 0,
        "folder=/": 1,
        "folder=/a": 2,
        "tag=blue": 0,
        "tag=red": 0,
    }
    assert listing(limit="1")["pagination"]["total"] == 3
