"""POST /v1/media as multipart/form-data through the real uploads handler, on moto, from the
sample event (so it stays valid): each file part becomes an item as presign → upload →
confirm makes one, and a file that fails is reported without stopping the others."""

from __future__ import annotations

import base64

import boto3
import pytest
import uploads_api

from tests.support import api
from tests.support.api import bucket, call, get_item, listing, process_records
from tests.support.aws import mocked_aws
from tests.support.events import load_event

BOUNDARY = "----testBoundary0123456789"


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


def form(
    files: list[tuple[str, str | None, bytes]],
    fields: dict[str, str] | list[tuple[str, str]] | None = None,
    *,
    boundary: str = BOUNDARY,
) -> bytes:
    """A multipart/form-data body: ``files`` as (filename, content type or None, bytes)."""
    out = b""
    pairs = list(fields.items()) if isinstance(fields, dict) else list(fields or [])
    for name, value in pairs:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for filename, content_type, data in files:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'.encode()
        )
        if content_type is not None:
            out += f"Content-Type: {content_type}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def event(
    body: bytes | str,
    *,
    content_type: str | None = f"multipart/form-data; boundary={BOUNDARY}",
    headers: dict[str, str] | None = None,
    base64_encoded: bool = True,
    scopes: str = "media:read media:write media:delete",
) -> dict:
    sample = load_event("create-media-multipart")
    for source in (("Content-Type", content_type), *(headers or {}).items()):
        name, value = source
        sample["headers"].pop(name, None)
        sample["multiValueHeaders"].pop(name, None)
        if value is not None:
            sample["headers"][name] = value
            sample["multiValueHeaders"][name] = [value]
    for length in ("Content-Length",):
        sample["headers"].pop(length, None)
        sample["multiValueHeaders"].pop(length, None)
    raw = body.encode() if isinstance(body, str) else body
    sample["body"] = base64.b64encode(raw).decode() if base64_encoded else raw.decode()
    sample["isBase64Encoded"] = base64_encoded
    sample["requestContext"]["authorizer"]["scopes"] = scopes
    return sample


def post(body: bytes | str, **kwargs) -> tuple[int, dict[str, str], dict]:
    return call(uploads_api, event(body, **kwargs))


def stored(media_id: str) -> dict:
    return boto3.client("s3").head_object(Bucket=bucket(), Key=f"originals/demo/{media_id}")


def png_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 200, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_sample_event_makes_a_processing_item_stored_as_an_upload_would_be():
    status, headers, body = call(uploads_api, load_event("create-media-multipart"))
    assert status == 201, body
    assert headers["content-type"] == "application/json"
    assert body["errors"] == []
    [item] = body["data"]
    assert (item["status"], item["filename"], item["alt"], item["folder"]) == (
        "processing",
        "red-mug.jpg",
        "A red mug",
        "/",
    )
    head = stored(item["id"])
    assert head["ContentType"] == "image/jpeg"
    assert head["ContentDisposition"] == "inline; filename*=UTF-8''red-mug.jpg"
    assert item["size"] == head["ContentLength"]


def test_each_file_becomes_an_item_and_the_storage_event_processes_it_as_usual():
    jpeg, png = api.distinct_jpeg(640, 480), png_bytes()
    status, _, body = post(
        form([("one.jpg", "image/jpeg", jpeg), ("two.png", "image/png", png)], {"alt": "Both"})
    )
    assert status == 201, body
    assert [i["filename"] for i in body["data"]] == ["one.jpg", "two.png"]
    assert body["errors"] == []
    for item, data in zip(body["data"], (jpeg, png), strict=True):
        head = stored(item["id"])
        record = {
            "key": f"originals/demo/{item['id']}",
            "size": len(data),
            "eTag": head["ETag"].strip('"'),
            "sequencer": "0065F1A2B3C4D5E6F7",
        }
        assert process_records(record) == {"batchItemFailures": []}
        ready = get_item(item["id"])
        assert ready is not None and ready["status"] == "ready", ready
        assert ready["alt"] == "Both" and ready["variants"] and ready["sha256"]
    assert listing()["pagination"]["total"] == 2


