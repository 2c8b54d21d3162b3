"""Reading, editing and deleting media items (the rules; no HTTP, no AWS details)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medialib.adapters import catalogue_store, media_listing, media_store
from medialib.domain.cursors import decode_cursor, encode_cursor
from medialib.domain.errors import InUse, NotFound, PreconditionFailed, ValidationFailed
from medialib.domain.media import TOTAL_ALL, TOTAL_UNUSED, Media, total_of, utc_now
from medialib.domain.search import query_words
from medialib.observability import metrics
from medialib.services import references
from medialib.services.file_purge import purge_files_of
from medialib.settings import get_settings


@dataclass(frozen=True)
class ListParams:
    limit: int = 24
    offset: int = 0
    cursor: str | None = None
    kind: str | None = None
    status: str | None = None
    folder: str | None = None
    tag: str | None = None  # comma-separated slugs, all must match
    query: str | None = None
    unused: bool = False
    sort: str = "created_at"
    order: str = "desc"


@dataclass(frozen=True)
class MediaPage:
    items: list[Media]
    limit: int
    offset: int
    total: int
    next_cursor: str | None
    index_reads: int = 0  # what DynamoDB read for the page, for benchmarks
    item_reads: int = 0
    total_is_estimate: bool = False  # a combination of filters no counter covers


def _cursor_scope(tenant_id: str, params: ListParams) -> str:
    parts = [
        tenant_id,
        params.sort,
        params.order,
        params.kind,
        params.status,
        params.folder,
        params.tag,
        params.query,
        str(params.unused),
    ]
    return "|".join(part or "" for part in parts)


def _list_query(tenant_id: str, params: ListParams) -> media_listing.ListQuery | None:
    """The storage query for ``params``; None when it cannot match anything (an unknown tag)."""
    try:
        words = tuple(query_words(params.query)) if params.query is not None else ()
    except ValueError as error:
        raise ValidationFailed(
            "The search query is not valid", errors=[{"field": "query", "message": str(error)}]
        ) from None
    tag_ids: list[str] = []
    for slug in dict.fromkeys(filter(None, (params.tag or "").split(","))):
        tag_id = catalogue_store.tag_id_for_slug(tenant_id, slug)
        if tag_id is None:
            return None
        tag_ids.append(tag_id)
    return media_listing.ListQuery(
        tenant_id=tenant_id,
        sort=params.sort,
        descending=params.order == "desc",
        kind=params.kind,
        status=params.status,
        folder=params.folder,
        tag_ids=tuple(tag_ids),
        unused=params.unused,
        words=words,
    )


def _counters(query: media_listing.ListQuery) -> list[str]:
    """The totals whose intersection is what ``query`` matches (see ``counter_dimensions``):
    one when a counter is kept for exactly this filter, or this pair (ready items by kind or
    by folder, what public read lists)."""
    ready_pairs = query.status == "ready" and (query.kind is not None or query.folder is not None)
    filters = (
        [("ready#kind", query.kind), ("ready#folder", query.folder)]
        if ready_pairs
        else [("kind", query.kind), ("status", query.status), ("folder", query.folder)]
    )
    names = [total_of(name, value) for name, value in filters if value is not None]
    names += [total_of("tag", tag_id) for tag_id in query.tag_ids] + ([TOTAL_UNUSED] if query.unused else [])
    return names or [TOTAL_ALL]


def _total(query: media_listing.ListQuery, page: media_listing.Page, skip: int) -> tuple[int, bool]:
    """(total, is it an estimate). Exact from one counter, or from a page that saw every match;
    for other combinations of filters, counting exactly would read the library, so the total
    is the smallest of their counters (what the matches cannot exceed), never below what this
    page has seen."""
    if query.words and page.total is not None:
        return page.total, False
    counters = _counters(query)
    if len(counters) == 1:
        return media_store.count(query.tenant_id, counters[0]), False
    if page.total is not None:
        return page.total, False
    at_most = min(media_store.count(query.tenant_id, name) for name in counters)
    at_least = skip + len(page.items) + (1 if page.resume else 0)
    return max(at_most, at_least), True


def list_media(tenant_id: str, params: ListParams) -> MediaPage:
    key = get_settings().cursor_signing_key
    query = _list_query(tenant_id, params)
    scope = _cursor_scope(tenant_id, params)
    resume = decode_cursor(params.cursor, scope=scope, key=key) if params.cursor else None
    if query is None:
        return MediaPage([], params.limit, params.offset, 0, None)
    page = media_listing.list_page(query, skip=params.offset, take=params.limit, resume=resume)
    next_cursor = encode_cursor(page.resume, scope=scope, key=key) if page.resume else None
    total, estimate = _total(query, page, params.offset)
    return MediaPage(
        page.items,
        params.limit,
        params.offset,
        total,
        next_cursor,
        page.index_reads,
        page.item_reads,
        total_is_estimate=estimate,
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
    updated = Media.model_validate({**media.model_dump(), **changes, "updated_at": utc_now()})
    return media_store.replace(media, updated, folder_must_exist=changes.get("folder"))


def delete_media(tenant_id: str, media_id: str, if_match: str | None, *, force: bool = False) -> None:
    """Delete an item and its files. An item in use is a 409 ``in_use`` unless ``force``,
    which detaches it from every entity first."""
    media = get_media(tenant_id, media_id)
    check_version(media, if_match)
    if media.used_by:
        if not force:
            raise InUse(
                "The media is attached to entities; detach it or pass force=true",
                used_by=[ref.model_dump() for ref in media.used_by],
            )
        media = references.detach_everywhere(media)
    remove_media(media)


def remove_media(media: Media) -> None:
    """Remove a (detached) item: its record, totals and index rows at once, then its files."""
    media_store.delete(media)
    metrics.add_metric(name="MediaDeleted", unit="Count", value=1)
    purge_files_of(media)
