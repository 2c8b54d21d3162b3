"""Folders and tags through the real handlers, on moto, with the sample events from events/."""

from __future__ import annotations

import importlib
import json
import re

import pytest

from medialib.adapters import catalogue_store, media_listing, media_store
from medialib.domain.media import utc_now
from tests.support.api import (
    all_ids,
    assert_totals_match_listings,
    call,
    catalogue,
    get_item,
    listing,
    make_item,
    media,
    presign,
    problem_of,
    seed_items,
    snapshot,
    total,
    uploads,
)
from tests.support.aws import mocked_aws
from tests.support.events import EVENTS_DIR, load_event
from tests.support.tables import load_template

TAG_ID_PATTERN = re.compile(r"^tag_[0-9A-Za-z]{16,32}$")
TIMESTAMP_PATTERN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UNKNOWN_TAG = "tag_0000000000000000000000"


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


def create_folder(path: str, tenant_id: str = "demo"):
    return catalogue("create-folder", body={"path": path}, tenant_id=tenant_id)


def folders(tenant_id: str = "demo") -> list[str]:
    status, _, body = catalogue("list-folders", tenant_id=tenant_id)
    assert status == 200
    return body["data"]["folders"]


def delete_folder(path: str):
    return catalogue("delete-folder", query={"path": path})


def create_tag(name: str, color: str | None = None, tenant_id: str = "demo") -> tuple[int, dict]:
    body = {"name": name} if color is None else {"name": name, "color": color}
    status, _, got = catalogue("create-tag", body=body, tenant_id=tenant_id)
    return status, got


def tag(name: str, color: str | None = None) -> dict:
    status, got = create_tag(name, color)
    assert status in (200, 201), got
    return got["data"]


def item_tags(media_id: str) -> list[str]:
    status, _, body = catalogue("get-item-tags", media_id=media_id)
    assert status == 200, body
    return [t["slug"] for t in body["data"]]


def add_tag(media_id: str, **body):
    return catalogue("add-item-tag", media_id=media_id, body=body)


# ---------------------------------------------------------------- sample events


