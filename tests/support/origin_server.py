"""A real HTTP server on 127.0.0.1 (a free port picked by the OS) standing in for the sites remote
import fetches from. Each path answers as a test tells it to: a file, a redirect, a status, a
body that dribbles or never ends, a gzip bomb, a Content-Length that lies. It remembers every
request (path and Host header) and stops by itself when the ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import gzip
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[[BaseHTTPRequestHandler, threading.Event], None]


@dataclass
class OriginServer:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)
    stopping: threading.Event = field(default_factory=threading.Event)
    port: int = 0
    tls: ssl.SSLContext | None = None  # serve https with this context

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{path}"

    def __enter__(self) -> OriginServer:
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                origin.requests.append((self.path, self.headers.get("Host", "")))
                route = origin.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_error(404)
                    return
                # A client that gives up (as it should on an endless body) breaks the pipe.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    route(self, origin.stopping)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()  # ends dribbling and endless bodies
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def file(data: bytes, content_type: str = "application/octet-stream", **headers: str) -> Route:
    def answer(handler: BaseHTTPRequestHandler, _: threading.Event) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.end_headers()
        handler.wfile.write(data)

    return answer


def redirect(location: str, status: int = 302) -> Route:
    def answer(handler: BaseHTTPRequestHandler, _: threading.Event) -> None:
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def status(code: int) -> Route:
    def answer(handler: BaseHTTPRequestHandler, _: threading.Event) -> None:
        handler.send_response(code)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def dribble(head: bytes, pause_seconds: float = 0.2) -> Route:
    """``head`` at once, then one byte per pause until the client leaves or the server stops."""

    def answer(handler: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(head) + 10_000))
        handler.end_headers()
        handler.wfile.write(head)
        handler.wfile.flush()
        while not stopping.wait(pause_seconds):
            handler.wfile.write(b"\0")
            handler.wfile.flush()

    return answer


class DribbledHeaders:
    """A status line, then a header one byte per pause (``limit`` bytes, so a client that never
    gives up still ends: it then gets a whole, valid answer). ``finished`` is set when the
    handler is done; ``completed`` tells whether it sent everything (the client never hung up)."""

    def __init__(self, pause_seconds: float = 0.05, limit: int = 600):
        self.pause_seconds, self.limit = pause_seconds, limit
        self.finished = threading.Event()
        self.completed = False

    def __call__(self, handler: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
        try:
            handler.wfile.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
            for _ in range(self.limit):
                if stopping.wait(self.pause_seconds):
                    return
                handler.wfile.write(b"a")
                handler.wfile.flush()
            handler.wfile.write(b"\r\nContent-Length: 0\r\n\r\n")
            self.completed = True
        finally:
            self.finished.set()


def endless(head: bytes, chunk: bytes = b"\0" * 65536) -> Route:
    """``head``, then bytes without end and without a Content-Length."""

    def answer(handler: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
        handler.send_response(200)
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(head)
        while not stopping.is_set():
            handler.wfile.write(chunk)

    return answer


def gzip_bomb(head: bytes, decoded_size: int, declared_length: bool = True) -> Route:
    """``head`` and ``decoded_size`` zero bytes, gzip-compressed (about 1,000 : 1)."""
    body = gzip.compress(head + b"\0" * (decoded_size - len(head)), compresslevel=9)

    def answer(handler: BaseHTTPRequestHandler, _: threading.Event) -> None:
        handler.send_response(200)
        handler.send_header("Content-Encoding", "gzip")
        if declared_length:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def lying_length(declared: int, sent: bytes) -> Route:
    """A ``Content-Length`` of ``declared`` whatever the body holds; the connection closes after."""

    def answer(handler: BaseHTTPRequestHandler, _: threading.Event) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(declared))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(sent)
        handler.close_connection = True

    return answer
