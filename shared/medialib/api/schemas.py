"""What the API returns: the response models behind the OpenAPI document, and the mapping
from domain items to them (storage keys become delivery URLs here and nowhere else)."""

from __future__ import annotations

from pydantic import Field

from medialib.domain.media import FocalPoint, Media, MediaError, Placeholder
from medialib.domain.models import Model
from medialib.domain.tags import Tag


class VariantOut(Model):
    name: str
    width: int
    height: int
    format: str
    url: str


class EntityRef(Model):
    type: str
    id: str


class MediaItem(Model):
    id: str
    kind: str = Field(description="image | video | document | model")
    status: str = Field(description="processing | ready | failed")
    filename: str
    content_type: str = Field(description="Sniffed from the bytes once processed")
    size: int | None
    width: int | None
    height: int | None
    duration: float | None
    pages: int | None = Field(description="Page count, documents; null otherwise or when unreadable")
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


class MediaEnvelope(Model):
    data: MediaItem


ESTIMATE_DESCRIPTION = (
    "true when total is an estimate: a combination of filters whose exact count would read the library"
)


class Pagination(Model):
    limit: int
    offset: int
    total: int
    total_is_estimate: bool = Field(False, description=ESTIMATE_DESCRIPTION)
    next_cursor: str | None


class MediaList(Model):
    data: list[MediaItem]
    media_ids: list[str]
    pagination: Pagination


class PresignedUpload(Model):
    upload_id: str
    method: str
    url: str
    fields: dict[str, str] | None = Field(None, description="POST form fields, sent before the file")
    headers: dict[str, str] | None = Field(None, description="Headers a PUT upload must send")
    expires_at: str
    max_size: int


class PresignEnvelope(Model):
    data: PresignedUpload


class FieldError(Model):
    field: str
    message: str


class ExistingCopy(Model):
    id: str
    filename: str
    created_at: str


class Problem(Model):
    """RFC 9457 problem details (served as application/problem+json)."""

    type: str = "about:blank"
    title: str
    status: int
    code: str = Field(description="Stable machine-readable code, e.g. not_found or in_use")
    detail: str
    request_id: str | None = None
    errors: list[FieldError] = Field(
        default_factory=list, description="One entry per invalid field (validation_error)"
    )
    used_by: list[EntityRef] | None = Field(None, description="in_use: the entities still using the item")
    existing: ExistingCopy | None = Field(None, description="duplicate: the item with the same bytes")


def _url(base_url: str, key: str) -> str:
    return f"{base_url.rstrip('/')}/{key}"


class PublicMediaItem(Model):
    """The fields public read shows."""

    id: str
    kind: str
    filename: str
    content_type: str
    width: int | None
    height: int | None
    alt: str | None
    url: str | None
    variants: list[VariantOut]
    focal_point: FocalPoint | None
    placeholder: Placeholder | None


class PublicPagination(Model):
    limit: int
    offset: int
    total: int
    total_is_estimate: bool = Field(False, description=ESTIMATE_DESCRIPTION)


class PublicMediaList(Model):
    data: list[PublicMediaItem]
    pagination: PublicPagination


class PublicMediaEnvelope(Model):
    data: PublicMediaItem


class TagOut(Model):
    id: str
    slug: str
    name: str
    color: str | None
    order: int
    created_at: str


class TagEnvelope(Model):
    data: TagOut


class TagList(Model):
    data: list[TagOut]


class Folders(Model):
    folders: list[str]


class FoldersEnvelope(Model):
    data: Folders


class FolderOut(Model):
    path: str


class FolderEnvelope(Model):
    data: FolderOut


class EntityMedia(Model):
    data: list[MediaItem]
    media_ids: list[str]


class ExistingMedia(Model):
    id: str
    url: str | None
    created_at: str


class DuplicateMatch(Model):
    filename: str
    size: int
    sha256: str | None
    existing: list[ExistingMedia]


class Duplicates(Model):
    duplicates: list[DuplicateMatch]


class DuplicatesEnvelope(Model):
    data: Duplicates


def tag_out(tag: Tag) -> TagOut:
    return TagOut(
        id=tag.id, slug=tag.slug, name=tag.name, color=tag.color, order=tag.order, created_at=tag.created_at
    )


def original_url(media: Media, base_url: str) -> str | None:
    """Where the original is delivered; an SVG only ever as the copy processing sanitised."""
    if media.status != "ready":
        return None
    if media.content_type == "image/svg+xml":
        sanitised = next((variant for variant in media.variants if variant.format == "svg"), None)
        return _url(base_url, sanitised.key) if sanitised else None
    return _url(base_url, media.original_key)


def public_media_item(media: Media, base_url: str) -> PublicMediaItem:
    full = media_item(media, base_url, {})
    return PublicMediaItem(**full.model_dump(include=set(PublicMediaItem.model_fields)))


def media_item(media: Media, base_url: str, tag_slugs: dict[str, str]) -> MediaItem:
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
        pages=media.pages,
        alt=media.alt,
        title=media.title,
        caption=media.caption,
        folder=media.folder,
        tags=[tag_slugs[tag_id] for tag_id in media.tag_ids if tag_id in tag_slugs],
        focal_point=media.focal_point,
        url=original_url(media, base_url),
        variants=[
            VariantOut(
                name=v.name, width=v.width, height=v.height, format=v.format, url=_url(base_url, v.key)
            )
            for v in media.variants
        ],
        placeholder=media.placeholder,
        sha256=media.sha256,
        used_by=[EntityRef(type=ref.type, id=ref.id) for ref in media.used_by],
        error=media.error,
        version=media.version,
        created_at=media.created_at,
        updated_at=media.updated_at,
    )
