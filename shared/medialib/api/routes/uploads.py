"""POST /v1/media/presign and /v1/media/confirm; POST /v1/media (small direct uploads)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from medialib.api.auth import tenant_for
from medialib.api.openapi import API_KEY, ETAG, IDEMPOTENT, IMPORT_PROBLEMS, WITH_BODY, responses
from medialib.api.routes import direct_uploads as direct
from medialib.api.routes.media import item_response
from medialib.api.schemas import (
    DuplicateMatch,
    Duplicates,
    DuplicatesEnvelope,
    ExistingMedia,
    MediaEnvelope,
    PresignedUpload,
    PresignEnvelope,
    original_url,
)
from medialib.domain.requests import ConfirmRequest, DuplicateCheckRequest, PresignRequest
from medialib.services import duplicates, uploads
from medialib.services.duplicates import Fingerprint
from medialib.settings import get_settings

router = Router()


def _tenant(scope: str) -> str:
    return tenant_for(router.current_event.raw_event, scope)


@router.post(
    "/v1/media/presign",
    summary="Presign a direct upload to storage",
    tags=["uploads"],
    status_code=201,
    security=API_KEY,
    responses=responses(
        {201: "A POST form or a PUT URL for exactly this file"},
        PresignEnvelope,
        *WITH_BODY,
        *IDEMPOTENT,
        "not_found",
        "version_conflict",
    ),
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
    security=API_KEY,
    responses=responses(
        {
            201: "Confirmed: the item, processing or ready",
            200: "Confirmed before, or the earlier copy (`on_duplicate: return_existing`)",
        },
        MediaEnvelope,
        *WITH_BODY,
        *IDEMPOTENT,
        "not_found",
        "upload_missing",
        "duplicate",
        "version_conflict",
        "type_mismatch",
        headers=ETAG,
    ),
)
def confirm_upload(request: ConfirmRequest) -> Response[MediaEnvelope]:
    media, created = uploads.confirm(_tenant("media:write"), request)
    return item_response(media, 201 if created else 200)


@router.post(
    "/v1/media/check-duplicates",
    summary="Find files the library already holds",
    tags=["uploads"],
    security=API_KEY,
    responses=responses({200: "The files that match items"}, DuplicatesEnvelope, *WITH_BODY, *IDEMPOTENT),
)
def check_duplicates(request: DuplicateCheckRequest) -> DuplicatesEnvelope:
    tenant_id = _tenant("media:read")
    files = [Fingerprint(f.filename, f.size, f.sha256) for f in request.files]
    base_url = get_settings().media_base_url
    matches = [
        DuplicateMatch(
            filename=file.filename,
            size=file.size,
            sha256=file.sha256,
            existing=[
                ExistingMedia(id=m.id, url=original_url(m, base_url), created_at=m.created_at)
                for m in existing
            ],
        )
        for file, existing in duplicates.check_duplicates(tenant_id, files)
    ]
    return DuplicatesEnvelope(data=Duplicates(duplicates=matches))


@router.post(
    "/v1/media",
    summary="Upload small files directly (multipart/form-data) or import them from URLs (JSON)",
    description=direct.DESCRIPTION,
    tags=["uploads"],
    status_code=201,
    security=API_KEY,
    # The handler reads the body itself (no body parameter), so the body is declared here.
    openapi_extensions={"requestBody": direct.REQUEST_BODY},
    responses=responses(
        {201: "The items made (processing or ready) and the files or URLs that failed"},
        direct.DirectUploadEnvelope,
        *WITH_BODY,
        *IDEMPOTENT,
        "not_found",
        "version_conflict",
        "type_mismatch",
        *IMPORT_PROBLEMS,
    ),
)
def create_media() -> Response[direct.DirectUploadEnvelope]:
    return direct.create_media(router.current_event.raw_event)
