"""POST /v1/media: small files posted straight to the API as ``multipart/form-data``, or remote
files named in a JSON ``{"urls": [...]}`` body (``routes/remote_imports.py``). The route is
declared with the other upload routes in ``routes/uploads.py``, so every function that includes
that router, the documentation's too, has it.

The form (base64, as the gateway passes binary media types) is parsed with ``multipart``, a
maintained parser.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any

import multipart
from aws_lambda_powertools.event_handler import Response

from medialib.api.auth import tenant_for
from medialib.api.routes import remote_imports
from medialib.api.schemas import MediaItem, media_item
from medialib.domain.errors import MediaLibError, UnsupportedMediaType, ValidationFailed
from medialib.domain.media import Media
from medialib.domain.models import Model
from medialib.services import direct_uploads
from medialib.services import remote_imports as imports
from medialib.services.direct_uploads import MAX_FILES, DirectFile
from medialib.services.tags import slug_map
from medialib.settings import get_settings

MULTIPART = "multipart/form-data"
JSON = "application/json"
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
        },
        JSON: {"schema": remote_imports.JSON_BODY_SCHEMA},
    },
}


DESCRIPTION = (
    "**Small direct uploads** — send `multipart/form-data` with up to 10 `file` parts (each "
    "with a filename and its `Content-Type`) and optional `folder` and `alt` fields. Each file "
    "becomes an item as presign → upload → confirm makes one; a file that fails is listed in "
    "`errors` and the others are still stored. The whole request must fit the gateway's payload limit (a "
    "413 beyond it): use `POST /v1/media/presign` for larger files. If no file is stored, "
    "the answer is the first file's problem.\n\n" + remote_imports.DESCRIPTION
)


class DirectUploadError(Model):
    filename: str
    code: str
    message: str


class DirectUploadEnvelope(Model):
    data: list[MediaItem]
    # A file part's failure names its ``filename``; a URL's names its ``url``.
    errors: list[DirectUploadError | remote_imports.UrlImportError]


def create_media(event: dict[str, Any]) -> Response[DirectUploadEnvelope]:
    """Answer one POST /v1/media (the route is declared in ``routes/uploads.py``)."""
    tenant_id = tenant_for(event, "media:write")
    if _media_type(event) != MULTIPART:
        return _import_urls(tenant_id, event)
    files, fields = _parse(event)
    items, failures = direct_uploads.upload_files(
        tenant_id, files, folder=fields.get("folder"), alt=fields.get("alt")
    )
    if not items:
        raise _nothing_stored([(f"file {f.filename}", f.status, f.code, f.message) for f in failures], "file")
    errors: list[DirectUploadError | remote_imports.UrlImportError] = [
        DirectUploadError(filename=f.filename, code=f.code, message=f.message) for f in failures
    ]
    return _created(tenant_id, items, errors)


def _import_urls(tenant_id: str, event: dict[str, Any]) -> Response[DirectUploadEnvelope]:
    if _media_type(event) not in (JSON, ""):
        raise UnsupportedMediaType(
            'Send a JSON body {"urls": [...]} or the files as multipart/form-data',
            errors=[{"field": "Content-Type", "message": "must be application/json or multipart/form-data"}],
        )
    request = remote_imports.parse(_body_bytes(event))
    items, failures = imports.import_urls(tenant_id, request.urls, folder=request.folder, alt=request.alt)
    if not items:
        raise _nothing_stored([(f"url {f.url}", f.status, f.code, f.message) for f in failures], "URL")
    errors: list[DirectUploadError | remote_imports.UrlImportError] = [
        remote_imports.UrlImportError(url=f.url, code=f.code, message=f.message) for f in failures
    ]
    return _created(tenant_id, items, errors)


def _created(
    tenant_id: str, items: list[Media], errors: list[DirectUploadError | remote_imports.UrlImportError]
) -> Response[DirectUploadEnvelope]:
    base_url = get_settings().media_base_url
    slugs = slug_map(tenant_id)
    body = DirectUploadEnvelope(data=[media_item(media, base_url, slugs) for media in items], errors=errors)
    return Response(status_code=201, content_type="application/json", body=body)


_TITLES = {
    400: "Bad Request",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    503: "Service Unavailable",
}


def _nothing_stored(failures: list[tuple[str, int, str, str]], what: str) -> MediaLibError:
    """Nothing was stored: the first failure's problem, every failure (field, status, code,
    message) in ``errors``."""
    _, status, code, message = failures[0]
    error = MediaLibError(
        f"No {what} was stored: {message}",
        errors=[{"field": field, "message": f"{code}: {text}"} for field, _, code, text in failures],
    )
    error.status, error.code = status, code
    error.title = _TITLES.get(status, "Bad Request")
    return error


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed("The request is not valid", errors=[{"field": field, "message": message}])


def _parse(event: dict[str, Any]) -> tuple[list[DirectFile], dict[str, str]]:
    """The file parts and the text fields, or a 400 for a body that is not a well-formed form
    of 1-10 files (415 for another content type)."""
    _, options = multipart.parse_options_header(_content_type(event))
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


def _content_type(event: dict[str, Any]) -> str:
    return next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "content-type"), "") or ""


def _media_type(event: dict[str, Any]) -> str:
    return multipart.parse_options_header(_content_type(event))[0]


def _body_bytes(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return body.encode("utf-8", "surrogateescape")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        raise _invalid("body", "must be base64 as the gateway sends it") from None
