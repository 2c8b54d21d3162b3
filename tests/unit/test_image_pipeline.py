"""The image pipeline on real images made with Pillow: variants, guards, orientation, placeholder."""

import io
import pickle
import struct
import warnings
import zlib

import blurhash
import pytest
from PIL import Image, ImageCms, ImageDraw, ImageOps

from medialib.imaging.guards import count_gif_frames
from medialib.imaging.pipeline import (
    VARIANT_BOXES,
    ImageRejected,
    ProcessedImage,
    decode_first_frame,
    process_image,
    read_orientation,
    variant_sizes,
)

# ---------------------------------------------------------------- helpers


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def solid(size, color=(200, 120, 40), mode="RGB") -> Image.Image:
    return Image.new(mode, size, color)


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


def jpeg_with_orientation(image: Image.Image, orientation: int, **params) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, "JPEG", exif=exif.tobytes(), quality=95, **params)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header(width: int, height: int) -> bytes:
    """A PNG with a valid IHDR claiming the given size, and no pixel data at all."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b"")


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \x00\x00\x00\x00" + b"".join(struct.pack(">i", round(v * 65536)) for v in (x, y, z))


def rgb_icc_profile(red, green, blue) -> bytes:
    """A minimal ICC v2 matrix/TRC display profile with the given colorants (D50 XYZ), gamma 2.2."""
    curve = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, 0x0233) + b"\x00\x00"
    white = _xyz(0.9642, 1.0, 0.8249)
    tags = [(b"wtpt", white), (b"rXYZ", _xyz(*red)), (b"gXYZ", _xyz(*green)), (b"bXYZ", _xyz(*blue))]
    tags += [(b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = (
        struct.pack(">I", offset + len(body))
        + b"\x00" * 4
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\x00" * 12
        + b"acsp"
        + b"\x00" * 28
        + white[8:]
        + b"\x00" * 48
    )
    return header + struct.pack(">I", len(tags)) + table + body


SRGB_RED, SRGB_GREEN, SRGB_BLUE = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)


def webp_chunks(data: bytes) -> list[bytes]:
    """The top-level chunk ids of a WebP (RIFF) file."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    ids, pos = [], 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        ids.append(chunk_id)
        pos += 8 + size + (size & 1)
    return ids


def open_variant(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "WEBP"
    image.load()
    return image


def sizes_of(result: ProcessedImage) -> list[tuple[str, int, int]]:
    return [(v.name, v.width, v.height) for v in result.variants]


def rejection(data: bytes, **limits) -> ImageRejected:
    with pytest.raises(ImageRejected) as raised:
        process_image(data, **limits)
    return raised.value


def near(actual, expected, tolerance=12) -> bool:
    """WebP is lossy: compare colours channel by channel within a tolerance."""
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def rgb(hex_color: str) -> tuple[int, int, int]:
    return tuple(int(hex_color[i : i + 2], 16) for i in (1, 3, 5))


def animation(fmt: str, colors, size=(300, 200), **params) -> bytes:
    frames = [solid(size, color) for color in colors]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **params)


def gif_of_tiny_frames(count: int, junk_between: bytes = b"") -> bytes:
    """A hand-built GIF of `count` 1x1 frames, optionally with stray bytes between them."""
    header = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return header + (frame + junk_between) * count + b"\x3b"


