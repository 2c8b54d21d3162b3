"""The emulator's requests, one at a time: moto's backends are not safe under concurrent requests.

What goes wrong when they overlap (moto 5.2):

- DynamoDB ``TransactWriteItems`` deep-copies each table it touches, to roll back on failure: a
  write in another request meanwhile raises ``RuntimeError: dictionary changed size during
  iteration`` (a 500), and a rollback restores that copy, undoing writes made since it was taken.
  Queries and scans iterate the same dictionaries.
- SQS ``DeleteMessage`` rebuilds a queue's message list; a message sent meanwhile (an S3
  notification) is appended to the old list and lost.
- S3 listings read keys a concurrent delete has just removed (``KeyError``, a 500).

So every request runs under one lock. That costs little locally: a request is a few milliseconds
of dictionary work, and bodies are read from and written to the socket outside the lock. An SQS
long poll must not keep the lock while it waits, or the S3 notification that would end the wait
could never run: each queue's condition is rebuilt on the same lock, so moto's wait releases it.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.sqs.models import sqs_backends

_LOG = logging.getLogger("devstack.emulator")
_FAILURE_BODY = b'{"__type": "InternalFailure", "message": "the emulator failed; see its log"}'


class _QueueCondition(threading.Condition):
    """A queue's message condition on the emulator's lock; its type marks queues already rebuilt."""


class OneRequestAtATime:
    """WSGI middleware around moto's application: each request runs alone inside it.

    Each response is logged when it is a 5xx, so emulator failures show in the stack's output.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self._app = app
        self._lock = threading.RLock()  # reentrant: moto's queue waits take it again

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        _read_body(environ)  # before the lock: a slow client must not stall every other request
        request = _describe(environ)
        statuses: list[str] = []

        def remember_status(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        with self._lock:
            try:
                response = self._app(environ, remember_status)
                try:
                    body = b"".join(response)
                finally:
                    close = getattr(response, "close", None)
                    if close is not None:
                        close()
            except Exception:
                _LOG.exception("the emulator failed on %s", request)
                headers = [("Content-Type", "application/x-amz-json-1.0")]
                # exc_info only when moto had started its own answer: it lets us replace it.
                start_response("500 INTERNAL SERVER ERROR", headers, sys.exc_info() if statuses else None)
                return [_FAILURE_BODY]
            finally:
                self._share_lock_with_new_queues()
        if statuses and statuses[-1].startswith("5"):
            _LOG.error("the emulator answered %s to %s", statuses[-1], request)
        return [body]

    def _share_lock_with_new_queues(self) -> None:
        # Queues are only created by requests, and this runs before each request lets the lock go,
        # so no one can be waiting on a queue's own condition when it is replaced.
        for account in sqs_backends.values():
            for backend in account.values():
                for queue in backend.queues.values():
                    if not isinstance(queue._messages_lock, _QueueCondition):
                        queue._messages_lock = _QueueCondition(self._lock)


def _read_body(environ: dict[str, Any]) -> None:
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):  # chunked: the server already ends the stream
        body = stream.read()
    elif environ.get("CONTENT_LENGTH"):
        body = stream.read(int(environ["CONTENT_LENGTH"]))
    else:
        return
    environ["wsgi.input"] = io.BytesIO(body)


def _describe(environ: dict[str, Any]) -> str:
    """The operation when the protocol names it in a header (DynamoDB, SQS), else method and path."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    return target or f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
