"""``Idempotency-Key`` for POST requests (API.md): a retry with the same key and body gets the
first response; the same key with another body is a 422; a retry while the first is still
running is a 409. Built on Powertools' idempotency utility, keyed per tenant and route.

Responses of 5xx are not remembered, so a retry after a failure runs again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from medialib.api import problems
from medialib.settings import get_settings

MAX_KEY_LENGTH = 255
KEEP_SECONDS = 24 * 60 * 60


class _NotRemembered(Exception):
    """Carries a response that must not be stored (a server error), out of the stored call."""

    def __init__(self, response: dict[str, Any]):
        super().__init__("not remembered")
        self.response = response


@lru_cache(maxsize=1)
def _config() -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="key", payload_validation_jmespath="body", expires_after_seconds=KEEP_SECONDS
    )


@lru_cache(maxsize=1)
def _store() -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table)


def respond_once(
    event: dict[str, Any], context: Any, key: str, resolve: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Resolve the request at most once per (tenant, route, key); replay the stored response."""
    request_id = (event.get("requestContext") or {}).get("requestId")
    if not key or len(key) > MAX_KEY_LENGTH:
        return problems.as_proxy_result(
            problems.problem(
                400,
                "validation_error",
                "Bad Request",
                "Idempotency-Key must be 1-255 characters",
                request_id,
                [{"field": "Idempotency-Key", "message": "1-255 characters"}],
            )
        )
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    request = {
        "key": "|".join([str(authorizer.get("tenant_id")), event.get("resource") or "", key]),
        "body": hashlib.sha256((event.get("body") or "").encode()).hexdigest(),
    }
    config = _config()
    config.register_lambda_context(context)

    @idempotent_function(data_keyword_argument="request", persistence_store=_store(), config=config)
    def stored(request: dict[str, Any]) -> dict[str, Any]:
        response = resolve()
        if response["statusCode"] >= 500:
            raise _NotRemembered(response)
        return response

    try:
        return stored(request=request)
    except _NotRemembered as not_remembered:
        return not_remembered.response
    except IdempotencyValidationError:
        return problems.as_proxy_result(
            problems.problem(
                422,
                "idempotency_key_reused",
                "Unprocessable Content",
                "This Idempotency-Key was used with another request body",
                request_id,
            )
        )
    except IdempotencyAlreadyInProgressError:
        return problems.as_proxy_result(
            problems.problem(
                409,
                "request_in_progress",
                "Conflict",
                "A request with this Idempotency-Key is still running",
                request_id,
            )
        )
