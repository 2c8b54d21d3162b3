"""The Lambda proxy integration of a REST API: the event API Gateway sends the function for a
request, and the HTTP response it makes of the function's result."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Response

from devstack.api_call import ApiCall
from devstack.local_account import ACCOUNT_ID
from devstack.specs import ApiRoute, ApiSpec

MAX_RESULT_BYTES = 6_291_556  # Lambda's response payload limit
_TEXT_TYPES = {
    "application/json",
    "application/x-www-form-urlencoded",
    "application/xml",
    "application/javascript",
}


def request_context(api: ApiSpec, call: ApiCall) -> dict[str, Any]:
    """The ``requestContext`` of the function's event and of a REQUEST authorizer's."""
    now = datetime.now(UTC)
    resource = call.match.resource if call.match else call.path
    return {
        "accountId": ACCOUNT_ID,
        "apiId": api.api_id,
        "resourceId": hashlib.sha256(resource.encode()).hexdigest()[:6],
        "resourcePath": resource,
        "httpMethod": call.method,
        "path": f"/{api.stage_name}{call.path}",
        "stage": api.stage_name,
        "requestId": call.request_id,
        "extendedRequestId": call.request_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "protocol": "HTTP/1.1",
        "domainName": call.header("Host") or "127.0.0.1",
        "domainPrefix": (call.header("Host") or "127.0.0.1").split(".")[0],
        "identity": {
            "sourceIp": call.source_ip,
            "userAgent": call.user_agent,
            **dict.fromkeys(
                (
                    "accountId",
                    "apiKey",
                    "caller",
                    "user",
                    "userArn",
                    "accessKey",
                    "cognitoIdentityId",
                    "cognitoIdentityPoolId",
                    "cognitoAuthenticationType",
                    "cognitoAuthenticationProvider",
                    "principalOrgId",
                )
            ),
        },
    }


def proxy_event(api: ApiSpec, call: ApiCall, route: ApiRoute) -> dict[str, Any]:
    """The Lambda proxy integration event for ``call`` on ``route``."""
    query, multi_query = call.query_parameters()
    body, is_base64 = _event_body(api, call)
    path_parameters = call.match.path_parameters if call.match else {}
    return {
        "resource": route.path,
        "path": call.path,
        "httpMethod": call.method,
        "headers": dict(call.headers) or None,
        "multiValueHeaders": {name: [value] for name, value in call.headers.items()} or None,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": request_context(api, call),
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _event_body(api: ApiSpec, call: ApiCall) -> tuple[str | None, bool]:
    if not call.body:
        return None, False
    content_type = (call.header("Content-Type") or "").split(";")[0].strip().lower()
    binary = any(fnmatch.fnmatchcase(content_type, pattern) for pattern in api.binary_media_types)
    if not binary and content_type and _is_text(content_type):
        return call.body.decode("utf-8", errors="replace"), False
    if not binary and not content_type:
        try:
            return call.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(call.body).decode("ascii"), True


def _is_text(content_type: str) -> bool:
    return (
        content_type.startswith("text/")
        or content_type in _TEXT_TYPES
        or content_type.endswith(("+json", "+xml"))
    )


def proxy_response(result: Any) -> Response | None:
    """The HTTP response for a Lambda proxy result, or None when API Gateway would call it malformed."""
    if not isinstance(result, dict) or len(json.dumps(result, default=str)) > MAX_RESULT_BYTES:
        return None
    try:
        status = int(result["statusCode"])
    except (KeyError, TypeError, ValueError):
        return None
    headers, multi_headers, body = (
        result.get("headers") or {},
        result.get("multiValueHeaders") or {},
        result.get("body"),
    )
    if (
        not isinstance(headers, dict)
        or not isinstance(multi_headers, dict)
        or not (body is None or isinstance(body, str))
    ):
        return None
    merged = [
        (str(name), str(value)) for name, values in multi_headers.items() for value in string_list(values)
    ]
    pairs = {(name.lower(), value) for name, value in merged}
    merged += [
        (str(name), str(value))
        for name, value in headers.items()
        if (str(name).lower(), str(value)) not in pairs
    ]
    if not any(name.lower() == "content-type" for name, _ in merged):
        merged.append(("Content-Type", "application/json"))
    try:
        payload = (
            base64.b64decode(body or "", validate=True)
            if result.get("isBase64Encoded")
            else (body or "").encode()
        )
    except ValueError:
        return None
    return Response(payload, status=status, headers=merged)


def string_list(value: Any) -> list[str]:
    """A value that may be one string, a list of them or null (header values, policy actions)."""
    return [str(item) for item in value] if isinstance(value, list) else [] if value is None else [str(value)]
