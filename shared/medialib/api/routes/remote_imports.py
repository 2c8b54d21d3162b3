"""POST /v1/media with a JSON body ``{"urls": [...]}``: remote import (``routes/direct_uploads.py``
answers the route and hands JSON bodies here)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from medialib.domain.errors import ValidationFailed
from medialib.domain.import_urls import MAX_URL_LENGTH
from medialib.domain.models import Model
from medialib.domain.requests import ImportRequest
from medialib.services.remote_imports import (
    CONNECT_TIMEOUT_SECONDS,
    FETCH_DEADLINE_SECONDS,
    MAX_REDIRECTS,
    MAX_URLS,
    STATUS_OF_CODE,
)
from medialib.settings import DEFAULT_MAX_IMPORT_BYTES, MB

# Every per-URL code: what it means. The OpenAPI description lists them.
URL_ERROR_CODES: dict[str, str] = {
    "url_invalid": f"not a URL, longer than {MAX_URL_LENGTH} characters, or a host that is no name "
    "or address",
    "url_blocked": "refused before any connection: not http/https, a port other than 80/443, a user "
    "name or password, or a host with an address that is not public (private, loopback, link-local, "
    "cloud metadata, CGNAT, reserved, multicast, and their IPv4-mapped, NAT64 and 6to4 forms); "
    "checked again for each redirect",
    "fetch_failed": f"unreachable, not a 200 answer, more than {MAX_REDIRECTS} redirects, a broken "
    "connection or a body that does not decode",
    "fetch_timeout": f"the whole file did not arrive within {FETCH_DEADLINE_SECONDS:g} s",
    "too_large": "more decoded bytes than the import limit, or more than the kind's limit: use "
    "`POST /v1/media/presign` for it",
    "unsupported_type": "the bytes are not an accepted image, video, PDF or GLB",
    "validation_error": "the file's name or the request's folder or alt text is refused",
    "not_found": "the folder does not exist",
}


DEFAULT_IMPORT_MB = DEFAULT_MAX_IMPORT_BYTES // MB


class UrlImportError(Model):
    url: str
    code: str
    message: str


JSON_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["urls"],
    "additionalProperties": False,
    "properties": {
        "urls": {
            "type": "array",
            "items": {"type": "string", "format": "uri", "minLength": 1, "maxLength": MAX_URL_LENGTH},
            "minItems": 1,
            "maxItems": MAX_URLS,
            "description": "http or https URLs of the files to import",
        },
        "folder": {"type": "string", "description": "An existing folder (default /)"},
        "alt": {"type": "string", "maxLength": 500, "description": "Alt text for every file"},
    },
}

DESCRIPTION = (
    f'**Remote import** — send `application/json` `{{"urls": [...]}}` (1-{MAX_URLS}) with '
    "optional `folder` and `alt`. The URLs are fetched in parallel and each file stored and "
    "processed as an upload is. The fetch is SSRF-safe: http/https on ports 80/443 only, no "
    f"user name or password, at most {MAX_URL_LENGTH} characters; the host is resolved once "
    "and every address (A and AAAA) must be public, and the connection goes to the address "
    f"that was checked; at most {MAX_REDIRECTS} redirects, each checked again; "
    f"{CONNECT_TIMEOUT_SECONDS:g} s to connect and {FETCH_DEADLINE_SECONDS:g} s for the whole "
    f"file; at most the import limit of decoded bytes ({DEFAULT_IMPORT_MB} MB by default, "
    "`MAX_IMPORT_BYTES`; gzip is counted decoded, whatever `Content-Length` says); the first "
    "bytes must be an accepted type before anything is stored. Larger files: "
    "`POST /v1/media/presign`. A URL that fails is listed in `errors` with `url`, `code` and "
    "`message`; if none is stored, the answer is the first URL's problem with that code. "
    "Per-URL codes: "
    + "; ".join(
        f"`{code}`{f' ({STATUS_OF_CODE[code]})' if code in STATUS_OF_CODE else ''}: {meaning}"
        for code, meaning in URL_ERROR_CODES.items()
    )
    + "."
)


def parse(body: bytes) -> ImportRequest:
    """The import request in a JSON body, or a 400 naming the fields."""
    try:
        document = json.loads(body or b"null")
    except ValueError:
        raise _invalid([{"field": "body", "message": "must be a JSON document"}]) from None
    try:
        return ImportRequest.model_validate(document)
    except ValidationError as error:
        raise _invalid(
            [
                {
                    "field": ".".join(str(part) for part in e["loc"]) or "body",
                    "message": str(e["msg"]).removeprefix("Value error, "),
                }
                for e in error.errors()
            ]
        ) from None


def _invalid(errors: list[dict[str, str]]) -> ValidationFailed:
    return ValidationFailed("The request is not valid", errors=errors)