# ---------------------------------------------------------------- variant sizes


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        # 1800 * 150 / 2400 = 112.5 rounds half up to 113
        ((2400, 1800), [("1200", 1200, 900), ("800", 800, 600), ("400", 400, 300), ("150", 150, 113)]),
        ((1800, 2400), [("1200", 900, 1200), ("800", 600, 800), ("400", 300, 400), ("150", 113, 150)]),
        ((1000, 1000), [("800", 800, 800), ("400", 400, 400), ("150", 150, 150)]),
        # a side equal to a box gets no variant for that box: 1200x800 has no "1200"
        ((1200, 800), [("800", 800, 533), ("400", 400, 267), ("150", 150, 100)]),
        ((3000, 100), [("1200", 1200, 40), ("800", 800, 27), ("400", 400, 13), ("150", 150, 5)]),
        ((5000, 1), [("1200", 1200, 1), ("800", 800, 1), ("400", 400, 1), ("150", 150, 1)]),
        ((151, 100), [("150", 150, 99)]),
        # small images: exactly one variant, named after the smallest box, at their own size
        ((150, 150), [("150", 150, 150)]),
        ((100, 60), [("150", 100, 60)]),
        ((1, 1), [("150", 1, 1)]),
    ],
)
def test_variant_sizes_fit_the_boxes_by_longest_side(size, expected):
    assert [(name, w, h) for name, (w, h) in variant_sizes(*size)] == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((2400, 1800), [("1200", 1200, 900), ("800", 800, 600), ("400", 400, 300), ("150", 150, 113)]),
        ((1800, 2400), [("1200", 900, 1200), ("800", 600, 800), ("400", 300, 400), ("150", 113, 150)]),
        ((1000, 1000), [("800", 800, 800), ("400", 400, 400), ("150", 150, 150)]),
        ((100, 60), [("150", 100, 60)]),
    ],
    ids=["landscape", "portrait", "square", "tiny"],
)
def test_processed_variants_are_webp_of_the_declared_sizes(size, expected):
    # Given a JPEG of the size
    data = encode(solid(size), "JPEG")

    # When it is processed
    result = process_image(data)

    # Then the variants are the expected ones, largest first, and their bytes agree
    assert (result.width, result.height, result.frames) == (*size, 1)
    assert sizes_of(result) == expected
    for variant in result.variants:
        assert open_variant(variant.data).size == (variant.width, variant.height)


def test_variants_are_never_upscaled_and_always_present():
    for size in [(1, 1), (40, 90), (150, 150), (151, 151), (399, 401), (1201, 3)]:
        result = process_image(encode(solid(size), "PNG"))
        assert result.variants, size
        for variant in result.variants:
            assert variant.width <= size[0] and variant.height <= size[1]
            assert max(variant.width, variant.height) <= int(variant.name)
        assert [int(v.name) for v in result.variants] == sorted(
            (int(v.name) for v in result.variants), reverse=True
        )
        assert {v.name for v in result.variants} <= {str(box) for box in VARIANT_BOXES}


# ---------------------------------------------------------------- orientation


def test_exif_orientation_6_swaps_the_reported_and_variant_dimensions():
    # Given a 1600x800 JPEG whose EXIF says "rotate 90 degrees clockwise to display"
    data = jpeg_with_orientation(quadrants((1600, 800)), 6)

    # When it is processed
    result = process_image(data)

    # Then it is reported and rendered as the 800x1600 picture a viewer shows
    assert (result.width, result.height) == (800, 1600)
    assert sizes_of(result) == [("1200", 600, 1200), ("800", 400, 800), ("400", 200, 400), ("150", 75, 150)]
    upright = open_variant(result.variants[0].data).convert("RGB")
    # the stored top-left (red) quadrant is now top-right; the stored bottom-left (blue) is top-left
    assert near(upright.getpixel((450, 300)), (255, 0, 0))
    assert near(upright.getpixel((150, 300)), (0, 0, 255))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillows_exif_transpose(orientation):
    # Given a JPEG with four coloured quadrants and an EXIF orientation
    data = jpeg_with_orientation(quadrants((1000, 500)), orientation)
    reference = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")

    # When it is processed
    result = process_image(data)

    # Then the largest variant shows what Pillow's own transpose shows
    assert (result.width, result.height) == reference.size
    variant = open_variant(result.variants[0].data).convert("RGB")
    expected = reference.resize(variant.size)
    for fx, fy in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)]:
        point = (int(variant.width * fx), int(variant.height * fy))
        assert near(variant.getpixel(point), expected.getpixel(point)), (orientation, point)


def test_unreadable_orientation_values_are_ignored():
    exif = Image.Exif()
    exif[0x0112] = 9  # not an orientation
    result = process_image(encode(solid((300, 200)), "JPEG", exif=exif.tobytes()))
    assert (result.width, result.height) == (300, 200)


