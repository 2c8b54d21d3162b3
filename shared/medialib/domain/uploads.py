"""The verdict on bytes that landed for an upload: the one rule confirm and processing share.

What a client declared at presign (type, size) is a promise the stored bytes must keep, whatever
order the storage event and the confirm arrive in. The bytes' own type is sniffed elsewhere
(``medialib.imaging.sniff``); this only compares.
"""

from __future__ import annotations

from urllib.parse import quote

from medialib.domain.errors import MediaLibError, PayloadTooLarge, UnsupportedMediaType
from medialib.domain.failures import FailureCode
from medialib.domain.media import ACCEPTED_CONTENT_TYPES

# Names clients and older browsers send for the same formats.
CONTENT_TYPE_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/heic-sequence": "image/heic",
    "image/heif-sequence": "image/heif",
    "video/x-m4v": "video/mp4",
    "application/x-pdf": "application/pdf",
}
# Containers one format family writes under either name: a phone's HEIF photo is often declared
# HEIC, and the same camera file is MP4 or QuickTime depending on its brand.
_FAMILIES = {
    "image/heif": "image/heic",
    "video/quicktime": "video/mp4",
}


def canonical_content_type(declared: str) -> str:
    return CONTENT_TYPE_ALIASES.get(declared, declared)


def _family(content_type: str) -> str:
    content_type = canonical_content_type(content_type)
    return _FAMILIES.get(content_type, content_type)


def judge_landed(
    *, declared_type: str, size_limit: int, size: int, sniffed_type: str | None
) -> FailureCode | None:
    """None when the landed bytes keep the upload's promise, else the failure code:
    ``too_large``, ``unsupported_type`` (not an accepted type at all) or ``type_mismatch``."""
    if size > size_limit:
        return "too_large"
    if sniffed_type is None or sniffed_type not in ACCEPTED_CONTENT_TYPES:
        return "unsupported_type"
    if _family(sniffed_type) != _family(declared_type):
        return "type_mismatch"
    return None


def rejection_error(code: str, *, size: int, size_limit: int, declared_type: str) -> MediaLibError:
    """The client-facing error for a failed verdict (confirm answers with it); the item keeps
    the verdict's own code in ``error.code``."""
    if code == "too_large":
        return PayloadTooLarge(f"The uploaded file is {size} bytes; at most {size_limit} were allowed")
    if code == "type_mismatch":
        return UnsupportedMediaType(
            f"The uploaded file's contents are not the declared {declared_type}",
            errors=[{"field": "content_type", "message": "type_mismatch"}],
        )
    return UnsupportedMediaType("The uploaded file is not an accepted type")


def content_disposition(filename: str, content_type: str) -> str:
    """How the original is delivered: under its own name, and never rendered inline when it is
    active content (SVG can carry scripts)."""
    mode = "attachment" if content_type == "image/svg+xml" else "inline"
    return f"{mode}; filename*=UTF-8''{quote(filename, safe='')}"
