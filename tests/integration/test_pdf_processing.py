"""PDFs through the real handlers on moto: ready with the page count, the first page's size and
WebP variants of it; a password-locked PDF ready without a preview; a PDF pdfium cannot open
failed as ``corrupt`` with its bytes removed; one larger than what processing keeps in memory
read again whole within the document limit."""

from __future__ import annotations

import hashlib
from io import BytesIO

import boto3
import pytest
from PIL import Image

from medialib.adapters import object_storage
from medialib.imaging.sniff import SNIFF_BYTES
from medialib.services import processing
from tests.support import invariants
from tests.support.api import bucket, get_item, listing, presign, process_records, uploads
from tests.support.aws import mocked_aws
from tests.unit.test_pdf import encrypted_pdf, make_pdf

PDF_TYPE = "application/pdf"


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


def s3():
    return boto3.client("s3")


def keys(prefix: str) -> list[str]:
    return [item["Key"] for item in s3().list_objects_v2(Bucket=bucket(), Prefix=prefix).get("Contents", [])]


def upload(data: bytes, filename: str = "brochure.pdf") -> tuple[str, dict]:
    status, _, body = presign(filename, len(data), content_type=PDF_TYPE)
    assert status == 201, body
    upload_id = body["data"]["upload_id"]
    key = f"originals/demo/{upload_id}"
    put = s3().put_object(Bucket=bucket(), Key=key, Body=data, ContentType=PDF_TYPE)
    return upload_id, {
        "key": key,
        "size": len(data),
        "eTag": put["ETag"].strip('"'),
        "sequencer": "0065F1A2B3C4D5E6F7",
    }


def through(data: bytes, *, process_first: bool = False) -> dict:
    upload_id, record = upload(data)
    if process_first:
        assert process_records(record) == {"batchItemFailures": []}
        assert get_item(upload_id) is None  # worked out ahead, never listed before confirm
    status, _, answer = uploads("confirm-upload", body={"upload_id": upload_id})
    assert status == 201, answer
    assert process_records(record) == {"batchItemFailures": []}  # or a duplicate event
    item = get_item(upload_id)
    assert item is not None
    return item


@pytest.mark.parametrize("process_first", [False, True], ids=["confirm-first", "process-first"])
def test_a_pdf_is_ready_with_its_page_count_and_a_preview_of_the_first_page(process_first):
    data = make_pdf(3)
    item = through(data, process_first=process_first)
    assert (item["status"], item["kind"], item["content_type"]) == ("ready", "document", PDF_TYPE)
    assert (item["pages"], item["width"], item["height"], item["error"]) == (3, 612, 792, None)
    assert item["size"] == len(data) and item["sha256"] == hashlib.sha256(data).hexdigest()
    assert [(v["name"], v["width"], v["height"], v["format"]) for v in item["variants"]] == [
        ("1200", 927, 1200, "webp"),
        ("800", 618, 800, "webp"),
        ("400", 309, 400, "webp"),
        ("150", 116, 150, "webp"),
    ]
    assert item["placeholder"]["blurhash"] and item["placeholder"]["dominant_color"].startswith("#f")
    for variant in item["variants"]:
        key = variant["url"].removeprefix("https://cdn.example.test/")
        got = s3().get_object(Bucket=bucket(), Key=key)
        assert got["ContentType"] == "image/webp"
        image = Image.open(BytesIO(got["Body"].read()))
        assert (image.format, image.size) == ("WEBP", (variant["width"], variant["height"]))
    assert len(keys(f"variants/demo/{item['id']}/")) == 4
    assert listing(kind="document")["media_ids"] == [item["id"]]
    assert invariants.violations() == []


def test_a_duplicate_event_for_a_pdf_changes_nothing():
    upload_id, record = upload(make_pdf())
    assert uploads("confirm-upload", body={"upload_id": upload_id})[0] == 201
    process_records(record)
    before = get_item(upload_id)
    assert process_records(record) == {"batchItemFailures": []}
    assert get_item(upload_id) == before
    assert len(keys(f"variants/demo/{upload_id}/")) == 4


def test_a_huge_media_box_gets_a_preview_within_the_largest_box():
    item = through(make_pdf(media_box=b"[0 0 3000000 1000000]"))
    assert (item["status"], item["pages"], item["width"], item["height"]) == (
        "ready",
        1,
        3_000_000,
        1_000_000,
    )
    assert (item["variants"][0]["width"], item["variants"][0]["height"]) == (1200, 400)


