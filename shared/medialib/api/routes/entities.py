"""/v1/entities/{type}/{entity_id}/media: where media is used."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from medialib.api.auth import tenant_for
from medialib.api.openapi import API_KEY, WITH_BODY, responses
from medialib.api.schemas import EntityMedia, media_item
from medialib.domain.media import Media
from medialib.domain.requests import EntityMediaSet
from medialib.services import references
from medialib.services.tags import slug_map
from medialib.settings import get_settings

router = Router()
EntityType = Annotated[
    str, Path(pattern=references.ENTITY_TYPE_PATTERN.pattern, description="product, post …")
]
EntityId = Annotated[str, Path(pattern=references.ENTITY_ID_PATTERN.pattern, description="Your id for it")]


def _tenant(scope: str) -> str:
    return tenant_for(router.current_event.raw_event, scope)


def _entity_media(tenant_id: str, found: list[Media]) -> EntityMedia:
    base_url, slugs = get_settings().media_base_url, slug_map(tenant_id)
    return EntityMedia(data=[media_item(m, base_url, slugs) for m in found], media_ids=[m.id for m in found])


@router.get(
    "/v1/entities/<entity_type>/<entity_id>/media",
    summary="Media attached to an entity, in order",
    tags=["references"],
    security=API_KEY,
    responses=responses(
        {200: "The entity's media, in order (none if it has none)"}, EntityMedia, "validation_error"
    ),
)
def get_entity_media(entity_type: EntityType, entity_id: EntityId) -> EntityMedia:
    tenant_id = _tenant("media:read")
    return _entity_media(tenant_id, references.entity_media(tenant_id, entity_type, entity_id))


@router.put(
    "/v1/entities/<entity_type>/<entity_id>/media",
    summary="Set an entity's media: attach, reorder and detach in one call",
    tags=["references"],
    security=API_KEY,
    responses=responses({200: "The entity's media, in order"}, EntityMedia, *WITH_BODY, "version_conflict"),
)
def put_entity_media(entity_type: EntityType, entity_id: EntityId, request: EntityMediaSet) -> EntityMedia:
    tenant_id = _tenant("media:write")
    found = references.set_entity_media(tenant_id, entity_type, entity_id, request.media_ids)
    return _entity_media(tenant_id, found)
