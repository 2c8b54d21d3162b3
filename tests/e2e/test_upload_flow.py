"""End to end over real HTTP: presign, upload (POST form and PUT), confirm, processing,
list/get/patch/delete, and the error paths, against the local stack."""

from __future__ import annotations

import io

import pytest
import requests
from PIL import Image

from tests.e2e.client import auth, bucket_keys, confirm, photo, presign, upload, uploaded, wait_until_settled

pytestmark = pytest.mark.e2e


def test_post_form_upload_is_processed_managed_and_deleted(stack):
    key = stack.demo_key
    data = photo()
    presigned = presign(stack, key, data, alt="Beach at noon")
    assert presigned["method"] == "POST" and presigned["url"].startswith(stack.aws_url)
    assert upload(presigned, data).status_code in (200, 201, 204)

    confirmed = confirm(stack, key, presigned["upload_id"], title="Summer")
    assert confirmed.status_code == 201
    assert confirmed.json()["data"]["status"] in ("processing", "ready")
    assert confirm(stack, key, presigned["upload_id"]).status_code == 200  # idempotent

    item = wait_until_settled(stack, key, presigned["upload_id"])
    assert item["status"] == "ready", item["error"]
    assert (item["width"], item["height"], item["content_type"]) == (2400, 1600, "image/jpeg")
    assert [(v["name"], v["width"], v["height"]) for v in item["variants"]] == [
        ("1200", 1200, 800),
        ("800", 800, 533),
        ("400", 400, 267),
        ("150", 150, 100),
    ]
    variant = requests.get(item["variants"][0]["url"], timeout=10)
    assert variant.status_code == 200 and variant.content[8:12] == b"WEBP"
    assert requests.get(item["url"], timeout=10).content == data
    assert item["placeholder"]["blurhash"] and item["title"] == "Summer" and item["alt"] == "Beach at noon"

    listing = requests.get(f"{stack.api_url}/v1/media", params={"limit": 100}, headers=auth(key), timeout=10)
    assert listing.status_code == 200 and item["id"] in listing.json()["media_ids"]

    got = requests.get(f"{stack.api_url}/v1/media/{item['id']}", headers=auth(key), timeout=10)
    etag = got.headers["ETag"]
    patched = requests.patch(
        f"{stack.api_url}/v1/media/{item['id']}",
        json={"filename": "beach.jpg"},
        headers={**auth(key), "If-Match": etag},
        timeout=10,
    )
    assert patched.status_code == 200 and patched.json()["data"]["filename"] == "beach.jpg"
    stale = requests.patch(
        f"{stack.api_url}/v1/media/{item['id']}",
        json={"alt": "x"},
        headers={**auth(key), "If-Match": etag},
        timeout=10,
    )
    assert stale.status_code == 412 and stale.headers["Content-Type"] == "application/problem+json"

    assert len(bucket_keys(stack, f"variants/demo/{item['id']}/")) == 4
    deleted = requests.delete(f"{stack.api_url}/v1/media/{item['id']}", headers=auth(key), timeout=10)
    assert deleted.status_code == 204
    assert bucket_keys(stack, f"variants/demo/{item['id']}/") == []
    assert bucket_keys(stack, f"originals/demo/{item['id']}") == []
    gone = requests.get(f"{stack.api_url}/v1/media/{item['id']}", headers=auth(key), timeout=10)
    assert gone.status_code == 404 and gone.json()["code"] == "not_found"


def test_put_upload_is_processed(stack):
    item = uploaded(stack, stack.demo_key, photo(900, 1200), method="PUT")
    assert item["status"] == "ready"
    assert [(v["name"], v["width"], v["height"]) for v in item["variants"]] == [
        ("800", 600, 800),
        ("400", 300, 400),
        ("150", 113, 150),
    ]


def test_oversized_put_is_rejected_at_confirm_and_removed(stack):
    data = photo(600, 400)
    presigned = presign(stack, stack.demo_key, data, method="PUT")
    upload(presigned, data + b"\0" * 4096)  # PUT cannot limit size; confirm must
    response = confirm(stack, stack.demo_key, presigned["upload_id"])
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    assert bucket_keys(stack, f"originals/demo/{presigned['upload_id']}") == []


def test_corrupt_image_ends_failed(stack):
    data = photo(800, 600)[:2000]
    item = uploaded(stack, stack.demo_key, data)
    assert item["status"] == "failed" and item["error"]["code"] == "corrupt"


