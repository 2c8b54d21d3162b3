"""Hostile image files, made in code: bombs, floods, damage, polyglots, odd modes and seeded mutations.

Everything is built from bytes or with Pillow at test time, deterministically; nothing is downloaded.
`python -m tests.support.hostile_files` runs the bombs and a mutation sample and prints the peak
memory, which is how the memory test measures them in a child process.
"""

import io
import random
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw

STABLE_CODES = frozenset({"unsupported_type", "corrupt", "too_many_pixels", "too_many_frames"})

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Hostile:
    name: str
    data: bytes
    expected: str  # "ready" or a rejection code


# ---------------------------------------------------------------- building blocks


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def picture(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Four coloured quadrants and a diagonal, so damage to any part of the pixels changes the output."""
    width, height = size
    image = Image.new("RGB", size, (240, 240, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 2, height // 2), fill=(220, 30, 30))
    draw.rectangle((width // 2, height // 2, width, height), fill=(30, 60, 220))
    draw.line((0, 0, width, height), fill=(20, 160, 40), width=max(1, width // 10))
    return image.convert(mode)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_ihdr(width: int, height: int, *, bit_depth: int = 8, color_type: int = 2) -> bytes:
    return png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))


def png_solid(
    width: int,
    height: int,
    *,
    color_type: int = 2,
    bit_depth: int = 8,
    pixel: bytes = b"\x10\xc8\x1e",
    extra: bytes = b"",
) -> bytes:
    """A PNG of one colour, compressed row by row: a huge image costs little memory to make."""
    compressor = zlib.compressobj(1)
    row = b"\x00" + pixel * width if bit_depth >= 8 else b"\x00" + b"\x00" * ((width * bit_depth + 7) // 8)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        PNG_SIGNATURE
        + png_ihdr(width, height, bit_depth=bit_depth, color_type=color_type)
        + extra
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def exif_orientation(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def gif_of_tiny_frames(
    count: int, *, screen: tuple[int, int] = (1, 1), first: tuple[int, int] = (1, 1)
) -> bytes:
    """A hand-built GIF: a screen, `count` frames of LZW for one pixel, the first of size `first`."""
    header = b"GIF89a" + struct.pack("<HHBBB", *screen, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"

    def frame(size: tuple[int, int]) -> bytes:
        return b"\x2c" + struct.pack("<HHHHB", 0, 0, *size, 0) + b"\x02\x02\x44\x01\x00"

    return header + frame(first) + frame((1, 1)) * (count - 1) + b"\x3b"


def jpeg_sof_only(width: int, height: int) -> bytes:
    """A JPEG that stops after its frame header: enough for Pillow to read the size."""
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + b"\xff\xc0" + struct.pack(">H", 2 + len(sof)) + sof + b"\xff\xd9"


def webp_vp8x_canvas(width: int, height: int, *, animated: bool = False) -> bytes:
    """An extended WebP header declaring a canvas, then a tiny real lossless image (or an ANIM chunk)."""
    flags = 0x02 if animated else 0
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([flags, 0, 0, 0])
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    tiny = encode(Image.new("RGB", (1, 1)), "WEBP", lossless=True)[12:]  # its VP8L chunk
    body = b"WEBP" + vp8x + (b"ANIM" + struct.pack("<I", 6) + b"\x00" * 6 if animated else tiny)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_vp8l_header(width: int, height: int) -> bytes:
    """A simple-format lossless WebP whose bitstream header claims the size, and nothing after it."""
    bits = (width - 1) | ((height - 1) << 14)
    chunk = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 16
    body = b"WEBP" + b"VP8L" + struct.pack("<I", len(chunk)) + chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


def apng_claiming_frames(count: int) -> bytes:
    """A 2x2 PNG whose animation control chunk claims `count` frames (it holds one)."""
    actl = png_chunk(b"acTL", struct.pack(">II", count, 0))
    fctl = png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, 2, 2, 0, 0, 1, 10, 0, 0))
    return png_solid(2, 2, extra=actl + fctl)


def palette_png_without_plte() -> bytes:
    """69 bytes: a 3x1 palette PNG with no PLTE chunk, which once crashed Pillow's transparency check."""
    ihdr = png_ihdr(3, 1, color_type=3)
    idat = png_chunk(b"IDAT", zlib.compress(b"\x00" * 4, 9))  # filter byte and three palette indexes
    data = PNG_SIGNATURE + ihdr + idat + png_chunk(b"IEND", b"")
    assert len(data) == 69, len(data)
    return data


@cache
def deflated_zeros(megabytes: int) -> bytes:
    """A zlib stream that inflates to `megabytes` MB of zeros (about 1000 times its size)."""
    compressor = zlib.compressobj(9)
    block = bytes(1 << 20)
    return b"".join(compressor.compress(block) for _ in range(megabytes)) + compressor.flush()


def text_bomb(kind: bytes, *, megabytes: int, chunks: int = 1, after_pixels: bool = False) -> bytes:
    """A small PNG carrying compressed text chunks that inflate to `megabytes` MB each."""
    payload = deflated_zeros(megabytes)
    if kind == b"zTXt":
        body = b"Comment\x00\x00" + payload
    elif kind == b"iTXt":
        body = b"Comment\x00\x01\x00en\x00Comment\x00" + payload
    else:  # iCCP
        body = b"profile\x00\x00" + payload
    text = b"".join(png_chunk(kind, body) for _ in range(chunks))
    image = png_solid(8, 8)
    split = image.index(b"IEND") - 4 if after_pixels else image.index(b"IDAT") - 4
    return image[:split] + text + image[split:]


def gif_js_polyglot() -> bytes:
    """GIF89a/*...*/=alert(1);: a GIF whose screen width is `/*`, so the file also parses as script."""
    image = bytearray(encode(picture((40, 30), "P"), "GIF"))
    image[6:8] = b"/*"  # screen width 10799: the logical screen is ignored beyond the frame
    return bytes(image) + b"*/=alert(document.domain);//"


def zip_archive() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return out.getvalue()


# ---------------------------------------------------------------- the named corpus


def named_cases() -> list[Hostile]:
    """Every hand-made hostile file with the outcome it must have."""
    small_png = encode(picture((120, 90)), "PNG")
    small_jpeg = encode(picture((120, 90)), "JPEG")
    small_gif = encode(picture((120, 90), "P"), "GIF")
    small_webp = encode(picture((120, 90)), "WEBP")
    small_avif = encode(picture((120, 90)), "AVIF")
    cases = [
        # Pixel floods: huge declared sizes in tiny files, refused from the header.
        Hostile(
            "flood-png-header",
            PNG_SIGNATURE + png_ihdr(100_000, 100_000) + png_chunk(b"IEND", b""),
            "too_many_pixels",
        ),
        Hostile(
            "flood-png-2^31",
            PNG_SIGNATURE + png_ihdr(2**31 - 1, 2**31 - 1) + png_chunk(b"IEND", b""),
            "too_many_pixels",
        ),
        Hostile("flood-gif-screen", gif_of_tiny_frames(1, screen=(65535, 65535)), "too_many_pixels"),
        Hostile("flood-gif-first-frame", gif_of_tiny_frames(1, first=(65535, 65535)), "too_many_pixels"),
        Hostile("flood-jpeg-sof", jpeg_sof_only(65500, 65500), "too_many_pixels"),
        Hostile("flood-webp-vp8x", webp_vp8x_canvas(16384, 16384), "too_many_pixels"),
        Hostile("flood-webp-vp8x-animated", webp_vp8x_canvas(16384, 16384, animated=True), "too_many_pixels"),
        Hostile("flood-webp-vp8l", webp_vp8l_header(16384, 16384), "too_many_pixels"),
        # Text and profile bombs: compressed chunks that would inflate far beyond their size.
        Hostile("bomb-ztxt-64mb", text_bomb(b"zTXt", megabytes=64), "corrupt"),
        Hostile("bomb-itxt-64mb", text_bomb(b"iTXt", megabytes=64), "corrupt"),
        Hostile("bomb-iccp-64mb", text_bomb(b"iCCP", megabytes=64), "corrupt"),
        Hostile("bomb-ztxt-after-pixels", text_bomb(b"zTXt", megabytes=64, after_pixels=True), "corrupt"),
        Hostile("bomb-ztxt-many-1mb", text_bomb(b"zTXt", megabytes=1, chunks=80), "corrupt"),
        # Palette bombs: a palette chunk claiming 2 GB, and no palette at all.
        Hostile(
            "bomb-plte-2gb",
            PNG_SIGNATURE
            + png_ihdr(4, 4, color_type=3)
            + struct.pack(">I", 2**31 - 1)
            + b"PLTE"
            + b"\x00" * 64,
            "corrupt",
        ),
        Hostile("palette-without-plte-69-bytes", palette_png_without_plte(), "corrupt"),
        # Frame bombs.
        Hostile("frames-gif-1001", gif_of_tiny_frames(1001), "too_many_frames"),
        Hostile("frames-gif-100000", gif_of_tiny_frames(100_000), "too_many_frames"),
        Hostile("frames-apng-claims-2^31", apng_claiming_frames(2**31 - 1), "too_many_frames"),
        Hostile("frames-apng-1001", animation("PNG", 1001), "too_many_frames"),
        Hostile("frames-webp-1001", animation("WEBP", 1001), "too_many_frames"),
        Hostile("frames-gif-1000-ok", gif_of_tiny_frames(1000), "ready"),
        # Truncated and damaged files.
        Hostile("truncated-png-after-signature", small_png[:8], "corrupt"),
        Hostile("truncated-png-mid-idat", small_png[: len(small_png) // 2], "corrupt"),
        Hostile("truncated-jpeg-mid-scan", small_jpeg[: len(small_jpeg) // 2], "corrupt"),
        Hostile("truncated-jpeg-soi-only", b"\xff\xd8\xff", "corrupt"),
        Hostile("truncated-gif-header", small_gif[:13], "corrupt"),
        Hostile("truncated-webp-riff", small_webp[:20], "corrupt"),
        Hostile("truncated-avif-ftyp", small_avif[:40], "corrupt"),
        Hostile("corrupt-png-crc", small_png[:29] + b"\x00\x00\x00\x00" + small_png[33:], "corrupt"),
        Hostile("corrupt-jpeg-zeroed-tables", small_jpeg[:20] + b"\x00" * 400 + small_jpeg[420:], "corrupt"),
        # Polyglots: the bytes sniff as an image and only the re-encoded pixels go out.
        Hostile("polyglot-gif-js", gif_js_polyglot(), "ready"),
        Hostile("polyglot-png-zip", small_png + zip_archive(), "ready"),
        Hostile("polyglot-jpeg-html", small_jpeg + b"<html><script>alert(1)</script></html>", "ready"),
        Hostile("polyglot-png-html-text", png_with_text(b"<script>alert(1)</script>"), "ready"),
        # Other formats named .jpg: refused from their bytes, whatever the name says.
        Hostile(
            "named-jpg-eps",
            b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",
            "unsupported_type",
        ),
        Hostile(
            "named-jpg-dos-eps",
            b"\xc5\xd0\xd3\xc6" + struct.pack("<6I", 30, 60, 0, 0, 0, 0) + b"\xff\xff",
            "unsupported_type",
        ),
        Hostile("named-jpg-tiff-le", encode(picture((40, 30)), "TIFF"), "unsupported_type"),
        Hostile("named-jpg-tiff-be", b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00" * 40, "unsupported_type"),
        Hostile(
            "named-jpg-pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n", "unsupported_type"
        ),
        Hostile("named-jpg-bmp", encode(picture((40, 30)), "BMP"), "unsupported_type"),
        Hostile(
            "named-jpg-psd",
            b"8BPS\x00\x01" + b"\x00" * 6 + struct.pack(">HIIHH", 3, 30, 40, 8, 3),
            "unsupported_type",
        ),
        Hostile("named-jpg-ico", encode(picture((32, 32)), "ICO"), "unsupported_type"),
        Hostile("named-jpg-jpeg2000", encode(picture((40, 30)), "JPEG2000"), "unsupported_type"),
        Hostile(
            "named-jpg-svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "unsupported_type",
        ),
    ]
    return cases


def png_with_text(text: bytes) -> bytes:
    image = png_solid(40, 30)
    split = image.index(b"IDAT") - 4
    return image[:split] + png_chunk(b"tEXt", b"Comment\x00" + text) + image[split:]


def animation(fmt: str, count: int, size: tuple[int, int] = (2, 2)) -> bytes:
    # Neighbours differ completely, so no encoder merges two frames into one.
    frames = [Image.new("RGB", size, (255, 0, 0) if index % 2 else (0, 0, 255)) for index in range(count)]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=10, loop=0)


# ---------------------------------------------------------------- valid images in unusual shapes


def odd_valid_images() -> list[tuple[str, bytes, tuple[int, int]]]:
    """(name, bytes, upright size) of valid images every variant path must take."""
    cmyk = picture((300, 200), "CMYK")
    palette = picture((300, 200), "P")
    cases = [
        ("cmyk-jpeg", encode(cmyk, "JPEG"), (300, 200)),
        ("cmyk-jpeg-progressive", encode(cmyk, "JPEG", progressive=True), (300, 200)),
        ("png-16-bit-grey", encode(Image.new("I;16", (300, 200), 40000), "PNG"), (300, 200)),
        ("png-16-bit-rgb", png_solid(300, 200, bit_depth=16, pixel=b"\x80\x00\x20\x00\xff\xff"), (300, 200)),
        (
            "png-16-bit-rgba",
            png_solid(300, 200, bit_depth=16, color_type=6, pixel=b"\x80\x00" * 4),
            (300, 200),
        ),
        ("png-palette-trns", encode(palette, "PNG", transparency=0), (300, 200)),
        ("png-palette-trns-bytes", encode(palette, "PNG", transparency=bytes(range(0, 256))), (300, 200)),
        ("gif-palette-transparent", encode(palette, "GIF", transparency=1), (300, 200)),
        ("png-grey-trns", encode(Image.new("L", (300, 200), 7), "PNG", transparency=7), (300, 200)),
        ("png-rgb-trns", encode(picture((300, 200)), "PNG", transparency=(220, 30, 30)), (300, 200)),
        ("png-bilevel", encode(picture((300, 200), "1"), "PNG"), (300, 200)),
        ("png-interlaced", encode_interlaced(picture((300, 200))), (300, 200)),
    ]
    for fmt in ("PNG", "JPEG", "GIF", "WEBP", "AVIF"):
        cases.append((f"1x1-{fmt.lower()}", encode(Image.new("RGB", (1, 1), (9, 99, 199)), fmt), (1, 1)))
    for size in ((1, 20000), (20000, 1)):
        name = f"{size[0]}x{size[1]}"
        cases.append((f"{name}-png", png_solid(*size), size))
        cases.append((f"{name}-jpeg", encode(Image.new("RGB", size, (9, 99, 199)), "JPEG"), size))
        cases.append((f"{name}-gif", encode(Image.new("P", size, 3), "GIF"), size))
    return cases


def encode_interlaced(image: Image.Image) -> bytes:
    """Pillow writes no interlaced PNGs; rebuild the file's IDAT in Adam7 order by hand."""
    width, height = image.size
    rgb = image.convert("RGB")
    raw = b""
    for x0, y0, dx, dy in (
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ):
        for y in range(y0, height, dy):
            xs = range(x0, width, dx)
            if xs:
                raw += b"\x00" + b"".join(bytes(rgb.getpixel((x, y))) for x in xs)
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1))
    return PNG_SIGNATURE + ihdr + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")


# ---------------------------------------------------------------- in-limit worst cases for memory


def worst_cases_at_the_limit(max_pixels: int) -> Iterator[tuple[str, bytes]]:
    """Valid images just under the pixel limit that cost the most memory to decode, made lazily."""
    side = int(max_pixels**0.5)
    orientation = png_chunk(b"eXIf", exif_orientation(6)[6:])  # eXIf holds the TIFF part only
    yield "limit-png-rgb", png_solid(side, side)
    yield (
        "limit-png-rgba-rotated",
        png_solid(side, side, color_type=6, pixel=b"\x10\xc8\x1e\x80", extra=orientation),
    )
    yield (
        "limit-png-grey-alpha-rotated",
        png_solid(side, side, color_type=4, pixel=b"\x10\x80", extra=orientation),
    )
    yield "limit-png-16-bit-grey", png_solid(side, side, color_type=0, bit_depth=16, pixel=b"\x80\x00")
    yield "limit-png-16-bit-rgba", png_solid(side, side, color_type=6, bit_depth=16, pixel=b"\x80\x00" * 4)
    plte = png_chunk(b"PLTE", b"\x00\x00\x00\xff\x00\x00") + png_chunk(b"tRNS", b"\x00")
    yield "limit-png-palette-trns", png_solid(side, side, color_type=3, bit_depth=1, extra=plte)


# ---------------------------------------------------------------- mutations


def mutation_seeds() -> list[tuple[str, bytes]]:
    """Small valid files of every accepted format and the variants of each the pipeline handles."""
    base = picture((48, 36))
    exif = exif_orientation(6)
    seeds = [
        ("jpeg", encode(base, "JPEG", quality=85)),
        ("jpeg-progressive", encode(base, "JPEG", progressive=True)),
        ("jpeg-cmyk", encode(base.convert("CMYK"), "JPEG")),
        ("jpeg-exif", encode(base, "JPEG", exif=exif)),
        ("png", encode(base, "PNG")),
        ("png-rgba", encode(base.convert("RGBA"), "PNG")),
        ("png-palette-trns", encode(base.convert("P"), "PNG", transparency=0)),
        ("png-16-bit-grey", encode(Image.new("I;16", (48, 36), 30000), "PNG")),
        ("png-exif", encode(base, "PNG", exif=exif)),
        ("png-interlaced", encode_interlaced(base)),
        ("apng", animation("PNG", 3, (16, 12))),
        ("gif", encode(base.convert("P"), "GIF")),
        ("gif-animated", animation("GIF", 3, (16, 12))),
        ("webp-lossy", encode(base, "WEBP")),
        ("webp-lossless-alpha", encode(base.convert("RGBA"), "WEBP", lossless=True)),
        ("webp-animated", animation("WEBP", 3, (16, 12))),
        ("avif", encode(base, "AVIF")),
    ]
    return seeds


def _flip_bits(data: bytearray, rng: random.Random) -> None:
    for _ in range(rng.randint(1, 8)):
        position = _position(data, rng)
        data[position] ^= 1 << rng.randrange(8)


def _overwrite_bytes(data: bytearray, rng: random.Random) -> None:
    for _ in range(rng.randint(1, 4)):
        data[_position(data, rng)] = rng.choice((0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF, rng.randrange(256)))


def _insert_bytes(data: bytearray, rng: random.Random) -> None:
    position = _position(data, rng)
    data[position:position] = rng.randbytes(rng.randint(1, 16))


def _delete_bytes(data: bytearray, rng: random.Random) -> None:
    position = _position(data, rng)
    del data[position : position + rng.randint(1, 16)]


def _truncate(data: bytearray, rng: random.Random) -> None:
    del data[rng.randrange(1, len(data)) :]


def _duplicate_slice(data: bytearray, rng: random.Random) -> None:
    """Copy a run of bytes elsewhere: in these formats that duplicates chunks, segments or frames."""
    start = rng.randrange(len(data))
    piece = data[start : start + rng.randint(4, 256)]
    position = _position(data, rng)
    data[position:position] = piece * rng.randint(1, 4)


def _grow_a_size_field(data: bytearray, rng: random.Random) -> None:
    """Write a large 16- or 32-bit value somewhere in the headers: sizes, lengths, counts."""
    position = rng.randrange(min(len(data), 64))
    value = rng.choice((0xFFFF, 0x7FFF, 0x8000, 0x7FFFFFFF, 0xFFFFFFFF, 0x10000))
    width = 2 if value <= 0xFFFF else 4
    order = rng.choice(("big", "little"))
    data[position : position + width] = value.to_bytes(width, order)


MUTATORS: tuple[Callable[[bytearray, random.Random], None], ...] = (
    _flip_bits,
    _overwrite_bytes,
    _insert_bytes,
    _delete_bytes,
    _truncate,
    _duplicate_slice,
    _grow_a_size_field,
)


def _position(data: bytearray, rng: random.Random) -> int:
    # Half the damage lands in the first 256 bytes, where the headers that steer the decoders are.
    if rng.random() < 0.5:
        return rng.randrange(min(len(data), 256))
    return rng.randrange(len(data))


def mutations(count: int, *, seed: int) -> Iterator[tuple[str, bytes]]:
    """`count` seeded mutations of the seed files: (description, bytes), the same on every run."""
    rng = random.Random(seed)
    seeds = mutation_seeds()
    for index in range(count):
        name, original = seeds[index % len(seeds)]
        data = bytearray(original)
        applied = []
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            mutator = rng.choice(MUTATORS)
            if len(data) > 1:
                mutator(data, rng)
                applied.append(mutator.__name__.lstrip("_"))
        yield f"{index}:{name}:{'+'.join(applied)}", bytes(data)


# ---------------------------------------------------------------- the child process of the memory test


def outcome_of(data: bytes, **limits) -> str:
    """ "ready" or the rejection's code; any other exception propagates."""
    from medialib.imaging.pipeline import ImageRejected, process_image

    try:
        process_image(data, **limits)
    except ImageRejected as rejected:
        return rejected.code
    return "ready"


def measure_peak_memory(*, mutation_sample: int, seed: int) -> dict:
    """Run the bombs, the worst in-limit images and a mutation sample; report outcomes and peak RSS.

    Each file is made just before it is processed, so the peak is the pipeline's, not the corpus's.
    """

    def peak_mb() -> float:
        # VmHWM belongs to this process's own memory map, which exec starts afresh; ru_maxrss
        # would still carry the peak of the process that forked this one (a large test run).
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024  # kilobytes

    outcomes: dict[str, str] = {}
    raised_by: dict[str, float] = {}
    baseline = peak_mb()
    named = [(case.name, case.data) for case in named_cases()]
    for name, data in [*named, *worst_cases_at_the_limit(50_000_000), *mutations(mutation_sample, seed=seed)]:
        before = peak_mb()
        outcomes[name] = outcome_of(data)
        if peak_mb() > before:
            raised_by[name] = round(peak_mb(), 1)
    return {
        "baseline_mb": round(baseline, 1),
        "peak_mb": round(peak_mb(), 1),
        "raised_by": raised_by,
        "outcomes": outcomes,
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(measure_peak_memory(mutation_sample=int(sys.argv[1]), seed=int(sys.argv[2]))))
