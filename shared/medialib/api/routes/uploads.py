"""POST /v1/media/presign and /v1/media/confirm."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from medialib.api.auth import principal_from_event, require_scope
from medialib.api.schemas import MediaEnvelope, PresignedUpload, PresignEnvelope, media_item
from medialib.domain.requests import ConfirmRequest, PresignRequest
from medialib.services import uploads
from medialib.settings import get_settings

router = Router()


def _tenant(scope: str) -> str:
    principal = principal_from_event(router.current_event.raw_event)
    require_scope(principal, scope)
    return principal.tenant_id


@router.post(
    "/v1/media/presign", summary="Presign a direct upload to storage", tags=["uploads"], status_code=201
)
def presign_upload(request: PresignRequest) -> Response[PresignEnvelope]:
    upload = uploads.presign(_tenant("media:write"), request)
    body = PresignEnvelope(data=PresignedUpload(**upload.__dict__))
    return Response(status_code=201, content_type="application/json", body=body)


@router.post(
    "/v1/media/confirm",
    summary="Confirm an upload: verify it and start processing",
    tags=["uploads"],
    status_code=201,
)
def confirm_upload(request: ConfirmRequest) -> Response[MediaEnvelope]:
    media, created = uploads.confirm(_tenant("media:write"), request)
    body = MediaEnvelope(data=media_item(media, get_settings().media_base_url))
    return Response(
        status_code=201 if created else 200,
        content_type="application/json",
        body=body,
        headers={"ETag": f'"{media.version}"'},
    )
