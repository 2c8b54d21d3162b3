"""End to end over real HTTP: folders, tags, search, sorting, duplicates, references and public
read, against the local stack."""

from __future__ import annotations

import hashlib
import uuid

import pytest
import requests

from tests.e2e.client import auth, confirm, photo, presign, upload, uploaded

pytestmark = pytest.mark.e2e


@pytest.fixture
def key(stack):
    """A key of a fresh tenant per test, so the tenant's library starts empty."""
    return stack.new_key(f"shop-{uuid.uuid4().hex[:8]}")


def api(stack, key, method, path, **kwargs):
    return requests.request(method, f"{stack.api_url}{path}", headers=auth(key), timeout=30, **kwargs)


def test_folders_tags_search_and_sorting(stack, key):
    assert api(stack, key, "POST", "/v1/folders", json={"path": "/images/products"}).status_code == 201
    assert api(stack, key, "POST", "/v1/folders", json={"path": "/images"}).status_code == 409
    folders = api(stack, key, "GET", "/v1/folders").json()["data"]["folders"]
    assert folders == ["/", "/images", "/images/products"]

    logo = uploaded(
        stack,
        key,
        photo(300, 200),
        filename="company-logo.png",
        content_type="image/jpeg",
        folder="/images/products",
    )
    dark = uploaded(stack, key, photo(200, 200), filename="logo_dark.jpg")
    other = uploaded(stack, key, photo(500, 100), filename="banner.jpg", title="Summer sale")
    assert logo["folder"] == "/images/products"

    brand = api(stack, key, "POST", "/v1/tags", json={"name": "Brand Assets", "color": "#FF0000"})
    assert brand.status_code == 201 and brand.json()["data"]["slug"] == "brand-assets"
    again = api(stack, key, "POST", "/v1/tags", json={"name": "brand assets!"})
    assert again.status_code == 200 and again.json()["data"]["id"] == brand.json()["data"]["id"]
    tag_id = brand.json()["data"]["id"]
    for item in (logo, dark):
        added = api(stack, key, "POST", f"/v1/media/{item['id']}/tags", json={"slug": "brand-assets"})
        assert added.status_code == 201 and [t["slug"] for t in added.json()["data"]] == ["brand-assets"]

    tagged = api(stack, key, "GET", "/v1/media", params={"tag": "brand-assets"}).json()
    assert set(tagged["media_ids"]) == {logo["id"], dark["id"]} and tagged["pagination"]["total"] == 2
    assert api(stack, key, "GET", f"/v1/media/{logo['id']}").json()["data"]["tags"] == ["brand-assets"]

    found = api(stack, key, "GET", "/v1/media", params={"query": "logo"}).json()
    assert set(found["media_ids"]) == {logo["id"], dark["id"]}
    found = api(stack, key, "GET", "/v1/media", params={"query": "Logo", "folder": "/images/products"}).json()
    assert found["media_ids"] == [logo["id"]]
    assert api(stack, key, "GET", "/v1/media", params={"query": "summ"}).json()["media_ids"] == [other["id"]]
    assert api(stack, key, "GET", "/v1/media", params={"query": "!!!"}).status_code == 400

    by_name = api(stack, key, "GET", "/v1/media", params={"sort": "filename", "order": "asc"}).json()
    assert by_name["media_ids"] == [other["id"], logo["id"], dark["id"]]
    first = api(stack, key, "GET", "/v1/media", params={"sort": "size", "limit": 1}).json()
    second = api(
        stack,
        key,
        "GET",
        "/v1/media",
        params={"sort": "size", "limit": 1, "cursor": first["pagination"]["next_cursor"]},
    ).json()
    by_offset = api(stack, key, "GET", "/v1/media", params={"sort": "size", "limit": 1, "offset": 1}).json()
    assert second["media_ids"] == by_offset["media_ids"] and second["media_ids"] != first["media_ids"]

    not_empty = api(stack, key, "DELETE", "/v1/folders", params={"path": "/images/products"})
    assert not_empty.status_code == 409 and not_empty.json()["code"] == "folder_not_empty"
    moved = api(stack, key, "PATCH", f"/v1/media/{logo['id']}", json={"folder": "/images"})
    assert moved.status_code == 200 and moved.json()["data"]["folder"] == "/images"
    assert api(stack, key, "DELETE", "/v1/folders", params={"path": "/images/products"}).status_code == 204
    assert api(stack, key, "DELETE", "/v1/folders", params={"path": "/"}).status_code == 400

    assert api(stack, key, "DELETE", f"/v1/tags/{tag_id}").status_code == 204
    assert api(stack, key, "GET", f"/v1/media/{logo['id']}").json()["data"]["tags"] == []


