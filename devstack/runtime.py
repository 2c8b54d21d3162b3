"""A Lambda-like runtime for the functions: it imports a handler once and invokes it with a
context object, as one warm Lambda instance would.

Handler modules stay imported for the life of the process: one local stack per process at a time.
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devstack.function_log_keys import invoking, keep_log_keys_per_function
from devstack.specs import FunctionSpec


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
    resolver's current event, a logger's keys) is not built for concurrent requests. Functions
    share the modules they import, so each keeps its own logger keys (see function_log_keys).
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
            keep_log_keys_per_function()  # the import may have built a logger
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
            with invoking(function_id):
                result = handler(event, context)
        if context.get_remaining_time_in_millis() == 0:
            raise FunctionTimedOut(f"{spec.logical_id} ran longer than its Timeout of {spec.timeout:g} s")
        return result