def test_an_alias_type_is_accepted_and_stored_under_its_canonical_name():
    status, _, body = post(form([("old.jpg", "image/jpg", api.distinct_jpeg())]))
    assert status == 201, body
    assert body["data"][0]["content_type"] == "image/jpeg"
    assert stored(body["data"][0]["id"])["ContentType"] == "image/jpeg"


def test_a_file_that_fails_is_listed_and_the_others_are_still_stored():
    files = [
        ("good.jpg", "image/jpeg", api.distinct_jpeg()),
        ("tool.exe", "application/x-msdownload", b"MZ\x90\x00 not media"),
        ("lies.png", "image/png", api.distinct_jpeg()),  # JPEG bytes declared as PNG
        ("../etc/passwd", "image/jpeg", api.distinct_jpeg()),
        ("empty.jpg", "image/jpeg", b""),
        ("untyped.jpg", None, api.distinct_jpeg()),
    ]
    status, _, body = post(form(files))
    assert status == 201, body
    assert [i["filename"] for i in body["data"]] == ["good.jpg"]
    assert [(e["filename"], e["code"]) for e in body["errors"]] == [
        ("tool.exe", "unsupported_media_type"),
        ("lies.png", "unsupported_media_type"),  # as confirm answers a type mismatch
        ("../etc/passwd", "validation_error"),
        ("empty.jpg", "validation_error"),
        ("untyped.jpg", "unsupported_media_type"),
    ]
    assert all(e["message"] for e in body["errors"])
    assert "not the declared image/png" in body["errors"][1]["message"]
    # As at confirm, the mismatched upload is an item failed with its verdict, its bytes removed.
    listed = {i["filename"]: (i["status"], (i["error"] or {}).get("code")) for i in listing()["data"]}
    assert listed == {"good.jpg": ("processing", None), "lies.png": ("failed", "type_mismatch")}
    keys = boto3.client("s3").list_objects_v2(Bucket=bucket(), Prefix="originals/").get("Contents", [])
    assert [k["Key"] for k in keys] == [f"originals/demo/{body['data'][0]['id']}"]


def test_a_file_over_its_kind_limit_is_a_413_in_errors(monkeypatch):
    from medialib.settings import get_settings

    data = api.distinct_jpeg()
    settings = get_settings()
    monkeypatch.setattr(type(settings), "max_bytes_for", lambda self, *kind: len(data) - 1)
    status, headers, problem = post(form([("big.jpg", "image/jpeg", data)]))
    assert (status, problem["code"]) == (413, "payload_too_large"), problem
    assert headers["content-type"] == "application/problem+json"
    assert problem["errors"][0]["field"] == "file big.jpg"


@pytest.mark.parametrize(
    ("files", "status", "code"),
    [
        ([("tool.exe", "application/x-msdownload", b"MZ")], 415, "unsupported_media_type"),
        ([("lies.png", "image/png", api.jpeg_bytes())], 415, "unsupported_media_type"),
        ([("a/b.jpg", "image/jpeg", api.jpeg_bytes())], 400, "validation_error"),
    ],
)
def test_when_no_file_is_stored_the_answer_is_the_first_files_problem(files, status, code):
    got_status, headers, problem = post(form(files))
    assert (got_status, problem["code"]) == (status, code), problem
    assert headers["content-type"] == "application/problem+json"
    assert problem["detail"].startswith("No file was stored")
    assert all(i["status"] == "failed" for i in listing()["data"])
    assert not boto3.client("s3").list_objects_v2(Bucket=bucket(), Prefix="originals/").get("Contents")


def test_ten_files_are_accepted_and_eleven_are_a_400_storing_nothing():
    ten = [(f"f{n}.jpg", "image/jpeg", api.distinct_jpeg(20, 20)) for n in range(10)]
    status, _, body = post(form(ten))
    assert status == 201 and len(body["data"]) == 10, body
    eleven = [(f"g{n}.jpg", "image/jpeg", api.distinct_jpeg(20, 20)) for n in range(11)]
    status, _, problem = post(form(eleven))
    assert (status, problem["code"]) == (400, "validation_error"), problem
    assert problem["errors"] == [{"field": "file", "message": "at most 10 files per request"}]
    assert listing()["pagination"]["total"] == 10


