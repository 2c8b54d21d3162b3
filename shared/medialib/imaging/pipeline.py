"""Turn an uploaded raster image into WebP variants, dimensions and a placeholder.

The steps, in order: sniff the bytes; open with a format allowlist; check pixels (header) and frames;
read the EXIF orientation; decode the first frame only, JPEGs at reduced size; resize each variant
from the previous one; convert to sRGB; encode WebP without metadata.
"""

from dataclasses import dataclass
from functools import cache
from io import BytesIO
from typing import TYPE_CHECKING

from PIL import ExifTags, Image

from medialib.imaging.guards import (
    ALLOWED_FORMATS,
    DECODE_ERRORS,
    ImageRejected,
    check_limits,
    guarded_decoding,
    unsupported_type,
)
from medialib.imaging.placeholder import blurhash_of, dominant_color_of
from medialib.imaging.sniff import SNIFF_BYTES, sniff

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
# Modes Pillow resizes with a proper filter and that ImageCms or convert() can take to sRGB.
_RESIZABLE_MODES = frozenset({"L", "LA", "RGB", "RGBA", "CMYK"})
_ICC_MODES = frozenset({"L", "RGB", "RGBA", "CMYK"})


@dataclass(frozen=True)
class RenderedVariant:
    name: str  # the box: "1200", "800", "400", "150"
    width: int
    height: int
    data: bytes  # WebP


@dataclass(frozen=True)
class ProcessedImage:
    width: int  # after EXIF orientation
    height: int
    frames: int
    variants: list[RenderedVariant]  # largest first
    blurhash: str
    dominant_color: str  # "#rrggbb"


def process_image(data: bytes, *, max_pixels: int = 50_000_000, max_frames: int = 1000) -> ProcessedImage:
    """Decode, check and render an untrusted image; raises ImageRejected with a stable code."""
    sniffed = sniff(data[:SNIFF_BYTES])
    if sniffed is None or not sniffed.raster:
        raise unsupported_type()
    with guarded_decoding(max_pixels):
        # Not closed on purpose: closing frees the pixels, which may be the decoded frame; the
        # in-memory file holds no OS resource.
        image = Image.open(BytesIO(data), formats=ALLOWED_FORMATS)
        frames = check_limits(image, data, max_pixels=max_pixels, max_frames=max_frames)
        orientation = read_orientation(image)
        width, height = _oriented(image.size, orientation)
        sizes = variant_sizes(width, height)
        decoded = decode_first_frame(image, orientation, sizes[0][1])
        del image  # when decoding made a rotated or converted copy, the full-size original can go
    icc_profile = decoded.info.get("icc_profile")
    decoded.info = {}  # nothing from the original's metadata travels further
    variants, smallest = _render_variants(decoded, sizes, icc_profile)
    return ProcessedImage(
        width=width,
        height=height,
        frames=frames,
        variants=variants,
        blurhash=blurhash_of(smallest),
        dominant_color=dominant_color_of(smallest),
    )


def variant_sizes(width: int, height: int) -> list[tuple[str, tuple[int, int]]]:
    """(name, size) for each box the image is larger than, largest first; never empty.

    An image whose longest side fits the smallest box gets that box's variant at its own size.
    """
    longest = max(width, height)
    sizes = [(str(box), _fit(width, height, box)) for box in VARIANT_BOXES if longest > box]
    return sizes or [(str(VARIANT_BOXES[-1]), (width, height))]


def read_orientation(image: Image.Image) -> int:
    """The EXIF orientation (1-8); 1 when absent or unreadable.

    A JPEG's EXIF precedes its pixels and is read without decoding, so `draft` can still apply.
    Other formats are decoded first: PNG may carry its eXIf chunk after the pixel data, and Pillow
    would otherwise decode inside `getexif`, where a failure could not be told from bad EXIF.
    """
    if image.format not in _DRAFTABLE_FORMATS:
        image.load()
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except DECODE_ERRORS:
        return 1  # unreadable EXIF is advisory and must not fail an image whose pixels decode
    return value if isinstance(value, int) and value in _ORIENTATION_TRANSPOSES else 1


def decode_first_frame(image: Image.Image, orientation: int, largest: tuple[int, int]) -> Image.Image:
    """Decode the current (first) frame, upright, in a mode the variant chain can resize.

    `largest` is the upright size of the biggest variant needed: JPEGs are decoded at the smallest
    DCT scale that still covers it. `draft` compares both sides, so it gets the aspect-correct box
    in the file's own (pre-rotation) orientation.
    """
    if image.format in _DRAFTABLE_FORMATS and largest != _oriented(image.size, orientation):
        image.draft(None, _oriented(largest, orientation))
    image.load()
    frame: Image.Image = image
    if frame.mode not in _RESIZABLE_MODES:
        frame = _to_resizable_mode(frame)
    if orientation in _ORIENTATION_TRANSPOSES:
        frame = frame.transpose(_ORIENTATION_TRANSPOSES[orientation])
    return frame


def _render_variants(
    image: Image.Image, sizes: list[tuple[str, tuple[int, int]]], icc_profile: bytes | None
) -> tuple[list[RenderedVariant], Image.Image]:
    variants = []
    current = image
    for index, (name, size) in enumerate(sizes):
        if current.size != size:
            # Each variant from the previous one; reducing_gap box-reduces huge non-JPEG sources first.
            current = current.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        if index == 0:
            current = _to_srgb(current, icc_profile)  # on the largest variant, not the full decode
        variants.append(RenderedVariant(name=name, width=size[0], height=size[1], data=_webp(current)))
    return variants, current


def _webp(image: Image.Image) -> bytes:
    out = BytesIO()
    # No exif/icc_profile/xmp arguments: Pillow's WebP writer then embeds no metadata.
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    return out.getvalue()


def _to_resizable_mode(image: Image.Image) -> Image.Image:
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
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # a broken or mismatched profile: keep the pixels as they are
        if converted is not None:
            return converted
    return image if image.mode == target else image.convert(target)


@cache
def _srgb_profile() -> "ImageCms.ImageCmsProfile":
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _oriented(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation in _SWAPS_AXES else size


def _fit(width: int, height: int, box: int) -> tuple[int, int]:
    """Scale so the longest side is `box`; the other side rounds half up, and is at least 1."""
    longest = max(width, height)

    def scaled(side: int) -> int:
        return max(1, (2 * side * box + longest) // (2 * longest))

    return (box, scaled(height)) if width >= height else (scaled(width), box)
