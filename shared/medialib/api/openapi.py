"""The OpenAPI document, generated from the routers' types and declared responses, and Swagger UI
(served offline).

Routes declare their responses with ``responses(...)``: the success status and model, and the
stable problem ``code``s they can answer with. Every error is ``application/problem+json``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from medialib.api.schemas import Problem

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader

TITLE = "Media Library API"
VERSION = "1.0.0"
DESCRIPTION = """\
Upload media straight to storage with presigned URLs, let the service process what lands (type
sniffing, dimensions, WebP variants, hash, placeholder), and manage it over REST.

- Authentication: `Authorization: Bearer <api key>`; a missing, malformed, unknown or revoked
  key is a 401, a key without the operation's scope a 403. Public read and these documents need
  no key.
- Errors are RFC 9457 `application/problem+json` with a stable `code`; every response carries
  `X-Request-Id`.
- Lists cap `offset` at 10,000; page further with `cursor`, which is signed and bound to the
  tenant, sort, order and filters that produced it.
- `pagination.total` is exact and cheap for the unfiltered list and each single filter; for a
  search it is the number of matches. A search matching more than 1,000 items is a 400.
- Limits: 10 tags per item, 40 media per entity, 5 slugs in `tag`, 100 files per duplicate check.
- `on_duplicate` is decided at confirm from the stored bytes' SHA-256.
- POSTs accept `Idempotency-Key` (24 hours, per tenant and request): same body → the first
  response; another body → 422 `idempotency_key_reused`; still running → 409.
