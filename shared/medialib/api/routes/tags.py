"""/v1/tags and /v1/media/{id}/tags."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from medialib.api.auth import tenant_for
from medialib.api.openapi import API_KEY, IDEMPOTENT, WITH_BODY, responses
from medialib.api.routes.media import MediaId
from medialib.api.schemas import TagEnvelope, TagList, tag_out
from medialib.domain.requests import ItemTagAdd, ItemTagsReplace, TagCreate, TagPatch
from medialib.domain.tags import TAG_ID_PATTERN, Tag
from medialib.services import tags

router = Router()
TagIdPath = Annotated[str, Path(pattern=TAG_ID_PATTERN.pattern, description="A tag id (tag_…)")]


def _tenant(scope: str) -> str:
    return tenant_for(router.current_event.raw_event, scope)


def _tag_list(found: list[Tag]) -> TagList:
    return TagList(data=[tag_out(tag) for tag in found])


@router.get(
    "/v1/tags",
    summary="List tags (by order, then name)",
    tags=["tags"],
    security=API_KEY,
    responses=responses({200: "Every tag of the tenant"}, TagList),
)
def list_tags() -> TagList:
    return _tag_list(tags.list_tags(_tenant("media:read")))


@router.post(
    "/v1/tags",
    summary="Create a tag, or update the one with the same slug",
    tags=["tags"],
    status_code=201,
    security=API_KEY,
    responses=responses(
        {201: "Created", 200: "A tag with the same slug existed: updated"},
        TagEnvelope,
        *WITH_BODY,
        *IDEMPOTENT,
        "already_exists",
        "version_conflict",
    ),
)
def create_tag(request: TagCreate) -> Response[TagEnvelope]:
    tag, created = tags.upsert_tag(_tenant("media:write"), request.name, request.color)
    return Response(
        status_code=201 if created else 200,
        content_type="application/json",
        body=TagEnvelope(data=tag_out(tag)),
    )


@router.patch(
    "/v1/tags/<tag_id>",
    summary="Rename, recolour or reorder a tag",
    tags=["tags"],
    security=API_KEY,
    responses=responses(
        {200: "The tag"}, TagEnvelope, *WITH_BODY, "not_found", "already_exists", "version_conflict"
    ),
)
def patch_tag(tag_id: TagIdPath, request: TagPatch) -> TagEnvelope:
    tag = tags.update_tag(
        _tenant("media:write"),
        tag_id,
        request.name,
        request.color,
        request.order,
        set(request.model_fields_set),
    )
    return TagEnvelope(data=tag_out(tag))


@router.delete(
    "/v1/tags/<tag_id>",
    summary="Delete a tag and remove it from every item",
    tags=["tags"],
    status_code=204,
    security=API_KEY,
    responses=responses({204: "Deleted"}, None, "validation_error", "not_found", "version_conflict"),
)
def delete_tag(tag_id: TagIdPath) -> Response[None]:
    tags.delete_tag(_tenant("media:delete"), tag_id)
    return Response(status_code=204)


@router.get(
    "/v1/media/<media_id>/tags",
    summary="An item's tags",
    tags=["tags"],
    security=API_KEY,
    responses=responses({200: "The item's tags"}, TagList, "validation_error", "not_found"),
)
def get_item_tags(media_id: MediaId) -> TagList:
    return _tag_list(tags.item_tags(_tenant("media:read"), media_id))


@router.post(
    "/v1/media/<media_id>/tags",
    summary="Add a tag to an item (idempotent)",
    tags=["tags"],
    status_code=201,
    security=API_KEY,
    responses=responses(
        {201: "The item's tags, this one among them"},
        TagList,
        *WITH_BODY,
        *IDEMPOTENT,
        "not_found",
        "version_conflict",
    ),
)
def add_item_tag(media_id: MediaId, request: ItemTagAdd) -> Response[TagList]:
    tenant_id = _tenant("media:write")
    tag_id = tags.resolve_tag(tenant_id, request.tag_id, request.slug)
    return Response(
        status_code=201,
        content_type="application/json",
        body=_tag_list(tags.add_tag(tenant_id, media_id, tag_id)),
    )


@router.put(
    "/v1/media/<media_id>/tags",
    summary="Replace all of an item's tags",
    tags=["tags"],
    security=API_KEY,
    responses=responses({200: "The item's tags"}, TagList, *WITH_BODY, "not_found", "version_conflict"),
)
def replace_item_tags(media_id: MediaId, request: ItemTagsReplace) -> TagList:
    return _tag_list(tags.replace_tags(_tenant("media:write"), media_id, request.tag_ids))


@router.delete(
    "/v1/media/<media_id>/tags/<tag_id>",
    summary="Remove a tag from an item",
    tags=["tags"],
    security=API_KEY,
    responses=responses(
        {200: "The item's remaining tags"}, TagList, "validation_error", "not_found", "version_conflict"
    ),
)
def remove_item_tag(media_id: MediaId, tag_id: TagIdPath) -> TagList:
    return _tag_list(tags.remove_tag(_tenant("media:write"), media_id, tag_id))
