"""Videos through the real handlers on moto: ready with the duration and size the container
declares and WebP variants of a poster frame; a video larger than what processing keeps in memory
read from the local copy made while it was hashed; a fake or truncated one failed as ``corrupt``
with its bytes removed; no local copy left behind."""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from io import BytesIO
from pathlib import Path

import boto3
import pytest
from PIL import Image

from medialib.services import processing
from medialib.settings import get_settings
from tests.support import invariants
from tests.support.api import bucket, get_item, listing, presign, process_records, uploads
from tests.support.aws import mocked_aws
from tests.unit.test_video import make_video


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


@pytest.fixture(autouse=True)
def local_copies(tmp_path, monkeypatch) -> Path:
    """Where processing's temporary files go, checked empty after each test."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.iterdir()) == []


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("videos")
    return {
        "video/mp4": make_video(folder / "h264.mp4", codec="libx264").read_bytes(),
        "video/webm": make_video(folder / "vp9.webm", codec="libvpx-vp9").read_bytes(),
        "video/quicktime": make_video(folder / "h264.mov", codec="libx264").read_bytes(),
    }


def s3():
    return boto3.client("s3")


def keys(prefix: str) -> list[str]:
    return [item["Key"] for item in s3().list_objects_v2(Bucket=bucket(), Prefix=prefix).get("Contents", [])]


def upload(data: bytes, content_type: str, filename: str = "clip.mp4") -> tuple[str, dict]:
    status, _, body = presign(filename, len(data), content_type=content_type)
    assert status == 201, body
    upload_id = body["data"]["upload_id"]
    key = f"originals/demo/{upload_id}"
    put = s3().put_object(Bucket=bucket(), Key=key, Body=data, ContentType=content_type)
    return upload_id, {
        "key": key,
        "size": len(data),
        "eTag": put["ETag"].strip('"'),
        "sequencer": "0065F1A2B3C4D5E6F7",
    }


def through(data: bytes, content_type: str, *, process_first: bool = False) -> dict:
    upload_id, record = upload(data, content_type)
    if process_first:
        assert process_records(record) == {"batchItemFailures": []}
        assert get_item(upload_id) is None  # worked out ahead, never listed before confirm
    status, _, answer = uploads("confirm-upload", body={"upload_id": upload_id})
    assert status == 201, answer
    assert process_records(record) == {"batchItemFailures": []}  # or a duplicate event
    item = get_item(upload_id)
    assert item is not None
    return item


TYPES = ["video/mp4", "video/webm", "video/quicktime"]


@pytest.mark.parametrize("content_type", TYPES)
@pytest.mark.parametrize("process_first", [False, True], ids=["confirm-first", "process-first"])
def test_a_video_is_ready_with_its_duration_size_and_poster_variants(videos, content_type, process_first):
    data = videos[content_type]
    item = through(data, content_type, process_first=process_first)

    assert (item["status"], item["kind"], item["content_type"], item["error"]) == (
        "ready",
        "video",
        content_type,
        None,
    )
    assert (item["duration"], item["width"], item["height"], item["pages"]) == (1.5, 320, 240, None)
    assert item["size"] == len(data) and item["sha256"] == hashlib.sha256(data).hexdigest()
    assert [(v["name"], v["width"], v["height"], v["format"]) for v in item["variants"]] == [
        ("150", 150, 113, "webp")
    ]
    assert item["placeholder"]["blurhash"] and item["placeholder"]["dominant_color"].startswith("#")
    (variant,) = item["variants"]
    got = s3().get_object(Bucket=bucket(), Key=variant["url"].removeprefix("https://cdn.example.test/"))
    assert got["ContentType"] == "image/webp"
    assert Image.open(BytesIO(got["Body"].read())).size == (150, 113)
    assert listing(kind="video")["media_ids"] == [item["id"]]
    assert invariants.violations() == []


def test_a_video_not_held_in_memory_is_read_from_the_copy_made_while_hashing(videos, monkeypatch):
    """Videos over what processing keeps in memory (the image limit; up to 1 GB) are never read
    twice: the single streamed read also writes the local file ffmpeg reads."""
    settings = dataclasses.replace(get_settings(), max_image_bytes=1024)
    monkeypatch.setattr(processing, "get_settings", lambda: settings)
    reads = []
    real_read = processing.object_storage.read
    monkeypatch.setattr(
        processing.object_storage,
        "read",
        lambda *args, **kwargs: reads.append(1) or real_read(*args, **kwargs),
    )

    item = through(videos["video/mp4"], "video/mp4")

    assert (item["status"], item["duration"], item["width"], len(item["variants"])) == ("ready", 1.5, 320, 1)
    assert len(reads) == 1  # one event processed once (the confirm-first path)


def test_a_duplicate_event_for_a_video_changes_nothing(videos):
    upload_id, record = upload(videos["video/webm"], "video/webm")
    assert uploads("confirm-upload", body={"upload_id": upload_id})[0] == 201
    process_records(record)
    before = get_item(upload_id)

    assert process_records(record) == {"batchItemFailures": []}
    assert get_item(upload_id) == before
    assert len(keys(f"variants/demo/{upload_id}/")) == 1


@pytest.mark.parametrize("damage", ["truncated", "fake"])
@pytest.mark.parametrize("process_first", [False, True], ids=["confirm-first", "process-first"])
def test_a_video_that_is_not_what_it_claims_fails_as_corrupt(videos, damage, process_first):
    real = videos["video/mp4"]
    data = real[:3000] if damage == "truncated" else real[:32] + bytes(range(256)) * 40
    upload_id, record = upload(data, "video/mp4")
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
    assert (item["status"], item["error"]["code"], item["variants"], item["duration"]) == (
        "failed",
        "corrupt",
        [],
        None,
    )
    assert keys(f"originals/demo/{upload_id}") == [] and keys(f"variants/demo/{upload_id}") == []
    assert invariants.violations() == []
