"""Turn an uploaded raster image into WebP variants, dimensions and a placeholder.

The steps, in order: sniff the bytes; open with a format allowlist (pillow-heif's plugin alone for
HEIC/HEIF); check pixels (header) and frames; read the EXIF orientation; decode the first frame only,
JPEGs at reduced size, WebPs without a second full-size copy; render the largest variant band by
band from the decoded frame, then turn it upright; resize each smaller variant from the previous
one; convert to sRGB; encode WebP without metadata.
"""

import math
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from typing import TYPE_CHECKING

from PIL import ExifTags, Image

from medialib.imaging.guards import (
    ALLOWED_FORMATS,
    HEIF_FORMATS,
    ImageRejected,
    check_limits,
    guarded_decoding,
    heif_declared_pixels,
    heif_formats,
    too_many_pixels,
    unsupported_type,
)
from medialib.imaging.placeholder import blurhash_of, dominant_color_of
from medialib.imaging.sniff import HEIC, HEIF, SNIFF_BYTES, sniff

if TYPE_CHECKING:
    from PIL import ImageCms

__all__ = [
    "VARIANT_BOXES",
    "ImageRejected",
    "ProcessedImage",
    "RenderedVariant",
    "decode_first_frame",
    "process_image",
    "read_orientation",
    "variant_sizes",
]

VARIANT_BOXES = (1200, 800, 400, 150)  # longest-side boxes, largest first
WEBP_QUALITY = 80
# libwebp's default effort. On a 12 MP photo's variants (bench/README.md) methods 0-2 take a fifth to a third
# of the time but write 5-40% larger files, served on every view; method 6 costs 1.25-1.55x for ~2%.
WEBP_METHOD = 4

# EXIF orientation -> the transpose that displays the image upright (as ImageOps.exif_transpose).
_ORIENTATION_TRANSPOSES = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES = frozenset({5, 6, 7, 8})
_DRAFTABLE_FORMATS = frozenset({"JPEG", "MPO"})
# Formats whose EXIF is read from a header or chunk before the pixels, without decoding.
_EXIF_BEFORE_PIXELS = _DRAFTABLE_FORMATS | {"WEBP"}
# Modes Pillow resizes with a proper filter and that ImageCms or convert() can take to sRGB.
_RESIZABLE_MODES = frozenset({"L", "LA", "RGB", "RGBA", "CMYK"})
_ICC_MODES = frozenset({"L", "RGB", "RGBA", "CMYK"})
# Modes resized in one piece: Pillow resizes them as they are (RGBA would first be premultiplied
# into a full-size copy, and other modes need a conversion, so those go band by band).
_RESIZED_WHOLE = frozenset({"L", "RGB", "CMYK"})
# Source pixels converted and resized at a time for the largest variant. The decoded frame (up to
# 4 bytes a pixel) is the only full-size buffer: a whole-frame mode conversion, alpha premultiply
# or transpose would each add another, doubling the peak of a 50-megapixel image.
_BAND_PIXELS = 2_000_000
_LANCZOS_SUPPORT = 3.0
# A resize first box-reduces by an integer factor while the remaining Lanczos step still shrinks
# by at least this much. At 2.0 every step of 4x or more starts with a reduce (at 3.0, only steps of
# 6x or more did, so an 18 MP PNG or WebP went to 1200 px with a full-size Lanczos, 2-3x the time);
# the variants stay within ~50 dB PSNR of an exact resize (bench/README.md).
_REDUCING_GAP = 2.0


@dataclass(frozen=True)
class RenderedVariant:
    name: str  # the box: "1200", "800", "400", "150"
    width: int
    height: int
    data: bytes  # WebP


@dataclass(frozen=True)
class Preview:
    variants: list[RenderedVariant]  # largest first
    blurhash: str
    dominant_color: str  # "#rrggbb"


@dataclass(frozen=True)
class ProcessedImage:
    width: int  # after EXIF orientation
    height: int
    frames: int
    variants: list[RenderedVariant]  # largest first
    blurhash: str
    dominant_color: str  # "#rrggbb"


def process_image(data: bytes, *, max_pixels: int = 50_000_000, max_frames: int = 1000) -> ProcessedImage:
    """Decode, check and render an untrusted image; raises ImageRejected with a stable code.

    Whatever the bytes hold, the outcome is a ProcessedImage or an ImageRejected.
    """
    sniffed = sniff(data[:SNIFF_BYTES])
    if sniffed is None or not sniffed.raster:
        raise unsupported_type()
    # Outside the guard: a missing pillow-heif is a broken deployment, not a damaged file.
    formats = heif_formats() if sniffed in (HEIC, HEIF) else ALLOWED_FORMATS
    with guarded_decoding(max_pixels):
        return _process(data, formats, max_pixels=max_pixels, max_frames=max_frames)


