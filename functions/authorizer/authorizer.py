"""API Gateway (REST) REQUEST authorizer: ``Authorization: Bearer <key>`` → tenant and scopes.

On success it allows the whole API for this principal: API Gateway caches the policy per
``Authorization`` value (``ReauthorizeEvery`` in template.yaml), so a policy naming only the
first method would deny the key's next, different request. The ``context`` it returns reaches
the functions as ``requestContext.authorizer`` (``medialib.api.auth`` reads it).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import Logger, correlation_paths

from medialib.domain.errors import Unauthorized
from medialib.domain.principal import SCOPES
from medialib.services.api_keys import authenticate, usage_identifier

# Service name from POWERTOOLS_SERVICE_NAME. Never log the event: it holds the key.
logger = Logger()


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False, clear_state=True
)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    resource = api_wildcard_arn(event["methodArn"])
    try:
        principal = authenticate(authorization_header(event))
    except Unauthorized as exc:
        logger.info("API key rejected", extra={"reason": exc.detail})
        # This exact message is what makes API Gateway answer 401.
        raise Exception("Unauthorized") from None
    logger.info("API key accepted", extra={"tenant_id": principal.tenant_id, "key_id": principal.key_id})
    return {
        "principalId": principal.key_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resource}],
        },
        # The API key the usage plan throttles this key by (ApiKeySourceType: AUTHORIZER).
        "usageIdentifierKey": usage_identifier(principal.key_id),
        # Context values must be strings, numbers or booleans: the scopes travel space-separated.
        "context": {
            "tenant_id": principal.tenant_id,
            "key_id": principal.key_id,
            "scopes": " ".join(scope for scope in SCOPES if scope in principal.scopes),
        },
    }


def authorization_header(event: dict[str, Any]) -> str | None:
    """The ``Authorization`` header, whatever its case (HTTP header names are case-insensitive)."""
    headers = event.get("headers") or {}
    for name, value in headers.items():
        if name.lower() == "authorization":
            return value
    return None


def api_wildcard_arn(method_arn: str) -> str:
    """``arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{verb}/{path}`` →
    ``arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/*/*``."""
    # Split on the first five colons only: a path parameter may hold ":" itself.
    parts = method_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "execute-api":
        raise ValueError("methodArn is not an execute-api method ARN")
    api_id, _, rest = parts[5].partition("/")
    stage = rest.partition("/")[0]
    if not api_id or not stage:
        raise ValueError("methodArn is not an execute-api method ARN")
    return f"{':'.join(parts[:5])}:{api_id}/{stage}/*/*"
