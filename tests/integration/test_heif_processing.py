"""HEIC/HEIF photos through the real handlers on moto: presign, upload, confirm and processing end
``ready`` with upright dimensions, WebP variants in storage and a placeholder, like a JPEG; a
damaged HEIC ends ``failed`` as ``corrupt`` and a pixel flood as ``too_many_pixels``."""

from __future__ import annotations

import io
import struct

import boto3
import pytest
from PIL import Image

from tests.support import invariants
from tests.support.api import bucket, get_item, land, presign, process_records, uploads
from tests.support.aws import mocked_aws
from tests.unit.test_heif import heic, quadrants


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


def through(data: bytes, *, content_type: str = "image/heic", filename: str = "IMG_0001.HEIC") -> dict:
    status, _, body = presign(filename, len(data), content_type=content_type)
    assert status == 201, body
    upload_id = body["data"]["upload_id"]
    record = land(upload_id, data)
    status, _, confirmed = uploads("confirm-upload", body={"upload_id": upload_id})
    assert status == 201, confirmed
    assert process_records(record) == {"batchItemFailures": []}
    item = get_item(upload_id)
    assert item is not None
    return item


def stored_variant(variant: dict) -> tuple[dict, Image.Image]:
    key = variant["url"].removeprefix("https://cdn.example.test/")
    got = boto3.client("s3").get_object(Bucket=bucket(), Key=key)
    image = Image.open(io.BytesIO(got["Body"].read()), formats=("WEBP",))
    image.load()
    return got, image


def test_a_phone_photo_with_orientation_6_is_ready_upright_with_variants_and_placeholder():
    item = through(heic(quadrants((1600, 1000)), orientation=6))
    assert item["status"] == "ready", item
    assert (item["content_type"], item["kind"]) == ("image/heic", "image")
    assert (item["width"], item["height"]) == (1000, 1600)
    assert [(v["name"], v["width"], v["height"]) for v in item["variants"]] == [
        ("1200", 750, 1200),
        ("800", 500, 800),
        ("400", 250, 400),
        ("150", 94, 150),
    ]
    assert item["placeholder"]["blurhash"] and item["placeholder"]["dominant_color"].startswith("#")
    assert len(item["sha256"]) == 64
    for variant in item["variants"]:
        got, image = stored_variant(variant)
        assert got["ContentType"] == "image/webp"
        assert (image.width, image.height) == (variant["width"], variant["height"])
        assert "exif" not in image.info
    # Upright: the stored top-left (red) quadrant is now top-right, the bottom-left (blue) top-left.
    _, largest = stored_variant(item["variants"][0])
    red, blue = largest.getpixel((560, 300)), largest.getpixel((190, 300))
    assert red[0] > 200 and red[2] < 60 and blue[2] > 200 and blue[0] < 60, (red, blue)
    assert invariants.violations() == []


def test_a_generic_heif_declared_as_heic_is_ready_as_heif():
    data = heic(Image.new("RGB", (500, 300), (0, 0, 255)))
    mif1_only = data[:8] + b"mif1" + data[12:16] + b"mif1mif1miaf" + data[28:]
    item = through(mif1_only, filename="photo.heif")
    assert (item["status"], item["content_type"], item["width"], item["height"]) == (
        "ready",
        "image/heif",
        500,
        300,
    )
    assert [v["name"] for v in item["variants"]] == ["400", "150"]


def test_a_heif_with_alpha_is_ready():
    item = through(heic(Image.new("RGBA", (640, 480), (255, 0, 0, 90))), content_type="image/heif")
    assert (item["status"], item["width"], item["height"]) == ("ready", 640, 480)
    _, image = stored_variant(item["variants"][-1])
    assert image.mode == "RGBA" and 60 <= image.getpixel((10, 10))[3] <= 120


def test_a_truncated_heic_fails_as_corrupt_without_variants():
    data = heic(Image.radial_gradient("L").resize((640, 480)).convert("RGB"))
    item = through(data[: len(data) - 200])
    assert (item["status"], item["error"]["code"], item["variants"]) == ("failed", "corrupt", [])
    assert invariants.violations() == []


def test_a_heic_declaring_a_huge_size_fails_as_too_many_pixels():
    data = heic(Image.new("RGB", (64, 64), (9, 9, 9)))
    at = data.index(b"ispe")
    flood = data[: at + 8] + struct.pack(">II", 2**31, 2**31) + data[at + 16 :]
    item = through(flood)
    assert (item["status"], item["error"]["code"], item["variants"]) == ("failed", "too_many_pixels", [])
