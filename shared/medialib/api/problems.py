"""The one mapping from errors to RFC 9457 problem+json responses."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response

from medialib.domain.errors import MediaLibError

PROBLEM_CONTENT_TYPE = "application/problem+json"
_RETRY_AFTER = {429: "1", 503: "1"}


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    request_id: str | None,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        "request_id": request_id,
        "errors": errors or [],
        **(extra or {}),
    }
    headers = {"Retry-After": _RETRY_AFTER[status]} if status in _RETRY_AFTER else None
    return Response(
        status_code=status, content_type=PROBLEM_CONTENT_TYPE, body=json.dumps(body), headers=headers
    )


def from_domain_error(error: MediaLibError, request_id: str | None) -> Response:
    return problem(error.status, error.code, error.title, error.detail, request_id, error.errors, error.extra)


def from_validation_errors(raw_errors: list[dict[str, Any]], request_id: str | None) -> Response:
    """Pydantic's error list becomes ``errors: [{field, message}]``, without echoing input."""
    errors = []
    for raw in raw_errors:
        location = [
            str(part) for part in raw.get("loc", ()) if part not in ("body", "query", "path", "header")
        ]
        message = str(raw.get("msg", "is invalid")).removeprefix("Value error, ")
        errors.append({"field": ".".join(location) or "body", "message": message})
    return problem(400, "validation_error", "Bad Request", "The request is not valid", request_id, errors)


def not_json(request_id: str | None) -> Response:
    """Every body the API reads is JSON; any other declared type is a client mistake."""
    return problem(
        415,
        "unsupported_media_type",
        "Unsupported Media Type",
        "Send the body as application/json",
        request_id,
        [{"field": "Content-Type", "message": "must be application/json"}],
    )


def as_proxy_result(response: Response) -> dict[str, Any]:
    """A problem answered before the resolver runs, as an API Gateway (REST) proxy result."""
    headers = {
        name: value if isinstance(value, list) else [value] for name, value in response.headers.items()
    }
    return {
        "statusCode": response.status_code,
        "multiValueHeaders": headers,
        "body": response.body,
        "isBase64Encoded": False,
    }
