"""The caller, as the API key authorizer resolved it.

API Gateway copies the authorizer's ``context`` into ``requestContext.authorizer`` of every
proxy event it lets through. The authorizer (``functions/authorizer``) writes exactly three
string values: ``tenant_id``, ``key_id`` and ``scopes`` (space-separated).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from medialib.domain.errors import Forbidden, Unauthorized
from medialib.domain.principal import Principal
from medialib.observability import logger

# The scope the route of the request being resolved asked for: a stored (idempotent) response
# is replayed only to a key that holds it. A context variable, so that handlers running side by
# side in threads (the local stack) never see each other's.
required_scope: ContextVar[str | None] = ContextVar("required_scope", default=None)


def principal_from_event(event: dict[str, Any]) -> Principal:
    """The principal of an API Gateway proxy event; Unauthorized if the authorizer left none."""
    request_context = event.get("requestContext") or {}
    authorizer = request_context.get("authorizer") if isinstance(request_context, dict) else None
    if not isinstance(authorizer, dict):
        raise Unauthorized("Missing, malformed, unknown or revoked API key")
    tenant_id = authorizer.get("tenant_id")
    key_id = authorizer.get("key_id")
    scopes = authorizer.get("scopes")
    if not (isinstance(tenant_id, str) and tenant_id and isinstance(key_id, str) and key_id):
        raise Unauthorized("Missing, malformed, unknown or revoked API key")
    if not isinstance(scopes, str):
        scopes = ""
    return Principal(tenant_id=tenant_id, key_id=key_id, scopes=frozenset(scopes.split()))


def require_scope(principal: Principal, scope: str) -> None:
    """Forbidden unless the key carries ``scope``."""
    if not principal.allows(scope):
        raise Forbidden(f"This key lacks the {scope} scope")


def tenant_for(event: dict[str, Any], scope: str) -> str:
    """The caller's tenant, once its key is known to carry ``scope``."""
    required_scope.set(scope)
    principal = principal_from_event(event)
    require_scope(principal, scope)
    logger.append_keys(tenant_id=principal.tenant_id)  # every later log line of the request
    return principal.tenant_id
