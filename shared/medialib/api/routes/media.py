"""GET/PATCH/DELETE /v1/media routes: thin, typed in and out, one service call each."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

from medialib.api.auth import tenant_for
from medialib.api.openapi import API_KEY, ETAG, WITH_BODY, responses
from medialib.api.schemas import MediaEnvelope, MediaList, Pagination, media_item
from medialib.domain.media import MEDIA_ID_PATTERN, Media
from medialib.domain.requests import FolderPath, MediaPatch
from medialib.services import media as media_service
from medialib.services.tags import slug_map
from medialib.settings import get_settings

router = Router()

MAX_OFFSET = 10_000
MediaId = Annotated[str, Path(pattern=MEDIA_ID_PATTERN.pattern, description="A media id (med_…)")]
IfMatch = Annotated[str | None, Header(alias="if-match", description="ETag from GET; mismatch → 412")]
TAG_LIST_PATTERN = r"^[a-z0-9-]{1,64}(,[a-z0-9-]{1,64}){0,4}$"


def _tenant(scope: str) -> str:
    return tenant_for(router.current_event.raw_event, scope)


def item_response(media: Media, status: int = 200) -> Response[MediaEnvelope]:
    body = MediaEnvelope(data=media_item(media, get_settings().media_base_url, slug_map(media.tenant_id)))
    return Response(
        status_code=status,
        content_type="application/json",
        body=body,
        headers={"ETag": f'"{media.version}"'},
    )


@router.get(
    "/v1/media",
    summary="List media",
    tags=["media"],
    security=API_KEY,
    responses=responses({200: "A page of items, newest first by default"}, MediaList, "validation_error"),
)
def list_media(
    limit: Annotated[int, Query(ge=1, le=100)] = 24,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Capped at 10,000; use cursor")] = 0,
    cursor: Annotated[str | None, Query(max_length=2048, description="next_cursor of a page")] = None,
    kind: Annotated[Literal["image", "video", "document", "model"] | None, Query()] = None,
    status: Annotated[Literal["processing", "ready", "failed"] | None, Query()] = None,
    folder: Annotated[FolderPath | None, Query(description="Exact folder path")] = None,
    tag: Annotated[
        str | None,
        Query(pattern=TAG_LIST_PATTERN, description="Up to 5 comma-separated slugs; all must match"),
    ] = None,
    query: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Word-prefix search (filename, alt, …)")
    ] = None,
    unused: Annotated[bool, Query(description="Only items attached to no entity")] = False,
    sort: Annotated[Literal["created_at", "filename", "size"], Query()] = "created_at",
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> MediaList:
    tenant_id = _tenant("media:read")
    params = media_service.ListParams(
        limit, offset, cursor, kind, status, folder, tag, query, unused, sort, order
    )
    page = media_service.list_media(tenant_id, params)
    base_url, slugs = get_settings().media_base_url, slug_map(tenant_id)
    return MediaList(
        data=[media_item(item, base_url, slugs) for item in page.items],
        media_ids=[item.id for item in page.items],
        pagination=Pagination(
            limit=page.limit,
            offset=page.offset,
            total=page.total,
            total_is_estimate=page.total_is_estimate,
            next_cursor=page.next_cursor,
        ),
    )


@router.get(
    "/v1/media/<media_id>",
    summary="Get one media item",
    tags=["media"],
    security=API_KEY,
    responses=responses({200: "The item"}, MediaEnvelope, "validation_error", "not_found", headers=ETAG),
)
def get_media(media_id: MediaId) -> Response[MediaEnvelope]:
    return item_response(media_service.get_media(_tenant("media:read"), media_id))


@router.patch(
    "/v1/media/<media_id>",
    summary="Edit a media item's metadata",
    tags=["media"],
    security=API_KEY,
    responses=responses(
        {200: "The edited item"},
        MediaEnvelope,
        *WITH_BODY,
        "not_found",
        "precondition_failed",
        "version_conflict",
        headers=ETAG,
    ),
)
def patch_media(media_id: MediaId, patch: MediaPatch, if_match: IfMatch = None) -> Response[MediaEnvelope]:
    tenant_id = _tenant("media:write")
    return item_response(media_service.update_media(tenant_id, media_id, patch.changes(), if_match))


@router.delete(
    "/v1/media/<media_id>",
    summary="Delete a media item and its files",
    tags=["media"],
    status_code=204,
    security=API_KEY,
    responses=responses(
        {204: "Deleted; the original and every variant left storage"},
        None,
        "validation_error",
        "not_found",
        "in_use",
        "precondition_failed",
        "version_conflict",
    ),
)
def delete_media(
    media_id: MediaId,
    if_match: IfMatch = None,
    force: Annotated[bool, Query(description="Detach from every entity first instead of 409 in_use")] = False,
) -> Response[None]:
    media_service.delete_media(_tenant("media:delete"), media_id, if_match, force=force)
    return Response(status_code=204)