def _process(data: bytes, formats: tuple[str, ...], *, max_pixels: int, max_frames: int) -> ProcessedImage:
    # Not closed on purpose: closing frees the pixels, which are the decoded frame; the in-memory
    # file holds no OS resource.
    try:
        image = Image.open(BytesIO(data), formats=formats)
    except Image.UnidentifiedImageError:
        # libheif refuses sizes past its own limits before Pillow sees them: still a pixel flood.
        if formats == HEIF_FORMATS and heif_declared_pixels(data) > max_pixels:
            raise too_many_pixels(max_pixels) from None
        raise
    frames = check_limits(image, data, max_pixels=max_pixels, max_frames=max_frames)
    orientation = read_orientation(image)
    width, height = _oriented(image.size, orientation)
    sizes = variant_sizes(width, height)
    decoded = decode_first_frame(image, orientation, sizes[0][1])
    icc_profile = decoded.info.get("icc_profile")
    preview = render_preview(decoded, sizes, orientation=orientation, icc_profile=icc_profile)
    return ProcessedImage(
        width=width,
        height=height,
        frames=frames,
        variants=preview.variants,
        blurhash=preview.blurhash,
        dominant_color=preview.dominant_color,
    )


def variant_sizes(width: int, height: int) -> list[tuple[str, tuple[int, int]]]:
    """(name, size) for each box the image is larger than, largest first; never empty.

    An image whose longest side fits the smallest box gets that box's variant at its own size.
    """
    longest = max(width, height)
    sizes = [(str(box), fit(width, height, box)) for box in VARIANT_BOXES if longest > box]
    return sizes or [(str(VARIANT_BOXES[-1]), (width, height))]


def read_orientation(image: Image.Image) -> int:
    """The EXIF orientation (1-8); 1 when absent or unreadable.

    A JPEG's EXIF precedes its pixels and is read without decoding, so `draft` can still apply;
    a WebP's EXIF chunk is read when the file is opened. Other formats are decoded first: PNG may
    carry its eXIf chunk after the pixel data, and Pillow would otherwise decode inside `getexif`,
    where a failure could not be told from bad EXIF.
    """
    if image.format not in _EXIF_BEFORE_PIXELS:
        image.load()
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # EXIF is advisory: however it is broken, the pixels decide
        return 1
    return value if isinstance(value, int) and value in _ORIENTATION_TRANSPOSES else 1


def decode_first_frame(image: Image.Image, orientation: int, largest: tuple[int, int]) -> Image.Image:
    """Decode the current (first) frame as stored: not yet upright, in the file's own mode.

    `largest` is the upright size of the biggest variant needed: JPEGs are decoded at the smallest
    DCT scale that still covers it. `draft` compares both sides, so it gets the aspect-correct box
    in the file's own (pre-rotation) orientation. Mode conversion and the turn upright happen on
    the way to the largest variant (`_render_variants`), never on a full-size copy.
    """
    if image.format in _DRAFTABLE_FORMATS and largest != _oriented(image.size, orientation):
        image.draft(None, _oriented(largest, orientation))
    if image.format == "WEBP":
        return _webp_first_frame(image)
    image.load()
    return image


def _webp_first_frame(image: Image.Image) -> Image.Image:
    """The first frame as libwebp returns it, wrapped without a copy.

    Pillow's `load()` copies libwebp's frame into a new image while libwebp's canvases are still
    alive: about 15 bytes a pixel at the peak (268 MB for 18 MP). Wrapping the frame's bytes and
    dropping the decoder (its canvases) peaks at about 11 (200 MB). This reads Pillow's decoder
    attribute, so when a Pillow release changes it, the plain `load()` is used.
    """
    decoder = getattr(image, "_decoder", None)
    rawmode = getattr(image, "rawmode", None)
    if decoder is None or rawmode not in ("RGBX", "RGBA") or not hasattr(decoder, "get_next"):
        image.load()
        return image
    data, _timestamp = decoder.get_next()  # the first frame: the file was just opened
    image._decoder = None  # type: ignore[attr-defined]  # frees libwebp's canvases
    frame = Image.frombuffer(rawmode, image.size, data, "raw", rawmode, 0, 1)
    frame.info = dict(image.info)
    return frame


