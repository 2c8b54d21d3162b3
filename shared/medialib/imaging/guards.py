"""The checks every untrusted image passes before and while Pillow decodes it."""

import math
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from PIL import Image

from medialib.domain.failures import FailureCode
from medialib.imaging.rejection import Rejected

# Pillow plugins allowed to open uploads; every other decoder stays unreachable.
ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF")
# pillow-heif's plugin, the only one HEIC/HEIF uploads are opened with. It is registered on first use
# (`heif_formats`), so only the HEIC path pays for importing pillow-heif and libheif.
HEIF_FORMATS = ("HEIF",)

# What decoding may hold for the pixels of an image at the pixel limit: 4 bytes a pixel (RGBA).
DECODE_BYTES_PER_PIXEL = 4
_JPEG_SOS = b"\xff\xda"  # start of scan; entropy-coded data never holds 0xFF 0xDA (0xFF is stuffed)

_GIF_BLOCK_START = re.compile(rb"[,!;]")


class ImageRejected(Rejected):
    """An image that processing refuses, with a stable code and a fixed, safe message."""

    def __init__(self, code: FailureCode, message: str):
        super().__init__(code, message)  # both in args, so it pickles and reprs whole
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


def unsupported_type() -> ImageRejected:
    return ImageRejected("unsupported_type", "The file is not a JPEG, PNG, GIF, WebP or AVIF image.")


def corrupt() -> ImageRejected:
    return ImageRejected("corrupt", "The image data is damaged or truncated.")


def too_many_pixels(max_pixels: int) -> ImageRejected:
    return ImageRejected("too_many_pixels", f"The image has more than {max_pixels} pixels.")


def too_large_to_decode() -> ImageRejected:
    """Decoding ran out of memory: the file asks for more than processing can hold, whatever it says."""
    return ImageRejected("too_many_pixels", "The image needs more memory to decode than processing allows.")


def too_many_frames(max_frames: int) -> ImageRejected:
    return ImageRejected("too_many_frames", f"The animation has more than {max_frames} frames.")


def heif_formats() -> tuple[str, ...]:
    """The allowlist for a sniffed HEIC/HEIF file, with pillow-heif's plugin registered (once)."""
    _register_heif_opener()
    return HEIF_FORMATS


@cache
def _register_heif_opener() -> None:
    import pillow_heif  # libheif is loaded here, on the first HEIC only

    # The primary image only: thumbnails, depth maps and auxiliary images are never read. libheif
    # applies the irot/imir transforms itself and pillow-heif resets EXIF orientation to 1, so the
    # decoded image is already upright and `read_orientation` does not turn it again.
    pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def heif_declared_pixels(data: bytes) -> int:
    """The largest width x height any `ispe` (image spatial extents) box in the `meta` box declares.

    Read from the header bytes without libheif, for files libheif refuses to open: a size past its
    own security limits, or past 2**31 a side (pillow-heif then reads a negative size), fails the
    open before Pillow sees the size. 0 when there is no `meta` box or no `ispe` in it.
    """
    meta = _top_level_box(data, b"meta")
    if meta is None:
        return 0
    start, end = meta
    largest = 0
    pos = data.find(b"ispe", start, end)
    while pos >= 0:
        # size (20), "ispe", version and flags, width, height: all 32-bit big-endian.
        if data[pos - 4 : pos] == b"\x00\x00\x00\x14" and pos + 16 <= end:
            width = int.from_bytes(data[pos + 8 : pos + 12], "big")
            height = int.from_bytes(data[pos + 12 : pos + 16], "big")
            largest = max(largest, width * height)
        pos = data.find(b"ispe", pos + 4, end)
    return largest


def _top_level_box(data: bytes, box_type: bytes) -> tuple[int, int] | None:
    """(start, end) of the first top-level ISO-BMFF box of `box_type`, clipped to the data."""
    pos = 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        header = 8
        if size == 1:  # 64-bit size follows the type
            if pos + 16 > len(data):
                return None
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            header = 16
        elif size == 0:  # the box runs to the end of the file
            size = len(data) - pos
        if size < header:
            return None
        if data[pos + 4 : pos + 8] == box_type:
            return pos + header, min(len(data), pos + size)
        pos += size
    return None


