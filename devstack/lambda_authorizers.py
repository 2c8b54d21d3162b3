"""The Api's Lambda authorizers, run in-process as API Gateway runs them: the identity sources
checked first, the result validated and cached for ``ReauthorizeEvery`` when the cache is on, and
the policy's decision on the method ARN enforced."""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

from devstack.api_call import ApiCall
from devstack.gateway_responses import GatewayRejection
from devstack.local_account import ACCOUNT_ID, PARTITION, REGION
from devstack.proxy_event import string_list
from devstack.runtime import FunctionRuntime
from devstack.specs import ApiSpec, AuthorizerSpec

_LOG = logging.getLogger("devstack.gateway")  # one name for every line the gateway logs


class LambdaAuthorizers:
    """The authorizers of one Api, with the result cache API Gateway keeps per authorizer and identity."""

    def __init__(self, api: ApiSpec, runtime: FunctionRuntime, *, cache: bool):
        self._api = api
        self._runtime = runtime
        self._cache: dict[tuple[str, ...], tuple[float, dict[str, Any]]] | None = {} if cache else None
        self._cache_lock = threading.Lock()

    def authorize(self, name: str, call: ApiCall, request_context: dict[str, Any]) -> dict[str, Any]:
        """The ``requestContext.authorizer`` the function gets; GatewayRejection when refused."""
        spec = self._api.authorizers[name]
        query, _ = call.query_parameters()
        identity = [call.header(header) for header in spec.identity_headers]
        identity += [(query or {}).get(parameter) for parameter in spec.identity_query_strings]
        if not all(identity):  # API Gateway does not even call the authorizer
            raise GatewayRejection("UNAUTHORIZED", 401, "Unauthorized")
        token = identity[0] or ""
        if spec.validation_expression and not re.fullmatch(spec.validation_expression, token):
            raise GatewayRejection("UNAUTHORIZED", 401, "Unauthorized")
        method_arn = (
            f"arn:{PARTITION}:execute-api:{REGION}:{ACCOUNT_ID}:{self._api.api_id}/{self._api.stage_name}"
            f"/{call.method}/{call.path.lstrip('/')}"
        )
        started = time.monotonic()
        cache_key = (name, *(value or "" for value in identity))
        result = self._cached(cache_key)
        if result is None:
            event = _authorizer_event(spec, call, token, method_arn, request_context)
            try:
                result = self._runtime.invoke(spec.function_id, event)
            except Exception as exc:
                if str(exc) == "Unauthorized":  # how a Lambda authorizer asks for a 401
                    raise GatewayRejection("UNAUTHORIZED", 401, "Unauthorized") from None
                _LOG.exception("authorizer %s failed", spec.function_id)
                raise GatewayRejection("AUTHORIZER_FAILURE", 500, "Internal server error") from None
            _check_authorizer_result(spec.function_id, result)
            self._remember(cache_key, result, spec.ttl_seconds)
        call.usage_identifier = result.get("usageIdentifierKey")  # what usage plans meter
        effect = _policy_effect(result["policyDocument"], method_arn)
        if effect != "Allow":
            message = "User is not authorized to access this resource"
            raise GatewayRejection(
                "ACCESS_DENIED", 403, message + (" with an explicit deny" if effect else "")
            )
        context = {
            key: _context_string(value)
            for key, value in (result.get("context") or {}).items()
            if value is not None
        }
        return {
            **context,
            "principalId": str(result["principalId"]),
            "integrationLatency": int((time.monotonic() - started) * 1000),
        }

    def forget(self) -> None:
        """Empty the authorizer cache (after keys changed wholesale, as on a reset)."""
        if self._cache is not None:
            with self._cache_lock:
                self._cache.clear()

    def _cached(self, key: tuple[str, ...]) -> dict[str, Any] | None:
        if self._cache is None:
            return None
        with self._cache_lock:
            expires, result = self._cache.get(key, (0.0, {}))
            return result if expires > time.monotonic() else None

    def _remember(self, key: tuple[str, ...], result: dict[str, Any], ttl_seconds: int) -> None:
        if self._cache is not None and ttl_seconds > 0:
            with self._cache_lock:
                self._cache[key] = (time.monotonic() + ttl_seconds, result)


def _authorizer_event(
    spec: AuthorizerSpec, call: ApiCall, token: str, method_arn: str, request_context: dict[str, Any]
) -> dict[str, Any]:
    if spec.payload_type == "TOKEN":
        return {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
    query, multi_query = call.query_parameters()
    return {
        "type": "REQUEST",
        "methodArn": method_arn,
        "resource": call.match.resource if call.match else call.path,
        "path": call.path,
        "httpMethod": call.method,
        "headers": dict(call.headers),
        "multiValueHeaders": {key: [value] for key, value in call.headers.items()},
        "queryStringParameters": query or {},
        "multiValueQueryStringParameters": multi_query or {},
        "pathParameters": dict(call.match.path_parameters) if call.match else {},
        "stageVariables": {},
        "requestContext": request_context,
    }


def _check_authorizer_result(function_id: str, result: Any) -> None:
    """API Gateway answers 500 to an authorizer result it cannot use."""
    valid = (
        isinstance(result, dict)
        and result.get("principalId") not in (None, "")
        and isinstance(result.get("policyDocument"), dict)
        and isinstance(result.get("context") or {}, dict)
        and isinstance(result.get("usageIdentifierKey") or "", str)
        and all(
            value is None or isinstance(value, str | int | float | bool)
            for value in (result.get("context") or {}).values()
        )
    )
    if not valid:
        _LOG.error(
            "%s returned an authorizer result API Gateway rejects: principalId, policyDocument and a "
            "context of strings, numbers and booleans are required",
            function_id,
        )
        raise GatewayRejection("AUTHORIZER_CONFIGURATION_ERROR", 500, "Internal server error")


def _policy_effect(policy: dict[str, Any], method_arn: str) -> str | None:
    """``Deny`` if a statement denies the method, else ``Allow`` if one allows it, else None."""
    statements = policy.get("Statement") or []
    effect = None
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = string_list(statement.get("Action"))
        resources = string_list(statement.get("Resource"))
        if any(_arn_like(action, "execute-api:Invoke") for action in actions) and any(
            _arn_like(resource, method_arn) for resource in resources
        ):
            if statement.get("Effect") == "Deny":
                return "Deny"
            if statement.get("Effect") == "Allow":
                effect = "Allow"
    return effect


def _arn_like(pattern: str, value: str) -> bool:
    expression = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(expression, value) is not None


def _context_string(value: Any) -> str:
    """REST APIs hand the authorizer's context values to the function as strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