def test_a_pdf_with_many_pages_is_counted():
    item = through(make_pdf(20_000))
    assert (item["status"], item["pages"], len(item["variants"])) == ("ready", 20_000, 4)


@pytest.mark.parametrize("process_first", [False, True], ids=["confirm-first", "process-first"])
def test_a_password_locked_pdf_is_ready_without_a_preview(process_first):
    item = through(encrypted_pdf(), process_first=process_first)
    assert (item["status"], item["kind"], item["error"]) == ("ready", "document", None)
    assert (item["pages"], item["width"], item["height"], item["variants"], item["placeholder"]) == (
        None,
        None,
        None,
        [],
        None,
    )
    assert item["url"] is not None  # the document itself is served, as any ready item
    assert keys(f"originals/demo/{item['id']}") == [f"originals/demo/{item['id']}"]
    assert keys(f"variants/demo/{item['id']}/") == []
    assert invariants.violations() == []


@pytest.mark.parametrize(
    "data",
    [make_pdf()[:200], b"%PDF-1.7\n" + b"\x00" * 64],
    ids=["truncated", "garbage"],
)
@pytest.mark.parametrize("process_first", [False, True], ids=["confirm-first", "process-first"])
def test_a_pdf_that_cannot_be_opened_fails_as_corrupt(data, process_first):
    upload_id, record = upload(data)
    if process_first:
        process_records(record)
        assert get_item(upload_id) is None
        status, _, answer = uploads("confirm-upload", body={"upload_id": upload_id})
        assert status == 201 and answer["data"]["status"] == "failed"
    else:
        assert uploads("confirm-upload", body={"upload_id": upload_id})[0] == 201
        process_records(record)
    item = get_item(upload_id)
    assert item is not None
    assert (item["status"], item["error"]["code"], item["variants"], item["pages"]) == (
        "failed",
        "corrupt",
        [],
        None,
    )
    assert keys(f"originals/demo/{upload_id}") == [] and keys(f"variants/demo/{upload_id}") == []
    assert invariants.violations() == []


def test_a_pdf_not_held_in_memory_is_read_again_whole_within_the_document_limit():
    """The path for PDFs larger than what processing keeps (the image limit): read once more."""
    key, data = "originals/demo/big", make_pdf(2)
    etag = s3().put_object(Bucket=bucket(), Key=key, Body=data)["ETag"].strip('"')
    read = object_storage.read(key, head_length=SNIFF_BYTES, keep_limit=0, etag=etag)
    assert read is not None and read.data is None
    landed = processing.LandedObject(key=key, etag=etag, sequencer="1", size=len(data))
    fields: dict = {}
    written: list[str] = []
    media = processing.Media(
        tenant_id="demo",
        id="big",
        kind="document",
        status="processing",
        filename="big.pdf",
        content_type=PDF_TYPE,
        original_key=key,
        max_size=len(data),
        created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:00.000Z",
    )
    assert processing._preview_document(media, landed, read, fields, written) is None
    assert fields["pages"] == 2 and len(written) == 4


def test_a_pdf_replaced_before_it_is_read_again_is_superseded():
    key, data = "originals/demo/replaced", make_pdf()
    etag = s3().put_object(Bucket=bucket(), Key=key, Body=data)["ETag"].strip('"')
    read = object_storage.read(key, head_length=SNIFF_BYTES, keep_limit=0, etag=etag)
    assert read is not None
    s3().put_object(Bucket=bucket(), Key=key, Body=make_pdf(2))
    landed = processing.LandedObject(key=key, etag=etag, sequencer="1", size=len(data))
    media = processing.Media(
        tenant_id="demo",
        id="replaced",
        kind="document",
        status="processing",
        filename="a.pdf",
        content_type=PDF_TYPE,
        original_key=key,
        max_size=len(data),
        created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:00.000Z",
    )
    with pytest.raises(processing._OriginalGone):
        processing._preview_document(media, landed, read, {}, [])


def test_a_pdf_whose_first_page_exceeds_the_bounds_is_ready_with_its_count_without_a_preview(monkeypatch):
    from medialib.imaging import pdf

    bounded = pdf.preview_pdf
    monkeypatch.setattr(pdf, "preview_pdf", lambda data: bounded(data, seconds=1e-6))  # no child finishes
    item = through(make_pdf(7))
    assert (item["status"], item["pages"], item["width"], item["height"]) == ("ready", 7, 612, 792)
    assert (item["variants"], item["placeholder"], item["error"]) == ([], None, None)
    assert keys(f"variants/demo/{item['id']}/") == []
    assert invariants.violations() == []