def test_every_api_route_in_the_template_has_a_sample_event_its_function_serves():
    samples = {}
    for path in EVENTS_DIR.glob("*.json"):
        event = json.loads(path.read_text())
        if "httpMethod" in event and "requestContext" in event and "methodArn" not in event:
            samples[(event["resource"], event["httpMethod"])] = path.stem
    routes = 0
    for resource in load_template()["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        handler = importlib.import_module(resource["Properties"]["Handler"].split(".")[0])
        for spec in (resource["Properties"].get("Events") or {}).values():
            if spec["Type"] != "Api":
                continue
            routes += 1
            key = (spec["Properties"]["Path"], spec["Properties"]["Method"])
            assert key in samples, f"no sample event for {key}"
            event = load_event(samples[key])
            assert event["path"].startswith("/v1/") and "{" not in event["path"]
            assert event["requestContext"]["resourcePath"] == event["resource"]
            assert set(event["pathParameters"] or {}) == set(re.findall(r"{(\w+)}", event["resource"]))
            keyless = spec["Properties"].get("Auth", {}).get("Authorizer") == "NONE"
            assert keyless == ("authorizer" not in event["requestContext"]), key
            assert keyless == ("Authorization" not in event["headers"]), key
            status, headers, body = call(handler, event)
            assert status < 500, (key, body)
            assert headers["x-request-id"] == event["requestContext"]["requestId"]
            if status == 404:
                assert body["detail"] != "No such route", key
    assert routes == len(samples) == 25  # and no sample event names a route the template lacks


# ---------------------------------------------------------------- folders


def test_create_folder_creates_missing_parents_and_lists_them():
    status, _, body = create_folder("/images/products/mugs")
    assert (status, body["data"]) == (201, {"path": "/images/products/mugs"})
    assert folders() == ["/", "/images", "/images/products", "/images/products/mugs"]
    status, _, body = create_folder("/images/banners/")  # a trailing slash is the same folder
    assert (status, body["data"]["path"]) == (201, "/images/banners")
    assert problem_of(create_folder("/images/products")) == (409, "already_exists")
    assert problem_of(create_folder("/images/banners")) == (409, "already_exists")
    assert folders() == ["/", "/images", "/images/banners", "/images/products", "/images/products/mugs"]
    assert folders(tenant_id="other") == ["/"]


def test_folder_path_limits_are_inclusive():
    deepest = "/" + "/".join(f"d{i}" for i in range(10))
    longest = "/" + "a" * 254
    names = "/Summer 2026/product_shots-v2.final"
    for path in (deepest, longest, names):
        status, _, body = create_folder(path)
        assert status == 201, (path, body)
    assert deepest in folders() and longest in folders() and names in folders()


@pytest.mark.parametrize(
    "path",
    [
        "/a/../b",
        "/..",
        "/a/./b",
        "/a//b",
        "images",
        "",
        "/a\x00b",
        "/a\nb",
        "/a\tb",
        "/a\x7fb",
        "/a*b",
        "/a\\b",
        "/a:b",
        "/" + "a" * 255,
        "/" + "/".join(f"d{i}" for i in range(11)),
        "/",
    ],
)
def test_bad_folder_paths_are_rejected_and_create_nothing(path):
    create_folder("/keep")
    before = snapshot()
    assert problem_of(create_folder(path)) == (400, "validation_error")
    assert snapshot() == before


def test_create_folder_rejects_bad_bodies():
    for body in ({}, {"path": "/a", "parent": "/"}, {"path": 5}, "[]", "{not json"):
        assert problem_of(catalogue("create-folder", body=body)) == (400, "validation_error")
    assert folders() == ["/"]


def test_delete_folder_rules():
    create_folder("/a/b/c")
    create_folder("/a/d")
    assert problem_of(delete_folder("/a")) == (409, "folder_not_empty")
    assert problem_of(delete_folder("/a/b")) == (409, "folder_not_empty")
    assert problem_of(delete_folder("/")) == (400, "validation_error")
    assert problem_of(delete_folder("/nope")) == (404, "not_found")
    assert problem_of(delete_folder("/a/../a")) == (400, "validation_error")
    assert problem_of(catalogue("delete-folder", query=None)) == (400, "validation_error")
    assert folders() == ["/", "/a", "/a/b", "/a/b/c", "/a/d"]
    status, _, _ = delete_folder("/a/b/c")
    assert status == 204
    assert delete_folder("/a/b")[0] == 204  # its last subfolder left
    assert problem_of(delete_folder("/a")) == (409, "folder_not_empty")  # /a/d is still there
    assert delete_folder("/a/d")[0] == 204
    assert delete_folder("/a")[0] == 204
    assert folders() == ["/"]
    assert create_folder("/a/b")[0] == 201  # the names are free again


def test_folder_holding_media_cannot_be_deleted_until_it_is_moved_out():
    create_folder("/products")
    item = make_item(folder="/products")
    assert item["folder"] == "/products"
    assert problem_of(delete_folder("/products")) == (409, "folder_not_empty")
    assert folders() == ["/", "/products"]
    moved = media("patch-media", media_id=item["id"], body={"folder": "/"}, headers={"If-Match": "*"})
    assert moved[0] == 200 and moved[2]["data"]["folder"] == "/"
    assert delete_folder("/products")[0] == 204


def test_patch_moves_an_item_and_the_folder_totals_follow():
    create_folder("/products/mugs")
    item = make_item()
    other = make_item()
    assert item["folder"] == "/"
    status, _, moved = media(
        "patch-media", media_id=item["id"], body={"folder": "/products/mugs"}, headers={"If-Match": "*"}
    )
    assert status == 200 and moved["data"]["folder"] == "/products/mugs"
    assert moved["data"]["version"] == item["version"] + 1
    in_mugs = listing(folder="/products/mugs")
    assert in_mugs["media_ids"] == [item["id"]] and in_mugs["pagination"]["total"] == 1
    assert listing(folder="/")["media_ids"] == [other["id"]] and total(folder="/") == 1
    assert total(folder="/products") == 0  # the folder filter is exact, not a subtree
    assert total() == 2
    assert_totals_match_listings()


@pytest.mark.parametrize("target", ["/missing", "/products/missing"])
def test_patch_into_a_missing_folder_is_404_and_changes_nothing(target):
    create_folder("/products")
    item = make_item(folder="/products")
    before = snapshot()
    status, _, problem = media(
        "patch-media", media_id=item["id"], body={"folder": target}, headers={"If-Match": "*"}
    )
    assert (status, problem["code"]) == (404, "not_found")
    assert snapshot() == before


def test_patch_racing_a_folder_delete_cannot_land_in_the_deleted_folder(monkeypatch):
    create_folder("/drafts")
    item = make_item()
    real_replace = media_store.replace

    def folder_deleted_first(*args, **kwargs):
        assert delete_folder("/drafts")[0] == 204  # another request wins the race
        return real_replace(*args, **kwargs)

    monkeypatch.setattr(media_store, "replace", folder_deleted_first)
    status, _, problem = media(
        "patch-media", media_id=item["id"], body={"folder": "/drafts"}, headers={"If-Match": "*"}
    )
    monkeypatch.setattr(media_store, "replace", real_replace)
    assert (status, problem["code"]) == (404, "not_found")
    assert get_item(item["id"])["folder"] == "/" and get_item(item["id"])["version"] == item["version"]
    assert folders() == ["/"]


def test_presign_and_confirm_accept_a_folder():
    create_folder("/products")
    create_folder("/archive")
    in_products = make_item(folder="/products")
    moved_at_confirm = make_item(folder="/products", confirm={"folder": "/archive"})
    assert in_products["folder"] == "/products"
    assert moved_at_confirm["folder"] == "/archive"
    assert listing(folder="/archive")["media_ids"] == [moved_at_confirm["id"]]
    assert total(folder="/products") == 1 and total(folder="/archive") == 1


def test_confirm_into_a_missing_folder_is_404_and_the_upload_stays_confirmable():
    from tests.support.api import distinct_jpeg, land

    data = distinct_jpeg()
    _, _, presigned = presign(size=len(data))
    upload_id = presigned["data"]["upload_id"]
    land(upload_id, data)
    status, _, problem = uploads("confirm-upload", body={"upload_id": upload_id, "folder": "/missing"})
    assert (status, problem["code"]) == (404, "not_found")
    assert total() == 0
    assert uploads("confirm-upload", body={"upload_id": upload_id})[0] == 201
    assert total(folder="/") == 1


def test_presign_into_a_missing_folder_is_404_and_holds_nothing():
    before = snapshot()
    status, _, problem = presign(folder="/missing")
    assert (status, problem["code"]) == (404, "not_found")
    assert snapshot() == before
    assert create_folder("/missing")[0] == 201
    assert delete_folder("/missing")[0] == 204  # no open upload was left holding it


def test_confirm_never_lands_an_item_in_a_folder_deleted_after_presign():
    from tests.support.api import distinct_jpeg, land

    create_folder("/drafts")
    data = distinct_jpeg()
    _, _, presigned = presign(size=len(data), folder="/drafts")
    upload_id = presigned["data"]["upload_id"]
    land(upload_id, data)
    deleted = delete_folder("/drafts")
    status, _, confirmed = uploads("confirm-upload", body={"upload_id": upload_id})
    if status == 201:  # the open upload kept its folder
        assert problem_of(deleted) == (409, "folder_not_empty")
        assert confirmed["data"]["folder"] == "/drafts" and "/drafts" in folders()
    else:  # or the folder went, and confirm refuses to land in it
        assert deleted[0] == 204 and status == 404


# ---------------------------------------------------------------- tags


def test_create_tag_derives_the_slug_and_upserts_by_slug():
    status, created = create_tag("Summer Sale!", "#FF8800")
    assert status == 201
    data = created["data"]
    assert TAG_ID_PATTERN.match(data["id"])
    assert (data["slug"], data["name"], data["color"], data["order"]) == (
        "summer-sale",
        "Summer Sale!",
        "#ff8800",
        0,
    )
    assert TIMESTAMP_PATTERN.match(data["created_at"])
    status, again = create_tag("  summer   SALE ")
    assert status == 200
    assert again["data"]["id"] == data["id"] and again["data"]["slug"] == "summer-sale"
    assert again["data"]["name"] == "summer   SALE"  # renamed, colour kept
    assert again["data"]["color"] == "#ff8800"
    assert again["data"]["created_at"] == data["created_at"]
    status, recoloured = create_tag("Summer-Sale", "#00aa00")
    assert status == 200 and recoloured["data"]["color"] == "#00aa00"
    status, accented = create_tag("Été Brûlant")
    assert status == 201 and accented["data"]["slug"] == "ete-brulant"
    _, _, listed = catalogue("list-tags")
    assert sorted(t["slug"] for t in listed["data"]) == ["ete-brulant", "summer-sale"]
    assert catalogue("list-tags", tenant_id="other")[2]["data"] == []


def test_tags_are_listed_by_order_then_name():
    for name in ("zebra", "Apple", "mango"):
        tag(name)
    assert [t["name"] for t in catalogue("list-tags")[2]["data"]] == ["Apple", "mango", "zebra"]
    zebra = next(t for t in catalogue("list-tags")[2]["data"] if t["slug"] == "zebra")
    status, _, _ = catalogue("patch-tag", path={"tag_id": zebra["id"]}, body={"order": 1})
    assert status == 200
    apple = next(t for t in catalogue("list-tags")[2]["data"] if t["slug"] == "apple")
    assert catalogue("patch-tag", path={"tag_id": apple["id"]}, body={"order": 2})[0] == 200
    assert [t["name"] for t in catalogue("list-tags")[2]["data"]] == ["mango", "zebra", "Apple"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "!!!"},
        {"name": "   "},
        {"name": ""},
        {"name": "🙂🙂"},
        {"name": "日本語"},
        {"name": "x" * 65},
        {"name": "ok", "color": "red"},
        {"name": "ok", "colour": "#ffffff"},
        {"color": "#ffffff"},
        {"name": None},
        "{not json",
    ],
)
def test_bad_tag_bodies_are_rejected_and_create_nothing(body):
    tag("keep")
    before = snapshot()
    assert problem_of(catalogue("create-tag", body=body)) == (400, "validation_error")
    assert snapshot() == before


