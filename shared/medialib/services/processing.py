"""Processing of originals as they land: sniff, hash, dimensions, variants, placeholder.

Storage events are at-least-once and unordered. Each result records which stored object
(ETag) and event (sequencer) it describes; an event that is not newer than what the item
already reflects is a cheap no-op, and variant keys depend on the object's ETag, so two
versions of an original never overwrite each other's results.
"""

from __future__ import annotations

from dataclasses import dataclass

from medialib.adapters import media_store, object_storage
from medialib.domain.errors import NotFound, VersionConflict
from medialib.domain.media import (
    Media,
    Placeholder,
    Variant,
    parse_original_key,
    utc_now,
    variant_key,
    variants_prefix,
)
from medialib.imaging.sniff import SNIFF_BYTES, sniff
from medialib.observability import logger, metrics
from medialib.services.outcomes import record_failure
from medialib.settings import get_settings

_WRITE_ATTEMPTS = 3


@dataclass(frozen=True)
class LandedObject:
    key: str
    etag: str
    sequencer: str
    size: int


def _sequence(sequencer: str | None) -> str:
    # S3 sequencers are hex strings of varying length: compare them left-padded.
    return (sequencer or "").rjust(32, "0")


def is_stale(media: Media, landed: LandedObject) -> bool:
    """True when the item already reflects this event or a later one."""
    if media.source_sequencer is None or media.status not in ("ready", "failed"):
        return False
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
    for _ in range(_WRITE_ATTEMPTS):
        media = media_store.get(tenant_id, media_id)
        if media is None or media.duplicate_of is not None:
            # No item owns these bytes (deleted or discarded as a copy meanwhile, or never
            # presigned): remove them.
            object_storage.delete_keys([landed.key])
            return "orphan_removed"
        if is_stale(media, landed):
            return "duplicate"
        try:
            return _process(media, landed)
        except VersionConflict:
            # Confirm or an edit moved the item while we worked: decide again on its new state
            # now, rather than after the queue's visibility timeout.
            continue
    raise VersionConflict("The item kept changing while processing")


def _process(media: Media, landed: LandedObject) -> str:
    settings = get_settings()
    limit = settings.max_bytes_for(media.kind)
    if landed.size > limit:
        return _fail(media, landed, "too_large", size=landed.size)
    read = object_storage.read(
        landed.key, head_length=SNIFF_BYTES, keep_limit=settings.max_image_bytes, etag=landed.etag
    )
    if read is None:
        return "superseded"  # replaced or deleted since the event; a later event covers it
    sniffed = sniff(read.head)
    if sniffed is None:
        return _fail(media, landed, "unsupported_type", size=read.size, sha256=read.sha256)
    if sniffed.kind != media.kind:
        return _fail(media, landed, "type_mismatch", size=read.size, sha256=read.sha256)
    fields: dict = {"content_type": sniffed.content_type, "size": read.size, "sha256": read.sha256}
    written: list[str] = []
    if sniffed.raster:
        from medialib.imaging.pipeline import ImageRejected, process_image  # only this path needs Pillow

        try:
            image = process_image(
                read.data or b"", max_pixels=settings.max_image_pixels, max_frames=settings.max_image_frames
            )
        except ImageRejected as rejected:
            return _fail(media, landed, rejected.code, **fields)
        variants = []
        for rendered in image.variants:
            key = variant_key(media.tenant_id, media.id, landed.etag[:16], rendered.name)
            object_storage.put_variant(key, rendered.data)
            written.append(key)
            variants.append(
                Variant(name=rendered.name, width=rendered.width, height=rendered.height, key=key)
            )
        fields.update(
            width=image.width,
            height=image.height,
            variants=variants,
            placeholder=Placeholder(blurhash=image.blurhash, dominant_color=image.dominant_color),
        )
    outcome = _store_results(media, landed, fields, written)
    if outcome == "ready":
        _remove_stale_variants(media, keep=set(written))
        metrics.add_metric(name="MediaProcessed", unit="Count", value=1)
        logger.info("Media ready", extra={"variants": len(written)})
    return outcome


def _store_results(media: Media, landed: LandedObject, fields: dict, written: list[str]) -> str:
    """Write the results onto the freshest item; edits made meanwhile (confirm, PATCH) stay."""
    for _ in range(_WRITE_ATTEMPTS):
        ready = media.model_copy(
            update={
                **fields,
                "status": "ready",
                "error": None,
                "source_etag": landed.etag,
                "source_sequencer": landed.sequencer,
                "updated_at": utc_now(),
            }
        )
        try:
            media_store.replace(media, ready)
            return "ready"
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
    raise VersionConflict("The item kept changing while processing")


def _remove_stale_variants(media: Media, keep: set[str]) -> None:
    prefix = variants_prefix(media.tenant_id, media.id)
    object_storage.delete_keys(key for key in object_storage.list_keys(prefix) if key not in keep)


def _fail(media: Media, landed: LandedObject, code: str, **fields: object) -> str:
    extra = {**fields, "source_etag": landed.etag, "source_sequencer": landed.sequencer}
    if record_failure(media, code, extra=extra) is None:
        raise VersionConflict("The item changed while processing")
    return f"failed:{code}"
