"""The checks every untrusted image passes before and while Pillow decodes it."""

import re
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

# Pillow plugins allowed to open uploads; every other decoder stays unreachable.
ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF")

# What Pillow raises for damaged data, from its plugins, its decoders and struct parsing.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error)

_GIF_BLOCK_START = re.compile(rb"[,!;]")


class ImageRejected(Exception):
    """An image that processing refuses, with a stable code and a fixed, safe message."""

    def __init__(self, code: str, message: str):
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


def too_many_frames(max_frames: int) -> ImageRejected:
    return ImageRejected("too_many_frames", f"The animation has more than {max_frames} frames.")


@contextmanager
def guarded_decoding(max_pixels: int) -> Iterator[None]:
    """Turn decompression-bomb warnings into errors and Pillow's failures into rejections.

    The warning filter is scoped to this block; `Image.MAX_IMAGE_PIXELS` (global) is left alone and
    only backs up the explicit header check in `check_limits`.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise too_many_pixels(max_pixels) from exc
        except Image.UnidentifiedImageError as exc:
            # The bytes were sniffed as an allowed raster type, so a failing header means damage.
            raise corrupt() from exc
        except DECODE_ERRORS as exc:
            raise corrupt() from exc


def check_limits(image: Image.Image, data: bytes, *, max_pixels: int, max_frames: int) -> int:
    """Check the header's pixel count and the frame count before anything is decoded.

    Returns the number of frames.
    """
    width, height = image.size
    if width * height > max_pixels:
        raise too_many_pixels(max_pixels)
    if image.format == "GIF":
        frames = count_gif_frames(data, limit=max_frames + 1)
    elif image.format == "MPO":
        frames = 1  # extra MPF pictures are previews or stereo views, not animation frames
    else:
        frames = getattr(image, "n_frames", 1)  # PNG (acTL), WebP and AVIF read it from headers
    if frames > max_frames:
        raise too_many_frames(max_frames)
    return frames


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