def test_patch_tag_renames_and_moves_the_slug():
    brand = tag("Brand")
    sale = tag("Sale")
    item = make_item()
    assert add_tag(item["id"], tag_id=brand["id"])[0] == 201
    status, _, patched = catalogue(
        "patch-tag", path={"tag_id": brand["id"]}, body={"name": "Brand 2026", "color": "#123456"}
    )
    assert status == 200
    assert (patched["data"]["slug"], patched["data"]["color"]) == ("brand-2026", "#123456")
    assert get_item(item["id"])["tags"] == ["brand-2026"]
    assert listing(tag="brand-2026")["media_ids"] == [item["id"]]
    assert total(tag="brand-2026") == 1
    assert listing(tag="brand")["media_ids"] == [] and total(tag="brand") == 0
    status, reused = create_tag("brand")  # the old slug is free
    assert status == 201 and reused["data"]["id"] != brand["id"]
    cleared = catalogue("patch-tag", path={"tag_id": sale["id"]}, body={"color": None})
    assert cleared[0] == 200 and cleared[2]["data"]["color"] is None


def test_bad_tag_patches_are_rejected_and_change_nothing():
    brand = tag("Brand")
    tag("Sale")
    item = make_item()
    add_tag(item["id"], tag_id=brand["id"])
    before = snapshot()
    cases = [
        ({"tag_id": brand["id"]}, {"name": "SALE"}, 409, "already_exists"),
        ({"tag_id": UNKNOWN_TAG}, {"name": "x"}, 404, "not_found"),
        ({"tag_id": "not-a-tag"}, {"name": "x"}, 400, "validation_error"),
        ({"tag_id": brand["id"]}, {}, 400, "validation_error"),
        ({"tag_id": brand["id"]}, {"name": "..."}, 400, "validation_error"),
        ({"tag_id": brand["id"]}, {"slug": "x"}, 400, "validation_error"),
        ({"tag_id": brand["id"]}, {"order": -1}, 400, "validation_error"),
    ]
    for path, body, status, code in cases:
        assert problem_of(catalogue("patch-tag", path=path, body=body)) == (status, code), body
    assert problem_of(
        catalogue("patch-tag", path={"tag_id": brand["id"]}, body={"name": "x"}, tenant_id="other")
    ) == (
        404,
        "not_found",
    )
    assert problem_of(catalogue("delete-tag", path={"tag_id": brand["id"]}, tenant_id="other")) == (
        404,
        "not_found",
    )
    assert problem_of(catalogue("delete-tag", path={"tag_id": UNKNOWN_TAG})) == (404, "not_found")
    assert snapshot() == before


