"""What the functions run with locally: their process environment, and a Lambda-like runtime
that imports a handler once and invokes it with a context object.

Handlers read their settings once, at import, so the environment must be applied to
``os.environ`` before any handler or ``medialib`` module is imported. The environment and the
imported handler modules are process-wide: one local stack per process at a time.
"""

from __future__ import annotations

import importlib
import os
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devstack.emulator import CREDENTIALS
from devstack.template import REGION, FunctionSpec, LocalTemplate, Unresolved

# A developer's own AWS configuration must not leak into the local stack.
_CLEARED_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE")
_CLEARED_PREFIX = "AWS_ENDPOINT_URL_"
_CURSOR_SIGNING_KEY = secrets.token_urlsafe(32)  # per process: handlers read it once


def build_environment(template: LocalTemplate, *, aws_url: str) -> dict[str, str]:
    """The template's function environment, with what only AWS knows replaced by local values."""
    declared: dict[str, Any] = dict(template.environment)
    for function in template.functions.values():
        for name, value in function.environment.items():
            if name in declared and declared[name] != value:
                raise ValueError(
                    f"{function.logical_id} sets {name} differently from another function; the local "
                    "stack runs every function in one process, so it needs one value"
                )
            declared[name] = value
    local = {
        # Path-style object URLs on the emulator stand in for the CloudFront distribution.
        "MEDIA_BASE_URL": f"{aws_url}/{template.only_bucket().name}",
        "CURSOR_SIGNING_KEY": _CURSOR_SIGNING_KEY,
        "AWS_ENDPOINT_URL": aws_url,
        "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "AWS_XRAY_SDK_ENABLED": "false",
    }
    unresolved = sorted(
        name for name, value in declared.items() if isinstance(value, Unresolved) and name not in local
    )
    if unresolved:
        raise ValueError(f"no local value for {', '.join(unresolved)}; add one in devstack.environment")
    return {**{name: str(value) for name, value in declared.items()}, **local}


def apply_environment(environment: dict[str, str]) -> dict[str, str | None]:
    """Set ``environment`` in ``os.environ``; returns what to hand to :func:`restore_environment`."""
    cleared = [name for name in os.environ if name in _CLEARED_VARIABLES or name.startswith(_CLEARED_PREFIX)]
    previous = {name: os.environ.get(name) for name in [*environment, *cleared]}
    for name in cleared:
        del os.environ[name]
    os.environ.update(environment)
    return previous


def restore_environment(previous: dict[str, str | None]) -> None:
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@dataclass
class LambdaContext:
    """The attributes and method of the Lambda runtime's context object that handlers use."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_seconds: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None
    _started: float = field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


class FunctionTimedOut(Exception):
    """The handler ran past the function's Timeout; Lambda would have stopped it."""


class FunctionRuntime:
    """Imports each function's handler once and invokes it, one invocation per function at a time.

    One at a time, as one warm Lambda instance would: a handler's module-level state (a
    resolver's current event, a logger's keys) is not built for concurrent requests.
    """

    def __init__(self, functions: dict[str, FunctionSpec]):
        self._functions = functions
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._locks = {logical_id: threading.Lock() for logical_id in functions}

    def spec(self, function_id: str) -> FunctionSpec:
        return self._functions[function_id]

    def handler(self, function_id: str) -> Callable[[Any, Any], Any]:
        if function_id not in self._handlers:
            spec = self._functions[function_id]
            code_dir = str(spec.code_dir)
            if code_dir not in sys.path:
                sys.path.insert(0, code_dir)
            module_name, _, attribute = spec.handler.rpartition(".")
            self._handlers[function_id] = getattr(importlib.import_module(module_name), attribute)
        return self._handlers[function_id]

    def invoke(self, function_id: str, event: Any, request_id: str | None = None) -> Any:
        """Run the handler; its exceptions (an import error included) reach the caller, as a
        failed invocation does."""
        spec = self._functions[function_id]
        with self._locks[function_id]:
            handler = self.handler(function_id)
            context = LambdaContext(
                function_name=spec.name,
                memory_limit_in_mb=spec.memory_size,
                invoked_function_arn=spec.arn,
                timeout_seconds=spec.timeout,
                aws_request_id=request_id or str(uuid.uuid4()),
            )
            result = handler(event, context)
        if context.get_remaining_time_in_millis() == 0:
            raise FunctionTimedOut(f"{spec.logical_id} ran longer than its Timeout of {spec.timeout:g} s")
        return result
