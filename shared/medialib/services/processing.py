"""Processing of originals as they land: verdict, hash, dimensions, variants, placeholder.

Storage events are at-least-once, unordered, and may arrive before the client confirms. Only
confirm accepts an upload, so processing may work ahead but never lists anything: an unconfirmed
item keeps its results (or its failure) while it stays ``pending``, unlisted and uncounted, and
confirm settles it at once. Each result records which stored object (ETag) and event (sequencer)
it describes; an event the item already reflects is a cheap no-op, and variant keys depend on
the object's ETag, so two versions of an original never overwrite each other's results.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from medialib.adapters import media_store, object_storage
from medialib.domain.errors import MediaLibError, NotFound, VersionConflict
from medialib.domain.failures import FailureCode
from medialib.domain.media import (
    Media,
    Placeholder,
    Variant,
    parse_original_key,
    utc_now,
    variant_key,
    variants_prefix,
)
from medialib.domain.uploads import content_disposition, judge_landed
from medialib.imaging.rejection import Rejected
from medialib.imaging.sniff import GLB, PDF, SNIFF_BYTES, SVG, SniffedType, sniff
from medialib.observability import logger, metrics
from medialib.services.outcomes import after_failure, failure, failure_reason
from medialib.services.retrying import ATTEMPTS, retry_on_conflict
from medialib.settings import get_settings

if TYPE_CHECKING:
    from medialib.imaging.pipeline import RenderedVariant  # Pillow: imported only where images are

# What an item holds about the bytes processing worked out; none of it survives other bytes.
RESULTS_CLEARED: dict[str, Any] = {
    "variants": [],
    "placeholder": None,
    "sha256": None,
    "width": None,
    "height": None,
    "duration": None,
    "pages": None,
    "error": None,
    "source_etag": None,
    "source_sequencer": None,
}


@dataclass(frozen=True)
class LandedObject:
    key: str
    etag: str
    sequencer: str
    size: int


def landed_objects(notification: dict[str, Any]) -> list[LandedObject]:
    """The objects an S3 event notification reports (an ``s3:TestEvent`` reports none)."""
    landed = []
    for record in notification.get("Records", []):
        obj = record["s3"]["object"]
        landed.append(
            LandedObject(
                # Real S3 writes spaces as "+", the emulator as "%20": unquote_plus handles both.
                key=unquote_plus(obj["key"]),
                etag=obj.get("eTag", ""),
                sequencer=obj.get("sequencer", ""),
                size=int(obj.get("size", 0)),
            )
        )
    return landed


def _sequence(sequencer: str | None) -> str:
    # S3 sequencers are hex strings of varying length: compare them left-padded.
    return (sequencer or "").rjust(32, "0")


def is_stale(media: Media, landed: LandedObject) -> bool:
    """True when the item already reflects this event or a later one."""
    if media.source_etag is None:
        return False
    if media.status in ("pending", "processing"):
        # Results worked out ahead of confirm (or a failure kept for it) for these very bytes.
        return media.source_etag == landed.etag
    current, incoming = _sequence(media.source_sequencer), _sequence(landed.sequencer)
    if incoming != current:
        return incoming < current
    # The same sequencer: the same event again, unless the object itself differs (the
    # emulator reuses one sequencer for every event).
    return media.source_etag == landed.etag


def process_landed(landed: LandedObject) -> str:
    """Process one landed original; returns what happened (for logs and tests)."""
    parsed = parse_original_key(landed.key)
    if parsed is None:
        logger.warning("Ignoring an object outside the originals layout", extra={"key": landed.key})
        return "ignored"
    tenant_id, media_id = parsed
    logger.append_keys(tenant_id=tenant_id, media_id=media_id)

    def attempt() -> str:
        media = media_store.get(tenant_id, media_id)
        if media is None or media.duplicate_of is not None:
            # No item owns these bytes (deleted or discarded as a copy meanwhile): remove them.
            object_storage.delete_keys([landed.key])
            return "orphan_removed"
        if is_stale(media, landed):
            return "duplicate"
        return _process(media, landed)

    # A conflict means confirm or an edit moved the item while we worked: decide again on its
    # new state now, rather than after the queue's visibility timeout.
    return retry_on_conflict(attempt, gave_up="The item kept changing while processing")


def give_up(landed: LandedObject) -> str:
    """End the item of an original that processing could not finish after every retry:
    ``failed`` (``processing_failed``), or, before confirm, a failure kept for confirm."""
    parsed = parse_original_key(landed.key)
    if parsed is None:
        return "ignored"
    tenant_id, media_id = parsed
    logger.append_keys(tenant_id=tenant_id, media_id=media_id)

    def attempt() -> str:
        media = media_store.get(tenant_id, media_id)
        if media is None or media.duplicate_of is not None or media.status in ("ready", "failed"):
            return "settled"
        if is_stale(media, landed):
            return "settled"
        return _settle(media, landed, {}, [], error="processing_failed")

    outcome = retry_on_conflict(attempt, gave_up="The item kept changing while giving up on it")
    logger.warning("Processing given up", extra={"outcome": outcome})
    return outcome


def _process(media: Media, landed: LandedObject) -> str:
    # A video is copied to a local file as it is hashed, in the same pass: ffmpeg reads a path.
    with _spool_for(media) as spool:
        return _process_read(media, landed, spool)


@contextmanager
def _spool_for(media: Media) -> Iterator[IO[bytes] | None]:
    if media.kind != "video":
        yield None
        return
    with tempfile.NamedTemporaryFile(prefix="original-") as spool:
        yield spool


def _process_read(media: Media, landed: LandedObject, spool: IO[bytes] | None) -> str:
    settings = get_settings()
    size_limit = min(media.max_size, settings.max_bytes_for(media.kind))
    read = None
    if landed.size <= size_limit:
        read = object_storage.read(
            landed.key,
            head_length=SNIFF_BYTES,
            keep_limit=settings.max_image_bytes,
            etag=landed.etag,
            spool=spool,
        )
        if read is None:
            return "superseded"  # replaced or deleted since the event; a later event covers it
    elif _replaced(landed):
        return "superseded"  # too large, but no longer what is stored: decides nothing
    sniffed = sniff(read.head) if read is not None else None
    verdict = judge_landed(
        declared_type=media.content_type,
        size_limit=size_limit,
        size=read.size if read is not None else landed.size,
        sniffed_type=sniffed.content_type if sniffed is not None else None,
    )
    if verdict is not None:
        if media.status == "pending":
            # Confirm judges the same bytes by the same rule and gives the client its answer.
            return "awaiting_confirm"
        return _settle(media, landed, {"size": read.size if read else landed.size}, [], error=verdict)
    assert read is not None and sniffed is not None
    fields: dict[str, Any] = {"content_type": sniffed.content_type, "size": read.size, "sha256": read.sha256}
    written: list[str] = []
    try:
        rejected = _work_out(media, landed, sniffed, read, fields, written, spool)
    except _OriginalGone:
        return "superseded"  # replaced or deleted while read; a later event covers it
    return _settle(media, landed, fields, written, error=rejected)


def _work_out(
    media: Media,
    landed: LandedObject,
    sniffed: SniffedType,
    read: object_storage.ObjectRead,
    fields: dict,
    written: list[str],
    spool: IO[bytes] | None = None,
) -> FailureCode | None:
    """What the file's kind yields (dimensions, variants, pages…) into ``fields``; a failure
    code instead when the file is refused, whatever its reader raised."""
    try:
        if sniffed.raster:
            _render_image(media, landed, read.data or b"", fields, written)
        elif sniffed.kind == "video" and spool is not None:
            _read_video(media, landed, sniffed, spool, fields, written)
        elif sniffed == SVG:
            return _sanitise_svg(media, landed, read, fields, written)
        elif sniffed == GLB:
            _validate_model(landed, read)
        elif sniffed == PDF:
            return _preview_document(media, landed, read, fields, written)
    except Rejected as rejected:
        # The reader's own exception type tells a damaged file from a bug of ours.
        cause = type(rejected.__cause__).__name__ if rejected.__cause__ else None
        extra = {"error_code": rejected.code, "reason": str(rejected), "cause": cause}
        logger.info("File rejected", extra=extra)
        return rejected.code
    except (_OriginalGone, MediaLibError):
        raise  # replaced meanwhile (a later event covers it), or storage trouble (retried)
    except Exception:  # a reader's bug on hostile bytes must end the item, not loop in the queue
        logger.exception("Reading the file failed unexpectedly")
        return "corrupt"
    return None


def _replaced(landed: LandedObject) -> bool:
    stored = object_storage.stat(landed.key)
    return stored is None or stored.etag != landed.etag


def remove_variants(variants: list[Variant]) -> None:
    """Best effort: what is left is removed when the item's next results or its purge land."""
    try:
        object_storage.delete_keys(variant.key for variant in variants)
    except MediaLibError:
        logger.warning("Old variants left for a later clean-up", exc_info=True)