def test_item_tags_add_is_idempotent_put_replaces_delete_removes():
    brand, sale, blue = tag("Brand"), tag("Sale"), tag("Blue")
    item = make_item()
    status, _, added = add_tag(item["id"], slug="brand")
    assert status == 201 and [t["slug"] for t in added["data"]] == ["brand"]
    version = get_item(item["id"])["version"]
    status, _, again = add_tag(item["id"], tag_id=brand["id"])
    assert status == 201 and [t["id"] for t in again["data"]] == [brand["id"]]
    assert get_item(item["id"])["version"] == version  # nothing was written
    assert add_tag(item["id"], tag_id=sale["id"])[0] == 201
    assert item_tags(item["id"]) == ["brand", "sale"]
    assert get_item(item["id"])["tags"] == ["brand", "sale"]
    status, _, replaced = catalogue(
        "replace-item-tags", media_id=item["id"], body={"tag_ids": [blue["id"], sale["id"], blue["id"]]}
    )
    assert status == 200 and [t["slug"] for t in replaced["data"]] == ["blue", "sale"]
    assert total(tag="brand") == 0 and total(tag="blue") == 1 and total(tag="sale") == 1
    status, _, removed = catalogue("remove-item-tag", path={"media_id": item["id"], "tag_id": blue["id"]})
    assert status == 200 and [t["slug"] for t in removed["data"]] == ["sale"]
    status, _, removed = catalogue("remove-item-tag", path={"media_id": item["id"], "tag_id": blue["id"]})
    assert status == 200 and [t["slug"] for t in removed["data"]] == ["sale"]  # idempotent
    status, _, cleared = catalogue("replace-item-tags", media_id=item["id"], body={"tag_ids": []})
    assert status == 200 and cleared["data"] == []
    assert get_item(item["id"])["tags"] == []
    assert_totals_match_listings()


