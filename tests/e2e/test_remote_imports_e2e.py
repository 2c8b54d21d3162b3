"""End to end over real HTTP: remote import (POST /v1/media with {"urls": [...]}) from a local
HTTP server on 127.0.0.1, through a stack started as `ALLOW_LOOPBACK_IMPORTS=1 make dev`, to
ready items with variants; and the stack as `make dev` starts it refusing the same URL."""

from __future__ import annotations

import io

import pytest
import requests
from PIL import Image

from tests.e2e.client import auth, bucket_keys, photo, wait_until_settled
from tests.support import origin_server as serve
from tests.support.origin_server import OriginServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def origin():
    with OriginServer() as server:
        yield server


def import_urls(stack, urls: list[str], **fields: str) -> requests.Response:
    return requests.post(
        f"{stack.api_url}/v1/media", json={"urls": urls, **fields}, headers=auth(stack.demo_key), timeout=60
    )


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def test_urls_on_a_local_server_become_ready_items_with_the_switch_on(loopback_stack, origin):
    jpeg, image = photo(1000, 750), png(420, 300)
    origin.routes["/catalogue/red-mug.jpg"] = serve.file(jpeg, "image/jpeg")
    origin.routes["/blue-mug"] = serve.redirect("/files/blue-mug.png")
    origin.routes["/files/blue-mug.png"] = serve.file(image, "image/png")
    urls = [origin.url("/catalogue/red-mug.jpg"), origin.url("/blue-mug"), origin.url("/gone.jpg")]

    response = import_urls(loopback_stack, urls, alt="A mug")

    assert response.status_code == 201, response.text
    body = response.json()
    assert [i["filename"] for i in body["data"]] == ["red-mug.jpg", "blue-mug.png"]
    assert [(e["url"], e["code"]) for e in body["errors"]] == [(urls[2], "fetch_failed")]
    for item, data, size in zip(body["data"], (jpeg, image), ((1000, 750), (420, 300)), strict=True):
        ready = wait_until_settled(loopback_stack, loopback_stack.demo_key, item["id"])
        assert ready["status"] == "ready", ready["error"]
        assert (ready["width"], ready["height"], ready["alt"]) == (*size, "A mug")
        assert ready["variants"] and ready["placeholder"]
        assert requests.get(ready["url"], timeout=10).content == data
    assert any("ALLOW_LOOPBACK_IMPORTS=1" in line for line in loopback_stack.output.lines())


def test_the_switch_admits_loopback_only_never_metadata_or_private_addresses(loopback_stack):
    urls = [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1:8000/a.jpg",
        "http://[::ffff:a9fe:a9fe]/",
    ]
    before = bucket_keys(loopback_stack, "originals/")

    response = import_urls(loopback_stack, urls)

    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["code"] == "url_blocked"
    assert [e["message"].split(":")[0] for e in problem["errors"]] == ["url_blocked"] * 3
    assert bucket_keys(loopback_stack, "originals/") == before


def test_without_the_switch_a_loopback_url_is_blocked_and_never_contacted(stack, origin):
    origin.routes["/photo.jpg"] = serve.file(photo(300, 200), "image/jpeg")
    before = bucket_keys(stack, "originals/")

    response = import_urls(stack, [origin.url("/photo.jpg")])

    assert response.status_code == 400, response.text
    assert response.json()["code"] == "url_blocked"
    assert origin.requests == []
    assert bucket_keys(stack, "originals/") == before
