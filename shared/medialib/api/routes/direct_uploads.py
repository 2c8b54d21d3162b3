"""POST /v1/media: small files posted straight to the API as ``multipart/form-data`` (the
route is declared with the other upload routes in ``routes/uploads.py``, so every function that
includes that router, the documentation's too, has it).

The body (base64, as the gateway passes binary media types) is parsed with ``multipart``, a
maintained parser. Importing from URLs (a JSON ``{"urls": [...]}`` body) is not available yet:
a JSON body is a 415 that says to send the files as multipart/form-data.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any

import multipart
from aws_lambda_powertools.event_handler import Response

from medialib.api.auth import tenant_for
from medialib.api.schemas import MediaItem, media_item
from medialib.domain.errors import MediaLibError, UnsupportedMediaType, ValidationFailed
from medialib.domain.models import Model
from medialib.services import direct_uploads
from medialib.services.direct_uploads import MAX_FILES, DirectFile, FileFailure
from medialib.services.tags import slug_map
from medialib.settings import get_settings

MULTIPART = "multipart/form-data"
_TEXT_FIELDS = ("folder", "alt")
# Parts beyond the files and the text fields mean a body no client of this route sends.
_PART_LIMIT = MAX_FILES + len(_TEXT_FIELDS) + 5
# Far above any real field; a part's file can be as large as the body the gateway let in.
_TEXT_LIMIT = 4096


REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        MULTIPART: {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "minItems": 1,
                        "maxItems": MAX_FILES,
                        "description": "A file part with its filename and Content-Type; repeat for more",
                    },
                    "folder": {"type": "string", "description": "An existing folder (default /)"},
                    "alt": {"type": "string", "maxLength": 500, "description": "Alt text for every file"},
                },
            },
            "encoding": {"file": {"contentType": "image/*, video/*, application/pdf, model/gltf-binary"}},
        }
    },
}


DESCRIPTION = (
    "Send `multipart/form-data` with up to 10 `file` parts (each with a filename and its "
    "`Content-Type`) and optional `folder` and `alt` fields. Each file becomes an item as "
    "presign → upload → confirm makes one; a file that fails is listed in `errors` and the "
    "others are still stored. The whole request must fit the gateway's payload limit (a "
    "413 beyond it): use `POST /v1/media/presign` for larger files. If no file is stored, "
    "the answer is the first file's problem. Importing from URLs (a JSON body) is not "
    "available yet: 415."
)


class DirectUploadError(Model):
    filename: str
    code: str
    message: str


class DirectUploadEnvelope(Model):
    data: list[MediaItem]
    errors: list[DirectUploadError]


def create_media(event: dict[str, Any]) -> Response[DirectUploadEnvelope]:
    """Answer one POST /v1/media (the route is declared in ``routes/uploads.py``)."""
    tenant_id = tenant_for(event, "media:write")
    files, fields = _parse(event)
    items, failures = direct_uploads.upload_files(
        tenant_id, files, folder=fields.get("folder"), alt=fields.get("alt")
    )
    if not items:
        raise _nothing_stored(failures)
    base_url = get_settings().media_base_url
    slugs = slug_map(tenant_id)
    body = DirectUploadEnvelope(
        data=[media_item(media, base_url, slugs) for media in items],
        errors=[DirectUploadError(filename=f.filename, code=f.code, message=f.message) for f in failures],
    )
    return Response(status_code=201, content_type="application/json", body=body)


_TITLES = {
    400: "Bad Request",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    503: "Service Unavailable",
}


def _nothing_stored(failures: list[FileFailure]) -> MediaLibError:
    """No file was stored: the first failure's problem, every file's failure in ``errors``."""
    first = failures[0]
    error = MediaLibError(
        f"No file was stored: {first.message}",
        errors=[{"field": f"file {f.filename}", "message": f"{f.code}: {f.message}"} for f in failures],
    )
    error.status, error.code = first.status, first.code
    error.title = _TITLES.get(first.status, "Bad Request")
    return error


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed("The request is not valid", errors=[{"field": field, "message": message}])


def _parse(event: dict[str, Any]) -> tuple[list[DirectFile], dict[str, str]]:
    """The file parts and the text fields, or a 400 for a body that is not a well-formed form
    of 1-10 files (415 for another content type)."""
    header = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "content-type"), "")
    media_type, options = multipart.parse_options_header(header or "")
    if media_type != MULTIPART:
        raise UnsupportedMediaType(
            "Send the files as multipart/form-data; importing from URLs is not available yet",
            errors=[{"field": "Content-Type", "message": "must be multipart/form-data"}],
        )
    boundary = options.get("boundary")
    if not boundary:
        raise _invalid("Content-Type", "must name the multipart boundary")
    body = _body_bytes(event)
    files: list[DirectFile] = []
    fields: dict[str, str] = {}
    parser = multipart.MultipartParser(
        io.BytesIO(body),
        boundary,
        content_length=len(body),
        strict=True,
        part_limit=_PART_LIMIT,
        # Every part stays in memory: the body is already there, and at most the gateway's limit.
        spool_limit=len(body) + 1,
        memory_limit=len(body) + 1,
        disk_limit=0,
    )
    try:
        for part in parser:
            if part.name == "file":
                if part.filename is None:
                    raise _invalid("file", "must be a file part with a filename")
                if len(files) == MAX_FILES:
                    raise _invalid("file", f"at most {MAX_FILES} files per request")
                declared = part.headers.get("Content-Type") or "application/octet-stream"
                files.append(DirectFile(part.filename, declared.split(";")[0].strip(), part.raw))
            elif part.name in _TEXT_FIELDS and part.filename is None:
                if part.name in fields:
                    raise _invalid(part.name, "must be sent once")
                if part.size > _TEXT_LIMIT:
                    raise _invalid(part.name, "is too long")
                fields[part.name] = part.value
            else:
                raise _invalid(str(part.name), "is not a field of this form (file, folder, alt)")
    except multipart.MultipartError as error:
        raise _invalid("body", f"is not valid multipart/form-data ({error})") from None
    except UnicodeDecodeError:
        raise _invalid("body", "text fields must be UTF-8") from None
    if not files:
        raise _invalid("file", "send at least one file part")
    return files, fields


def _body_bytes(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return body.encode("utf-8", "surrogateescape")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        raise _invalid("body", "must be base64 as the gateway sends it") from None