def test_bad_item_tag_requests_are_rejected_and_change_nothing():
    brand = tag("Brand")
    item = make_item()
    add_tag(item["id"], tag_id=brand["id"])
    foreign = catalogue("create-tag", body={"name": "Theirs"}, tenant_id="other")[2]["data"]
    foreign_item = make_item(tenant_id="other")
    before = snapshot()
    media_id = item["id"]
    cases = [
        ("add-item-tag", {"media_id": media_id}, {"tag_id": UNKNOWN_TAG}, 404, "not_found"),
        ("add-item-tag", {"media_id": media_id}, {"tag_id": foreign["id"]}, 404, "not_found"),
        ("add-item-tag", {"media_id": media_id}, {"slug": "theirs"}, 404, "not_found"),
        ("add-item-tag", {"media_id": media_id}, {"slug": "Not A Slug"}, 400, "validation_error"),
        (
            "add-item-tag",
            {"media_id": media_id},
            {"tag_id": brand["id"], "slug": "brand"},
            400,
            "validation_error",
        ),
        ("add-item-tag", {"media_id": media_id}, {}, 400, "validation_error"),
        ("add-item-tag", {"media_id": foreign_item["id"]}, {"tag_id": brand["id"]}, 404, "not_found"),
        ("replace-item-tags", {"media_id": media_id}, {"tag_ids": [UNKNOWN_TAG]}, 400, "validation_error"),
        ("replace-item-tags", {"media_id": media_id}, {"tag_ids": [foreign["id"]]}, 400, "validation_error"),
        ("replace-item-tags", {"media_id": media_id}, {"tag_ids": ["nope"]}, 400, "validation_error"),
        (
            "replace-item-tags",
            {"media_id": media_id},
            {"tag_ids": [brand["id"]] * 11},
            400,
            "validation_error",
        ),
        ("replace-item-tags", {"media_id": media_id}, {"tags": []}, 400, "validation_error"),
        ("replace-item-tags", {"media_id": foreign_item["id"]}, {"tag_ids": []}, 404, "not_found"),
        ("remove-item-tag", {"media_id": media_id, "tag_id": UNKNOWN_TAG}, ..., 404, "not_found"),
        ("remove-item-tag", {"media_id": media_id, "tag_id": "tag_x"}, ..., 400, "validation_error"),
        ("remove-item-tag", {"media_id": foreign_item["id"], "tag_id": brand["id"]}, ..., 404, "not_found"),
        ("get-item-tags", {"media_id": foreign_item["id"]}, ..., 404, "not_found"),
        ("get-item-tags", {"media_id": "med_nope"}, ..., 400, "validation_error"),
    ]
    for name, path, body, status, code in cases:
        assert problem_of(catalogue(name, path=path, body=body)) == (status, code), (name, body)
    status, _, problem = catalogue("replace-item-tags", media_id=media_id, body={"tag_ids": [UNKNOWN_TAG]})
    assert any(UNKNOWN_TAG in error["message"] for error in problem["errors"])
    assert snapshot() == before


