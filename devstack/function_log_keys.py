"""Each function's Powertools logger keys, kept apart in the one process that runs every function.

On AWS each function runs in processes of its own, so the keys its logger carries are its own:
``function_name`` and ``cold_start`` from ``inject_lambda_context``, the correlation id, and what
the code appends (``tenant_id``, ``media_id``). Locally every function imports the same modules
and so shares one ``Logger`` and its formatter, whose keys are one dict: keys one function set
showed on another's lines, even while both ran, and an authorizer's ``clear_state`` wiped the
``media_id`` of a batch being processed. Here the formatter keeps one dict of keys per function,
picked by the function the current invocation runs (outside any invocation, the keys it had).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

_INVOKING: ContextVar[str | None] = ContextVar("devstack_invoking_function", default=None)
_CONVERTING = threading.Lock()


@contextmanager
def invoking(function_id: str) -> Iterator[None]:
    """Log lines written inside this block, in this thread, carry ``function_id``'s keys."""
    token = _INVOKING.set(function_id)
    try:
        yield
    finally:
        _INVOKING.reset(token)


def keep_log_keys_per_function() -> None:
    """Give each Powertools formatter in the process one set of keys per function; call it after
    importing a handler, since its modules may have built a logger."""
    with _CONVERTING:
        for logger in list(logging.Logger.manager.loggerDict.values()):
            for handler in getattr(logger, "handlers", ()):  # placeholders for unnamed parents have none
                formatter = handler.formatter
                if isinstance(formatter, LambdaPowertoolsFormatter) and not isinstance(
                    formatter, _KeysPerFunction
                ):
                    _convert(formatter)


def _convert(formatter: LambdaPowertoolsFormatter) -> None:
    # In this order, so a line logged meanwhile by another function's thread finds its keys.
    formatter._keys_outside_invocations = vars(formatter)["log_format"]  # type: ignore[attr-defined]
    formatter._keys_by_function = {}  # type: ignore[attr-defined]
    formatter.__class__ = _per_function_class(type(formatter))
    del vars(formatter)["log_format"]  # the class's property reads the keys from now on


class _KeysPerFunction:
    """Mixed into a formatter's class: ``log_format``, where Powertools keeps the keys, is one dict
    per function. Invocations of one function run one at a time, so no dict is shared by two."""

    _keys_outside_invocations: dict[str, Any]
    _keys_by_function: dict[str, dict[str, Any]]

    @property
    def log_format(self) -> dict[str, Any]:
        function = _INVOKING.get()
        if function is None:
            return self._keys_outside_invocations
        if function not in self._keys_by_function:
            # A function starts from the keys its modules set at import, as a fresh Lambda instance.
            self._keys_by_function[function] = dict(self._keys_outside_invocations)
        return self._keys_by_function[function]

    @log_format.setter
    def log_format(self, keys: dict[str, Any]) -> None:  # clear_state() assigns a new dict
        function = _INVOKING.get()
        if function is None:
            self._keys_outside_invocations = keys
        else:
            self._keys_by_function[function] = keys


@functools.cache
def _per_function_class(formatter_class: type[LambdaPowertoolsFormatter]) -> type:
    return type(f"PerFunction{formatter_class.__name__}", (_KeysPerFunction, formatter_class), {})