def render_preview(
    frame: Image.Image,
    sizes: list[tuple[str, tuple[int, int]]],
    *,
    orientation: int = 1,
    icc_profile: bytes | None = None,
) -> Preview:
    """WebP variants of one decoded frame at ``sizes`` (largest first) and the placeholder from
    the smallest: what an image, a PDF's first page and a video's poster all become."""
    variants, smallest = _render_variants(frame, orientation, sizes, icc_profile)
    return Preview(variants, blurhash_of(smallest), dominant_color_of(smallest))


def _render_variants(
    decoded: Image.Image,
    orientation: int,
    sizes: list[tuple[str, tuple[int, int]]],
    icc_profile: bytes | None,
) -> tuple[list[RenderedVariant], Image.Image]:
    (name, size), *smaller = sizes
    current = _resized_in_bands(decoded, _oriented(size, orientation))
    if orientation in _ORIENTATION_TRANSPOSES:
        current = current.transpose(_ORIENTATION_TRANSPOSES[orientation])
    current.info = {}  # nothing from the original's metadata travels further
    current = _to_srgb(current, icc_profile)  # on the largest variant, not the full decode
    variants = [RenderedVariant(name=name, width=size[0], height=size[1], data=_webp(current))]
    for name, size in smaller:
        # Each variant from the previous one; reducing_gap box-reduces big steps first.
        current = current.resize(size, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)
        variants.append(RenderedVariant(name=name, width=size[0], height=size[1], data=_webp(current)))
    return variants, current


def _resized_in_bands(frame: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`frame` resized to `size` in a resizable mode, converting and resizing a band of rows at a time.

    Each band is cut with a margin of the filter's reach, so its rows come out as a whole-frame
    resize would make them.
    """
    width, height = frame.size
    if (width, height) == size:
        return _resizable(frame)
    if frame.mode in _RESIZED_WHOLE:
        # No conversion and no premultiplied copy: one resize allocates only its output.
        return frame.resize(size, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)
    scale = height / size[1]
    margin = math.ceil(_LANCZOS_SUPPORT * max(scale, 1.0)) + 1
    rows = max(16, int(_BAND_PIXELS / (width * scale)))  # output rows per band
    resized: Image.Image | None = None
    for top in range(0, size[1], rows):
        bottom = min(size[1], top + rows)
        start, end = top * scale, bottom * scale
        cut_top, cut_bottom = max(0, math.floor(start) - margin), min(height, math.ceil(end) + margin)
        band = _resizable(frame.crop((0, cut_top, width, cut_bottom)))
        band = band.resize(
            (size[0], bottom - top),
            Image.Resampling.LANCZOS,
            box=(0, start - cut_top, width, end - cut_top),
            reducing_gap=_REDUCING_GAP,
        )
        if resized is None:
            resized = Image.new(band.mode, size)
        resized.paste(band, (0, top))
    assert resized is not None  # size[1] >= 1, so there is at least one band
    return resized


def _webp(image: Image.Image) -> bytes:
    out = BytesIO()
    # No exif/icc_profile/xmp arguments: Pillow's WebP writer then embeds no metadata.
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    return out.getvalue()


def _resizable(image: Image.Image) -> Image.Image:
    """The image in a mode Pillow resizes with a proper filter (itself when it already is)."""
    if image.mode in _RESIZABLE_MODES:
        return image
    if image.mode.startswith("I"):
        # 16-bit greyscale (I;16*) or I: convert() would clip at 255; scale to 8 bits instead.
        return image.convert("I").point(lambda value: value / 257, "L")
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """RGB or RGBA in sRGB: the embedded profile is applied, since variants carry none."""
    target = "RGBA" if "A" in image.getbands() else "RGB"
    if icc_profile and image.mode in _ICC_MODES:
        from PIL import ImageCms  # only images with a profile pay for littlecms

        try:
            source = ImageCms.ImageCmsProfile(BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(image, source, _srgb_profile(), outputMode=target)
        except Exception:  # a broken or mismatched profile: keep the pixels as they are
            converted = None
        if converted is not None:
            return converted
    return image if image.mode == target else image.convert(target)


@cache
def _srgb_profile() -> "ImageCms.ImageCmsProfile":
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _oriented(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation in _SWAPS_AXES else size


def fit(width: int, height: int, box: int) -> tuple[int, int]:
    """Scale so the longest side is `box`; the other side rounds half up, and is at least 1."""
    longest = max(width, height)

    def scaled(side: int) -> int:
        return max(1, (2 * side * box + longest) // (2 * longest))

    return (box, scaled(height)) if width >= height else (scaled(width), box)
