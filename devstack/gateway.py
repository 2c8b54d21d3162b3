"""A local API Gateway (REST API, Lambda proxy integration) built from the template's Api.

Each HTTP request becomes the event API Gateway would send: the route is chosen as API Gateway
chooses its resource (static segments win over ``{parameters}``, then the method), the
authorizer function runs in-process unless the route says ``Authorizer: NONE``, and every
answer the gateway gives itself is the template's gateway response for that case.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import fnmatch
import hashlib
import json
import logging
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from devstack.emulator import port_is_free
from devstack.environment import FunctionRuntime
from devstack.template import ACCOUNT_ID, PARTITION, REGION, ApiRoute, ApiSpec

_LOG = logging.getLogger("devstack.gateway")
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
MAX_INVOKE_BYTES = 6_291_456  # Lambda's synchronous request payload limit
MAX_RESULT_BYTES = 6_291_556  # ... and its response payload limit
INTEGRATION_TIMEOUT_SECONDS = 29
_ALL_METHODS = "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"
_TEXT_TYPES = {
    "application/json",
    "application/x-www-form-urlencoded",
    "application/xml",
    "application/javascript",
}
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


# ---------------------------------------------------------------- routing


@dataclass(frozen=True)
class RouteMatch:
    resource: str
    path_parameters: dict[str, str]
    methods: dict[str, ApiRoute]

    def route_for(self, method: str) -> ApiRoute | None:
        return self.methods.get(method) or self.methods.get("ANY")


class RouteTable:
    """API Gateway's resource selection: the resource whose segments match most specifically
    (static before ``{param}`` before ``{proxy+}``, left to right), then the method on it."""

    def __init__(self, routes: list[ApiRoute]):
        self._resources: dict[str, dict[str, ApiRoute]] = {}
        for route in routes:
            methods = self._resources.setdefault(route.path, {})
            if route.method in methods:
                raise ValueError(f"{route.method} {route.path} is defined twice in the template")
            methods[route.method] = route

    def match(self, path: str) -> RouteMatch | None:
        segments = _segments(path)
        best: tuple[tuple[int, ...], RouteMatch] | None = None
        for resource, methods in self._resources.items():
            matched = _match_resource(_segments(resource), segments)
            if matched is not None and (best is None or matched[0] < best[0]):
                best = (matched[0], RouteMatch(resource, matched[1], methods))
        return best[1] if best else None


def _segments(path: str) -> list[str]:
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


def _match_resource(parts: list[str], segments: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """Match percent-encoded ``segments``; parameter values come back decoded, as REST APIs pass them."""
    rank: list[int] = []
    parameters: dict[str, str] = {}
    for index, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            rest = segments[index:]
            if index != len(parts) - 1 or not rest:
                return None
            parameters[part[1:-2]] = unquote("/".join(rest))
            return (*rank, 2), parameters
        if index >= len(segments):
            return None
        segment = unquote(segments[index])
        if part.startswith("{") and part.endswith("}") and segment:
            parameters[part[1:-1]] = segment
            rank.append(1)
        elif part == segment:
            rank.append(0)
        else:
            return None
    return (tuple(rank), parameters) if len(parts) == len(segments) else None


# ---------------------------------------------------------------- the request as API Gateway sees it


@dataclass
class _Call:
    request_id: str
    method: str
    path: str  # percent-encoded, as REST APIs pass it
    headers: dict[str, str]
    query: list[tuple[str, str]]
    body: bytes
    source_ip: str
    user_agent: str | None
    too_large: bool = False
    match: RouteMatch | None = None
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def read(cls, request: Request, request_id: str) -> _Call:
        raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
        path = urlsplit(raw_uri).path if raw_uri else quote(request.path, safe="/:@!$&'()*+,;=~")
        headers = dict(request.headers.items())
        source_ip = request.remote_addr or "127.0.0.1"
        headers.setdefault("X-Forwarded-For", source_ip)
        headers.setdefault("X-Forwarded-Proto", "http")
        headers.setdefault("X-Forwarded-Port", str(request.environ.get("SERVER_PORT", "")))
        too_large = (request.content_length or 0) > MAX_REQUEST_BYTES
        body = b"" if too_large else request.get_data(cache=False)
        return cls(
            request_id=request_id,
            method=request.method.upper(),
            path=path or "/",
            headers=headers,
            query=parse_qsl(request.environ.get("QUERY_STRING", ""), keep_blank_values=True),
            body=body,
            source_ip=source_ip,
            user_agent=request.headers.get("User-Agent"),
            too_large=too_large or len(body) > MAX_REQUEST_BYTES,
        )

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers.items() if key.lower() == name.lower()), None)

    def query_parameters(self) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
        if not self.query:
            return None, None
        multi: dict[str, list[str]] = {}
        for name, value in self.query:
            multi.setdefault(name, []).append(value)
        return {name: values[-1] for name, values in multi.items()}, multi


# ---------------------------------------------------------------- the gateway


class LocalApiGateway:
    """The WSGI application: one instance serves one Api of the template."""

    def __init__(
        self,
        api: ApiSpec,
        routes: list[ApiRoute],
        runtime: FunctionRuntime,
        *,
        authorizer_cache: bool = False,
    ):
        self.api = api
        self.routes = RouteTable([route for route in routes if route.api_id == api.logical_id])
        self._runtime = runtime
        self._cache: dict[tuple[str, ...], tuple[float, dict[str, Any]]] | None = (
            {} if authorizer_cache else None
        )
        self._cache_lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        request_id = str(uuid.uuid4())
        call: _Call | None = None
        try:
            call = _Call.read(request, request_id)
            response = self._handle(call)
        except GatewayRejection as rejection:
            response = self.gateway_response(rejection, call, request_id)
        except Exception:  # the gateway answers whatever went wrong inside it
            _LOG.exception("local gateway failed on %s %s", request.method, request.path)
            response = self.gateway_response(
                GatewayRejection("DEFAULT_5XX", 500, "Internal server error"), call, request_id
            )
        response.headers["x-amzn-RequestId"] = request_id
        elapsed = (time.monotonic() - call.started) * 1000 if call else 0.0
        _LOG.info("%s %s %d %.0fms", request.method, request.path, response.status_code, elapsed)
        return response(environ, start_response)

    def _handle(self, call: _Call) -> Response:
        if call.too_large:
            raise GatewayRejection("REQUEST_TOO_LARGE", 413, "Request Too Long")
        call.match = self.routes.match(call.path)
        if call.match is None:
            raise GatewayRejection("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
        route = call.match.route_for(call.method)
        if route is None and call.method == "OPTIONS" and self.api.cors is not None:
            if self.api.authorize_preflight and self.api.default_authorizer:
                self._authorize(self.api.default_authorizer, call, self._request_context(call))
            return self._preflight(call.match)
        if route is None:
            raise GatewayRejection("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
        event = self.proxy_event(call, route)
        if route.authorizer is not None:
            # A copy: the authorizer must neither see nor change what the function will get.
            authorizer_context = copy.deepcopy(event["requestContext"])
            event["requestContext"]["authorizer"] = self._authorize(
                route.authorizer, call, authorizer_context
            )
        return self._integrate(route, event)

    # ------------------------------------------------------------ events

    def _request_context(self, call: _Call) -> dict[str, Any]:
        now = datetime.now(UTC)
        resource = call.match.resource if call.match else call.path
        return {
            "accountId": ACCOUNT_ID,
            "apiId": self.api.api_id,
            "resourceId": hashlib.sha256(resource.encode()).hexdigest()[:6],
            "resourcePath": resource,
            "httpMethod": call.method,
            "path": f"/{self.api.stage_name}{call.path}",
            "stage": self.api.stage_name,
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

    def proxy_event(self, call: _Call, route: ApiRoute) -> dict[str, Any]:
        """The Lambda proxy integration event for ``call`` on ``route``."""
        query, multi_query = call.query_parameters()
        body, is_base64 = self._event_body(call)
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
            "requestContext": self._request_context(call),
            "body": body,
            "isBase64Encoded": is_base64,
        }

    def _event_body(self, call: _Call) -> tuple[str | None, bool]:
        if not call.body:
            return None, False
        content_type = (call.header("Content-Type") or "").split(";")[0].strip().lower()
        binary = any(fnmatch.fnmatchcase(content_type, pattern) for pattern in self.api.binary_media_types)
        if not binary and content_type and _is_text(content_type):
            return call.body.decode("utf-8", errors="replace"), False
        if not binary and not content_type:
            try:
                return call.body.decode("utf-8"), False
            except UnicodeDecodeError:
                pass
        return base64.b64encode(call.body).decode("ascii"), True

    # ------------------------------------------------------------ authorizer

    def _authorize(self, name: str, call: _Call, request_context: dict[str, Any]) -> dict[str, Any]:
        spec = self.api.authorizers[name]
        query, multi_query = call.query_parameters()
        identity = [call.header(header) for header in spec.identity_headers]
        identity += [(query or {}).get(parameter) for parameter in spec.identity_query_strings]
        if not all(identity):  # API Gateway does not even call the authorizer
            raise GatewayRejection("UNAUTHORIZED", 401, "Unauthorized")
        token = identity[0] or ""
        if spec.validation_expression and not re.fullmatch(spec.validation_expression, token):
            raise GatewayRejection("UNAUTHORIZED", 401, "Unauthorized")
        method_arn = (
            f"arn:{PARTITION}:execute-api:{REGION}:{ACCOUNT_ID}:{self.api.api_id}/{self.api.stage_name}"
            f"/{call.method}/{call.path.lstrip('/')}"
        )
        started = time.monotonic()
        cache_key = (name, *(value or "" for value in identity))
        result = self._cached(cache_key)
        if result is None:
            if spec.payload_type == "TOKEN":
                event: dict[str, Any] = {
                    "type": "TOKEN",
                    "authorizationToken": token,
                    "methodArn": method_arn,
                }
            else:
                event = {
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
            try:
                result = self._runtime.invoke(spec.function_id, event)
            except Exception as exc:
                if str(exc) == "Unauthorized":  # how a Lambda authorizer asks for a 401
                    raise GatewayRejection("UNAUTHORIZED", 401, "Unauthorized") from None
                _LOG.exception("authorizer %s failed", spec.function_id)
                raise GatewayRejection("AUTHORIZER_FAILURE", 500, "Internal server error") from None
            _check_authorizer_result(spec.function_id, result)
            self._remember(cache_key, result, spec.ttl_seconds)
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

    def forget_authorizations(self) -> None:
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

    # ------------------------------------------------------------ integration

    def _integrate(self, route: ApiRoute, event: dict[str, Any]) -> Response:
        if len(json.dumps(event)) > MAX_INVOKE_BYTES:
            raise GatewayRejection("REQUEST_TOO_LARGE", 413, "Request Too Long")
        started = time.monotonic()
        try:
            result = self._runtime.invoke(route.function_id, event)
        except Exception:
            _LOG.exception("%s failed on %s %s", route.function_id, event["httpMethod"], event["path"])
            raise GatewayRejection("DEFAULT_5XX", 502, "Internal server error") from None
        if time.monotonic() - started > INTEGRATION_TIMEOUT_SECONDS:
            raise GatewayRejection("INTEGRATION_TIMEOUT", 504, "Endpoint request timed out")
        response = _proxy_response(result)
        if response is None:
            _LOG.error("%s returned a malformed Lambda proxy response", route.function_id)
            raise GatewayRejection("DEFAULT_5XX", 502, "Internal server error")
        return response

    def _preflight(self, match: RouteMatch) -> Response:
        cors = self.api.cors
        assert cors is not None
        methods = cors.allow_methods or (
            _ALL_METHODS if "ANY" in match.methods else ",".join(sorted({*match.methods, "OPTIONS"}))
        )
        headers = {"Access-Control-Allow-Origin": cors.allow_origin, "Access-Control-Allow-Methods": methods}
        optional = {
            "Access-Control-Allow-Headers": cors.allow_headers,
            "Access-Control-Expose-Headers": cors.expose_headers,
            "Access-Control-Max-Age": cors.max_age,
            "Access-Control-Allow-Credentials": "true" if cors.allow_credentials else None,
        }
        headers.update({name: value for name, value in optional.items() if value})
        return Response(b"", status=200, headers={**headers, "Content-Type": "application/json"})

    # ------------------------------------------------------------ gateway responses

    def gateway_response(self, rejection: GatewayRejection, call: _Call | None, request_id: str) -> Response:
        """The template's gateway response for ``rejection.kind`` (or DEFAULT_4XX / DEFAULT_5XX)."""
        responses = self.api.gateway_responses
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
            "apiId": self.api.api_id,
            "stage": self.api.stage_name,
            "httpMethod": call.method if call else "",
            "path": f"/{self.api.stage_name}{call.path}" if call else "",
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


