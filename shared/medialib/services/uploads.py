"""Presigned uploads and their confirmation.

The client's word decides only the policy (type, size bound). Confirm re-checks the stored
bytes, because neither a PUT URL nor the local emulator enforces size or type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from medialib.adapters import media_store, object_storage
from medialib.domain.errors import (
    Duplicate,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    UploadMissing,
    VersionConflict,
)
from medialib.domain.media import (
    ACCEPTED_CONTENT_TYPES,
    Media,
    iso_timestamp,
    new_media_id,
    original_key,
    utc_now,
)
from medialib.domain.requests import ConfirmRequest, PresignRequest
from medialib.domain.uploads import canonical_content_type, content_disposition, judge_landed, rejection_error
from medialib.imaging.sniff import SNIFF_BYTES, sniff
from medialib.observability import logger, metrics
from medialib.services.duplicates import same_content
from medialib.services.file_purge import purge_files_of
from medialib.services.outcomes import record_failure
from medialib.services.processing import RESULTS_CLEARED, remove_variants
from medialib.services.retrying import retry_on_conflict
from medialib.settings import get_settings


@dataclass(frozen=True)
class PresignedUpload:
    upload_id: str
    method: str
    url: str
    fields: dict[str, str] | None
    headers: dict[str, str] | None
    expires_at: str
    max_size: int


def presign(tenant_id: str, request: PresignRequest) -> PresignedUpload:
    settings = get_settings()
    content_type = canonical_content_type(request.content_type)
    kind = ACCEPTED_CONTENT_TYPES.get(content_type)
    if kind is None:
        raise UnsupportedMediaType(
            f"content_type {request.content_type} is not accepted",
            errors=[{"field": "content_type", "message": "not an accepted media type"}],
        )
    limit = settings.max_bytes_for(kind, content_type)
    if request.size > limit:
        raise PayloadTooLarge(
            f"{kind} files may be at most {limit} bytes",
            errors=[{"field": "size", "message": f"must be at most {limit}"}],
        )
    now = datetime.now(UTC)
    ttl = settings.upload_url_ttl_seconds
    expires_at = iso_timestamp(now + timedelta(seconds=ttl))
    media_id = new_media_id()
    key = original_key(tenant_id, media_id)
    media = Media(
        tenant_id=tenant_id,
        id=media_id,
        kind=kind,  # type: ignore[arg-type]
        status="pending",
        filename=request.filename,
        content_type=content_type,
        alt=request.alt,
        title=request.title,
        folder=request.folder,
        original_key=key,
        created_at=iso_timestamp(now),
        updated_at=iso_timestamp(now),
        upload_method=request.method,
        max_size=request.size,
        upload_expires_at=expires_at,
        on_duplicate=request.on_duplicate,
    )
    media_store.create(media, folder_must_exist=request.folder)
    logger.info("Upload presigned", extra={"media_id": media_id, "method": request.method})
    disposition = content_disposition(request.filename, content_type)
    if request.method == "PUT":
        url = object_storage.presign_put(key, content_type, disposition, ttl)
        headers = {"Content-Type": content_type, "Content-Disposition": disposition}
        return PresignedUpload(media_id, "PUT", url, None, headers, expires_at, request.size)
    form = object_storage.presign_post(key, content_type, disposition, request.size, ttl)
    return PresignedUpload(media_id, "POST", form["url"], form["fields"], None, expires_at, request.size)


@dataclass(frozen=True)
class _Landed:
    """What confirm found in storage for an upload, once it passed the verdict."""

    etag: str
    size: int
    content_type: str


def confirm(tenant_id: str, request: ConfirmRequest) -> tuple[Media, bool]:
    """Returns the item and whether this call confirmed it (False for a repeat, or when the
    upload duplicated an existing item and ``return_existing`` gave that one back)."""
    # A conflict means processing moved the item meanwhile: decide again on its new state.
    return retry_on_conflict(
        lambda: _confirm_current(tenant_id, request), gave_up="The upload changed while confirming; retry"
    )


def _confirm_current(tenant_id: str, request: ConfirmRequest) -> tuple[Media, bool]:
    media = media_store.get(tenant_id, request.upload_id)
    if media is None:
        raise NotFound("Upload not found")
    if media.duplicate_of is not None:
        return _duplicate_answer(media), False
    if media.confirmed_at is not None:
        return media, False
    landed = _judge(media)
    policy = request.on_duplicate if "on_duplicate" in request.model_fields_set else media.on_duplicate
    if policy != "allow":
        existing = _existing_copy(media, landed)
        if existing is not None:
            return _duplicate_answer(_discard_as_copy(media, existing, policy)), False
    return _confirm_once(media, request, landed), True


def _judge(media: Media) -> _Landed:
    """Check what landed against what was declared, by the rule processing applies too; a bad
    upload is failed, its bytes removed, and the client told why."""
    stored = object_storage.stat(media.original_key)
    if stored is None:
        raise UploadMissing("Nothing was uploaded for this upload_id yet")
    size_limit = min(media.max_size, get_settings().max_bytes_for(media.kind, media.content_type))
    head: bytes | None = b""
    if stored.size <= size_limit:  # too large already: no need to read it
        head = object_storage.read_head(media.original_key, SNIFF_BYTES)
    if head is None:  # gone between the two reads: as if not uploaded yet
        raise UploadMissing("Nothing was uploaded for this upload_id yet")
    sniffed = sniff(head)
    sniffed_type = sniffed.content_type if sniffed is not None else None
    verdict = judge_landed(
        declared_type=media.content_type, size_limit=size_limit, size=stored.size, sniffed_type=sniffed_type
    )
    if verdict is not None:
        now = utc_now()
        if record_failure(media, verdict, extra={"size": stored.size, "confirmed_at": now}) is None:
            raise VersionConflict("The upload changed while confirming; retry")
        raise rejection_error(
            verdict, size=stored.size, size_limit=size_limit, declared_type=media.content_type
        )
    assert sniffed_type is not None
    return _Landed(stored.etag, stored.size, sniffed_type)


def _discard_as_copy(media: Media, existing: Media, policy: str) -> Media:
    """Keep an unlisted record of the decision (so a retried confirm gets the same answer, until
    the sweeper expires it) and remove the copy's bytes."""
    now = utc_now()
    discarded = media.model_copy(
        update={
            "status": "pending",
            "duplicate_of": existing.id,
            "on_duplicate": policy,
            "variants": [],
            "placeholder": None,
            "confirmed_at": now,
            "upload_expires_at": now,
            "updated_at": now,
        }
    )
    stored = media_store.replace(media, discarded, purge_files=True)
    purge_files_of(media)
    return stored


