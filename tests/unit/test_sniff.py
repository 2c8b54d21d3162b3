"""Type sniffing from leading bytes: every accepted type from real headers, and what is refused."""

import io
import random
import struct
import zipfile

import pytest
from PIL import Image

from medialib.imaging.sniff import SNIFF_BYTES, SniffedType, sniff


def _pillow_bytes(fmt: str, mode: str = "RGB", **params) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (40, 30), "orange").save(out, fmt, **params)
    return out.getvalue()


def _animated_png() -> bytes:
    out = io.BytesIO()
    frames = [Image.new("RGB", (20, 20), color) for color in ("red", "blue")]
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:])
    return out.getvalue()


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    """An ISO-BMFF ftyp box followed by the start of a box, as files begin."""
    body = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08free"


def _ebml(doctype: bytes) -> bytes:
    """An EBML header (Matroska family) with the given DocType."""
    fields = (
        b"\x42\x86\x81\x01"  # EBMLVersion 1
        b"\x42\xf7\x81\x01"  # EBMLReadVersion 1
        b"\x42\xf2\x81\x04"  # EBMLMaxIDLength 4
        b"\x42\xf3\x81\x08"  # EBMLMaxSizeLength 8
        + b"\x42\x82"
        + bytes([0x80 | len(doctype)])
        + doctype
        + b"\x42\x87\x81\x04"  # DocTypeVersion 4
        + b"\x42\x85\x81\x02"  # DocTypeReadVersion 2
    )
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(fields)]) + fields + b"\x18\x53\x80\x67"


def _glb(version: int = 2) -> bytes:
    document = b'{"asset":{"version":"2.0"}}   '
    return (
        struct.pack("<4sII", b"glTF", version, 20 + len(document))
        + struct.pack("<I4s", len(document), b"JSON")
        + document
    )


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.txt", "hello")
    return out.getvalue()


SVG_BODY = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
)
SVG_DOCTYPE = (
    b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
)