- Revoked keys stop working within 60 seconds (authorizer cache).
"""
SECURITY_SCHEME = "apiKey"
# The operations that need a key; the others (public read, these documents) declare none.
API_KEY: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Every problem code the API answers with: its status and what it means.
PROBLEMS: dict[str, tuple[int, str]] = {
    "validation_error": (400, "the request is not valid; `errors` lists the fields"),
    "unauthorized": (401, "missing, malformed, unknown or revoked API key"),
    "forbidden": (403, "the key lacks this operation's scope"),
    "not_found": (404, "no such object for this tenant"),
    "already_exists": (409, "it exists already"),
    "in_use": (409, "attached to entities, listed in `used_by`; `force=true` detaches it first"),
    "folder_not_empty": (409, "the folder holds media or subfolders"),
    "upload_missing": (409, "nothing was uploaded for this upload yet"),
    "duplicate": (409, "the same bytes are in the library (`on_duplicate: reject`), see `existing`"),
    "version_conflict": (409, "a concurrent change won; read again and retry"),
    "request_in_progress": (409, "a request with this `Idempotency-Key` is still running"),
    "precondition_failed": (412, "`If-Match` names another version"),
    "payload_too_large": (413, "too large for its kind, or a body over the gateway's limit"),
    "unsupported_media_type": (415, "the body is not JSON, or the file is not an accepted media type"),
    "type_mismatch": (415, "the bytes are another type than the declared one"),
    # Remote import (POST /v1/media with JSON) when no URL was imported: the first URL's code.
    "url_invalid": (400, "no URL was imported: the first is not a valid URL"),
    "url_blocked": (400, "no URL was imported: the first is refused by the SSRF rules (no connection made)"),
    "fetch_failed": (400, "no URL was imported: the first could not be fetched"),
    "fetch_timeout": (400, "no URL was imported: the first did not arrive within the deadline"),
    "too_large": (413, "no URL was imported: the first is over the import limit (use presign)"),
    "unsupported_type": (415, "no URL was imported: the first is not an accepted media type"),
    "idempotency_key_reused": (422, "this `Idempotency-Key` was used with another body"),
    "rate_limited": (429, "too many requests; retry after `Retry-After` seconds"),
    "unavailable": (503, "a dependency is unavailable; retry after `Retry-After` seconds"),
}
# What any operation can answer: throttling at the gateway, and a dependency that is down.
ALWAYS = ("rate_limited", "unavailable")
# What a key can be refused for.
AUTHENTICATED = ("unauthorized", "forbidden")
# What Idempotency-Key adds to a POST.
IDEMPOTENT = ("validation_error", "request_in_progress", "idempotency_key_reused")
# What a remote import answers with when no URL was imported (the first URL's code).
IMPORT_PROBLEMS = (
    "url_invalid",
    "url_blocked",
    "fetch_failed",
    "fetch_timeout",
    "too_large",
    "unsupported_type",
)
# A request body can be invalid, larger than the gateway accepts, or not JSON.
WITH_BODY = ("validation_error", "payload_too_large", "unsupported_media_type")

_REQUEST_ID: OpenAPIResponseHeader = {
    "description": "The request's id, also in the problem's `request_id`",
    "schema": {"type": "string"},
}
_RETRY_AFTER: OpenAPIResponseHeader = {"description": "Seconds to wait", "schema": {"type": "string"}}
ETAG: dict[str, OpenAPIResponseHeader] = {
    "ETag": {
        "description": 'The item\'s version, `"<version>"`; send it as If-Match',
        "schema": {"type": "string"},
    }
}


def responses(
    success: dict[int, str],
    model: type[BaseModel] | None,
    *problem_codes: str,
    public: bool = False,
    headers: dict[str, OpenAPIResponseHeader] | None = None,
) -> dict[int, OpenAPIResponse]:
    """An operation's documented responses: each success status (with ``model`` as its JSON
    body, none if ``model`` is None) and every problem it can answer with.

    Unless ``public``, the operation needs a key, so 401 and 403 are added; 429 and 503 always.
    """
    documented: dict[int, OpenAPIResponse] = {}
    for status, description in success.items():
        documented[status] = {
            "description": description,
            "headers": {"X-Request-Id": _REQUEST_ID, **(headers or {})},
        }
        if model is not None:
            documented[status]["content"] = {"application/json": {"model": model}}
        else:
            documented[status]["content"] = {}
    codes = [*problem_codes, *([] if public else AUTHENTICATED), *ALWAYS]
    for status, meanings in _by_status(codes).items():
        problem_headers = {"X-Request-Id": _REQUEST_ID}
        if status in (429, 503):
            problem_headers["Retry-After"] = _RETRY_AFTER
        documented[status] = {
            "description": "; ".join(f"`{code}`: {meaning}" for code, meaning in meanings),
            "headers": problem_headers,
            "content": {PROBLEM_CONTENT_TYPE: {"model": Problem}},
        }
    return dict(sorted(documented.items()))


def _by_status(codes: Iterable[str]) -> dict[int, list[tuple[str, str]]]:
    grouped: dict[int, list[tuple[str, str]]] = {}
    for code in dict.fromkeys(codes):  # once each, in the order given
        status, meaning = PROBLEMS[code]
        grouped.setdefault(status, []).append((code, meaning))
    return grouped


def configure_docs(app: APIGatewayRestResolver) -> None:
    """Serve ``GET /v1/openapi.json`` and ``GET /v1/docs`` from ``app``'s routes."""
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.openapi.compat import model_json
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

    spec: dict[str, Any] = {
        "title": TITLE,
        "version": VERSION,
        "description": DESCRIPTION,
        "servers": [Server(url="/")],
        "security_schemes": {SECURITY_SCHEME: HTTPBearer(description="Authorization: Bearer <api key>")},
    }
    generate = app.get_openapi_schema

    def document(**kwargs: Any) -> OpenAPI:
        return _as_served(generate(**kwargs))

    # Swagger UI and the JSON document both come from this one method.
    app.get_openapi_schema = document  # type: ignore[method-assign]
    app.enable_swagger(path="/v1/docs", **spec)

    @app.get("/v1/openapi.json", include_in_schema=False)
    def openapi_document():
        return Response(
            status_code=200,
            content_type="application/json",
            body=model_json(document(**spec), by_alias=True, exclude_none=True, indent=2),
            headers={"Cache-Control": "public, max-age=300"},
        )


# What Powertools documents on its own and this API never answers: validation errors are 400
# problems, never its 422 body, and responses are not validated against their models.
_UNUSED_DEFAULT_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def _as_served(document: OpenAPI) -> OpenAPI:
    """What the generated document lacks: the ``Idempotency-Key`` every POST accepts (handled
    before routing, so no route declares it), bodiless 204s, and no default 422 (a POST's own
    422 is ``idempotency_key_reused``)."""
    from aws_lambda_powertools.event_handler.openapi.models import Parameter

    idempotency_key = Parameter.model_validate(
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "Send the same key to retry safely: the first response is replayed for 24 hours",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        }
    )
    for path_item in (document.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(path_item, method)
            if operation is None or operation.responses is None:
                continue
            if _is_default_validation_error(operation.responses.get(422)):
                del operation.responses[422]
            for response in operation.responses.values():
                if getattr(response, "content", None) == {}:
                    response.content = None
            if method == "post":
                operation.parameters = [*(operation.parameters or []), idempotency_key]
    if document.components is not None and document.components.schemas:
        for name in _UNUSED_DEFAULT_SCHEMAS:
            document.components.schemas.pop(name, None)
    return document


def _is_default_validation_error(response: Any) -> bool:
    media_type = (getattr(response, "content", None) or {}).get("application/json")
    schema = getattr(media_type, "schema_", None)
    return getattr(schema, "ref", None) == "#/components/schemas/HTTPValidationError"
