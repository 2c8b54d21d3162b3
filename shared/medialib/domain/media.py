"""The media item as the domain sees it, and the pure rules around it (no AWS, no HTTP)."""

from __future__ import annotations

import os
import re
import time
import unicodedata
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from medialib.domain.failures import FailureCode

Kind = Literal["image", "video", "document", "model"]
Status = Literal["pending", "processing", "ready", "failed"]
KINDS: tuple[str, ...] = ("image", "video", "document", "model")
STATUSES: tuple[str, ...] = ("pending", "processing", "ready", "failed")
LISTED_STATUSES = ("processing", "ready", "failed")

# Declared content types a client may presign, and the kind each belongs to. The stored
# bytes are sniffed again later; this only decides the size limit and the policy.
ACCEPTED_CONTENT_TYPES: dict[str, str] = {
    "image/jpeg": "image",
    "image/png": "image",
    "image/gif": "image",
    "image/webp": "image",
    "image/avif": "image",
    "image/heic": "image",
    "image/heif": "image",
    "image/svg+xml": "image",
    "video/mp4": "video",
    "video/webm": "video",
    "video/quicktime": "video",
    "application/pdf": "document",
    "model/gltf-binary": "model",
}

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Path separators and the characters drawn like them (division and fraction slash, fullwidth
# and big solidus, set minus …), which would let a displayed name pass for a path.
_FORBIDDEN_FILENAME = re.compile(
    r"[/\\\u2044\u2215\u2216\u2571\u2572\u27cb\u27cd\u29f5\u29f8\u29f9\ufe68\uff0f\uff3c]"
)
# Control (Cc), format (Cf: bidi controls, zero-width characters, BOM, soft hyphen, tag
# characters), lone surrogates (Cs) and line/paragraph separators (Zl, Zp): invisible or
# reordering characters that make a displayed name differ from the stored one.
_FORBIDDEN_FILENAME_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
MAX_FILENAME_CHARS = 255
# The filename sort key (casefolded name + separator + media id) must stay under DynamoDB's
# 1,024-byte sort key; 765 bytes is 255 characters of three bytes each, after casefolding.
MAX_FILENAME_KEY_BYTES = 765


def new_media_id(now_ms: int | None = None) -> str:
    """``med_`` + a ULID: 48 bits of milliseconds then 80 random bits, so ids sort by creation."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    chars = [_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5)]
    return "med_" + "".join(chars)


MEDIA_ID_PATTERN = re.compile(r"^med_[0-9A-HJKMNP-TV-Z]{26}$")


def utc_now() -> str:
    return iso_timestamp(datetime.now(UTC))


def iso_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def clean_filename(raw: str) -> str:
    """Filenames are display metadata: NFC, no control, format (bidi, zero-width) or surrogate
    characters, no path separators or lookalikes, at most 255 characters and 765 UTF-8 bytes
    once casefolded (the form the sort and duplicate keys hold)."""
    if any(unicodedata.category(char) in _FORBIDDEN_FILENAME_CATEGORIES for char in raw):
        raise ValueError("must not contain control, format (bidi, zero-width) or surrogate characters")
    name = unicodedata.normalize("NFC", raw).strip()
    if not name or len(name) > MAX_FILENAME_CHARS:
        raise ValueError(f"must be 1-{MAX_FILENAME_CHARS} characters")
    if len(name.casefold().encode()) > MAX_FILENAME_KEY_BYTES:
        raise ValueError(f"must be at most {MAX_FILENAME_KEY_BYTES} bytes in UTF-8 once case-folded")
    if _FORBIDDEN_FILENAME.search(name):
        raise ValueError("must not contain path separators or characters that look like them")
    if name in {".", ".."}:
        raise ValueError("must not be . or ..")
    return name


class FocalPoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: float = Field(ge=0, le=100)
    y: float = Field(ge=0, le=100)


class Variant(BaseModel):
    name: str
    width: int
    height: int
    format: str = "webp"
    key: str  # storage key; the API shows a URL instead


class Placeholder(BaseModel):
    blurhash: str | None = None
    dominant_color: str | None = None


class EntityRef(BaseModel):
    """An entity (product, post, page …) that uses a media item."""

    type: str
    id: str


class MediaError(BaseModel):
    code: FailureCode = Field(description="Why the item failed: a stable code, one of the enum's values")
    message: str


class Media(BaseModel):
    """One media item, including the bookkeeping the API never shows (keys, upload state)."""

    tenant_id: str
    id: str
    kind: Kind
    status: Status
    filename: str
    content_type: str
    size: int | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    pages: int | None = None  # documents: the page count, None when unknown (a locked PDF)
    alt: str | None = None
    title: str | None = None
    caption: str | None = None
    folder: str = "/"
    tag_ids: list[str] = Field(default_factory=list)
    used_by: list[EntityRef] = Field(default_factory=list)
    focal_point: FocalPoint | None = None
    original_key: str
    variants: list[Variant] = Field(default_factory=list)
    placeholder: Placeholder | None = None
    sha256: str | None = None
    error: MediaError | None = None
    version: int = 1
    created_at: str
    updated_at: str
    # upload bookkeeping
    upload_method: Literal["POST", "PUT"] = "POST"
    max_size: int
    upload_expires_at: str | None = None
    confirmed_at: str | None = None
    on_duplicate: Literal["allow", "reject", "return_existing"] = "allow"
    # Set when confirm discarded this upload as a copy of that item: retries get the same answer.
    duplicate_of: str | None = None
    # processing bookkeeping: which stored object the results describe
    source_etag: str | None = None
    source_sequencer: str | None = None

    @property
    def listed(self) -> bool:
        return self.status != "pending"


# The totals kept for listed items, one counter each: all of them, the unused ones, and those
# with one value of a filter (``total_of("kind", "image")``).
TOTAL_ALL = "all"
TOTAL_UNUSED = "unused"


def total_of(name: str, value: str) -> str:
    """The total of listed items whose ``name`` is ``value``: ``kind``, ``status``, ``folder``,
    ``tag``, ``ready#kind``, ``ready#folder`` (ready items only), or ``holds`` (a folder's items
    and its open uploads)."""
    return f"{name}#{value}"


def counter_dimensions(media: Media | None) -> set[str]:
    """The totals an item contributes to. Pending uploads count only towards ``holds``, which
    keeps a folder from being deleted while an upload into it is still open. Ready items also
    count by kind and by folder among ready items, so the public list's totals are one counter
    each."""
    if media is None:
        return set()
    if not media.listed:
        return {total_of("holds", media.folder)}
    dims = {
        TOTAL_ALL,
        total_of("kind", media.kind),
        total_of("status", media.status),
        total_of("folder", media.folder),
        total_of("holds", media.folder),
    }
    if media.status == "ready":
        dims.update({total_of("ready#kind", media.kind), total_of("ready#folder", media.folder)})
    dims.update(total_of("tag", tag_id) for tag_id in media.tag_ids)
    if not media.used_by:
        dims.add(TOTAL_UNUSED)
    return dims


def counter_deltas(before: Media | None, after: Media | None) -> dict[str, int]:
    old, new = counter_dimensions(before), counter_dimensions(after)
    deltas = {dim: 1 for dim in new - old}
    deltas.update({dim: -1 for dim in old - new})
    return deltas


def original_key(tenant_id: str, media_id: str) -> str:
    return f"originals/{tenant_id}/{media_id}"


def variant_key(tenant_id: str, media_id: str, source_tag: str, name: str) -> str:
    """Variant keys depend on the source object, so two versions of an original never clobber."""
    return f"variants/{tenant_id}/{media_id}/{source_tag}/{name}.webp"


def variants_prefix(tenant_id: str, media_id: str) -> str:
    return f"variants/{tenant_id}/{media_id}/"


def parse_original_key(key: str) -> tuple[str, str] | None:
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "originals" or not MEDIA_ID_PATTERN.match(parts[2]):
        return None
    return parts[1], parts[2]
