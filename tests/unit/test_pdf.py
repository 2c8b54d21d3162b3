"""PDF page count and first-page preview (imaging/pdf.py) on PDFs written here byte by byte:
one and three pages, a page tree of 20,000 pages of which only the first is ever loaded, a huge
MediaBox rendered at the preview size, password-locked and owner-only encryption, truncated and
broken files, and a page still drawing at its deadline; then the same through the child process
that bounds loading and drawing in time and memory."""

from __future__ import annotations

import hashlib
import struct
from io import BytesIO

import pypdfium2 as pdfium
import pytest
from PIL import Image

from medialib.imaging import pdf as pdf_module
from medialib.imaging.pdf import PREVIEW_BOX, PdfRejected, preview_pdf, process_pdf

RED = b"1 0 0 rg -10 -10 100000 100000 re f"  # fills any page (within 100,000 pt) with red


def pdf_bytes(objects: list[bytes], *, trailer: bytes = b"") -> bytes:
    """A PDF holding ``objects`` as objects 1..n (1 must be the catalog), with a correct xref."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer + b">>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def make_pdf(
    pages: int = 1,
    *,
    media_box: bytes = b"[0 0 612 792]",
    content: bytes = RED,
    rotate: int = 0,
    extra: tuple[bytes, ...] = (),
    trailer: bytes = b"",
) -> bytes:
    """``pages`` pages sharing one content stream (object ``pages + 3``); ``extra`` objects follow."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
    content_ref = 3 + pages
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Rotate %d /Contents %d 0 R >>"
    objects += [page % (media_box, rotate, content_ref)] * pages
    objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    return pdf_bytes([*objects, *extra], trailer=trailer)


_PADDING = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    state, j = list(range(256)), 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def encrypted_pdf(user_password: bytes = b"secret", owner_password: bytes = b"owner") -> bytes:
    """Standard security handler, revision 2 (40-bit RC4), as ISO 32000-1 7.6.3.3-4 computes
    /O and /U. The page has no content, so no string or stream needs encrypting."""
    owner = _rc4(
        hashlib.md5((owner_password + _PADDING)[:32], usedforsecurity=False).digest()[:5],
        (user_password + _PADDING)[:32],
    )
    permissions, file_id = -4, b"0123456789abcdef"
    key_material = (user_password + _PADDING)[:32] + owner + struct.pack("<i", permissions) + file_id
    user = _rc4(hashlib.md5(key_material, usedforsecurity=False).digest()[:5], _PADDING)
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>" % (
        owner.hex().encode(),
        user.hex().encode(),
        permissions,
    )
    ids = b"/Encrypt 5 0 R /ID [<%s> <%s>] " % (file_id.hex().encode(), file_id.hex().encode())
    return make_pdf(content=b"", extra=(encrypt,), trailer=ids)