def test_an_item_carries_at_most_ten_tags():
    item = make_item()
    ids = [tag(f"t{i}")["id"] for i in range(11)]
    assert catalogue("replace-item-tags", media_id=item["id"], body={"tag_ids": ids[:10]})[0] == 200
    before = snapshot()
    assert problem_of(add_tag(item["id"], tag_id=ids[10])) == (400, "validation_error")
    assert snapshot() == before


def test_adding_a_tag_that_is_being_deleted_fails(monkeypatch):
    doomed = tag("Doomed")
    item = make_item()
    real_require = catalogue_store.require_tags

    def deleted_meanwhile(tenant_id, tag_ids):
        catalogue_store.mark_tag_deleting(tenant_id, doomed["id"], utc_now())  # a DELETE's first step
        return real_require(tenant_id, tag_ids)

    monkeypatch.setattr(catalogue_store, "require_tags", deleted_meanwhile)
    assert problem_of(add_tag(item["id"], tag_id=doomed["id"])) == (404, "not_found")
    monkeypatch.setattr(catalogue_store, "require_tags", real_require)
    assert get_item(item["id"])["tags"] == [] and get_item(item["id"])["version"] == item["version"]
    assert catalogue("delete-tag", path={"tag_id": doomed["id"]})[0] == 204  # the delete completes
    assert catalogue("list-tags")[2]["data"] == []


def test_delete_tag_detaches_it_from_every_item():
    brand, sale = tag("Brand"), tag("Sale")
    items = [make_item() for _ in range(3)]
    for item in items:
        add_tag(item["id"], tag_id=brand["id"])
    add_tag(items[0]["id"], tag_id=sale["id"])
    untouched = make_item()
    assert total(tag="brand") == 3 and total(tag="sale") == 1
    status, _, body = catalogue("delete-tag", path={"tag_id": brand["id"]})
    assert status == 204 and not body
    assert [t["slug"] for t in catalogue("list-tags")[2]["data"]] == ["sale"]
    assert get_item(items[0]["id"])["tags"] == ["sale"]
    for item in items[1:]:
        assert get_item(item["id"])["tags"] == []
        assert item_tags(item["id"]) == []
    assert get_item(untouched["id"])["version"] == untouched["version"]
    assert listing(tag="brand")["media_ids"] == [] and total(tag="brand") == 0
    assert listing(tag="sale")["media_ids"] == [items[0]["id"]]
    assert problem_of(catalogue("delete-tag", path={"tag_id": brand["id"]})) == (404, "not_found")
    assert problem_of(add_tag(items[1]["id"], tag_id=brand["id"])) == (404, "not_found")
    status, recreated = create_tag("Brand")
    assert status == 201 and recreated["data"]["id"] != brand["id"]
    assert total(tag="brand") == 0
    assert_totals_match_listings()


def test_tag_filter_requires_every_tag_and_keeps_totals():
    tag("Red")
    tag("Sale")
    both, red, sale, neither = (make_item(f"{name}.jpg") for name in ("both", "red", "sale", "neither"))
    for item, slugs in ((both, ["red", "sale"]), (red, ["red"]), (sale, ["sale"])):
        for slug in slugs:
            assert add_tag(item["id"], slug=slug)[0] == 201
    assert set(all_ids(tag="red")) == {both["id"], red["id"]} and total(tag="red") == 2
    assert set(all_ids(tag="sale")) == {both["id"], sale["id"]} and total(tag="sale") == 2
    for combo in ("red,sale", "sale,red", "red,sale,red"):
        page = listing(tag=combo)
        assert page["media_ids"] == [both["id"]] and page["pagination"]["total"] == 1, combo
    assert listing(tag="red,unknown")["media_ids"] == [] and total(tag="red,unknown") == 0
    assert listing(tag="red", sort="filename", order="asc")["media_ids"] == [both["id"], red["id"]]
    assert listing(tag="red,sale", kind="image", status="ready")["media_ids"] == [both["id"]]
    assert listing(tag="red", kind="video")["pagination"]["total"] == 0
    assert get_item(both["id"])["tags"] == ["red", "sale"]
    assert total() == 4 and neither["id"] in all_ids()
    for bad in ("Red", "red,", ",red", "red sale", "a,b,c,d,e,f", "x" * 65):
        assert problem_of(media("list-media", query={"tag": bad})) == (400, "validation_error"), bad
    assert_totals_match_listings()


