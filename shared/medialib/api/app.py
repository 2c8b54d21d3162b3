"""The resolver every API function builds: validation on, CORS for browsers, one exception
mapping to problem+json, and an ``X-Request-Id`` on every response.

Requests no route can read are answered 400 or 415 before resolution, once for every route:
the resolver would raise on them (``json.loads`` raises ``RecursionError`` on deep nesting and
``ValueError`` on integers over 4,300 digits; a base64 body that is not UTF-8 fails to decode)
and answer 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from medialib.api import problems
from medialib.domain.errors import MediaLibError
from medialib.observability import logger

CORS = CORSConfig(
    allow_origin="*",
    allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
    expose_headers=["ETag", "X-Request-Id", "Retry-After"],
    max_age=600,
)
# Every request body nests three levels at most; far deeper is never a real client's.
MAX_JSON_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


def build_resolver(*routers: Router) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(cors=CORS, enable_validation=True)
    for router in routers:
        app.include_router(router)

    def request_id() -> str | None:
        return app.current_event.request_context.request_id

    @app.exception_handler(MediaLibError)
    def domain_error(error: MediaLibError) -> Response:
        if error.status >= 500:
            logger.warning("Request failed", extra={"code": error.code})
        return problems.from_domain_error(error, request_id())

    @app.exception_handler(RequestValidationError)
    def validation_error(error: RequestValidationError) -> Response:
        return problems.from_validation_errors(list(error.errors()), request_id())

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_content_type(_: RequestUnsupportedContentType) -> Response:
        return problems.not_json(request_id())

    @app.not_found
    def route_not_found(_: NotFoundError) -> Response:
        return problems.problem(404, "not_found", "Not Found", "No such route", request_id())

    @app.exception_handler(Exception)
    def unexpected(_: Exception) -> Response:
        logger.exception("Unhandled error")
        return problems.problem(
            500, "internal_error", "Internal Server Error", "Something went wrong", request_id()
        )

    return app


def idempotency_key(event: dict[str, Any]) -> str | None:
    """The ``Idempotency-Key`` header of a POST (header names are case-insensitive)."""
    if event.get("httpMethod") != "POST":
        return None
    return _header(event, "idempotency-key")


def _header(event: dict[str, Any], name: str) -> str | None:
    return next((value for key, value in (event.get("headers") or {}).items() if key.lower() == name), None)


def unreadable_request(event: dict[str, Any]) -> Response | None:
    """The problem for a request no route can read, or None: a lone surrogate in any string
    (DynamoDB and every encoder refuse it), a body that is not base64 of UTF-8 when it says
    so, a body that is not JSON, or JSON too deep or with an integer too long to parse."""
    request_id = (event.get("requestContext") or {}).get("requestId")
    if any(_SURROGATE.search(text) for text in _request_strings(event)):
        return _invalid(request_id, "request", "must not contain lone surrogates")
    body = event.get("body")
    if not body:
        return None
    if _takes_multipart(event):
        return None  # the route parses its form's bytes itself (binary files are not UTF-8)
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return _invalid(request_id, "body", "must be UTF-8 text")
    content_type = (_header(event, "content-type") or "").strip().lower()
    if content_type and not content_type.startswith("application/json"):
        return problems.not_json(request_id)
    try:
        document = json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        return _invalid(request_id, "body", f"must nest at most {MAX_JSON_DEPTH} levels")
    except ValueError:  # not JSON, NaN/Infinity, or an integer of more than 4,300 digits
        return _invalid(request_id, "body", "must be a JSON document")
    return _json_problem(document, request_id)


# The one route that reads a multipart/form-data body: small direct uploads.
MULTIPART_ROUTES = frozenset({("POST", "/v1/media")})


def _takes_multipart(event: dict[str, Any]) -> bool:
    content_type = (_header(event, "content-type") or "").strip().lower()
    route = (event.get("httpMethod"), event.get("resource"))
    return content_type.startswith("multipart/form-data") and route in MULTIPART_ROUTES


def _request_strings(event: dict[str, Any]) -> list[str]:
    """The strings of a request outside its body: path, parameters and headers."""
    strings = [str(event.get("path") or "")]
    for part in ("pathParameters", "queryStringParameters", "headers"):
        for name, value in (event.get(part) or {}).items():
            strings += [name, value] if isinstance(value, str) else [name]
    for part in ("multiValueQueryStringParameters", "multiValueHeaders"):
        for name, values in (event.get(part) or {}).items():
            strings += [name, *(value for value in values or () if isinstance(value, str))]
    return strings


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_problem(document: Any, request_id: str | None) -> Response | None:
    """Walks the parsed body without recursion: too deep, or a lone surrogate in a string
    (JSON's ``\\ud800`` escape makes one)."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return _invalid(request_id, "body", "must not contain lone surrogates")
        elif isinstance(value, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return _invalid(request_id, "body", f"must nest at most {MAX_JSON_DEPTH} levels")
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
    return None


def _invalid(request_id: str | None, field: str, message: str) -> Response:
    return problems.problem(
        400,
        "validation_error",
        "Bad Request",
        "The request is not valid",
        request_id,
        [{"field": field, "message": message}],
    )


def respond(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve the event (once per Idempotency-Key, for a POST that sends one) and stamp the
    gateway's request id on the response."""
    unreadable = unreadable_request(event)
    key = idempotency_key(event)
    if unreadable is not None:
        response = problems.as_proxy_result(unreadable)
    elif key is None:
        response = app.resolve(event, context)
    else:
        from medialib.api.idempotency import respond_once  # only requests that send a key pay for it

        response = respond_once(event, context, key, lambda: app.resolve(event, context))
    request_id = (event.get("requestContext") or {}).get("requestId")
    if request_id:
        response.setdefault("multiValueHeaders", {})["X-Request-Id"] = [request_id]
    return response