def _render_image(media: Media, landed: LandedObject, data: bytes, fields: dict, written: list[str]) -> None:
    """Variants, dimensions and placeholder of a raster image into ``fields``."""
    from medialib.imaging.pipeline import process_image  # only this path needs Pillow

    settings = get_settings()
    image = process_image(data, max_pixels=settings.max_image_pixels, max_frames=settings.max_image_frames)
    fields.update(
        width=image.width,
        height=image.height,
        variants=_store_variants(media, landed, image.variants, written),
        placeholder=Placeholder(blurhash=image.blurhash, dominant_color=image.dominant_color),
    )


def _store_variants(
    media: Media, landed: LandedObject, rendered: Sequence[RenderedVariant], written: list[str]
) -> list[Variant]:
    """Write rendered WebP variants under keys named by the original's version."""
    variants = []
    for variant in rendered:
        key = variant_key(media.tenant_id, media.id, landed.etag[:16], variant.name)
        object_storage.put_variant(key, variant.data)
        written.append(key)
        variants.append(Variant(name=variant.name, width=variant.width, height=variant.height, key=key))
    return variants


SANITISED_SVG_VARIANT = "sanitised"


def sanitised_svg_key(tenant_id: str, media_id: str, source_tag: str) -> str:
    """Where an SVG is served from once sanitised: among the variants, named by the original's
    version. The original keeps the uploaded bytes: processing never writes under
    ``originals/``, which would trigger it again."""
    return f"{variants_prefix(tenant_id, media_id)}{source_tag}/{SANITISED_SVG_VARIANT}.svg"