def _is_text(content_type: str) -> bool:
    return (
        content_type.startswith("text/")
        or content_type in _TEXT_TYPES
        or content_type.endswith(("+json", "+xml"))
    )


def _check_authorizer_result(function_id: str, result: Any) -> None:
    """API Gateway answers 500 to an authorizer result it cannot use."""
    valid = (
        isinstance(result, dict)
        and result.get("principalId") not in (None, "")
        and isinstance(result.get("policyDocument"), dict)
        and isinstance(result.get("context") or {}, dict)
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
        actions = _as_list(statement.get("Action"))
        resources = _as_list(statement.get("Resource"))
        if any(_arn_like(action, "execute-api:Invoke") for action in actions) and any(
            _arn_like(resource, method_arn) for resource in resources
        ):
            if statement.get("Effect") == "Deny":
                return "Deny"
            if statement.get("Effect") == "Allow":
                effect = "Allow"
    return effect


def _as_list(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else [] if value is None else [str(value)]


def _arn_like(pattern: str, value: str) -> bool:
    expression = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(expression, value) is not None


def _context_string(value: Any) -> str:
    """REST APIs hand the authorizer's context values to the function as strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _mapping_value(expression: str, values: dict[str, str], call: _Call | None) -> str | None:
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


def _proxy_response(result: Any) -> Response | None:
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
    merged = [(str(name), str(value)) for name, values in multi_headers.items() for value in _as_list(values)]
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


# ---------------------------------------------------------------- the HTTP server


class _QuietRequestHandler(WSGIRequestHandler):
    """The gateway logs its own line per request; this tracks connections so stop() can end them."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:  # type: ignore[attr-defined]
            self.server.open_connections.add(self.connection)  # type: ignore[attr-defined]

    def finish(self) -> None:
        with self.server.connections_lock:  # type: ignore[attr-defined]
            self.server.open_connections.discard(self.connection)  # type: ignore[attr-defined]
        super().finish()


class GatewayServer:
    """Serves a WSGI app on ``127.0.0.1:port`` (0 picks a free port) from a thread of its own."""

    def __init__(self, app: Any, port: int = 0):
        if port and not port_is_free(port):  # werkzeug would print and sys.exit() instead
            raise OSError(f"127.0.0.1:{port} is in use; pick another API port")
        self._server = make_server(
            "127.0.0.1", port, app, threaded=True, request_handler=_QuietRequestHandler
        )
        self._server.daemon_threads = False  # server_close() then joins every request thread
        self._server.open_connections = set()  # type: ignore[attr-defined]
        self._server.connections_lock = threading.Lock()  # type: ignore[attr-defined]
        self.port: int = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"devstack-gateway-{self.port}"
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        with self._server.connections_lock:  # type: ignore[attr-defined]
            connections = list(self._server.open_connections)  # type: ignore[attr-defined]
        for connection in connections:  # idle keep-alive connections would block the join below
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