def test_image_over_the_pixel_limit_ends_failed(stack):
    buffer = io.BytesIO()
    Image.new("L", (8000, 7000)).save(buffer, "PNG")  # 56 MP, a few KB
    data = buffer.getvalue()
    presigned = presign(stack, stack.demo_key, data, content_type="image/png", filename="huge.png")
    upload(presigned, data, "image/png")
    confirm(stack, stack.demo_key, presigned["upload_id"])
    item = wait_until_settled(stack, stack.demo_key, presigned["upload_id"])
    assert item["status"] == "failed" and item["error"]["code"] == "too_many_pixels"


def test_another_tenant_sees_nothing(stack):
    item = uploaded(stack, stack.demo_key, photo(400, 300))
    other = stack.new_key("other-shop")
    url = f"{stack.api_url}/v1/media/{item['id']}"
    assert requests.get(url, headers=auth(other), timeout=10).status_code == 404
    assert requests.patch(url, json={"alt": "mine"}, headers=auth(other), timeout=10).status_code == 404
    assert requests.delete(url, headers=auth(other), timeout=10).status_code == 404
    assert confirm(stack, other, item["id"]).status_code == 404
    listing = requests.get(f"{stack.api_url}/v1/media", headers=auth(other), timeout=10).json()
    assert item["id"] not in listing["media_ids"]
    assert requests.get(url, headers=auth(stack.demo_key), timeout=10).status_code == 200


def test_scopes_and_keys(stack):
    reader = stack.new_key("scoped", scopes="media:read")
    denied = requests.post(
        f"{stack.api_url}/v1/media/presign",
        headers=auth(reader),
        timeout=10,
        json={"filename": "a.jpg", "content_type": "image/jpeg", "size": 10},
    )
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    assert requests.get(f"{stack.api_url}/v1/media", headers=auth(reader), timeout=10).status_code == 200

    for headers in (
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": f"Basic {reader}"},
        {"Authorization": f"Bearer {reader[:-2]}xx"},
    ):
        response = requests.get(f"{stack.api_url}/v1/media", headers=headers, timeout=10)
        assert response.status_code == 401, headers
        assert response.json()["code"] == "unauthorized" and response.headers["X-Request-Id"]

    key_id = stack.cli("keys", "list", "--tenant", "scoped").stdout
    assert reader not in key_id  # never prints secrets
    revoked_id = reader.split("_")[1]
    assert stack.cli("keys", "revoke", revoked_id).returncode == 0
    assert requests.get(f"{stack.api_url}/v1/media", headers=auth(reader), timeout=10).status_code == 401


def test_bad_input_is_4xx_problem_json(stack):
    key = stack.demo_key
    cases = [
        ("post", "/v1/media/presign", {"json": {"filename": "a.jpg", "content_type": "image/jpeg"}}, 400),
        (
            "post",
            "/v1/media/presign",
            {"data": "{oops", "headers": {"Content-Type": "application/json"}},
            400,
        ),
        (
            "post",
            "/v1/media/presign",
            {"json": {"filename": "x", "content_type": "text/html", "size": 3}},
            415,
        ),
        ("post", "/v1/media/confirm", {"json": {"upload_id": "not-an-id"}}, 400),
        ("get", "/v1/media", {"params": {"limit": "1000"}}, 400),
        ("get", "/v1/media", {"params": {"cursor": "edited"}}, 400),
        ("get", "/v1/media/med_0000", {}, 400),
        ("get", "/v1/media/med_01JD3Z8Q4W5E6R7T8Y9V0J1Q2P", {}, 404),
        ("patch", "/v1/media/med_01JD3Z8Q4W5E6R7T8Y9V0J1Q2P", {"json": {}}, 400),
        ("get", "/v1/nothing-here", {}, 404),
    ]
    for method, path, kwargs, status in cases:
        headers = {**auth(key), **kwargs.pop("headers", {})}
        response = requests.request(method, f"{stack.api_url}{path}", headers=headers, timeout=10, **kwargs)
        assert response.status_code == status, (method, path, response.text)
        assert response.headers["Content-Type"] == "application/problem+json", path
        assert response.headers["X-Request-Id"]
        assert response.json()["status"] == status


def test_docs_are_public(stack):
    document = requests.get(f"{stack.api_url}/v1/openapi.json", timeout=10)
    assert document.status_code == 200 and "/v1/media/presign" in document.json()["paths"]
    docs = requests.get(f"{stack.api_url}/v1/docs", timeout=10)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
