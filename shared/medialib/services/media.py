"""Reading, editing and deleting media items (the rules; no HTTP, no AWS details)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medialib.adapters import media_store, object_storage
from medialib.domain.cursors import decode_cursor, encode_cursor
from medialib.domain.errors import NotFound, PreconditionFailed
from medialib.domain.media import Media, utc_now, variants_prefix
from medialib.observability import logger, metrics
from medialib.settings import get_settings


@dataclass(frozen=True)
class ListParams:
    limit: int = 24
    offset: int = 0
    cursor: str | None = None
    kind: str | None = None
    status: str | None = None
    folder: str | None = None
    sort: str = "created_at"
    order: str = "desc"


@dataclass(frozen=True)
class MediaPage:
    items: list[Media]
    limit: int
    offset: int
    total: int
    next_cursor: str | None


def _cursor_scope(tenant_id: str, params: ListParams) -> str:
    return "|".join(
        [tenant_id, params.sort, params.order, params.kind or "", params.status or "", params.folder or ""]
    )


def _total(query: media_store.ListQuery) -> int:
    filters = [(name, getattr(query, name)) for name in ("kind", "status", "folder")]
    given = [(name, value) for name, value in filters if value is not None]
    if not given:
        return media_store.count(query.tenant_id, "all")
    if len(given) == 1:
        name, value = given[0]
        return media_store.count(query.tenant_id, f"{name}#{value}")
    return media_store.count_matching(query)


def list_media(tenant_id: str, params: ListParams) -> MediaPage:
    settings = get_settings()
    query = media_store.ListQuery(
        tenant_id=tenant_id,
        sort=params.sort,
        descending=params.order == "desc",
        kind=params.kind,
        status=params.status,
        folder=params.folder,
    )
    scope = _cursor_scope(tenant_id, params)
    start = None
    if params.cursor:
        start = decode_cursor(params.cursor, scope=scope, key=settings.cursor_signing_key)["k"]
    page = media_store.list_keys(query, skip=params.offset, take=params.limit, start=start)
    next_cursor = None
    if page.next_start is not None:
        next_cursor = encode_cursor({"k": page.next_start}, scope=scope, key=settings.cursor_signing_key)
    return MediaPage(
        items=media_store.batch_get(tenant_id, page.media_ids),
        limit=params.limit,
        offset=params.offset,
        total=_total(query),
        next_cursor=next_cursor,
    )


def get_media(tenant_id: str, media_id: str) -> Media:
    """A listed item of this tenant; pending uploads and other tenants' items do not exist."""
    media = media_store.get(tenant_id, media_id)
    if media is None or not media.listed:
        raise NotFound("Media not found")
    return media


def check_version(media: Media, if_match: str | None) -> None:
    """``If-Match`` holds an ETag (``"3"``, ``W/"3"``, ``3``) or ``*``; a mismatch is a 412."""
    if if_match is None:
        return
    tags = [tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")]
    if "*" not in tags and str(media.version) not in tags:
        raise PreconditionFailed(f"The item is at version {media.version}")


def update_media(tenant_id: str, media_id: str, changes: dict[str, Any], if_match: str | None) -> Media:
    media = get_media(tenant_id, media_id)
    check_version(media, if_match)
    updated = media.model_copy(update={**changes, "updated_at": utc_now()})
    return media_store.replace(media, Media.model_validate(updated.model_dump()))


def delete_media(tenant_id: str, media_id: str, if_match: str | None) -> None:
    media = get_media(tenant_id, media_id)
    check_version(media, if_match)
    keys = [media.original_key]
    prefixes = [variants_prefix(tenant_id, media_id)]
    media_store.delete(media, purge_keys=keys, purge_prefixes=prefixes, now=utc_now())
    metrics.add_metric(name="MediaDeleted", unit="Count", value=1)
    purge_storage(tenant_id, media_id, keys, prefixes)


def purge_storage(tenant_id: str, media_id: str, keys: list[str], prefixes: list[str]) -> bool:
    """Delete what storage holds for a deleted item, then its purge record. A failure leaves
    the record for the sweeper to finish, so nothing is left behind for long."""
    try:
        object_storage.delete_keys(keys)
        object_storage.delete_prefixes(prefixes)
        media_store.purge_done(tenant_id, media_id)
    except Exception:
        logger.exception("Storage purge deferred to the sweeper", extra={"media_id": media_id})
        return False
    return True
