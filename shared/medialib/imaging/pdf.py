"""Page count and a first-page preview of an untrusted PDF (pypdfium2).

Bounded in what it touches: the page count comes from the page tree's root (pdfium trusts its
``/Count``), only page 0 is ever loaded, and it is rendered once, fitted into the largest variant
box (never at the size the page declares, so a huge MediaBox cannot flood pixels), with a time
budget pdfium checks between page objects as it renders. The rendered page becomes the same WebP
variants and placeholder as an image.

Loading a page parses its whole content stream, which no pause reaches: 50 MB of tiny drawing
operators take seconds and over a gigabyte. So ``preview_pdf`` loads and draws the page in a
child process with an address-space limit and a wall-clock deadline; when the child runs out of
either (or crashes), the page count and the first page's size are read here without parsing any
page content, and the document is kept without a preview. The child's answer is a JSON header
and the WebP bytes, never a pickle: the child handles hostile bytes, the parent trusts no code
from it.

Outcomes: a file pdfium cannot open is ``corrupt``; a password-protected (or unknown security
handler) PDF is a valid document whose pages cannot be read without its password, so it is kept
without pages, size or preview; a page that cannot be loaded or rendered in time leaves the
document without a preview, its page count kept.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from medialib.domain.failures import FAILURE_CODES, FailureCode
from medialib.imaging.pipeline import VARIANT_BOXES, RenderedVariant, fit, render_preview
from medialib.imaging.rejection import Rejected

__all__ = [
    "PREVIEW_BOX",
    "PREVIEW_MEMORY_BYTES",
    "PREVIEW_SECONDS",
    "RENDER_SECONDS",
    "PdfRejected",
    "ProcessedPdf",
    "preview_pdf",
    "process_pdf",
]

PREVIEW_BOX = VARIANT_BOXES[0]  # the page is rendered with its longest side at this many pixels
RENDER_SECONDS = 10.0  # a page still drawing after this is left without a preview
# The child that loads and draws the page: wall clock (start-up, parsing, drawing, encoding) and
# address space. The processing function has 1769 MB; the parent holds the file (<= 50 MB) twice.
PREVIEW_SECONDS = 20.0
PREVIEW_MEMORY_BYTES = 1024 * 1024 * 1024
# What the child inherits: Lambda's interpreter needs LD_LIBRARY_PATH to find libpython.
_CHILD_ENVIRONMENT = ("PATH", "LD_LIBRARY_PATH", "LANG", "LC_ALL", "TZ")
# What pdfium reports when a document needs a password or a security handler it lacks.
_LOCKED = frozenset({pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY})
# Annotations' appearance streams drawn as a viewer shows them; forms are not initialised (no
# JavaScript, no XFA), so form fields show their stored appearance only.
_RENDER_FLAGS = pdfium_c.FPDF_ANNOT | pdfium_c.FPDF_REVERSE_BYTE_ORDER


class PdfRejected(Rejected):
    """The bytes are not a PDF pdfium can open; ``code`` is the item's failure code."""

    def __init__(self, code: FailureCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class ProcessedPdf:
    pages: int | None  # None when the document is locked
    width: int | None  # the first page as displayed (after /Rotate), in points: px at 72 dpi
    height: int | None
    encrypted: bool = False
    variants: list[RenderedVariant] = field(default_factory=list)  # largest first; empty: no preview
    blurhash: str | None = None
    dominant_color: str | None = None
    # Why there is no preview: locked, page_unreadable, empty_page, timeout (drawing), limits
    # (the child ran out of time or memory, or crashed).
    no_preview: str | None = None


def preview_pdf(
    data: bytes, *, seconds: float = PREVIEW_SECONDS, memory_bytes: int = PREVIEW_MEMORY_BYTES
) -> ProcessedPdf:
    """``process_pdf`` in a child process bounded in time and memory; raises PdfRejected
    (``corrupt``) when pdfium cannot open the file."""
    # The child handles hostile bytes: it gets no credentials (AWS_* and the rest of the
    # function's environment), only what starts the interpreter and finds the code.
    env = {name: os.environ[name] for name in _CHILD_ENVIRONMENT if name in os.environ}
    env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
    command = [sys.executable, "-c", f"import {__name__} as pdf; pdf._child({memory_bytes}, {seconds!r})"]
    try:
        done = subprocess.run(  # noqa: S603 - this interpreter and module; the PDF goes on stdin
            command, input=data, capture_output=True, timeout=seconds, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return _outline(data, "limits")
    if done.returncode != 0:
        return _outline(data, "limits")
    try:
        return _from_child(done.stdout)
    except PdfRejected:
        raise
    except Exception:  # an answer that does not parse is a child that went wrong
        return _outline(data, "limits")


def _outline(data: bytes, no_preview: str) -> ProcessedPdf:
    """Page count and the first page's size without parsing any page's content."""
    document = _open(data)
    if document is None:
        return _locked()
    try:
        pages = len(document)
        try:
            points = document.get_page_size(0)
        except pdfium.PdfiumError:
            return ProcessedPdf(pages=pages, width=None, height=None, no_preview=no_preview)
    finally:
        document.close()
    if not all(math.isfinite(side) and side >= 0.5 for side in points):
        return ProcessedPdf(pages=pages, width=None, height=None, no_preview=no_preview)
    width, height = (max(1, round(side)) for side in points)
    return ProcessedPdf(pages=pages, width=width, height=height, no_preview=no_preview)


def _child(memory_bytes: int, seconds: float) -> None:
    """Entry point of the child: the PDF on stdin, a JSON line and the WebP bytes on stdout."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    cpu = math.ceil(seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    data = sys.stdin.buffer.read()
    try:
        result = process_pdf(data, render_seconds=min(RENDER_SECONDS, seconds / 2))
    except PdfRejected as rejected:
        header: dict = {"rejected": rejected.code, "reason": str(rejected)}
        sys.stdout.buffer.write(json.dumps(header).encode() + b"\n")
        return
    header = {
        "pages": result.pages,
        "width": result.width,
        "height": result.height,
        "encrypted": result.encrypted,
        "blurhash": result.blurhash,
        "dominant_color": result.dominant_color,
        "no_preview": result.no_preview,
        "variants": [[v.name, v.width, v.height, len(v.data)] for v in result.variants],
    }
    sys.stdout.buffer.write(json.dumps(header).encode() + b"\n" + b"".join(v.data for v in result.variants))


def _from_child(output: bytes) -> ProcessedPdf:
    line, _, rest = output.partition(b"\n")
    header = json.loads(line)
    if "rejected" in header:
        raise PdfRejected(_failure_code(header["rejected"]), _text(header["reason"]))
    variants = []
    offset = 0
    for name, width, height, length in header["variants"]:
        data = rest[offset : offset + _count(length)]
        if len(data) != length:
            raise ValueError("The child's answer is shorter than its header says")
        offset += length
        variants.append(
            RenderedVariant(name=_text(name), width=_count(width), height=_count(height), data=data)
        )
    return ProcessedPdf(
        pages=_optional(header["pages"]),
        width=_optional(header["width"]),
        height=_optional(header["height"]),
        encrypted=header["encrypted"] is True,
        variants=variants,
        blurhash=_text(header["blurhash"]) if header["blurhash"] is not None else None,
        dominant_color=_text(header["dominant_color"]) if header["dominant_color"] is not None else None,
        no_preview=_text(header["no_preview"]) if header["no_preview"] is not None else None,
    )


def _count(value: object) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"Not a count: {value!r}")
    return value


def _optional(value: object) -> int | None:
    return None if value is None else _count(value)


def _failure_code(value: object) -> FailureCode:
    for code in FAILURE_CODES:
        if value == code:
            return code
    raise ValueError(f"Not a failure code: {value!r}")


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"Not a string: {value!r}")
    return value


def process_pdf(
    data: bytes,
    *,
    render_seconds: float = RENDER_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> ProcessedPdf:
    """Open an untrusted PDF held in memory; raises PdfRejected (``corrupt``) when pdfium cannot."""
    document = _open(data)
    if document is None:
        return _locked()
    try:
        return _first_page(document, len(document), render_seconds, clock)
    finally:
        document.close()


def _open(data: bytes) -> pdfium.PdfDocument | None:
    """The document, or None when it is locked; PdfRejected (``corrupt``) when pdfium cannot
    open it, a document with no page at all included: nothing in it can be shown."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if error.err_code in _LOCKED:
            return None
        raise PdfRejected("corrupt", str(error)) from error


def _locked() -> ProcessedPdf:
    return ProcessedPdf(pages=None, width=None, height=None, encrypted=True, no_preview="locked")


def _first_page(
    document: pdfium.PdfDocument, pages: int, render_seconds: float, clock: Callable[[], float]
) -> ProcessedPdf:
    try:
        page = document[0]
    except pdfium.PdfiumError:
        return ProcessedPdf(pages=pages, width=None, height=None, no_preview="page_unreadable")
    try:
        points = page.get_size()
        if not all(math.isfinite(side) and side >= 0.5 for side in points):
            return ProcessedPdf(pages=pages, width=None, height=None, no_preview="empty_page")
        width, height = (max(1, round(side)) for side in points)
        size = fit(width, height, PREVIEW_BOX)
        image = _render(page, size, deadline=clock() + render_seconds, clock=clock)
    finally:
        page.close()
    if image is None:
        return ProcessedPdf(pages=pages, width=width, height=height, no_preview="timeout")
    sizes = [(str(box), fit(size[0], size[1], box)) for box in VARIANT_BOXES]
    # The page is vector: it gets every box, each resized from the render (orientation 1: pdfium
    # has applied /Rotate; no ICC profile: pdfium renders in sRGB).
    preview = render_preview(image, sizes)
    return ProcessedPdf(
        pages=pages,
        width=width,
        height=height,
        variants=preview.variants,
        blurhash=preview.blurhash,
        dominant_color=preview.dominant_color,
    )


def _render(
    page: pdfium.PdfPage, size: tuple[int, int], *, deadline: float, clock: Callable[[], float]
) -> Image.Image | None:
    """The page drawn onto white at ``size`` (RGB), or None when it was still drawing at the
    deadline. Progressive rendering: pdfium asks whether to pause between page objects."""
    width, height = size
    bitmap = pdfium.PdfBitmap.new_native(width, height, pdfium_c.FPDFBitmap_BGR, rev_byteorder=True)
    bitmap.fill_rect((255, 255, 255, 255), 0, 0, width, height)
    late = False

    def need_to_pause(_pause: object) -> int:
        nonlocal late
        late = late or clock() > deadline
        return int(late)

    pause = pdfium_c.IFSDK_PAUSE(version=1)
    callback = type(pause.NeedToPauseNow)(need_to_pause)  # kept alive until rendering ends
    pause.NeedToPauseNow = callback
    try:
        status = pdfium_c.FPDF_RenderPageBitmap_Start(
            bitmap, page, 0, 0, width, height, 0, _RENDER_FLAGS, ctypes.byref(pause)
        )
        while status == pdfium_c.FPDF_RENDER_TOBECONTINUED and not late:
            status = pdfium_c.FPDF_RenderPage_Continue(page, ctypes.byref(pause))
    finally:
        pdfium_c.FPDF_RenderPage_Close(page)
    if late or status != pdfium_c.FPDF_RENDER_DONE:
        return None
    # to_pil shares the bitmap's buffer: convert() copies it before the bitmap is freed.
    image = bitmap.to_pil().convert("RGB")
    bitmap.close()
    return image
