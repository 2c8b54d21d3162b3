"""How an item ends when its upload cannot be accepted: ``failed`` with a stable code, and
none of its bytes kept. Shared by confirm (which re-checks uploads) and processing."""

from __future__ import annotations

from medialib.adapters import media_store
from medialib.domain.errors import NotFound, VersionConflict
from medialib.domain.media import Media, MediaError, utc_now
from medialib.observability import logger, metrics
from medialib.services.file_purge import purge_files_of

FAILURE_MESSAGES = {
    "unsupported_type": "The file is not an accepted type",
    "type_mismatch": "The file's contents do not match its declared type",
    "corrupt": "The file could not be decoded",
    "too_many_pixels": "The image has more pixels than allowed",
    "too_large": "The file is larger than allowed",
    "too_many_frames": "The animation has more frames than allowed",
}


def record_failure(media: Media, code: str, *, extra: dict | None = None) -> Media | None:
    """Mark the item failed and remove its stored bytes. Returns None if the item is gone or
    changed meanwhile (the newer state wins)."""
    failed = media.model_copy(
        update={
            "status": "failed",
            "error": MediaError(code=code, message=FAILURE_MESSAGES[code]),
            "variants": [],
            "placeholder": None,
            "updated_at": utc_now(),
            **(extra or {}),
        }
    )
    try:
        stored = media_store.replace(media, failed, purge_files=True)
    except (NotFound, VersionConflict):
        return None
    purge_files_of(media)
    logger.info("Media failed", extra={"media_id": media.id, "error_code": code})
    metrics.add_metric(name="MediaFailed", unit="Count", value=1)
    return stored
