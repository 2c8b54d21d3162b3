"""Scheduled reconciliation: what events and requests could not finish on their own.

- deleted items whose storage purge failed midway get purged;
- unconfirmed uploads past their URL's expiry (plus a grace period) are removed;
- items stuck in ``processing`` (their event was lost or dead-lettered) are processed again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from medialib.adapters import media_store, object_storage
from medialib.domain.errors import MediaLibError
from medialib.domain.media import iso_timestamp
from medialib.observability import logger
from medialib.services.file_purge import purge_files, purge_files_of
from medialib.services.processing import LandedObject, process_landed

PENDING_GRACE = timedelta(hours=1)
PROCESSING_STALL = timedelta(minutes=15)


@dataclass
class SweepReport:
    purged: int = 0
    expired: int = 0
    reprocessed: dict[str, str] = field(default_factory=dict)


def sweep(now: datetime | None = None) -> SweepReport:
    now = now or datetime.now(UTC)
    report = SweepReport()
    for purge in media_store.due_purges(iso_timestamp(now)):
        if purge_files(purge.tenant_id, purge.media_id, purge.keys, purge.prefixes):
            report.purged += 1
    for tenant_id, media_id in media_store.stale_items("pending", iso_timestamp(now - PENDING_GRACE)):
        if _expire_upload(tenant_id, media_id):
            report.expired += 1
    for tenant_id, media_id in media_store.stale_items("processing", iso_timestamp(now - PROCESSING_STALL)):
        report.reprocessed[media_id] = _reprocess(tenant_id, media_id)
    logger.info(
        "Sweep finished",
        extra={"purged": report.purged, "expired": report.expired, "reprocessed": len(report.reprocessed)},
    )
    return report


def _expire_upload(tenant_id: str, media_id: str) -> bool:
    media = media_store.get(tenant_id, media_id)
    if media is None or media.status != "pending":
        return False
    try:
        media_store.delete(media)
    except MediaLibError:
        return False  # it moved on meanwhile (confirmed or processed)
    return purge_files_of(media)


def _reprocess(tenant_id: str, media_id: str) -> str:
    media = media_store.get(tenant_id, media_id)
    if media is None or media.status != "processing":
        return "moved_on"
    stored = object_storage.stat(media.original_key)
    if stored is None:
        return "original_missing"
    landed = LandedObject(media.original_key, stored.etag, media.source_sequencer or "", stored.size)
    try:
        return process_landed(landed)
    except MediaLibError as error:
        return f"error:{error.code}"
