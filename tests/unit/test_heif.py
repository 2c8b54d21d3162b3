"""HEIC/HEIF photos through the image pipeline: made here with pillow-heif (libheif's x265 encoder),
decoded with pillow-heif's plugin, upright, with variants and a placeholder like a JPEG."""

import io
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image, ImageCms, ImageDraw

from medialib.imaging import guards
from medialib.imaging.guards import heif_declared_pixels
from medialib.imaging.pipeline import ImageRejected, ProcessedImage, process_image
from medialib.imaging.sniff import HEIC, HEIF, sniff

REPO = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------- helpers


def heic(image: Image.Image, *, orientation: int | None = None, **params) -> bytes:
    """`image` encoded as HEIC by pillow-heif; an EXIF orientation becomes libheif's irot/imir."""
    heif_file = pillow_heif.from_pillow(image)
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        params["exif"] = exif.tobytes()
    out = io.BytesIO()
    heif_file.save(out, quality=params.pop("quality", 90), **params)
    return out.getvalue()


def quadrants(size) -> Image.Image:
    """Red, green / blue, yellow quadrants: every flip and rotation gives a different layout."""
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 2, height // 2), fill=(255, 0, 0))
    draw.rectangle((width // 2, 0, width, height // 2), fill=(0, 255, 0))
    draw.rectangle((0, height // 2, width // 2, height), fill=(0, 0, 255))
    draw.rectangle((width // 2, height // 2, width, height), fill=(255, 255, 0))
    return image


def rejection(data: bytes, **limits) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        process_image(data, **limits)
    return caught.value


def sizes_of(result: ProcessedImage) -> list[tuple[str, int, int]]:
    return [(v.name, v.width, v.height) for v in result.variants]


def open_variant(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data), formats=("WEBP",))
    image.load()
    return image


def near(got, want, tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(got, want, strict=True))


def with_ispe(data: bytes, width: int, height: int) -> bytes:
    """The file with its (only) ispe box claiming another size; the coded pixels stay as they were."""
    at = data.index(b"ispe")
    assert data.count(b"ispe") == 1 and data[at - 4 : at] == struct.pack(">I", 20)
    return data[: at + 8] + struct.pack(">II", width, height) + data[at + 16 :]


# ---------------------------------------------------------------- sniffing


def test_heic_and_heif_are_sniffed_as_raster_images():
    data = heic(Image.new("RGB", (64, 48), (10, 200, 30)))
    assert sniff(data) == HEIC and HEIC.raster and HEIC.content_type == "image/heic"
    mif1_only = data[:8] + b"mif1" + data[12:16] + b"mif1mif1miaf" + data[28:]
    assert data[16:28] == b"mif1heicmiaf"  # pillow-heif's ftyp, as the line above assumes
    assert sniff(mif1_only) == HEIF and HEIF.raster and HEIF.content_type == "image/heif"


# ---------------------------------------------------------------- photos


def test_a_heic_photo_gets_dimensions_variants_and_placeholder_like_a_jpeg():
    result = process_image(heic(quadrants((1600, 1000))))
    assert (result.width, result.height, result.frames) == (1600, 1000, 1)
    assert sizes_of(result) == [("1200", 1200, 750), ("800", 800, 500), ("400", 400, 250), ("150", 150, 94)]
    assert result.blurhash and result.dominant_color.startswith("#") and len(result.dominant_color) == 7
    largest = open_variant(result.variants[0].data)
    assert largest.size == (1200, 750) and largest.mode == "RGB"
    assert near(largest.getpixel((300, 187)), (255, 0, 0))
    assert near(largest.getpixel((900, 562)), (255, 255, 0))


def test_a_generic_heif_brand_is_processed_too():
    data = heic(Image.new("RGB", (500, 300), (0, 0, 255)))
    mif1_only = data[:8] + b"mif1" + data[12:16] + b"mif1mif1miaf" + data[28:]
    result = process_image(mif1_only)
    assert sizes_of(result) == [("400", 400, 240), ("150", 150, 90)]
    assert near(open_variant(result.variants[-1].data).getpixel((75, 45)), (0, 0, 255))


def test_orientation_6_swaps_the_dimensions_exactly_once():
    stored = quadrants((600, 400))
    data = heic(stored, orientation=6)
    result = process_image(data)
    assert (result.width, result.height) == (400, 600)  # swapped once; twice would be 600 x 400 again
    assert sizes_of(result) == [("400", 267, 400), ("150", 100, 150)]
    upright = stored.transpose(Image.Transpose.ROTATE_270).resize((267, 400))
    variant = open_variant(result.variants[0].data)
    for x, y in ((60, 90), (200, 90), (60, 310), (200, 310)):
        assert near(variant.getpixel((x, y)), upright.getpixel((x, y))), (x, y)


@pytest.mark.parametrize("orientation", [3, 8])
def test_other_orientations_are_applied_once(orientation):
    stored = quadrants((600, 400))
    result = process_image(heic(stored, orientation=orientation))
    transpose = {3: Image.Transpose.ROTATE_180, 8: Image.Transpose.ROTATE_90}[orientation]
    upright = stored.transpose(transpose)
    assert (result.width, result.height) == upright.size
    variant = open_variant(result.variants[0].data)
    expected = upright.resize(variant.size)
    w, h = variant.size
    for x, y in ((w // 4, h // 4), (3 * w // 4, h // 4), (w // 4, 3 * h // 4), (3 * w // 4, 3 * h // 4)):
        assert near(variant.getpixel((x, y)), expected.getpixel((x, y))), (x, y)


def test_a_heif_with_alpha_keeps_it_in_its_variants():
    image = Image.new("RGBA", (300, 200), (255, 0, 0, 255))
    ImageDraw.Draw(image).rectangle((150, 0, 300, 200), fill=(0, 0, 255, 0))
    result = process_image(heic(image))
    variant = open_variant(result.variants[0].data)
    assert variant.mode == "RGBA" and variant.size == (150, 100)
    assert near(variant.getpixel((30, 50)), (255, 0, 0, 255))
    assert variant.getpixel((120, 50))[3] <= 40


def test_a_10_bit_heic_is_processed():
    width, height = 320, 240
    pixel = struct.pack("<HHH", 65535, 32768, 0)
    heif_file = pillow_heif.from_bytes(mode="RGB;16", size=(width, height), data=pixel * (width * height))
    out = io.BytesIO()
    heif_file.save(out, quality=90)
    data = out.getvalue()
    assert pillow_heif.open_heif(io.BytesIO(data)).info["bit_depth"] == 10
    result = process_image(data)
    assert sizes_of(result) == [("150", 150, 113)]
    assert near(open_variant(result.variants[0].data).getpixel((75, 56)), (255, 128, 0))


def test_variants_carry_no_metadata_and_the_profile_is_applied():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><secret>where I live</secret></x:xmpmeta>'
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 1
    data = heic(Image.new("RGB", (500, 300), (40, 160, 90)), exif=exif.tobytes(), xmp=xmp, icc_profile=srgb)
    info = pillow_heif.open_heif(io.BytesIO(data)).info
    assert info.get("exif") and info.get("xmp") and info.get("icc_profile")  # the input does carry them
    for variant in process_image(data).variants:
        assert b"PhoneMaker" not in variant.data and b"where I live" not in variant.data
        chunks = variant.data[12:]
        assert b"EXIF" not in chunks and b"ICCP" not in chunks and b"XMP " not in chunks
        decoded = open_variant(variant.data)
        assert not {"exif", "xmp", "icc_profile"} & set(decoded.info)
        assert near(decoded.getpixel((decoded.width // 2, decoded.height // 2)), (40, 160, 90))


def test_only_the_primary_image_is_used_and_images_count_as_frames():
    heif_file = pillow_heif.from_pillow(Image.new("RGB", (500, 300), (255, 0, 0)))
    heif_file.add_from_pillow(Image.new("RGB", (900, 900), (0, 255, 0)))
    heif_file.add_from_pillow(Image.new("RGB", (100, 100), (0, 0, 255)))
    out = io.BytesIO()
    heif_file.save(out, quality=90, primary_index=0)
    data = out.getvalue()
    result = process_image(data)
    assert (result.width, result.height, result.frames) == (500, 300, 3)
    assert near(open_variant(result.variants[0].data).getpixel((200, 120)), (255, 0, 0))
    assert rejection(data, max_frames=2).code == "too_many_frames"


# ---------------------------------------------------------------- hostile and damaged files


def test_a_pixel_flood_is_refused_from_the_header_before_decoding(monkeypatch):
    data = heic(Image.new("RGB", (640, 480), (1, 2, 3)))
    decoded = []
    real_data = pillow_heif.HeifImage.data  # the property that decodes
    probe = property(lambda self: decoded.append(1) or real_data.fget(self))
    monkeypatch.setattr(pillow_heif.HeifImage, "data", probe)
    limit = 640 * 480 - 1
    rejected = rejection(data, max_pixels=limit)
    assert rejected.code == "too_many_pixels"
    assert rejected.message == f"The image has more than {limit} pixels."
    assert decoded == []
    assert process_image(data, max_pixels=640 * 480).width == 640
    assert decoded == [1]  # the probe does see decoding when it happens


@pytest.mark.parametrize(
    ("width", "height"),
    [
        pytest.param(20_000, 20_000, id="400MP"),
        pytest.param(100_000, 100_000, id="10GP"),
        pytest.param(2**31, 2**31, id="2^31-a-side"),
        pytest.param(0xFFFFFFFF, 0xFFFFFFFF, id="2^32-1-a-side"),
    ],
)
def test_a_huge_declared_size_is_too_many_pixels_without_decoding(width, height):
    data = with_ispe(heic(Image.new("RGB", (64, 64), (9, 9, 9))), width, height)
    assert heif_declared_pixels(data) == width * height
    assert rejection(data, max_pixels=50_000_000).code == "too_many_pixels"


def test_a_declared_size_of_zero_is_corrupt():
    data = with_ispe(heic(Image.new("RGB", (64, 64), (9, 9, 9))), 0, 0)
    assert rejection(data).code == "corrupt"


def _damaged() -> list:
    data = heic(Image.radial_gradient("L").resize((640, 480)).convert("RGB"))
    meta = data.index(b"meta") - 4
    mdat = data.index(b"mdat") - 4
    return [
        pytest.param(data[:28], id="ftyp-only"),
        pytest.param(data[:mdat], id="no-mdat"),
        pytest.param(data[: mdat + (len(data) - mdat) // 2], id="truncated-half"),
        pytest.param(data[:-1], id="truncated-1-byte"),
        pytest.param(data[: meta + 60], id="truncated-in-meta"),
        pytest.param(data[:meta] + b"\xff" * 200 + data[meta + 200 :], id="meta-overwritten"),
        pytest.param(data[:meta] + struct.pack(">I", 0xFFFFFF) + data[meta + 4 :], id="meta-size-lies"),
        pytest.param(data[: mdat + 8] + bytes(len(data) - mdat - 8), id="mdat-zeroed"),
    ]


@pytest.mark.parametrize("data", _damaged())
def test_a_damaged_heic_is_corrupt(data):
    assert sniff(data) == HEIC
    assert rejection(data).code == "corrupt"


def test_declared_pixels_reads_only_the_meta_box():
    data = heic(Image.new("RGB", (120, 80), (9, 9, 9)))
    assert heif_declared_pixels(data) == 120 * 80
    assert heif_declared_pixels(data[:28]) == 0
    assert heif_declared_pixels(b"\x00\x00\x00\x14ispe" + bytes(4) + struct.pack(">II", 9, 9)) == 0
    # A box size of 1 (64-bit size follows) and of 0 (to the end of the file) are followed too.
    meta = data.index(b"meta") - 4
    body = data[meta + 8 : meta + int.from_bytes(data[meta : meta + 4], "big")]
    assert heif_declared_pixels(data[:28] + struct.pack(">I4sQ", 1, b"meta", 16 + len(body)) + body) == 9600
    assert heif_declared_pixels(data[:28] + struct.pack(">I4s", 0, b"meta") + body) == 9600


# ---------------------------------------------------------------- cold start


def test_pillow_heif_is_imported_and_registered_only_for_the_first_heic():
    """Only the HEIC path pays for pillow-heif, and the JPEG path never reaches its plugin."""
    script = """
import io, json, sys
from PIL import Image
from medialib.imaging.pipeline import process_image
out = io.BytesIO(); Image.new("RGB", (64, 48), (200, 0, 0)).save(out, "JPEG")
process_image(out.getvalue())
after_jpeg = ["pillow_heif" in sys.modules, "HEIF" in Image.OPEN]
heic = sys.stdin.buffer.read()
first = process_image(heic)
second = process_image(heic)
after_heic = ["pillow_heif" in sys.modules, "HEIF" in Image.OPEN]
print(json.dumps(after_jpeg + after_heic + [first.width, second.width]))
"""
    data = heic(Image.new("RGB", (64, 48), (0, 200, 0)))
    env = {**os.environ, "PYTHONPATH": str(REPO / "shared")}
    done = subprocess.run(
        [sys.executable, "-c", script], input=data, capture_output=True, env=env, check=True, timeout=60
    )
    assert json.loads(done.stdout) == [False, False, True, True, 64, 64]


def test_the_heif_opener_is_registered_once(monkeypatch):
    calls = []
    guards._register_heif_opener.cache_clear()
    monkeypatch.setattr(pillow_heif, "register_heif_opener", lambda **kwargs: calls.append(kwargs))
    try:
        assert guards.heif_formats() == ("HEIF",) and guards.heif_formats() == ("HEIF",)
    finally:
        guards._register_heif_opener.cache_clear()
    assert calls == [{"thumbnails": False, "depth_images": False, "aux_images": False}]
