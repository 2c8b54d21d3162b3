"""The resolver every API function builds: validation on, CORS for browsers, one exception
mapping to problem+json, and an ``X-Request-Id`` on every response."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from medialib.api import problems
from medialib.domain.errors import MediaLibError
from medialib.observability import logger

CORS = CORSConfig(
    allow_origin="*",
    allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
    expose_headers=["ETag", "X-Request-Id", "Retry-After"],
    max_age=600,
)


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
    return next(
        (value for name, value in (event.get("headers") or {}).items() if name.lower() == "idempotency-key"),
        None,
    )


def respond(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve the event (once per Idempotency-Key, for a POST that sends one) and stamp the
    gateway's request id on the response."""
    key = idempotency_key(event)
    if key is None:
        response = app.resolve(event, context)
    else:
        from medialib.api.idempotency import respond_once  # only requests that send a key pay for it

        response = respond_once(event, context, key, lambda: app.resolve(event, context))
    request_id = (event.get("requestContext") or {}).get("requestId")
    if request_id:
        response.setdefault("multiValueHeaders", {})["X-Request-Id"] = [request_id]
    return response
