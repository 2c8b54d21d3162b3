"""/v1/folders."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from medialib.api.auth import tenant_for
from medialib.api.openapi import API_KEY, IDEMPOTENT, WITH_BODY, responses
from medialib.api.schemas import FolderEnvelope, FolderOut, Folders, FoldersEnvelope
from medialib.domain.requests import FolderCreate, FolderPath
from medialib.services import folders

router = Router()


def _tenant(scope: str) -> str:
    return tenant_for(router.current_event.raw_event, scope)


@router.get(
    "/v1/folders",
    summary="List folders",
    tags=["folders"],
    security=API_KEY,
    responses=responses({200: "Every folder of the tenant"}, FoldersEnvelope),
)
def list_folders() -> FoldersEnvelope:
    return FoldersEnvelope(data=Folders(folders=folders.list_folders(_tenant("media:read"))))


@router.post(
    "/v1/folders",
    summary="Create a folder (and its parents)",
    tags=["folders"],
    status_code=201,
    security=API_KEY,
    responses=responses(
        {201: "Created"}, FolderEnvelope, *WITH_BODY, *IDEMPOTENT, "already_exists", "version_conflict"
    ),
)
def create_folder(request: FolderCreate) -> Response[FolderEnvelope]:
    path = folders.create_folder(_tenant("media:write"), request.path)
    return Response(
        status_code=201, content_type="application/json", body=FolderEnvelope(data=FolderOut(path=path))
    )


@router.delete(
    "/v1/folders",
    summary="Delete an empty folder",
    tags=["folders"],
    status_code=204,
    security=API_KEY,
    responses=responses({204: "Deleted"}, None, "validation_error", "not_found", "folder_not_empty"),
)
def delete_folder(path: Annotated[FolderPath, Query(description="The folder to delete")]) -> Response[None]:
    folders.delete_folder(_tenant("media:delete"), path)
    return Response(status_code=204)