@contextmanager
def guarded_decoding(max_pixels: int) -> Iterator[None]:
    """Turn every failure while decoding or encoding an untrusted file into a rejection.

    Pillow's plugins and codecs fail on hostile data with whatever they happen to raise (OSError,
    SyntaxError, struct.error, even AssertionError), so nothing but the project's own rejections
    gets through: decompression bombs and memory exhaustion are `too_many_pixels`, anything else
    is `corrupt`, with the original as the cause. KeyboardInterrupt and SystemExit are not
    `Exception`s and pass untouched.

    Warnings are scoped to this block: decompression-bomb warnings are errors, and the warnings
    Pillow gives about damaged data are silenced, so the outcome never depends on the caller's
    filters. `Image.MAX_IMAGE_PIXELS` (global) is left alone and only backs up `check_limits`.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise too_many_pixels(max_pixels) from exc
        except MemoryError as exc:
            # Without its traceback the cause no longer holds the frames, and their pixel buffers.
            raise too_large_to_decode() from exc.with_traceback(None)
        except Exception as exc:
            # The bytes were sniffed as an allowed raster type, so any other failure means damage.
            raise corrupt() from exc


def check_limits(image: Image.Image, data: bytes, *, max_pixels: int, max_frames: int) -> int:
    """Check the header's pixel count and the frame count before anything is decoded.

    Returns the number of frames.
    """
    width, height = image.size
    if width * height > max_pixels:
        raise too_many_pixels(max_pixels)
    scan_by_scan = image.format in ("JPEG", "MPO") and _decoded_scan_by_scan(image, data)
    if scan_by_scan and jpeg_coefficient_bytes(image) > DECODE_BYTES_PER_PIXEL * max_pixels:
        raise too_large_to_decode()
    if image.format == "GIF":
        frames = count_gif_frames(data, limit=max_frames + 1)
    elif image.format == "MPO":
        frames = 1  # extra MPF pictures are previews or stereo views, not animation frames
    else:
        frames = getattr(image, "n_frames", 1)  # PNG (acTL), WebP and AVIF read it from headers
    if frames > max_frames:
        raise too_many_frames(max_frames)
    return frames


def jpeg_coefficient_bytes(image: Image.Image) -> int:
    """What libjpeg holds to decode a JPEG scan by scan: every component's DCT coefficients, whole.

    Reduced-size decoding (`draft`) does not shrink it: 2 bytes a coefficient, 64 per 8x8 block,
    so 3-8 bytes a pixel depending on subsampling (8 for CMYK), where a single-scan JPEG decodes
    a few rows at a time.
    """
    width, height = image.size
    layers = getattr(image, "layer", [])  # (component id, horizontal sampling, vertical sampling, table)
    h_max = max((h for _id, h, _v, _table in layers), default=1)
    v_max = max((v for _id, _h, v, _table in layers), default=1)
    blocks = (math.ceil(width * h / h_max / 8) * math.ceil(height * v / v_max / 8) for _, h, v, _ in layers)
    return 128 * sum(blocks)


def _decoded_scan_by_scan(image: Image.Image, data: bytes) -> bool:
    # Progressive JPEGs, and sequential ones split into several scans, are buffered whole by libjpeg.
    # A second start-of-scan may also be an EXIF thumbnail's: that only costs a stricter check.
    return bool(image.info.get("progressive")) or data.count(_JPEG_SOS) > 1


def count_gif_frames(data: bytes, *, limit: int) -> int:
    """Count a GIF's image descriptors, stopping at `limit`.

    Pillow's `n_frames` walks every frame in Python (about 1.5 us each), so a 25 MB GIF of tiny
    frames costs seconds before the cap could apply; this walks the same blocks and stops early.
    """
    if len(data) < 13:
        return 0
    pos = 13 + _color_table_size(data[10])
    frames = 0
    while frames < limit and pos < len(data):
        block = data[pos]
        if block == 0x2C:  # image descriptor: 9 bytes, local colour table, LZW code size, data
            frames += 1
            if pos + 10 > len(data):
                break
            pos = _skip_sub_blocks(data, pos + 10 + _color_table_size(data[pos + 9]) + 1)
        elif block == 0x21:  # extension: label, then data sub-blocks
            pos = _skip_sub_blocks(data, pos + 2)
        elif block == 0x3B:  # trailer
            break
        else:
            # Pillow skips stray bytes up to the next block introducer; do the same, but in C.
            found = _GIF_BLOCK_START.search(data, pos + 1)
            if found is None:
                break
            pos = found.start()
    return frames


def _color_table_size(flags: int) -> int:
    return 3 << ((flags & 0x07) + 1) if flags & 0x80 else 0


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    while pos < len(data):
        length = data[pos]
        pos += 1 + length
        if length == 0:
            break
    return pos
