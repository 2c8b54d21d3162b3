"""What clients send, validated at the edge. Unknown fields are errors, never ignored, and
types are strict: ``"size": "10"`` or ``"size": true`` is a 400, not a coercion."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from medialib.domain.folders import normalize_folder
from medialib.domain.media import MEDIA_ID_PATTERN, clean_filename
from medialib.domain.models import Model
from medialib.domain.tags import TAG_ID_PATTERN

Filename = Annotated[str, AfterValidator(clean_filename)]
FolderPath = Annotated[str, Field(max_length=255), AfterValidator(normalize_folder)]
Alt = Annotated[str, StringConstraints(max_length=500)]
Title = Annotated[str, StringConstraints(max_length=255)]
Caption = Annotated[str, StringConstraints(max_length=1000)]
OnDuplicate = Literal["allow", "reject", "return_existing"]
# S3's largest object (5 TiB): no real file is larger, and a declared size ends up in keys
# (``name#…#<size>``, a 15-digit sort key), so it must stay a short number.
MAX_FILE_SIZE = 5 * 1024**4
FileSize = Annotated[int, Field(le=MAX_FILE_SIZE, description="Exact size of the file in bytes")]


class _Strict(Model):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=False)


class FocalPointIn(_Strict):
    """The focal point a client sets: percentages of width and height."""

    x: float = Field(ge=0, le=100)
    y: float = Field(ge=0, le=100)


class PresignRequest(_Strict):
    filename: Filename
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=100, to_lower=True)]
    size: Annotated[FileSize, Field(gt=0)]
    folder: FolderPath = "/"
    alt: Alt | None = None
    title: Title | None = None
    method: Literal["POST", "PUT"] = "POST"
    on_duplicate: OnDuplicate = "allow"


class ConfirmRequest(_Strict):
    upload_id: Annotated[str, StringConstraints(pattern=MEDIA_ID_PATTERN.pattern)]
    alt: Alt | None = None
    title: Title | None = None
    folder: FolderPath | None = None
    on_duplicate: OnDuplicate = "allow"


class MediaPatch(_Strict):
    """Fields a PATCH may change; an explicit null clears the optional text fields."""

    filename: Filename | None = None
    alt: Alt | None = None
    title: Title | None = None
    caption: Caption | None = None
    folder: FolderPath | None = None
    focal_point: FocalPointIn | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> MediaPatch:
        if not self.model_fields_set:
            raise ValueError("the body must change at least one field")
        for required in ("filename", "folder"):
            if required in self.model_fields_set and getattr(self, required) is None:
                raise ValueError(f"{required} cannot be null")
        return self

    def changes(self) -> dict:
        return self.model_dump(exclude_unset=True)


class FileFingerprint(_Strict):
    filename: Filename
    size: Annotated[FileSize, Field(ge=0)]
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$", to_lower=True)] | None = None


class DuplicateCheckRequest(_Strict):
    files: list[FileFingerprint] = Field(min_length=1, max_length=100)


TagName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$", to_lower=True)]
TagId = Annotated[str, StringConstraints(pattern=TAG_ID_PATTERN.pattern)]


class TagCreate(_Strict):
    name: TagName
    color: Color | None = None


class TagPatch(_Strict):
    name: TagName | None = None
    color: Color | None = None
    order: int | None = Field(default=None, ge=0, le=10_000)

    @model_validator(mode="after")
    def _not_empty(self) -> TagPatch:
        if not self.model_fields_set:
            raise ValueError("the body must change at least one field")
        return self


class ItemTagAdd(_Strict):
    tag_id: TagId | None = None
    slug: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,64}$")] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ItemTagAdd:
        if (self.tag_id is None) == (self.slug is None):
            raise ValueError("give exactly one of tag_id or slug")
        return self


class ItemTagsReplace(_Strict):
    tag_ids: list[TagId] = Field(max_length=10)


class FolderCreate(_Strict):
    path: FolderPath


class EntityMediaSet(_Strict):
    media_ids: list[Annotated[str, StringConstraints(pattern=MEDIA_ID_PATTERN.pattern)]] = Field(
        max_length=40
    )


# A URL's own rules (length, scheme, port, address) are checked per URL, each failure reported
# on its own; this bound only keeps one body field from holding megabytes.
_UrlText = Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class ImportRequest(_Strict):
    """``POST /v1/media`` as JSON: remote files to fetch and re-host."""

    urls: list[_UrlText] = Field(min_length=1, max_length=10)
    folder: FolderPath | None = None
    alt: Alt | None = None