def test_catalogue_routes_need_their_scopes():
    brand = tag("Brand")
    item = make_item()
    cases = [
        ("list-tags", {}, ..., "media:write media:delete"),
        ("create-tag", {}, {"name": "x"}, "media:read media:delete"),
        ("patch-tag", {"tag_id": brand["id"]}, {"name": "x"}, "media:read"),
        ("delete-tag", {"tag_id": brand["id"]}, ..., "media:read media:write"),
        ("add-item-tag", {"media_id": item["id"]}, {"tag_id": brand["id"]}, "media:read"),
        ("list-folders", {}, ..., "media:write"),
        ("create-folder", {}, {"path": "/x"}, "media:read"),
        ("delete-folder", {}, ..., "media:read media:write"),
        ("get-entity-media", {"entity_type": "product", "entity_id": "p1"}, ..., "media:write"),
        ("put-entity-media", {"entity_type": "product", "entity_id": "p1"}, {"media_ids": []}, "media:read"),
    ]
    before = snapshot()
    for name, path, body, scopes in cases:
        assert problem_of(catalogue(name, path=path or None, body=body, scopes=scopes)) == (403, "forbidden")
    assert snapshot() == before


def test_delete_tag_detaches_it_from_more_items_than_one_page_holds():
    doomed, kept = tag("Doomed"), tag("Kept")
    ids = seed_items(51)  # one more than a page of the detaching loop
    for media_id in ids:
        body = {"tag_ids": [kept["id"], doomed["id"]]}
        assert catalogue("replace-item-tags", media_id=media_id, body=body)[0] == 200
    assert total(tag="doomed") == 51
    assert catalogue("delete-tag", path={"tag_id": doomed["id"]})[0] == 204
    assert total(tag="doomed") == 0 and total(tag="kept") == 51
    assert {tuple(item["tags"]) for item in listing(limit="100")["data"]} == {("kept",)}
    assert_totals_match_listings()


def test_delete_tag_racing_an_item_delete_still_completes(monkeypatch):
    doomed = tag("Doomed")
    items = [make_item()["id"] for _ in range(3)]
    for media_id in items:
        add_tag(media_id, tag_id=doomed["id"])
    real_list_page = media_listing.list_page
    raced = []

    def item_deleted_meanwhile(*args, **kwargs):
        page = real_list_page(*args, **kwargs)
        if not raced:
            raced.append(True)
            assert media("delete-media", media_id=items[1])[0] == 204  # after the tag read its page
        return page

    monkeypatch.setattr(media_listing, "list_page", item_deleted_meanwhile)
    status, _, body = catalogue("delete-tag", path={"tag_id": doomed["id"]})
    monkeypatch.setattr(media_listing, "list_page", real_list_page)
    assert raced
    assert status == 204, body
    assert catalogue("list-tags")[2]["data"] == []
    assert [get_item(i)["tags"] for i in (items[0], items[2])] == [[], []]
    status, recreated = create_tag("Doomed")  # the slug is free again
    assert status == 201 and recreated["data"]["id"] != doomed["id"]
    assert_totals_match_listings()


def test_a_retried_create_with_the_same_idempotency_key_returns_the_first_response():
    headers = {"Idempotency-Key": "3f1c6a8e-create-folder"}
    first = catalogue("create-folder", body={"path": "/retry"}, headers=headers)
    again = catalogue("create-folder", body={"path": "/retry"}, headers=headers)
    assert first[0] == 201
    assert (again[0], again[2]) == (first[0], first[2])
