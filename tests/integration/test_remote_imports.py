"""POST /v1/media with {"urls": [...]} through the real uploads handler, on moto, fetching from a
real HTTP server on 127.0.0.1 with the local stack's loopback switch on: each URL becomes an item
as a direct upload makes one (stored under originals/, confirmed, processed), each failure is
listed with its URL and code, and with the switch off a loopback URL is refused unconnected."""

from __future__ import annotations

import io
import json

import boto3
import pytest
import uploads_api
from PIL import Image

from medialib.settings import get_settings
from tests.support import api
from tests.support import origin_server as serve
from tests.support.api import bucket, call, get_item, listing, process_records
from tests.support.aws import mocked_aws
from tests.support.connections import record
from tests.support.events import load_event
from tests.support.origin_server import OriginServer


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


@pytest.fixture
def loopback_switch(monkeypatch):
    """The settings as ``ALLOW_LOOPBACK_IMPORTS=1`` in the local stack makes them."""
    monkeypatch.setenv("ALLOW_LOOPBACK_IMPORTS", "1")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("ALLOW_LOOPBACK_IMPORTS")
    get_settings.cache_clear()


@pytest.fixture
def origin():
    with OriginServer() as server:
        yield server


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (500, 300), (10, 200, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def post(document: object, *, scopes: str = "media:read media:write media:delete") -> tuple[int, dict, dict]:
    event = load_event("import-media")
    body = json.dumps(document)
    event["body"] = body
    event["headers"]["Content-Length"] = event["multiValueHeaders"]["Content-Length"][0] = str(len(body))
    event["requestContext"]["authorizer"]["scopes"] = scopes
    return call(uploads_api, event)


def stored_keys() -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket())
    return [entry["Key"] for entry in listed.get("Contents", [])]


def test_the_sample_event_imports_both_urls(loopback_switch, origin):
    """events/import-media.json names a server on 127.0.0.1:8000; here it is the test's server."""
    origin.routes["/red-mug.jpg"] = serve.file(api.distinct_jpeg(640, 480), "image/jpeg")
    origin.routes["/blue-mug.png"] = serve.file(png_bytes(), "image/png")
    event = load_event("import-media")
    event["body"] = event["body"].replace("127.0.0.1:8000", f"127.0.0.1:{origin.port}")

    status, headers, body = call(uploads_api, event)

    assert status == 201, body
    assert headers["content-type"] == "application/json"
    assert body["errors"] == []
    assert [(i["filename"], i["content_type"], i["alt"], i["status"]) for i in body["data"]] == [
        ("red-mug.jpg", "image/jpeg", "A mug", "processing"),
        ("blue-mug.png", "image/png", "A mug", "processing"),
    ]


def test_an_imported_file_is_stored_and_processed_as_an_upload(loopback_switch, origin):
    data = png_bytes()
    origin.routes["/shop/photo.png"] = serve.file(data, "application/octet-stream")

    status, _, body = post({"urls": [origin.url("/shop/photo.png")], "alt": "Imported"})

    assert status == 201, body
    [item] = body["data"]
    head = boto3.client("s3").head_object(Bucket=bucket(), Key=f"originals/demo/{item['id']}")
    assert head["ContentType"] == "image/png"  # the sniffed type, not the server's
    assert head["ContentLength"] == len(data)
    record_ = {
        "key": f"originals/demo/{item['id']}",
        "size": len(data),
        "eTag": head["ETag"].strip('"'),
        "sequencer": "0065F1A2B3C4D5E6F7",
    }
    assert process_records(record_) == {"batchItemFailures": []}
    ready = get_item(item["id"])
    assert ready is not None and ready["status"] == "ready", ready
    assert (ready["width"], ready["height"], ready["alt"]) == (500, 300, "Imported")
    assert sorted(v["name"] for v in ready["variants"]) == ["150", "400"]