def test_references_and_delete_in_use(stack, key):
    first = uploaded(stack, key, photo(300, 300))
    second = uploaded(stack, key, photo(320, 300))
    path = "/v1/entities/product/p_123/media"
    put = api(stack, key, "PUT", path, json={"media_ids": [second["id"], first["id"]]})
    assert put.status_code == 200 and put.json()["media_ids"] == [second["id"], first["id"]]
    assert api(stack, key, "GET", path).json()["media_ids"] == [second["id"], first["id"]]
    used = api(stack, key, "GET", f"/v1/media/{first['id']}").json()["data"]["used_by"]
    assert used == [{"type": "product", "id": "p_123"}]

    unused = api(stack, key, "GET", "/v1/media", params={"unused": "true"}).json()["media_ids"]
    assert first["id"] not in unused and second["id"] not in unused

    unknown = api(
        stack, key, "PUT", path, json={"media_ids": [first["id"], "med_01JD3Z8Q4W5E6R7T8Y9V0J1Q2P"]}
    )
    assert unknown.status_code == 400 and "med_01JD3Z8Q4W5E6R7T8Y9V0J1Q2P" in unknown.text
    blocked = api(stack, key, "DELETE", f"/v1/media/{first['id']}")
    assert blocked.status_code == 409 and blocked.json()["code"] == "in_use"
    assert blocked.json()["used_by"] == [{"type": "product", "id": "p_123"}]
    assert api(stack, key, "DELETE", f"/v1/media/{first['id']}", params={"force": "true"}).status_code == 204
    assert api(stack, key, "GET", path).json()["media_ids"] == [second["id"]]

    other_key = stack.new_key(f"other-{uuid.uuid4().hex[:6]}")
    foreign = api(
        stack, other_key, "PUT", "/v1/entities/product/p_9/media", json={"media_ids": [second["id"]]}
    )
    assert foreign.status_code == 400


def test_duplicates_by_hash_and_on_duplicate(stack, key):
    data = photo(400, 300)
    original = uploaded(stack, key, data, filename="dup.jpg")
    sha = hashlib.sha256(data).hexdigest()
    assert original["sha256"] == sha
    check = api(
        stack,
        key,
        "POST",
        "/v1/media/check-duplicates",
        json={
            "files": [
                {"filename": "x.jpg", "size": len(data), "sha256": sha},
                {"filename": "dup.jpg", "size": len(data)},
                {"filename": "new.jpg", "size": 1},
            ]
        },
    ).json()["data"]["duplicates"]
    assert [[e["id"] for e in d["existing"]] for d in check] == [[original["id"]], [original["id"]]]

    rejected = presign(stack, key, data, on_duplicate="reject")
    upload(rejected, data)
    response = confirm(stack, key, rejected["upload_id"])
    assert response.status_code == 409 and response.json()["code"] == "duplicate"
    assert response.json()["existing"]["id"] == original["id"]

    returned = presign(stack, key, data)
    upload(returned, data)
    response = confirm(stack, key, returned["upload_id"], on_duplicate="return_existing")
    assert response.status_code == 200 and response.json()["data"]["id"] == original["id"]
    assert api(stack, key, "GET", f"/v1/media/{returned['upload_id']}").status_code == 404


def test_public_read(stack):
    tenant = f"public-{uuid.uuid4().hex[:6]}"
    key = stack.new_key(tenant)
    item = uploaded(stack, key, photo(300, 300), alt="Shown to everyone")
    url = f"{stack.api_url}/v1/public/{tenant}/media"
    assert requests.get(url, timeout=10).status_code == 404  # not public yet
    assert stack.cli("tenants", "update", tenant, "--public", "on").returncode == 0
    listing = requests.get(url, timeout=10, headers={"Origin": "https://shop.example"})
    assert listing.status_code == 200
    assert listing.headers["Cache-Control"] == "public, max-age=60"
    assert listing.headers["Access-Control-Allow-Origin"] == "*"
    shown = listing.json()["data"][0]
    assert shown["id"] == item["id"] and shown["alt"] == "Shown to everyone"
    assert "sha256" not in shown and "used_by" not in shown and "status" not in shown
    one = requests.get(f"{url}/{item['id']}", timeout=10)
    assert one.status_code == 200 and one.headers["Cache-Control"] == "public, max-age=3600"
    presigned = presign(stack, key, photo(100, 100))
    assert requests.get(f"{url}/{presigned['upload_id']}", timeout=10).status_code == 404  # not ready