def test_png_orientation_is_applied_too():
    exif = Image.Exif()
    exif[0x0112] = 8
    result = process_image(encode(solid((300, 200)), "PNG", exif=exif.tobytes()))
    assert (result.width, result.height) == (200, 300)
    assert sizes_of(result) == [("150", 100, 150)]


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_webp_orientation_and_profile_are_applied(mode):
    # Given a lossless WebP stored sideways (orientation 6) with a wide-gamut profile, whose
    # stored top-left quadrant is red: libwebp hands its frame over as RGBX or RGBA
    exif = Image.Exif()
    exif[0x0112] = 6
    wide = rgb_icc_profile((0.7977, 0.2880, 0.0), (0.1352, 0.7119, 0.0), (0.0313, 0.0001, 0.8249))
    image = quadrants((1600, 800)).convert(mode)
    if mode == "RGBA":  # a transparent corner, or libwebp stores no alpha at all
        ImageDraw.Draw(image).rectangle((1500, 700, 1600, 800), fill=(0, 0, 0, 0))
    data = encode(image, "WEBP", lossless=True, exif=exif.tobytes(), icc_profile=wide)

    # When it is processed
    result = process_image(data)

    # Then it is upright (red now top-right), converted to sRGB, and keeps only a real alpha band
    assert (result.width, result.height) == (800, 1600)
    upright = open_variant(result.variants[0].data)
    assert upright.mode == ("RGBA" if mode == "RGBA" else "RGB")
    red = upright.convert("RGB").getpixel((450, 300))
    assert red[0] > 240 and red[1] < 60 and red[2] < 60  # pure red, as a wide-gamut red in sRGB
    assert near(upright.convert("RGB").getpixel((150, 300)), (0, 0, 255), tolerance=40)


# ---------------------------------------------------------------- reduced-size JPEG decoding


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_big_jpegs_are_decoded_at_a_reduced_scale(progressive):
    # Given a 4000x3000 JPEG, of which the largest variant needs 1200x900
    image = opened(encode(solid((4000, 3000)), "JPEG", progressive=progressive))

    # When its first frame is decoded for that variant
    decoded = decode_first_frame(image, read_orientation(image), (1200, 900))

    # Then libjpeg decoded it at 1/2 scale (the largest power of two still covering 1200x900)
    assert decoded.size == (2000, 1500)


def test_draft_gets_the_aspect_correct_box():
    # Given a 4000x1000 panorama: its 1200 variant is 1200x300
    image = opened(encode(solid((4000, 1000)), "JPEG"))
    (_, largest), *_ = variant_sizes(4000, 1000)

    decoded = decode_first_frame(image, 1, largest)

    # Then 1/2 scale applies (a square 1200x1200 request would have forced full size)
    assert largest == (1200, 300)
    assert decoded.size == (2000, 500)


def test_draft_box_follows_the_exif_rotation():
    # Given a 4000x1000 JPEG stored sideways (orientation 6): upright it is 1000x4000
    image = opened(jpeg_with_orientation(solid((4000, 1000)), 6))
    orientation = read_orientation(image)
    (_, largest), *_ = variant_sizes(1000, 4000)

    decoded = decode_first_frame(image, orientation, largest)

    # Then the reduced decode is still 1/2 scale, as stored: it is turned upright after resizing
    assert (orientation, largest) == (6, (300, 1200))
    assert decoded.size == (2000, 500)


def test_small_jpegs_and_other_formats_decode_at_full_size():
    small = opened(encode(solid((140, 100)), "JPEG"))
    assert decode_first_frame(small, 1, (140, 100)).size == (140, 100)
    png = opened(encode(solid((2400, 1800)), "PNG"))
    assert decode_first_frame(png, read_orientation(png), (1200, 900)).size == (2400, 1800)


# ---------------------------------------------------------------- metadata, colour, alpha


def test_variants_carry_no_metadata():
    # Given a JPEG with EXIF (camera, GPS), an ICC profile and XMP
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif[0x0112] = 1
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)  # GPSLatitude
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    data = encode(quadrants((1300, 900)), "JPEG", exif=exif.tobytes(), icc_profile=icc, xmp=xmp)
    assert b"SecretCam" in data

    # When it is processed
    result = process_image(data)

    # Then no variant has an EXIF, ICC or XMP chunk, or any trace of them
    assert len(result.variants) == 4
    for variant in result.variants:
        assert set(webp_chunks(variant.data)) <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
        assert b"SecretCam" not in variant.data
        info = open_variant(variant.data).info
        assert not {"exif", "icc_profile", "xmp"} & info.keys()