def test_each_url_that_fails_is_listed_with_its_code_and_the_others_are_stored(loopback_switch, origin):
    origin.routes["/ok.jpg"] = serve.file(api.distinct_jpeg(), "image/jpeg")
    origin.routes["/page.html"] = serve.file(b"<!doctype html><p>not an image</p>", "text/html")
    origin.routes["/bomb.jpg"] = serve.gzip_bomb(api.distinct_jpeg()[:200], 64 * 1024 * 1024)
    origin.routes["/to-metadata"] = serve.redirect("http://169.254.169.254/latest/meta-data/")
    urls = [
        origin.url("/ok.jpg"),
        "http://169.254.169.254/latest/meta-data/",
        origin.url("/missing.jpg"),
        origin.url("/page.html"),
        origin.url("/bomb.jpg"),
        origin.url("/to-metadata"),
        "ftp://127.0.0.1/a.jpg",
        "not a url",
    ]

    status, _, body = post({"urls": urls})

    assert status == 201, body
    assert [i["filename"] for i in body["data"]] == ["ok.jpg"]
    assert [(e["url"], e["code"]) for e in body["errors"]] == [
        (urls[1], "url_blocked"),
        (urls[2], "fetch_failed"),
        (urls[3], "unsupported_type"),
        (urls[4], "too_large"),
        (urls[5], "url_blocked"),
        (urls[6], "url_blocked"),
        (urls[7], "url_invalid"),
    ]
    assert all(set(e) == {"url", "code", "message"} and e["message"] for e in body["errors"])
    assert stored_keys() == [f"originals/demo/{body['data'][0]['id']}"]


def test_when_no_url_is_imported_the_answer_is_the_first_problem_and_nothing_is_stored(
    loopback_switch, origin
):
    urls = ["http://10.0.0.1/a.jpg", origin.url("/missing.jpg")]

    status, headers, problem = post({"urls": urls})

    assert (status, problem["code"]) == (400, "url_blocked"), problem
    assert headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in problem["errors"]] == [f"url {url}" for url in urls]
    assert problem["errors"][1]["message"].startswith("fetch_failed: ")
    assert stored_keys() == [] and listing()["pagination"]["total"] == 0


def test_with_the_switch_off_a_loopback_url_is_refused_without_a_connection(origin, monkeypatch):
    origin.routes["/photo.png"] = serve.file(png_bytes(), "image/png")
    attempts = record(monkeypatch)

    status, _, problem = post({"urls": [origin.url("/photo.png")]})

    assert (status, problem["code"]) == (400, "url_blocked"), problem
    assert origin.requests == []
    assert (("127.0.0.1", origin.port)) not in attempts.connections
    assert stored_keys() == []


def test_a_url_without_a_filename_gets_a_fixed_one(loopback_switch, origin):
    origin.routes["/"] = serve.file(api.distinct_jpeg(), "image/jpeg")

    status, _, body = post({"urls": [origin.url("/")]})

    assert status == 201, body
    assert body["data"][0]["filename"] == "imported"


def test_a_folder_that_does_not_exist_fails_every_url(loopback_switch, origin):
    origin.routes["/a.jpg"] = serve.file(api.distinct_jpeg(), "image/jpeg")

    status, _, problem = post({"urls": [origin.url("/a.jpg")], "folder": "/nowhere"})

    assert (status, problem["code"]) == (404, "not_found"), problem
    assert stored_keys() == []


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"urls": []}, "urls"),
        ({"urls": [f"https://example.com/{n}.jpg" for n in range(11)]}, "urls"),
        ({"urls": "https://example.com/a.jpg"}, "urls"),
        ({"urls": [42]}, "urls.0"),
        ({"urls": [""]}, "urls.0"),
        ({}, "urls"),
        ({"urls": ["https://example.com/a.jpg"], "tags": ["x"]}, "tags"),
        ({"urls": ["https://example.com/a.jpg"], "alt": "x" * 501}, "alt"),
        ({"urls": ["https://example.com/a.jpg"], "folder": "../up"}, "folder"),
        (["https://example.com/a.jpg"], "body"),
    ],
)
def test_a_body_that_is_not_an_import_request_is_a_400_before_any_fetch(document, field, monkeypatch):
    attempts = record(monkeypatch)

    status, _, problem = post(document)

    assert (status, problem["code"]) == (400, "validation_error"), problem
    assert field in [e["field"] for e in problem["errors"]]
    assert attempts.connections == [] and attempts.names_looked_up() == []


def test_a_key_without_write_scope_is_refused_before_any_fetch(origin, monkeypatch):
    attempts = record(monkeypatch)

    status, _, problem = post({"urls": [origin.url("/a.jpg")]}, scopes="media:read")

    assert (status, problem["code"]) == (403, "forbidden")
    assert attempts.connections == []
