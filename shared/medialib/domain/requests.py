"""What clients send, validated at the edge. Unknown fields are errors, never ignored."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from medialib.domain.folders import normalize_folder
from medialib.domain.media import MEDIA_ID_PATTERN, FocalPoint, clean_filename

Filename = Annotated[str, AfterValidator(clean_filename)]
FolderPath = Annotated[str, Field(max_length=255), AfterValidator(normalize_folder)]
Alt = Annotated[str, StringConstraints(max_length=500)]
Title = Annotated[str, StringConstraints(max_length=255)]
Caption = Annotated[str, StringConstraints(max_length=1000)]
OnDuplicate = Literal["allow", "reject", "return_existing"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class PresignRequest(_Strict):
    filename: Filename
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=100, to_lower=True)]
    size: int = Field(gt=0, description="Exact size of the file in bytes")
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
    focal_point: FocalPoint | None = None

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