def _duplicate_answer(discarded: Media) -> Media:
    existing = media_store.get(discarded.tenant_id, discarded.duplicate_of or "")
    if existing is None or not existing.listed:
        raise NotFound("Upload not found")
    if discarded.on_duplicate == "reject":
        raise Duplicate(
            "The same file is already in the library",
            existing={"id": existing.id, "filename": existing.filename, "created_at": existing.created_at},
        )
    return existing


def _existing_copy(media: Media, landed: _Landed) -> Media | None:
    """An earlier item with the same bytes (hashed from storage, never taken from the client)."""
    sha256 = media.sha256 if media.source_etag == landed.etag else None
    if sha256 is None:
        read = object_storage.read(media.original_key, head_length=0, keep_limit=0)
        if read is None:
            raise UploadMissing("Nothing was uploaded for this upload_id yet")
        sha256 = read.sha256
    copies = [m for m in same_content(media.tenant_id, sha256, exclude=media.id) if m.status != "failed"]
    return min(copies, key=lambda m: m.id) if copies else None


def _confirm_once(media: Media, request: ConfirmRequest, landed: _Landed) -> Media:
    """Confirm a judged upload: ``ready`` (or ``failed``) at once when processing already worked
    out these bytes, else ``processing`` until it does."""
    changes: dict[str, Any] = {
        name: value
        for name, value in request.model_dump(include={"alt", "title", "folder"}).items()
        if value is not None
    }
    now = utc_now()
    changes.update(confirmed_at=now, updated_at=now)
    worked_out = media.source_etag == landed.etag
    if worked_out and media.error is not None:
        failed = record_failure(media, media.error.code, extra=changes)
        if failed is None:
            raise VersionConflict("The upload changed while confirming; retry")
        return failed
    if worked_out:
        changes["status"] = "ready"
    else:
        # Results processing worked out for bytes since replaced (a PUT URL can be used again)
        # describe nothing the item holds now.
        changes.update(
            RESULTS_CLEARED, status="processing", content_type=landed.content_type, size=landed.size
        )
    stored = media_store.replace(
        media, media.model_copy(update=changes), folder_must_exist=changes.get("folder")
    )
    if not worked_out and media.variants:
        remove_variants(media.variants)
    metrics.add_metric(name="MediaUploaded", unit="Count", value=1)
    if worked_out:
        metrics.add_metric(name="MediaProcessed", unit="Count", value=1)
    return stored
