"""What the API returns: the response models behind the OpenAPI document, and the mapping
from domain items to them (storage keys become delivery URLs here and nowhere else)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from medialib.domain.media import FocalPoint, Media, MediaError, Placeholder


class VariantOut(BaseModel):
    name: str
    width: int
    height: int
    format: str
    url: str


class EntityRef(BaseModel):
    type: str
    id: str


class MediaItem(BaseModel):
    id: str
    kind: str = Field(description="image | video | document | model")
    status: str = Field(description="processing | ready | failed")
    filename: str
    content_type: str = Field(description="Sniffed from the bytes once processed")
    size: int | None
    width: int | None
    height: int | None
    duration: float | None
    alt: str | None
    title: str | None
    caption: str | None
    folder: str
    tags: list[str]
    focal_point: FocalPoint | None
    url: str | None = Field(description="Delivery URL of the original; null unless ready")
    variants: list[VariantOut]
    placeholder: Placeholder | None
    sha256: str | None
    used_by: list[EntityRef]
    error: MediaError | None
    version: int
    created_at: str
    updated_at: str


class MediaEnvelope(BaseModel):
    data: MediaItem


class Pagination(BaseModel):
    limit: int
    offset: int
    total: int
    next_cursor: str | None


class MediaList(BaseModel):
    data: list[MediaItem]
    media_ids: list[str]
    pagination: Pagination


class PresignedUpload(BaseModel):
    upload_id: str
    method: str
    url: str
    fields: dict[str, str] | None = Field(None, description="POST form fields, sent before the file")
    headers: dict[str, str] | None = Field(None, description="Headers a PUT upload must send")
    expires_at: str
    max_size: int


class PresignEnvelope(BaseModel):
    data: PresignedUpload


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details (served as application/problem+json)."""

    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str
    request_id: str | None = None
    errors: list[FieldError] = Field(default_factory=list)


def _url(base_url: str, key: str) -> str:
    return f"{base_url.rstrip('/')}/{key}"


def media_item(media: Media, base_url: str) -> MediaItem:
    ready = media.status == "ready"
    return MediaItem(
        id=media.id,
        kind=media.kind,
        status=media.status,
        filename=media.filename,
        content_type=media.content_type,
        size=media.size,
        width=media.width,
        height=media.height,
        duration=media.duration,
        alt=media.alt,
        title=media.title,
        caption=media.caption,
        folder=media.folder,
        tags=media.tags,
        focal_point=media.focal_point,
        url=_url(base_url, media.original_key) if ready else None,
        variants=[
            VariantOut(
                name=v.name, width=v.width, height=v.height, format=v.format, url=_url(base_url, v.key)
            )
            for v in media.variants
        ],
        placeholder=media.placeholder,
        sha256=media.sha256,
        used_by=[],
        error=media.error,
        version=media.version,
        created_at=media.created_at,
        updated_at=media.updated_at,
    )
