"""Decide a file's type from its leading bytes, never from its name or declared type."""

from dataclasses import dataclass

from filetype.types import archive as _ft_archive
from filetype.types import image as _ft_image
from filetype.types import video as _ft_video

SNIFF_BYTES = 4096


@dataclass(frozen=True)
class SniffedType:
    content_type: str
    kind: str  # "image" | "video" | "document" | "model"
    raster: bool  # True for the formats we decode and make variants for


JPEG = SniffedType("image/jpeg", "image", raster=True)
PNG = SniffedType("image/png", "image", raster=True)
GIF = SniffedType("image/gif", "image", raster=True)
WEBP = SniffedType("image/webp", "image", raster=True)
AVIF = SniffedType("image/avif", "image", raster=True)
HEIC = SniffedType("image/heic", "image", raster=True)  # decoded with pillow-heif (libheif)
HEIF = SniffedType("image/heif", "image", raster=True)
SVG = SniffedType("image/svg+xml", "image", raster=False)
MP4 = SniffedType("video/mp4", "video", raster=False)
WEBM = SniffedType("video/webm", "video", raster=False)
QUICKTIME = SniffedType("video/quicktime", "video", raster=False)
PDF = SniffedType("application/pdf", "document", raster=False)
GLB = SniffedType("model/gltf-binary", "model", raster=False)

ACCEPTED_TYPES = (JPEG, PNG, GIF, WEBP, AVIF, HEIC, HEIF, SVG, MP4, WEBM, QUICKTIME, PDF, GLB)

# filetype's matchers for the signatures it gets right; ISO-BMFF, GLB and SVG are decided below.
_FILETYPE_MATCHERS = (
    (_ft_image.Jpeg(), JPEG),
    (_ft_image.Png(), PNG),  # also matches APNG, which Pillow opens as PNG
    (_ft_image.Gif(), GIF),
    (_ft_image.Webp(), WEBP),
    (_ft_video.Webm(), WEBM),
    (_ft_archive.Pdf(), PDF),
)
# filetype checks only 3-4 bytes of these signatures; Pillow needs the whole one.
_FULL_SIGNATURES = {
    PNG: (b"\x89PNG\r\n\x1a\n",),
    GIF: (b"GIF87a", b"GIF89a"),
}

# ISO-BMFF brands (ftyp box). filetype misreads several of them: it misses HEIF with only the `mif1`
# brand, HEIC written as `heix`/`hevc`, and AVIF sequences (`avis`); it calls anything listing `isom`
# among its compatible brands MP4 (QuickTime, Canon CR3), so the major brand decides here.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_STRUCTURAL_BRANDS = frozenset({b"mif1", b"mif2", b"msf1"})
_QUICKTIME_BRANDS = frozenset({b"qt  "})
_MP4_BRANDS = frozenset(
    {
        b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9",
        b"mp41", b"mp42", b"mp71", b"avc1", b"dash", b"mmp4", b"MSNV", b"XAVC",
        b"M4V ", b"M4VP", b"M4VH", b"f4v ",
    }
)  # fmt: skip

_XML_SPACE = " \t\r\n"


def sniff(head: bytes) -> SniffedType | None:
    """The accepted type of a file from its first `SNIFF_BYTES` bytes, or None when it is not one."""
    head = bytes(head[:SNIFF_BYTES])
    if head[4:8] == b"ftyp":
        return _sniff_iso_bmff(head)
    if head[:4] == b"glTF":
        # filetype has no GLB matcher; the header is magic, version (2 for glTF 2.0), length.
        return GLB if len(head) >= 12 and int.from_bytes(head[4:8], "little") == 2 else None
    for matcher, sniffed in _FILETYPE_MATCHERS:
        if matcher.match(head):
            signatures = _FULL_SIGNATURES.get(sniffed)
            if signatures is None or head.startswith(signatures):
                return sniffed
            return None
    return SVG if _looks_like_svg(head) else None


def _sniff_iso_bmff(head: bytes) -> SniffedType | None:
    box_size = int.from_bytes(head[:4], "big")
    # A real ftyp box is small, whole in the head, and holds 4-byte brands after major + minor version.
    if box_size < 16 or box_size > len(head) or box_size % 4:
        return None
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, box_size, 4)}
    if major in _AVIF_BRANDS:
        return AVIF
    if major in _HEIC_BRANDS:
        return HEIC
    if major in _HEIF_STRUCTURAL_BRANDS:
        # A generic HEIF major brand: the compatible brands name the codec.
        if compatible & _AVIF_BRANDS:
            return AVIF
        if compatible & _HEIC_BRANDS:
            return HEIC
        return HEIF
    if major in _QUICKTIME_BRANDS:
        return QUICKTIME
    if major in _MP4_BRANDS:
        return MP4
    # 3GP, M4A audio, JPEG 2000, camera raw (CR3) and the like are not accepted.
    return None


def _looks_like_svg(head: bytes) -> bool:
    """True when the first element is `<svg`, after an optional BOM, XML declaration, comments,
    processing instructions and an `svg` doctype."""
    text = _decode_markup(head)
    pos = 0
    while True:
        while pos < len(text) and text[pos] in _XML_SPACE:
            pos += 1
        if text.startswith("<svg", pos):
            following = text[pos + 4 : pos + 5]
            return following != "" and following in _XML_SPACE + ">/"
        if text.startswith("<?", pos):
            end = text.find("?>", pos + 2)
            pos = end + 2
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos + 4)
            pos = end + 3
        elif text.startswith("<!DOCTYPE", pos):
            end = _doctype_end(text, pos)
            pos = end + 1
        else:
            return False
        if end < 0:
            return False


def _doctype_end(text: str, start: int) -> int:
    """Index of the `>` closing an `svg` doctype (internal subset included), or -1."""
    name_start = start + len("<!DOCTYPE")
    name = text[name_start:].lstrip(_XML_SPACE)
    # The doctype names the root element: `<!DOCTYPE html>` before an `<svg` is an HTML page.
    if not (name.startswith("svg") and name[3:4] in tuple(_XML_SPACE + ">[")):
        return -1
    close = text.find(">", name_start)
    subset = text.find("[", name_start)
    if 0 <= subset < close:
        subset_end = text.find("]", subset)
        close = text.find(">", subset_end) if subset_end >= 0 else -1
    return close


def _decode_markup(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        usable = len(head) - len(head) % 2  # the head may end mid code unit
        return head[:usable].decode("utf-16", errors="replace")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.decode("utf-8", errors="replace")