def _sanitise_svg(
    media: Media, landed: LandedObject, read: object_storage.ObjectRead, fields: dict, written: list[str]
) -> FailureCode | None:
    """Write the sanitised copy and the dimensions; ``too_large`` instead when the SVG is too
    large to parse (one that cannot be made safe, or does not parse, is rejected)."""
    from medialib.imaging.svg import sanitise_svg

    settings = get_settings()
    if read.data is None or read.size > settings.max_svg_bytes:
        return "too_large"
    svg = sanitise_svg(read.data, max_bytes=settings.max_svg_bytes)
    key = sanitised_svg_key(media.tenant_id, media.id, landed.etag[:16])
    object_storage.put_derived(
        key,
        svg.data,
        content_type=SVG.content_type,
        disposition=content_disposition(media.filename, SVG.content_type),
    )
    written.append(key)
    # The copy is the item's one variant (so it goes wherever variants go: API, clean-ups,
    # purges). A drawing without its own size shows at CSS's default object size, 300x150.
    width, height = (svg.width, svg.height) if svg.width and svg.height else (300, 150)
    variant = Variant(name=SANITISED_SVG_VARIANT, width=width, height=height, format="svg", key=key)
    fields.update(width=svg.width, height=svg.height, variants=[variant])
    logger.info("SVG sanitised", extra={"removed": svg.removed})
    return None


class _OriginalGone(Exception):
    """The original was replaced or deleted while processing read it."""


def _validate_model(landed: LandedObject, read: object_storage.ObjectRead) -> None:
    """Validate a GLB (rejected when invalid). Only the header, chunk headers and JSON chunk are
    read: from memory when the object was small enough to keep, else by range."""
    from medialib.imaging.glb import ReadAt, read_from, validate_glb

    def read_stored(offset: int, length: int) -> bytes:
        data = object_storage.read_range(landed.key, offset, length, etag=landed.etag)
        if data is None:
            raise _OriginalGone
        return data

    read_at: ReadAt = read_from(read.data) if read.data is not None else read_stored
    validate_glb(read_at, read.size)


