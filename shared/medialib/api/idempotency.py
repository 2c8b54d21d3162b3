"""``Idempotency-Key`` for POST requests (API.md): a retry with the same key and body gets the
first response; the same key with another body is a 422; a retry while the first is still
running is a 409. Built on Powertools' idempotency utility.

A key is scoped to the tenant, the method and the concrete path: the same key on
``/v1/media/A/tags`` and ``/v1/media/B/tags`` names two requests. Only final responses are
stored (``is_final``), so a retry after a server error or a mistake the client can still
repair runs again. A stored response is replayed only to a key holding the scope its route
asked for: a read-only key gets 403, never a write key's 201.
"""

from __future__ import annotations

import hashlib
import json
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
from medialib.api.auth import principal_from_event, required_scope
from medialib.domain.errors import Forbidden, Unauthorized
from medialib.settings import get_settings

MAX_KEY_LENGTH = 255
KEEP_SECONDS = 24 * 60 * 60
# 413 and 415 cannot change: presign decides them from the body alone, and confirm removes
# the upload it refuses. 422 is an unprocessable body. Every other 4xx may: 400 (an item's
# eleventh tag is refused until one is removed; a request-shape 400 is recomputed the same
# anyway), 401/403 (another key), 404 (an upload is found once confirmed, a folder once
# created), 409 (upload_missing until the bytes land), 412 (another version), 429 (later).
FINAL_CLIENT_ERRORS = frozenset({413, 415, 422})


class _NotRemembered(Exception):
    """Carries a response that must not be stored, out of the stored call."""

    def __init__(self, response: dict[str, Any]):
        super().__init__("not remembered")
        self.response = response


def is_final(status: int) -> bool:
    """Whether a response with this status is the answer to every retry of its request."""
    return 200 <= status < 300 or status in FINAL_CLIENT_ERRORS


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
    """Resolve the request at most once per (tenant, method, path, key); replay the stored
    response to callers allowed to see it."""
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
    try:
        principal = principal_from_event(event)
    except Unauthorized:
        return resolve()  # the route answers 401; an unknown caller has nothing to replay
    request = {
        # A JSON list, so no tenant, path or key can be spelled to collide with another's.
        "key": json.dumps([principal.tenant_id, event.get("httpMethod"), event.get("path"), key]),
        "body": hashlib.sha256((event.get("body") or "").encode()).hexdigest(),
    }
    config = _config()
    config.register_lambda_context(context)

    @idempotent_function(data_keyword_argument="request", persistence_store=_store(), config=config)
    def stored(request: dict[str, Any]) -> dict[str, Any]:
        required_scope.set(None)
        response = resolve()
        if not is_final(response["statusCode"]):
            raise _NotRemembered(response)
        return {"response": response, "scope": required_scope.get()}

    try:
        outcome = stored(request=request)
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
    scope = outcome["scope"]
    if scope is not None and not principal.allows(scope):
        forbidden = Forbidden(f"This key lacks the {scope} scope")
        return problems.as_proxy_result(problems.from_domain_error(forbidden, request_id))
    response: dict[str, Any] = outcome["response"]
    return response