@pytest.mark.parametrize(
    ("head", "content_type", "kind", "raster"),
    [
        pytest.param(_pillow_bytes("JPEG"), "image/jpeg", "image", True, id="jpeg"),
        pytest.param(_pillow_bytes("JPEG", progressive=True), "image/jpeg", "image", True, id="jpeg-prog"),
        pytest.param(_pillow_bytes("PNG"), "image/png", "image", True, id="png"),
        pytest.param(_animated_png(), "image/png", "image", True, id="apng"),
        pytest.param(_pillow_bytes("GIF"), "image/gif", "image", True, id="gif"),
        pytest.param(_pillow_bytes("WEBP"), "image/webp", "image", True, id="webp-lossy"),
        pytest.param(_pillow_bytes("WEBP", lossless=True), "image/webp", "image", True, id="webp-lossless"),
        pytest.param(_pillow_bytes("WEBP", mode="RGBA"), "image/webp", "image", True, id="webp-alpha"),
        pytest.param(_pillow_bytes("AVIF"), "image/avif", "image", True, id="avif-pillow"),
        # ISO-BMFF: the major brand decides; generic HEIF brands defer to the compatible ones.
        pytest.param(_ftyp(b"avif", b"avif", b"mif1", b"miaf"), "image/avif", "image", True, id="avif"),
        pytest.param(_ftyp(b"mif1", b"mif1", b"avif", b"miaf"), "image/avif", "image", True, id="avif-mif1"),
        pytest.param(_ftyp(b"avis", b"avis", b"msf1", b"iso8"), "image/avif", "image", True, id="avif-seq"),
        pytest.param(_ftyp(b"heic", b"mif1", b"heic"), "image/heic", "image", True, id="heic"),
        pytest.param(_ftyp(b"heix", b"mif1", b"heix"), "image/heic", "image", True, id="heic-heix"),
        pytest.param(_ftyp(b"mif1", b"mif1", b"heic"), "image/heic", "image", True, id="heic-mif1"),
        pytest.param(_ftyp(b"msf1", b"msf1", b"hevc"), "image/heic", "image", True, id="heic-seq"),
        pytest.param(_ftyp(b"mif1", b"mif1"), "image/heif", "image", True, id="heif"),
        pytest.param(
            _ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4", "video", False, id="mp4"
        ),
        pytest.param(_ftyp(b"mp42", b"mp42", b"isom"), "video/mp4", "video", False, id="mp4-mp42"),
        pytest.param(
            _ftyp(b"M4V ", b"M4V ", b"M4A ", b"mp42", b"isom"), "video/mp4", "video", False, id="m4v"
        ),
        pytest.param(_ftyp(b"qt  ", b"qt  "), "video/quicktime", "video", False, id="mov"),
        pytest.param(_ftyp(b"qt  ", b"qt  ", b"isom"), "video/quicktime", "video", False, id="mov-isom"),
        pytest.param(_ebml(b"webm"), "video/webm", "video", False, id="webm"),
        pytest.param(
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
            "application/pdf",
            "document",
            False,
            id="pdf",
        ),
        pytest.param(_glb(), "model/gltf-binary", "model", False, id="glb"),
        pytest.param(SVG_BODY, "image/svg+xml", "image", False, id="svg"),
        pytest.param(
            b'<?xml version="1.0" encoding="UTF-8"?>\n' + SVG_BODY,
            "image/svg+xml",
            "image",
            False,
            id="svg-xml-declaration",
        ),
        pytest.param(
            b'\xef\xbb\xbf<?xml version="1.0"?>' + SVG_BODY, "image/svg+xml", "image", False, id="svg-bom"
        ),
        pytest.param(
            b'\n  <?xml version="1.0"?>\n<!-- Generator: Editor 1.0 -->\n' + SVG_DOCTYPE + b"\n" + SVG_BODY,
            "image/svg+xml",
            "image",
            False,
            id="svg-comment-doctype",
        ),
        pytest.param(
            b'<!DOCTYPE svg [ <!ENTITY w "10"> ]>\n' + SVG_BODY,
            "image/svg+xml",
            "image",
            False,
            id="svg-internal-subset",
        ),
        pytest.param(
            b'<?xml-stylesheet href="a.css"?><svg>' + b"</svg>",
            "image/svg+xml",
            "image",
            False,
            id="svg-processing-instruction",
        ),
        pytest.param(
            ("\ufeff<?xml version='1.0' encoding='UTF-16'?>" + SVG_BODY.decode()).encode("utf-16-le"),
            "image/svg+xml",
            "image",
            False,
            id="svg-utf16",
        ),
    ],
)
def test_accepted_types_are_recognised_from_their_bytes(head, content_type, kind, raster):
    assert sniff(head) == SniffedType(content_type=content_type, kind=kind, raster=raster)


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"hello, world\n" * 10, id="text"),
        pytest.param(b'{"name": "not a file type"}', id="json"),
        pytest.param(_zip(), id="zip"),
        pytest.param(random.Random(7).randbytes(SNIFF_BYTES), id="random"),
        pytest.param(b"<!DOCTYPE html>\n<html><body><svg></svg></body></html>", id="html"),
        pytest.param(b"<html><svg></svg></html>", id="html-no-doctype"),
        pytest.param(b"<!DOCTYPE html>\n<svg></svg>", id="html-doctype-then-svg"),
        pytest.param(b'<?xml version="1.0"?><note><svg/></note>', id="xml-other-root"),
        pytest.param(b"<svgfoo></svgfoo>", id="svg-prefix-only"),
        pytest.param(b"<SVG></SVG>", id="svg-wrong-case"),
        pytest.param(b"<!-- unterminated comment <svg>", id="svg-unterminated-comment"),
        pytest.param(b" " * SNIFF_BYTES + SVG_BODY, id="svg-beyond-sniffed-bytes"),
        pytest.param(_pillow_bytes("BMP"), id="bmp"),
        pytest.param(_pillow_bytes("TIFF"), id="tiff"),
        pytest.param(b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00" * 40, id="tiff-big-endian"),
        pytest.param(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", id="eps"),
        pytest.param(
            b"\xc5\xd0\xd3\xc6" + struct.pack("<6I", 30, 60, 0, 0, 0, 0) + b"\xff\xff", id="eps-dos-binary"
        ),
        pytest.param(b"8BPS\x00\x01" + b"\x00" * 6 + struct.pack(">HIIHH", 3, 30, 40, 8, 3), id="psd"),
        pytest.param(_pillow_bytes("ICO"), id="ico"),
        pytest.param(_pillow_bytes("JPEG2000"), id="jpeg2000-codestream"),
        pytest.param(_pillow_bytes("PNG")[:4] + b"\x00" * 40, id="png-short-signature"),
        pytest.param(b"GIF8" + b"\x00" * 40, id="gif-short-signature"),
        pytest.param(_ebml(b"matroska"), id="mkv"),
        pytest.param(_ftyp(b"3gp4", b"3gp4", b"isom"), id="3gp"),
        pytest.param(_ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), id="m4a-audio"),
        pytest.param(_ftyp(b"crx ", b"crx ", b"isom"), id="canon-cr3"),
        pytest.param(_ftyp(b"jp2 ", b"jp2 "), id="jpeg2000"),
        pytest.param(b"\x00\x00\x00\x08ftypisom" + b"\x00" * 8, id="ftyp-too-small"),
        pytest.param(b"\x00\x00\x10\x00ftypisom\x00\x00\x00\x00isom", id="ftyp-beyond-head"),
        pytest.param(_glb(version=1), id="glb-v1"),
        pytest.param(b"glTF", id="glb-magic-only"),
    ],
)
def test_other_bytes_are_refused(head):
    assert sniff(head) is None


def test_only_the_sniffed_bytes_are_read():
    # Given a JPEG much longer than the sniffed prefix
    data = _pillow_bytes("JPEG") + b"\x00" * (SNIFF_BYTES * 4)

    # When the whole buffer or just the prefix is given, Then the answer is the same
    assert sniff(data) == sniff(data[:SNIFF_BYTES]) == SniffedType("image/jpeg", "image", True)


def test_sniff_accepts_any_bytes_like_head():
    assert sniff(bytearray(_glb())) == SniffedType("model/gltf-binary", "model", False)
    assert sniff(memoryview(SVG_BODY)) == SniffedType("image/svg+xml", "image", False)
