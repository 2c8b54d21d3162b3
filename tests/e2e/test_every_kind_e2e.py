"""One real file of each kind through the local stack over HTTP (presign, upload, confirm,
processing): a video made with ffmpeg, a HEIC photo made with pillow-heif, a generated PDF and
GLB, a hostile SVG, an animated GIF; each reaches ``ready`` with its metadata and variants, and
files that are not what they claim reach ``failed`` with their code."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.e2e.client import auth, bucket_keys, confirm, presign, upload, wait_until_settled
from tests.integration.test_svg_glb_processing import BILLION_LAUGHS, HOSTILE_SVG
from tests.unit.test_glb import ASSET, glb, json_chunk
from tests.unit.test_heif import heic
from tests.unit.test_pdf import make_pdf
from tests.unit.test_video import make_video

pytestmark = pytest.mark.e2e


def animated_gif() -> bytes:
    """Red, green, blue frames: the variants show the red first frame."""
    frames = [Image.new("RGB", (300, 200), color) for color in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def heic_photo() -> bytes:
    return heic(Image.linear_gradient("L").resize((640, 480)).convert("RGB"))


@dataclass(frozen=True)
class Case:
    filename: str
    content_type: str
    make: Callable[[Path], bytes]
    expected: dict  # the item fields the kind must have once settled
    variants: list[tuple[str, int, int, str]]  # (name, width, height, format)


def mp4(folder: Path) -> bytes:
    return make_video(folder / "clip.mp4", codec="libx264").read_bytes()


def webm(folder: Path) -> bytes:
    return make_video(folder / "clip.webm", codec="libvpx-vp9").read_bytes()


CASES = {
    "mp4": Case(
        "clip.mp4",
        "video/mp4",
        mp4,
        {"status": "ready", "kind": "video", "duration": 1.5, "width": 320, "height": 240},
        [("150", 150, 113, "webp")],
    ),
    "webm": Case(
        "clip.webm",
        "video/webm",
        webm,
        {"status": "ready", "kind": "video", "duration": 1.5, "width": 320, "height": 240},
        [("150", 150, 113, "webp")],
    ),
    "heic": Case(
        "phone.heic",
        "image/heic",
        lambda _: heic_photo(),
        {"status": "ready", "kind": "image", "width": 640, "height": 480, "duration": None},
        [("400", 400, 300, "webp"), ("150", 150, 113, "webp")],
    ),
    "pdf": Case(
        "brochure.pdf",
        "application/pdf",
        lambda _: make_pdf(2),
        {"status": "ready", "kind": "document", "pages": 2, "width": 612, "height": 792},
        [
            ("1200", 927, 1200, "webp"),
            ("800", 618, 800, "webp"),
            ("400", 309, 400, "webp"),
            ("150", 116, 150, "webp"),
        ],
    ),
    "glb": Case(
        "chair.glb",
        "model/gltf-binary",
        lambda _: glb(json_chunk(ASSET)),
        {"status": "ready", "kind": "model", "width": None, "pages": None},
        [],
    ),
    "hostile-svg": Case(
        "logo.svg",
        "image/svg+xml",
        lambda _: HOSTILE_SVG,
        {"status": "ready", "kind": "image", "width": 64, "height": 32},
        [("sanitised", 64, 32, "svg")],
    ),
    "animated-gif": Case(
        "spinner.gif",
        "image/gif",
        lambda _: animated_gif(),
        {"status": "ready", "kind": "image", "width": 300, "height": 200},
        [("150", 150, 100, "webp")],
    ),
    "fake-mp4": Case(
        "fake.mp4",
        "video/mp4",
        lambda folder: mp4(folder)[:32] + bytes(range(256)) * 40,
        {"status": "failed", "kind": "video", "error": "corrupt", "duration": None},
        [],
    ),
    "svg-with-entities": Case(
        "laughs.svg",
        "image/svg+xml",
        lambda _: BILLION_LAUGHS,
        {"status": "failed", "kind": "image", "error": "unsafe_svg"},
        [],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_file_of_each_kind_settles_with_its_metadata_and_variants(stack, tmp_path, case):
    key = stack.demo_key
    data = case.make(tmp_path)
    presigned = presign(stack, key, data, filename=case.filename, content_type=case.content_type)
    assert upload(presigned, data, content_type=case.content_type).status_code in (200, 201, 204)
    assert confirm(stack, key, presigned["upload_id"]).status_code == 201

    item = wait_until_settled(stack, key, presigned["upload_id"])

    settled = {name: item[name] for name in case.expected if name != "error"}
    settled["error"] = item["error"]["code"] if item["error"] else None
    assert settled == {"error": None, **case.expected}
    assert [(v["name"], v["width"], v["height"], v["format"]) for v in item["variants"]] == case.variants
    if item["status"] == "failed":
        assert bucket_keys(stack, f"originals/demo/{item['id']}") == []  # no bytes kept
        return
    assert item["content_type"] == case.content_type
    original = requests.get(item["url"], timeout=10).content
    if case.content_type == "image/svg+xml":  # an SVG's url serves its sanitised copy
        assert b"<script" not in original and b"onload" not in original
    else:
        assert original == data
    for variant in item["variants"]:
        served = requests.get(variant["url"], timeout=10)
        assert served.status_code == 200
        if variant["format"] == "webp":
            assert Image.open(io.BytesIO(served.content)).size == (variant["width"], variant["height"])
        else:  # the sanitised SVG: none of the upload's active content
            assert b"<script" not in served.content and b"onload" not in served.content
    if item["variants"] and item["variants"][0]["format"] == "webp":
        assert item["placeholder"]["blurhash"] and item["placeholder"]["dominant_color"].startswith("#")
    if case.content_type == "image/gif":  # the first (red) frame, as a still
        red, green, blue = (int(item["placeholder"]["dominant_color"][i : i + 2], 16) for i in (1, 3, 5))
        assert red > 200 and green < 60 and blue < 60
    listed = requests.get(
        f"{stack.api_url}/v1/media",
        params={"kind": item["kind"], "limit": 100},
        headers=auth(key),
        timeout=10,
    )
    assert item["id"] in listed.json()["media_ids"]