def test_embedded_profiles_are_converted_to_srgb_in_every_variant():
    # Given a red JPEG whose profile swaps the red and green primaries: it displays as green
    swapped = rgb_icc_profile(red=SRGB_GREEN, green=SRGB_RED, blue=SRGB_BLUE)
    data = encode(solid((2400, 1800), (255, 0, 0)), "JPEG", icc_profile=swapped, quality=95)

    # When it is processed
    result = process_image(data)

    # Then every variant (each made from the previous one) holds the sRGB green a viewer sees
    assert len(result.variants) == 4
    for variant in result.variants:
        center = (variant.width // 2, variant.height // 2)
        assert near(open_variant(variant.data).getpixel(center), (0, 255, 0)), variant.name
    assert near(rgb(result.dominant_color), (0, 255, 0), tolerance=4)


def test_a_broken_icc_profile_does_not_fail_the_image():
    data = encode(solid((300, 200), (255, 0, 0)), "PNG", icc_profile=b"not an icc profile at all")
    result = process_image(data)
    assert result.dominant_color == "#ff0000"


def test_an_srgb_profile_keeps_colours():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    result = process_image(encode(solid((300, 200), (30, 160, 90)), "PNG", icc_profile=icc))
    assert near(open_variant(result.variants[0].data).getpixel((75, 50)), (30, 160, 90), tolerance=4)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF"])
def test_alpha_is_preserved(fmt):
    # Given an image transparent on its left half
    image = Image.new("RGBA", (400, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((200, 0, 400, 200), fill=(0, 128, 255, 255))
    data = encode(image, fmt, **({"lossless": True} if fmt == "WEBP" else {}))

    # When it is processed
    result = process_image(data)

    # Then every variant keeps the transparent and the opaque half
    for variant in result.variants:
        alpha = open_variant(variant.data).convert("RGBA").getchannel("A")
        assert alpha.getpixel((variant.width // 8, variant.height // 2)) == 0
        assert alpha.getpixel((variant.width * 7 // 8, variant.height // 2)) == 255


def test_opaque_images_have_no_alpha_in_variants():
    result = process_image(encode(solid((400, 300)), "JPEG"))
    assert all(open_variant(v.data).mode == "RGB" for v in result.variants)


@pytest.mark.parametrize(
    ("image", "fmt", "expected"),
    [
        (solid((300, 200), (0, 0, 0, 0), mode="CMYK"), "JPEG", (255, 255, 255)),
        (solid((300, 200), 32768, mode="I;16"), "PNG", (128, 128, 128)),  # 16-bit mid grey, not clipped
        (solid((300, 200), 100, mode="L"), "PNG", (100, 100, 100)),
        (solid((300, 200), (100, 200), mode="LA"), "PNG", (100, 100, 100, 200)),
        (solid((300, 200), 1, mode="1"), "PNG", (255, 255, 255)),
        (solid((300, 200), (10, 200, 30)).convert("P"), "PNG", (10, 200, 30)),
    ],
    ids=["cmyk", "16-bit-grey", "grey", "grey-alpha", "bilevel", "palette"],
)
def test_other_modes_become_rgb_or_rgba(image, fmt, expected):
    result = process_image(encode(image, fmt))
    variant = open_variant(result.variants[0].data)
    assert variant.mode == ("RGBA" if len(expected) == 4 else "RGB")
    assert near(variant.getpixel((75, 50)), expected, tolerance=4)


# ---------------------------------------------------------------- animations


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_animations_use_their_first_frame(fmt):
    # Given a three-frame animation: red, green, blue
    data = animation(fmt, [(255, 0, 0), (0, 255, 0), (0, 0, 255)])

    # When it is processed
    result = process_image(data)

    # Then it reports three frames and every variant shows the red first frame, as a still
    assert result.frames == 3
    assert near(rgb(result.dominant_color), (255, 0, 0), tolerance=2)  # lossy WebP frames are not exact
    for variant in result.variants:
        still = open_variant(variant.data)
        assert getattr(still, "n_frames", 1) == 1
        assert near(still.convert("RGB").getpixel((variant.width // 2, variant.height // 2)), (255, 0, 0))


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_animations_over_the_frame_cap_are_rejected(fmt):
    data = animation(fmt, [(255, 0, 0), (0, 255, 0), (0, 0, 255)])
    assert process_image(data, max_frames=3).frames == 3
    rejected = rejection(data, max_frames=2)
    assert rejected.code == "too_many_frames"


def test_a_gif_of_many_tiny_frames_is_rejected_at_the_cap():
    data = gif_of_tiny_frames(5000)
    assert Image.open(io.BytesIO(data)).n_frames == 5000
    assert rejection(data).code == "too_many_frames"
    assert count_gif_frames(data, limit=1001) == 1001


@pytest.mark.parametrize("junk", [b"", b"\x00\x99junk\x00"], ids=["clean", "stray-bytes"])
def test_gif_frame_count_agrees_with_pillow(junk):
    data = gif_of_tiny_frames(7, junk_between=junk)
    assert count_gif_frames(data, limit=100) == Image.open(io.BytesIO(data)).n_frames == 7
    assert count_gif_frames(animation("GIF", ["red", "lime", "blue", "red"]), limit=100) == 4


def test_mpo_pictures_are_not_counted_as_frames():
    frames = [solid((300, 200), "red"), solid((300, 200), "blue")]
    data = encode(frames[0], "MPO", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data)).n_frames == 2
    result = process_image(data, max_frames=1)
    assert result.frames == 1
    assert near(rgb(result.dominant_color), (255, 0, 0), tolerance=2)


# ---------------------------------------------------------------- rejections


def test_the_pixel_limit_is_checked_from_the_header_before_decoding():
    # Given PNG headers with no pixel data: decoding any of them would fail as "corrupt"
    assert rejection(png_header(100, 100)).code == "corrupt"

    # Then a header over the limit is refused for its size, before any decoding is tried
    assert rejection(png_header(8000, 8000)).code == "too_many_pixels"  # 64 MP > default 50 MP
    assert rejection(png_header(100, 100), max_pixels=9_999).code == "too_many_pixels"
    assert rejection(png_header(100_000, 100_000), max_pixels=10**12).code == "too_many_pixels"


def test_decompression_bomb_warnings_are_errors_without_changing_global_state():
    # Given a 100 MP header, over Pillow's bomb warning threshold but within a generous limit
    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < 100_000_000
    filters_before = list(warnings.filters)
    limit_before = Image.MAX_IMAGE_PIXELS

    # When it is processed, Then Pillow's warning is an error, and nothing global changed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # even a caller ignoring warnings gets the rejection
        assert rejection(png_header(10_000, 10_000), max_pixels=10**9).code == "too_many_pixels"
    assert warnings.filters == filters_before
    assert limit_before == Image.MAX_IMAGE_PIXELS


def test_an_image_exactly_at_the_pixel_limit_is_accepted():
    assert process_image(encode(solid((100, 100)), "PNG"), max_pixels=10_000).width == 100


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(encode(quadrants((800, 600)), "JPEG")[:3000], id="truncated-jpeg"),
        pytest.param(
            encode(quadrants((800, 600)), "JPEG", progressive=True)[:3000], id="truncated-progressive"
        ),
        pytest.param(encode(quadrants((800, 600)), "PNG")[:400], id="truncated-png"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20, id="png-signature-then-garbage"),
        pytest.param(b"\xff\xd8\xff" + b"\x00" * 50, id="jpeg-signature-then-zeros"),
        pytest.param(b"GIF89a\x10\x00\x10\x00", id="gif-header-only"),
        pytest.param(encode(solid((300, 200)), "WEBP")[:60], id="truncated-webp"),
        pytest.param(encode(solid((300, 200)), "AVIF")[:200], id="truncated-avif"),
    ],
)
def test_damaged_images_are_corrupt_with_a_fixed_message(data):
    rejected = rejection(data)
    assert rejected.code == "corrupt"
    assert rejected.message == "The image data is damaged or truncated."
    assert str(rejected) == rejected.message


def test_a_palette_png_without_a_palette_is_corrupt_not_a_crash():
    # Given 69 bytes: a 3x1 palette PNG with no PLTE chunk (Pillow asserts in has_transparency_data)
    ihdr = struct.pack(">IIBBBBB", 3, 1, 8, 3, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    data += png_chunk(b"IDAT", zlib.compress(b"\x00" * 4, 9)) + png_chunk(b"IEND", b"")
    assert len(data) == 69

    # When it is processed, Then it is rejected as damaged, with Pillow's error kept as the cause
    rejected = rejection(data)
    assert rejected.code == "corrupt"
    assert isinstance(rejected.__cause__, AssertionError)


def test_an_avif_whose_pixels_fail_to_decode_is_corrupt_not_a_crash():
    # Given an AVIF whose AV1 payload ends in zeros (libavif: "Decoding of color planes failed")
    data = encode(quadrants((120, 90)), "AVIF")
    data = data[:-40] + bytes(40)

    # Then Pillow's RuntimeError is a rejection
    rejected = rejection(data)
    assert rejected.code == "corrupt"
    assert isinstance(rejected.__cause__, RuntimeError)


@pytest.mark.parametrize(
    "step",
    ["medialib.imaging.pipeline._webp", "medialib.imaging.pipeline.blurhash_of", "PIL.Image.Image.resize"],
)
def test_any_failure_while_decoding_or_encoding_is_corrupt(monkeypatch, step):
    # Given a step of decoding or encoding that fails in a way nobody listed
    def fail(*_args, **_kwargs):
        raise ZeroDivisionError("unexpected")

    monkeypatch.setattr(step, fail)

    # When a valid image is processed, Then it is rejected as corrupt
    rejected = rejection(encode(quadrants((500, 400)), "PNG"))
    assert (rejected.code, rejected.message) == ("corrupt", "The image data is damaged or truncated.")
    assert isinstance(rejected.__cause__, ZeroDivisionError)


def test_running_out_of_memory_is_a_size_rejection_that_lets_the_pixels_go(monkeypatch):
    def exhausted(*_args, **_kwargs):
        raise MemoryError

    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", exhausted)

    rejected = rejection(encode(quadrants((500, 400)), "PNG"))
    assert rejected.code == "too_many_pixels"
    assert rejected.message == "The image needs more memory to decode than processing allows."
    assert isinstance(rejected.__cause__, MemoryError)
    assert rejected.__cause__.__traceback__ is None  # its frames, holding the buffers, are released


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_interrupts_are_not_swallowed(monkeypatch, interrupt):
    def stop(*_args, **_kwargs):
        raise interrupt

    monkeypatch.setattr("medialib.imaging.pipeline._webp", stop)
    with pytest.raises(interrupt):
        process_image(encode(quadrants((300, 200)), "PNG"))


def test_warnings_about_damaged_data_do_not_depend_on_the_callers_filters():
    # Given a JPEG with a broken EXIF block (Pillow warns about it) and a caller treating warnings as errors
    data = encode(quadrants((300, 200)), "JPEG", exif=b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x05")

    # When it is processed, Then it is processed as without the filter
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert process_image(data).width == 300


@pytest.mark.parametrize(
    ("mode", "params", "accepted"),
    [
        ("CMYK", {"progressive": True}, False),  # 8 bytes a pixel of coefficients
        ("RGB", {"progressive": True, "subsampling": 0}, False),  # 4:4:4, 6 bytes a pixel
        ("RGB", {"progressive": True, "subsampling": 2}, True),  # 4:2:0, 3 bytes a pixel
        ("CMYK", {}, True),  # one scan: decoded a few rows at a time
        ("RGB", {"subsampling": 0}, True),
    ],
    ids=["progressive-cmyk", "progressive-444", "progressive-420", "baseline-cmyk", "baseline-444"],
)
def test_jpegs_decoded_scan_by_scan_may_not_hold_more_than_the_limits_pixels(mode, params, accepted):
    # Given a 400x300 JPEG and a limit of 120,000 pixels (480,000 bytes of RGBA): libjpeg holds a
    # progressive file's coefficients whole, 2 bytes each, whatever scale it is decoded at
    data = encode(solid((400, 300), mode="RGB").convert(mode), "JPEG", **params)

    if accepted:
        assert process_image(data, max_pixels=120_000).width == 400
    else:
        rejected = rejection(data, max_pixels=120_000)
        assert rejected.code == "too_many_pixels"
        assert rejected.message == "The image needs more memory to decode than processing allows."


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"just some text\n", id="text"),
        pytest.param(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", id="pdf"),
        pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', id="svg"),
        pytest.param(b"\x00\x00\x00\x14ftypisom\x00\x00\x02\x00isom", id="mp4"),
        pytest.param(encode(solid((300, 200)), "BMP"), id="bmp"),
        pytest.param(encode(solid((300, 200)), "TIFF"), id="tiff"),
    ],
)
def test_non_raster_input_is_an_unsupported_type(data):
    rejected = rejection(data)
    assert rejected.code == "unsupported_type"
    assert rejected.message == "The file is not a JPEG, PNG, GIF, WebP or AVIF image."


def test_rejections_survive_pickling():
    rejected = pickle.loads(pickle.dumps(rejection(b"plain text")))  # noqa: S301 - our own bytes
    assert (rejected.code, rejected.message, str(rejected)) == (
        "unsupported_type",
        "The file is not a JPEG, PNG, GIF, WebP or AVIF image.",
        "The file is not a JPEG, PNG, GIF, WebP or AVIF image.",
    )


def test_avif_is_processed():
    result = process_image(encode(solid((500, 300), (255, 0, 0)), "AVIF"))
    assert sizes_of(result) == [("400", 400, 240), ("150", 150, 90)]
    assert near(open_variant(result.variants[0].data).getpixel((200, 120)), (255, 0, 0))


# ---------------------------------------------------------------- placeholder


def encode_blurhash(image: Image.Image) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # blurhash-python uses Image.getdata
        return blurhash.encode(image, x_components=4, y_components=3)


def test_a_solid_red_image_has_a_red_placeholder():
    result = process_image(encode(solid((640, 480), (255, 0, 0)), "PNG"))

    assert result.dominant_color == "#ff0000"
    assert result.blurhash == encode_blurhash(solid((32, 24), (255, 0, 0)))
    assert blurhash.is_valid_blurhash(result.blurhash)
    assert result.blurhash[0] == "L"  # size flag for 4x3 components: (4 - 1) + (3 - 1) * 9 = 21 -> "L"
    decoded = blurhash.decode(result.blurhash, 4, 3).convert("RGB")
    assert all(near(color, (255, 0, 0), tolerance=8) for _count, color in decoded.getcolors())


def test_the_dominant_colour_is_the_largest_cluster():
    # Given 70% blue and 30% red
    image = solid((1000, 500), (0, 0, 255))
    ImageDraw.Draw(image).rectangle((700, 0, 1000, 500), fill=(255, 0, 0))

    result = process_image(encode(image, "PNG"))

    assert result.dominant_color == "#0000ff"


def test_the_dominant_colour_ignores_transparent_pixels():
    # Given a mostly transparent (black underneath) image with a small green square
    image = Image.new("RGBA", (600, 600), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((250, 250, 350, 350), fill=(0, 255, 0, 255))

    result = process_image(encode(image, "PNG"))

    assert result.dominant_color == "#00ff00"
    # the blurhash sees the image on white, not on the black of the transparent pixels
    corner = blurhash.decode(result.blurhash, 8, 8).convert("RGB").getpixel((0, 0))
    assert min(corner) > 200


def test_a_fully_transparent_image_gets_a_white_placeholder():
    result = process_image(encode(Image.new("RGBA", (300, 300), (0, 0, 0, 0)), "PNG"))
    assert result.dominant_color == "#ffffff"
    assert result.blurhash == encode_blurhash(solid((32, 32), (255, 255, 255)))


def test_processing_is_deterministic():
    data = encode(quadrants((1300, 700)), "JPEG")
    assert process_image(data) == process_image(data)
