"""Scheduled reconciliation: what events and requests could not finish on their own.

- deleted items whose storage purge failed midway get purged;
- unconfirmed uploads past their URL's expiry (plus a grace period) are removed;
- items stuck in ``processing`` (their event was lost or dead-lettered) are processed again,
  and end ``failed`` (``processing_failed``) when that breaks in a way a retry will not mend;
- tag deletes interrupted midway are finished.

Each item is handled on its own: one that fails is logged and left for the next sweep (or
ended), and never stops the sweep for the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

from medialib.adapters import media_store, object_storage
from medialib.domain.errors import MediaLibError
from medialib.domain.media import iso_timestamp
from medialib.observability import MetricUnit, logger, metrics
from medialib.services import tags
from medialib.services.file_purge import purge_files, purge_files_of
from medialib.services.processing import LandedObject, give_up, process_landed

PENDING_GRACE = timedelta(hours=1)
PROCESSING_STALL = timedelta(minutes=15)
T = TypeVar("T")


@dataclass
class SweepReport:
    purged: int = 0
    expired: int = 0
    reprocessed: dict[str, str] = field(default_factory=dict)
    tag_deletes_finished: int = 0
    errors: int = 0


def sweep(now: datetime | None = None) -> SweepReport:
    now = now or datetime.now(UTC)
    report = SweepReport()

    def isolated(subject: str, step: Callable[[], T], failed: T) -> T:
        try:
            return step()
        except Exception:  # one item's failure must not hold back every other tenant's
            logger.exception("Sweeping failed; the next sweep tries again", extra={"subject": subject})
            report.errors += 1
            return failed

    for purge in media_store.due_purges(iso_timestamp(now)):
        files = partial(purge_files, purge.tenant_id, purge.media_id, purge.keys, purge.prefixes)
        if isolated(purge.media_id, files, False):
            report.purged += 1
    for tenant_id, media_id in media_store.stale_items("pending", iso_timestamp(now - PENDING_GRACE)):
        if isolated(media_id, partial(_expire_upload, tenant_id, media_id), False):
            report.expired += 1
    for tenant_id, media_id in media_store.stale_items("processing", iso_timestamp(now - PROCESSING_STALL)):
        report.reprocessed[media_id] = isolated(media_id, partial(_reprocess, tenant_id, media_id), "error")
    report.tag_deletes_finished = isolated("tag deletes", partial(tags.finish_interrupted_deletes, now), 0)
    # Always emitted, zero included, so the alarm on items stalled in processing sees data.
    metrics.add_metric(name="StalledProcessing", unit=MetricUnit.Count, value=len(report.reprocessed))
    logger.info(
        "Sweep finished",
        extra={
            "purged": report.purged,
            "expired": report.expired,
            "reprocessed": len(report.reprocessed),
            "tag_deletes_finished": report.tag_deletes_finished,
            "errors": report.errors,
        },
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
        # Confirm saw the bytes, so they were removed since: nothing is left to process.
        return give_up(LandedObject(media.original_key, "", media.source_sequencer or "", 0))
    landed = LandedObject(media.original_key, stored.etag, media.source_sequencer or "", stored.size)
    try:
        return process_landed(landed)
    except MediaLibError as error:
        return f"error:{error.code}"  # storage or database trouble: the next sweep tries again
    except Exception:
        logger.exception("Processing failed again; giving up", extra={"media_id": media_id})
        return give_up(landed)
