"""The answers the gateway gives by itself (no route, unauthorized, a failed integration...),
rendered from the template's GatewayResponses as API Gateway renders them."""

from __future__ import annotations

import json
import re

from werkzeug.wrappers import Response

from devstack.api_call import ApiCall
from devstack.local_account import ACCOUNT_ID
from devstack.specs import ApiSpec

_ERROR_TYPES = {
    "UNAUTHORIZED": "UnauthorizedException",
    "ACCESS_DENIED": "AccessDeniedException",
    "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
    "AUTHORIZER_FAILURE": "AuthorizerConfigurationException",
    "AUTHORIZER_CONFIGURATION_ERROR": "AuthorizerConfigurationException",
}
_CONTEXT_REFERENCE = re.compile(r"\$(?:\{context\.([\w.]+)\}|context\.(\w+(?:\.\w+)*))")


class GatewayRejection(Exception):
    """The gateway answers by itself with the gateway response of type ``kind``."""

    def __init__(self, kind: str, status: int, message: str):
        super().__init__(message)
        self.kind, self.status, self.message = kind, status, message


def gateway_response(
    api: ApiSpec, rejection: GatewayRejection, call: ApiCall | None, request_id: str
) -> Response:
    """The template's gateway response for ``rejection.kind`` (or DEFAULT_4XX / DEFAULT_5XX)."""
    responses = api.gateway_responses
    config = responses.get(rejection.kind) or responses.get(
        "DEFAULT_5XX" if rejection.status >= 500 else "DEFAULT_4XX"
    )
    values = {
        "requestId": request_id,
        "extendedRequestId": request_id,
        "error.message": rejection.message,
        "error.messageString": json.dumps(rejection.message),
        "error.responseType": rejection.kind,
        "accountId": ACCOUNT_ID,
        "apiId": api.api_id,
        "stage": api.stage_name,
        "httpMethod": call.method if call else "",
        "path": f"/{api.stage_name}{call.path}" if call else "",
        "resourcePath": call.match.resource if call and call.match else "",
        "identity.sourceIp": call.source_ip if call else "",
    }
    headers = {"Content-Type": "application/json"}
    if rejection.kind in _ERROR_TYPES:
        headers["x-amzn-ErrorType"] = _ERROR_TYPES[rejection.kind]
    template = '{"message":$context.error.messageString}'
    if config is not None:
        for name, expression in config.headers.items():
            value = _mapping_value(expression, values, call)
            if value is not None:
                headers[name] = value
        if config.templates:
            template = config.templates.get("application/json") or next(iter(config.templates.values()))
    body = _CONTEXT_REFERENCE.sub(
        lambda match: str(values.get(match.group(1) or match.group(2), "")), template
    )
    status = config.status_code if config is not None and config.status_code else rejection.status
    return Response(body.encode(), status=status, headers=headers)


def _mapping_value(expression: str, values: dict[str, str], call: ApiCall | None) -> str | None:
    if len(expression) >= 2 and expression[0] == expression[-1] == "'":
        return expression[1:-1]
    if expression.startswith("context."):
        return values.get(expression.removeprefix("context."))
    if call is not None and expression.startswith("method.request.header."):
        return call.header(expression.removeprefix("method.request.header."))
    if call is not None and expression.startswith("method.request.querystring."):
        query, _ = call.query_parameters()
        return (query or {}).get(expression.removeprefix("method.request.querystring."))
    if call is not None and call.match is not None and expression.startswith("method.request.path."):
        return call.match.path_parameters.get(expression.removeprefix("method.request.path."))
    return None