def _read_video(
    media: Media,
    landed: LandedObject,
    sniffed: SniffedType,
    spool: IO[bytes],
    fields: dict,
    written: list[str],
) -> None:
    """Duration, displayed size and poster variants into ``fields`` (rejected when ffmpeg
    cannot read the container or decode a frame). A poster that cannot be made within the time
    and memory bounds leaves the video without variants."""
    from medialib.imaging.video import process_video  # only this path needs ffmpeg

    spool.flush()
    video = process_video(spool.name, sniffed.content_type, max_pixels=get_settings().max_image_pixels)
    variants = _store_variants(media, landed, video.variants, written)
    fields.update(duration=video.duration, width=video.width, height=video.height, variants=variants)
    if variants:
        fields["placeholder"] = Placeholder(blurhash=video.blurhash, dominant_color=video.dominant_color)
    else:
        logger.info("Video kept without a poster", extra={"reason": video.no_poster})


def _preview_document(
    media: Media, landed: LandedObject, read: object_storage.ObjectRead, fields: dict, written: list[str]
) -> FailureCode | None:
    """Page count, first-page size and preview variants into ``fields`` (rejected when pdfium
    cannot open the file). A locked PDF, or a first page that cannot be drawn within the time
    and memory bounds, is kept without a preview."""
    from medialib.imaging.pdf import preview_pdf  # only this path needs pdfium

    data = read.data
    if data is None:
        # Larger than images are kept, but within the document limit (the verdict saw to that):
        # pdfium needs random access, so the whole file is read again into memory.
        again = object_storage.read(
            landed.key, head_length=0, keep_limit=get_settings().max_document_bytes, etag=landed.etag
        )
        if again is None:
            raise _OriginalGone
        if again.data is None:
            return "too_large"
        data = again.data
    document = preview_pdf(data)  # page 0 loaded and drawn in a child bounded in time and memory
    variants = _store_variants(media, landed, document.variants, written)
    fields.update(pages=document.pages, width=document.width, height=document.height, variants=variants)
    if variants:
        fields["placeholder"] = Placeholder(
            blurhash=document.blurhash, dominant_color=document.dominant_color
        )
    else:
        logger.info(
            "PDF kept without a preview", extra={"reason": document.no_preview, "pages": document.pages}
        )
    return None


def _settle(
    media: Media, landed: LandedObject, fields: dict, written: list[str], *, error: FailureCode | None = None
) -> str:
    """Write the outcome onto the freshest item; edits made meanwhile (confirm, PATCH) stay.

    A confirmed item becomes ``ready`` or ``failed``; an unconfirmed one stays ``pending`` with
    the outcome kept for confirm.
    """
    for _ in range(ATTEMPTS):
        after = _outcome(media, landed, fields, error)
        try:
            if after.status == "failed":
                media_store.replace(media, after, purge_files=True)
            else:
                media_store.replace(media, after)
            break
        except (NotFound, VersionConflict):
            current = media_store.get(media.tenant_id, media.id)
        if current is None or current.duplicate_of is not None:
            object_storage.delete_keys(written)  # deleted, or discarded as a copy: nobody needs these
            return "deleted"
        if is_stale(current, landed):
            if current.source_etag != landed.etag:
                object_storage.delete_keys(written)  # a newer upload's results stand
            return "duplicate"
        media = current
    else:
        raise VersionConflict("The item kept changing while processing")
    if after.status == "failed":
        assert error is not None  # only an error fails an item
        after_failure(media, error)
        return f"failed:{error}"
    _remove_stale_variants(media, keep=set(written))
    if after.status == "pending":
        return "awaiting_confirm"
    metrics.add_metric(name="MediaProcessed", unit="Count", value=1)
    logger.info("Media ready", extra={"variants": len(written)})
    return "ready"


def _outcome(media: Media, landed: LandedObject, fields: dict, error: FailureCode | None) -> Media:
    update = {
        **fields,
        "source_etag": landed.etag,
        "source_sequencer": landed.sequencer,
        "updated_at": utc_now(),
    }
    if error is None:
        status = "pending" if media.status == "pending" else "ready"
        return media.model_copy(update={**update, "error": None, "status": status})
    if media.status == "pending":  # kept for confirm, which fails the item and removes its bytes
        return media.model_copy(
            update={**update, "error": failure_reason(error), "variants": [], "placeholder": None}
        )
    return failure(media, error, extra=update)


def _remove_stale_variants(media: Media, keep: set[str]) -> None:
    prefix = variants_prefix(media.tenant_id, media.id)
    object_storage.delete_keys(key for key in object_storage.list_keys(prefix) if key not in keep)
