"""How an item ends when its upload cannot be accepted or processed: ``failed`` with a stable
code, and none of its bytes kept. Shared by confirm (which judges uploads) and processing."""

from __future__ import annotations

from medialib.adapters import media_store
from medialib.domain.errors import NotFound, VersionConflict
from medialib.domain.failures import FAILURE_MESSAGES, FailureCode
from medialib.domain.media import Media, MediaError, utc_now
from medialib.observability import logger, metrics
from medialib.services.file_purge import purge_files_of


def failure_reason(code: FailureCode) -> MediaError:
    return MediaError(code=code, message=FAILURE_MESSAGES[code])


def failure(media: Media, code: FailureCode, *, extra: dict | None = None) -> Media:
    """The item as it ends when it fails: no variants, no placeholder, the reason kept."""
    return media.model_copy(
        update={
            "status": "failed",
            "error": failure_reason(code),
            "variants": [],
            "placeholder": None,
            "updated_at": utc_now(),
            **(extra or {}),
        }
    )


def after_failure(media: Media, code: FailureCode) -> None:
    """Once the failure is stored (with its purge record): remove the bytes, log, count."""
    purge_files_of(media)
    logger.info("Media failed", extra={"media_id": media.id, "error_code": code})
    metrics.add_metric(name="MediaFailed", unit="Count", value=1)


def record_failure(media: Media, code: FailureCode, *, extra: dict | None = None) -> Media | None:
    """Mark the item failed and remove its stored bytes. Returns None if the item is gone or
    changed meanwhile (the newer state wins)."""
    try:
        stored = media_store.replace(media, failure(media, code, extra=extra), purge_files=True)
    except (NotFound, VersionConflict):
        return None
    after_failure(media, code)
    return stored