def decoded(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    assert image.format == "WEBP"
    return image.convert("RGB")


def test_a_one_page_pdf_has_its_count_size_and_every_variant_of_the_first_page():
    result = process_pdf(make_pdf())
    assert (result.pages, result.width, result.height, result.encrypted) == (1, 612, 792, False)
    assert [(v.name, v.width, v.height) for v in result.variants] == [
        ("1200", 927, 1200),
        ("800", 618, 800),
        ("400", 309, 400),
        ("150", 116, 150),
    ]  # a vector page is drawn larger than its 792 pt: every box, unlike a raster image
    for variant in result.variants:
        image = decoded(variant.data)
        assert image.size == (variant.width, variant.height)
        red, green, blue = image.getpixel((image.width // 2, image.height // 2))
        assert red > 200 and green < 60 and blue < 60  # the page was drawn, not just the white
    assert result.dominant_color is not None and result.dominant_color.startswith("#f")
    assert result.blurhash and result.no_preview is None


def test_a_three_page_pdf_counts_three_pages():
    result = process_pdf(make_pdf(3))
    assert result.pages == 3 and len(result.variants) == 4


def test_many_pages_are_counted_without_loading_any_page_but_the_first(monkeypatch):
    loaded: list[int] = []
    real = pdfium.PdfDocument.get_page

    def get_page(self, index):
        loaded.append(index)
        return real(self, index)

    monkeypatch.setattr(pdfium.PdfDocument, "get_page", get_page)
    result = process_pdf(make_pdf(20_000))
    assert result.pages == 20_000
    assert loaded == [0]
    assert len(result.variants) == 4


def test_a_huge_media_box_is_rendered_at_the_preview_size_not_the_declared_one(monkeypatch):
    sizes: list[tuple[int, int]] = []
    real = pdfium.PdfBitmap.new_native

    def new_native(width, height, *args, **kwargs):
        sizes.append((width, height))
        return real(width, height, *args, **kwargs)

    monkeypatch.setattr(pdfium.PdfBitmap, "new_native", new_native)
    result = process_pdf(make_pdf(media_box=b"[0 0 2000000 1000000]"))
    assert (result.width, result.height) == (2_000_000, 1_000_000)  # declared, in points
    assert sizes == [(PREVIEW_BOX, PREVIEW_BOX // 2)]  # one bitmap, 1200 x 600: 2.9 MB, not 8 TB
    assert (result.variants[0].width, result.variants[0].height) == (1200, 600)


def test_a_sliver_of_a_page_keeps_at_least_one_pixel():
    result = process_pdf(make_pdf(media_box=b"[0 0 14400 2]"))
    assert [(v.width, v.height) for v in result.variants] == [(1200, 1), (800, 1), (400, 1), (150, 1)]


def test_the_first_page_is_measured_and_drawn_as_displayed_after_rotate():
    result = process_pdf(make_pdf(rotate=90))
    assert (result.width, result.height) == (792, 612)
    assert (result.variants[0].width, result.variants[0].height) == (1200, 927)


def test_a_password_locked_pdf_is_kept_without_pages_or_preview():
    result = process_pdf(encrypted_pdf())
    assert result.encrypted and result.no_preview == "locked"
    assert (result.pages, result.width, result.height, result.variants) == (None, None, None, [])


def test_the_locked_pdf_is_what_its_password_opens():
    """The hand-made encryption is real: with the password, pdfium opens it."""
    assert len(pdfium.PdfDocument(encrypted_pdf(), password="secret")) == 1


def test_a_pdf_encrypted_with_only_an_owner_password_is_previewed():
    result = process_pdf(encrypted_pdf(user_password=b""))
    assert (result.encrypted, result.pages, len(result.variants)) == (False, 1, 4)


@pytest.mark.parametrize(
    "data",
    [
        make_pdf()[:200],
        make_pdf()[: len(make_pdf()) // 2],
        b"%PDF-1.7\n" + b"\x00" * 64,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n",
        pdf_bytes([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]),
    ],
    ids=["truncated-early", "truncated-half", "garbage", "no-catalog", "no-pages"],
)
def test_a_pdf_pdfium_cannot_open_is_corrupt(data):
    with pytest.raises(PdfRejected) as rejected:
        process_pdf(data)
    assert rejected.value.code == "corrupt"
    assert isinstance(rejected.value.__cause__, pdfium.PdfiumError)


def test_a_page_still_drawing_at_its_deadline_is_left_without_a_preview():
    content = b"\n".join(b"0 0 1 rg %d %d 5 5 re f" % (i % 600, i // 600) for i in range(5000))
    ticks = iter([0.0])  # the deadline is set at 0 + 1 s; every later reading is 100 s

    def clock() -> float:
        return next(ticks, 100.0)

    result = process_pdf(make_pdf(2, content=content), render_seconds=1.0, clock=clock)
    assert (result.pages, result.width, result.height) == (2, 612, 792)
    assert (result.variants, result.blurhash, result.no_preview) == ([], None, "timeout")


def test_the_same_many_objects_page_renders_within_the_default_budget():
    content = b"\n".join(b"0 0 1 rg %d %d 5 5 re f" % (i % 600, i // 600) for i in range(5000))
    assert len(process_pdf(make_pdf(content=content)).variants) == 4


def test_a_first_page_that_cannot_be_loaded_keeps_the_count_without_a_preview(monkeypatch):
    def broken(self, index):
        raise pdfium.PdfiumError("Failed to load page.")

    monkeypatch.setattr(pdfium.PdfDocument, "get_page", broken)
    result = process_pdf(make_pdf(3))
    assert (result.pages, result.variants, result.no_preview) == (3, [], "page_unreadable")


def test_the_preview_box_is_the_largest_variant_box():
    assert pdf_module.PREVIEW_BOX == 1200


# The child process ------------------------------------------------------------------------


def test_the_child_gives_what_the_same_work_in_process_gives():
    data = make_pdf(3)
    assert preview_pdf(data) == process_pdf(data)


def test_the_child_reports_a_pdf_it_cannot_open_as_corrupt():
    with pytest.raises(PdfRejected) as rejected:
        preview_pdf(make_pdf()[:200])
    assert rejected.value.code == "corrupt"


def test_the_child_reports_a_locked_pdf():
    assert preview_pdf(encrypted_pdf()) == process_pdf(encrypted_pdf())


def test_a_child_out_of_memory_leaves_the_count_and_size_without_a_preview():
    # 100,000 drawing operators on the first page: pdfium holds each as an object (about 600
    # bytes), more than 64 MB of address space leaves once the interpreter has started.
    content = b"\n".join(b"0 0 1 rg %d %d 5 5 re f" % (i % 600, i // 600 % 790) for i in range(100_000))
    result = preview_pdf(make_pdf(5, rotate=90, content=content), memory_bytes=64 * 1024 * 1024)
    assert (result.pages, result.width, result.height) == (5, 792, 612)
    assert (result.variants, result.blurhash, result.no_preview) == ([], None, "limits")


def test_a_child_past_its_deadline_leaves_the_count_and_size_without_a_preview():
    # No interpreter starts, imports pdfium and draws a page within a microsecond.
    result = preview_pdf(make_pdf(2), seconds=1e-6)
    assert (result.pages, result.width, result.height, result.no_preview) == (2, 612, 792, "limits")


def test_after_a_failed_child_a_pdf_that_cannot_be_opened_is_still_corrupt():
    with pytest.raises(PdfRejected):
        preview_pdf(b"%PDF-1.7\n" + b"\x00" * 64, seconds=1e-6)


def test_after_a_failed_child_a_locked_pdf_is_still_locked():
    result = preview_pdf(encrypted_pdf(), seconds=1e-6)
    assert (result.encrypted, result.no_preview, result.pages) == (True, "locked", None)


@pytest.mark.parametrize(
    "output",
    [
        b"",
        b"not json\n",
        b'{"pages": "3"}\n',
        b'{"pages": 1, "width": 1, "height": 1, "encrypted": false, "blurhash": null,'
        b' "dominant_color": null, "no_preview": null, "variants": [["1200", 1, 1, 10]]}\nshort',
        b'{"pages": -1, "width": 1, "height": 1, "encrypted": false, "blurhash": null,'
        b' "dominant_color": null, "no_preview": null, "variants": []}\n',
    ],
    ids=["empty", "not-json", "wrong-type", "short-data", "negative"],
)
def test_an_answer_from_the_child_that_does_not_parse_is_refused(output):
    with pytest.raises((ValueError, KeyError)):
        pdf_module._from_child(output)


def test_the_child_gets_no_credentials(monkeypatch):
    import subprocess

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-the-child")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "not-for-the-child")
    seen: list[dict[str, str]] = []
    real = subprocess.run

    def run(*args, **kwargs):
        seen.append(kwargs["env"])
        return real(*args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    assert len(preview_pdf(make_pdf()).variants) == 4  # it still starts and finds its code
    [env] = seen
    assert not any(name.startswith("AWS_") for name in env)
    assert "not-for-the-child" not in env.values()
