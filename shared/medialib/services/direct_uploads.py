"""Small direct uploads: files posted to the API itself (``multipart/form-data``).

Each file becomes an item exactly as presign → upload → confirm makes one: the record is
created by ``uploads.presign`` (its policy: accepted type, size limit, filename rules, folder),
the bytes are stored at the item's original key with the declared type and disposition, and
``uploads.confirm`` judges what landed (declared type against sniffed bytes, size) and hands it
to processing. One path, so the verdict, duplicates and counters never diverge.

A file that fails is reported with its filename, code and message; the others still succeed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from medialib.adapters import object_storage
from medialib.domain.errors import MediaLibError
from medialib.domain.media import Media, original_key
from medialib.domain.requests import ConfirmRequest, PresignRequest
from medialib.domain.uploads import canonical_content_type, content_disposition
from medialib.observability import logger
from medialib.services import uploads

MAX_FILES = 10


@dataclass(frozen=True)
class DirectFile:
    """One file part as received: its filename and declared type as the client sent them."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class FileFailure:
    filename: str
    status: int
    code: str
    message: str


def upload_files(
    tenant_id: str, files: Sequence[DirectFile], *, folder: str | None, alt: str | None
) -> tuple[list[Media], list[FileFailure]]:
    """The items made (in the order sent) and the files that failed, each on its own."""
    items: list[Media] = []
    failures: list[FileFailure] = []
    for file in files:
        try:
            items.append(_upload_one(tenant_id, file, folder=folder, alt=alt))
        except ValidationError as error:
            message = "; ".join(_field_message(e["loc"], e["msg"]) for e in error.errors())
            failures.append(FileFailure(file.filename, 400, "validation_error", message))
        except MediaLibError as error:
            failures.append(FileFailure(file.filename, error.status, error.code, error.detail))
    logger.info("Direct upload", extra={"stored": len(items), "failed": len(failures)})
    return items, failures


def _field_message(location: tuple[int | str, ...], message: str) -> str:
    field = ".".join(str(part) for part in location) or "file"
    return f"{field}: {message.removeprefix('Value error, ')}"


def _upload_one(tenant_id: str, file: DirectFile, *, folder: str | None, alt: str | None) -> Media:
    if not file.data:
        raise _EmptyFile("The file is empty")
    request = PresignRequest.model_validate(
        {
            "filename": file.filename,
            "content_type": file.content_type,
            "size": len(file.data),
            "method": "PUT",  # the record of an upload whose size only confirm can bound
            **({"folder": folder} if folder is not None else {}),
            **({"alt": alt} if alt is not None else {}),
        }
    )
    upload = uploads.presign(tenant_id, request)
    content_type = canonical_content_type(request.content_type)
    object_storage.put_original(
        original_key(tenant_id, upload.upload_id),
        file.data,
        content_type,
        content_disposition(request.filename, content_type),
    )
    media, _ = uploads.confirm(tenant_id, ConfirmRequest(upload_id=upload.upload_id))
    return media


class _EmptyFile(MediaLibError):
    status, code, title = 400, "validation_error", "Bad Request"
