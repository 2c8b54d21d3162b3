"""/v1/public/{tenant}/media: no key, ready items only, reduced fields, cacheable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from medialib.api.openapi import responses
from medialib.api.routes.media import MAX_OFFSET, MediaId
from medialib.api.schemas import (
    PublicMediaEnvelope,
    PublicMediaList,
    PublicPagination,
    public_media_item,
)
from medialib.domain.principal import TENANT_ID_PATTERN
from medialib.domain.requests import FolderPath
from medialib.services import public
from medialib.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponseHeader

router = Router()
Tenant = Annotated[str, Path(pattern=TENANT_ID_PATTERN.pattern, description="The tenant's id")]
LIST_CACHE = "public, max-age=60"
ITEM_CACHE = "public, max-age=3600"
CACHE_CONTROL: dict[str, OpenAPIResponseHeader] = {
    "Cache-Control": {"description": "Cacheable by browsers and CDNs", "schema": {"type": "string"}}
}


@router.get(
    "/v1/public/<tenant>/media",
    summary="A public tenant's ready media",
    tags=["public"],
    responses=responses(
        {200: "A page of ready items, reduced fields"},
        PublicMediaList,
        "validation_error",
        "not_found",
        public=True,
        headers=CACHE_CONTROL,
    ),
)
def public_list(
    tenant: Tenant,
    kind: Annotated[Literal["image", "video", "document", "model"] | None, Query()] = None,
    folder: Annotated[FolderPath | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 24,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response[PublicMediaList]:
    page = public.public_list(tenant, kind=kind, folder=folder, limit=limit, offset=offset)
    base_url = get_settings().media_base_url
    body = PublicMediaList(
        data=[public_media_item(m, base_url) for m in page.items],
        pagination=PublicPagination(
            limit=page.limit, offset=page.offset, total=page.total, total_is_estimate=page.total_is_estimate
        ),
    )
    return Response(
        status_code=200, content_type="application/json", body=body, headers={"Cache-Control": LIST_CACHE}
    )


@router.get(
    "/v1/public/<tenant>/media/<media_id>",
    summary="One public media item",
    tags=["public"],
    responses=responses(
        {200: "One ready item, reduced fields"},
        PublicMediaEnvelope,
        "validation_error",
        "not_found",
        public=True,
        headers=CACHE_CONTROL,
    ),
)
def public_get(tenant: Tenant, media_id: MediaId) -> Response[PublicMediaEnvelope]:
    media = public.public_get(tenant, media_id)
    body = PublicMediaEnvelope(data=public_media_item(media, get_settings().media_base_url))
    return Response(
        status_code=200, content_type="application/json", body=body, headers={"Cache-Control": ITEM_CACHE}
    )