def test_an_unknown_folder_fails_each_file_with_not_found():
    status, _, problem = post(form([("a.jpg", "image/jpeg", api.distinct_jpeg())], {"folder": "/nope"}))
    assert (status, problem["code"]) == (404, "not_found"), problem


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        (form([("a.jpg", "image/jpeg", b"x")]), "multipart/form-data", "Content-Type"),
        (form([("a.jpg", "image/jpeg", api.jpeg_bytes())])[:-30], None, "body"),  # truncated
        (b"this is not a form", None, "body"),
        (f"--{BOUNDARY}--\r\n".encode(), None, "file"),  # no part at all
        (form([], {"alt": "only text"}), None, "file"),
        (form([("a.jpg", "image/jpeg", b"x")], {"colour": "red"}), None, "colour"),
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"\r\n\r\nno filename\r\n'
            f"--{BOUNDARY}--\r\n".encode(),
            None,
            "file",
        ),
    ],
)
def test_a_malformed_form_is_a_400_storing_nothing(body, content_type, field):
    kwargs = {"content_type": content_type} if content_type else {}
    status, headers, problem = post(body, **kwargs)
    assert (status, problem["code"]) == (400, "validation_error"), problem
    assert headers["content-type"] == "application/problem+json"
    assert problem["errors"][0]["field"] == field, problem
    assert listing()["pagination"]["total"] == 0


def test_a_field_sent_twice_is_a_400():
    body = form([("a.jpg", "image/jpeg", api.distinct_jpeg())], [("alt", "one"), ("alt", "two")])
    status, _, problem = post(body)
    assert (status, problem["code"]) == (400, "validation_error"), problem
    assert problem["errors"][0]["field"] == "alt"
    assert listing()["pagination"]["total"] == 0


def test_a_body_neither_multipart_nor_json_is_a_415():
    status, _, problem = post(
        "urls=https://example.com/a.jpg", content_type="text/plain", base64_encoded=False
    )
    assert (status, problem["code"]) == (415, "unsupported_media_type"), problem
    assert listing()["pagination"]["total"] == 0


def test_multipart_is_still_refused_on_every_other_route():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"/>'  # UTF-8 text: the content type decides
    sample = event(form([("a.svg", "image/svg+xml", svg)]))
    presign = load_event("presign-upload")
    sample.update(resource=presign["resource"], path=presign["path"])
    status, _, problem = call(uploads_api, sample)
    assert (status, problem["code"]) == (415, "unsupported_media_type"), problem
    assert listing()["pagination"]["total"] == 0


def test_a_key_without_write_scope_is_refused():
    status, _, problem = post(form([("a.jpg", "image/jpeg", api.jpeg_bytes())]), scopes="media:read")
    assert (status, problem["code"]) == (403, "forbidden"), problem
    assert listing()["pagination"]["total"] == 0


def test_a_text_body_the_gateway_did_not_base64_encode_still_parses():
    status, _, body = post(
        form([("note.svg", "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"/>')]),
        base64_encoded=False,
    )
    assert status == 201, body
    assert stored(body["data"][0]["id"])["ContentDisposition"].startswith("attachment;")


def test_an_idempotency_key_replays_the_first_answer_without_a_second_item():
    body = form([("a.jpg", "image/jpeg", api.distinct_jpeg())])
    first = post(body, headers={"Idempotency-Key": "direct-1"})
    again = post(body, headers={"Idempotency-Key": "direct-1"})
    assert first[0] == 201 and again[0] == 201
    assert again[2] == first[2]
    assert listing()["pagination"]["total"] == 1
    other = post(
        form([("b.jpg", "image/jpeg", api.distinct_jpeg())]), headers={"Idempotency-Key": "direct-1"}
    )
    assert (other[0], other[2]["code"]) == (422, "idempotency_key_reused")
