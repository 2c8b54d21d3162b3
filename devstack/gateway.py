"""A local API Gateway (REST API, Lambda proxy integration) built from the template's Api.

Each HTTP request becomes the event API Gateway would send: the route is chosen as API Gateway
chooses its resource (static segments win over ``{parameters}``, then the method), the
authorizer function runs in-process unless the route says ``Authorizer: NONE``, and every
answer the gateway gives itself is the template's gateway response for that case.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import socket
import threading
import time
import uuid
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from devstack.api_call import ApiCall
from devstack.emulator import port_is_free
from devstack.gateway_responses import GatewayRejection, gateway_response
from devstack.lambda_authorizers import LambdaAuthorizers
from devstack.proxy_event import proxy_event, proxy_response, request_context
from devstack.routing import RouteMatch, RouteTable
from devstack.runtime import FunctionRuntime
from devstack.specs import ApiRoute, ApiSpec
from devstack.usage_limits import UsageLimits

_LOG = logging.getLogger("devstack.gateway")
MAX_INVOKE_BYTES = 6_291_456  # Lambda's synchronous request payload limit
INTEGRATION_TIMEOUT_SECONDS = 29
_ALL_METHODS = "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"


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
        self._authorizers = LambdaAuthorizers(api, runtime, cache=authorizer_cache)
        self.usage_limits = UsageLimits(api.usage_plan)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        request_id = str(uuid.uuid4())
        call: ApiCall | None = None
        try:
            call = ApiCall.read(request, request_id)
            response = self._handle(call)
        except GatewayRejection as rejection:
            response = gateway_response(self.api, rejection, call, request_id)
        except Exception:  # the gateway answers whatever went wrong inside it
            _LOG.exception("local gateway failed on %s %s", request.method, request.path)
            response = gateway_response(
                self.api, GatewayRejection("DEFAULT_5XX", 500, "Internal server error"), call, request_id
            )
        response.headers["x-amzn-RequestId"] = request_id
        elapsed = (time.monotonic() - call.started) * 1000 if call else 0.0
        _LOG.info("%s %s %d %.0fms", request.method, request.path, response.status_code, elapsed)
        return response(environ, start_response)

    def _handle(self, call: ApiCall) -> Response:
        if call.too_large:
            raise GatewayRejection("REQUEST_TOO_LARGE", 413, "Request Too Long")
        call.match = self.routes.match(call.path)
        if call.match is None:
            raise GatewayRejection("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
        route = call.match.route_for(call.method)
        if route is None and call.method == "OPTIONS" and self.api.cors is not None:
            if self.api.authorize_preflight and self.api.default_authorizer:
                self._authorizers.authorize(
                    self.api.default_authorizer, call, request_context(self.api, call)
                )
            return self._preflight(call.match)
        if route is None:
            raise GatewayRejection("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
        event = proxy_event(self.api, call, route)
        if route.authorizer is not None:
            # A copy: the authorizer must neither see nor change what the function will get.
            authorizer_context = copy.deepcopy(event["requestContext"])
            event["requestContext"]["authorizer"] = self._authorizers.authorize(
                route.authorizer, call, authorizer_context
            )
        if route.api_key_required:  # metered after the authorizer named the key, as API Gateway does
            key = (
                call.usage_identifier if self.api.api_key_source == "AUTHORIZER" else call.header("x-api-key")
            )
            self.usage_limits.admit(key)
            event["requestContext"].setdefault("identity", {})["apiKey"] = key
        return self._integrate(route, event)

    def forget_authorizations(self) -> None:
        """Empty the authorizer cache (after keys changed wholesale, as on a reset)."""
        self._authorizers.forget()

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
        response = proxy_response(result)
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
        self._server.daemon_threads = False  # type: ignore[attr-defined]  # ThreadedWSGIServer: server_close() joins request threads
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
