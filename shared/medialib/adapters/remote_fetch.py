"""Fetch one remote file for import, SSRF-safe (the rules are ``domain/import_urls.py``).

Each hop (the URL, then at most ``max_redirects`` redirects) is parsed and checked, its host
resolved once (A and AAAA through one ``getaddrinfo``; the resolver is injectable), every address
checked, and the connection made to the checked address itself: urllib3 gets the IP, the request
carries the name in ``Host`` and TLS gets it as SNI and for the certificate check, so nothing
resolves the name a second time. A URL that fails a check causes no connection at all.

One deadline bounds the whole fetch: the connect timeout and every socket read are cut to what is
left of it, and a watchdog shuts the socket down when it passes (headers or a TLS handshake sent a
byte at a time), so a slow or endless answer ends in ``fetch_timeout``. The byte cap counts decoded bytes
(gzip and deflate are decoded here, at most cap + 1 bytes at a time) and the raw bytes too,
whatever ``Content-Length`` says; ``accept_head`` judges the first bytes before the rest is read.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from medialib.domain.import_urls import (
    ImportRefused,
    ImportTarget,
    IPAddress,
    check_address,
    check_port,
    parse_import_url,
)

Resolver = Callable[[str], Sequence[str]]  # a host name → its addresses (A and AAAA)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
READ_CHUNK = 64 * 1024
USER_AGENT = "medialib-import/1"


def system_resolver(host: str) -> list[str]:
    """The host's IPv4 and IPv6 addresses, from one ``getaddrinfo`` call."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for family, *_, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6) and sockaddr[0] not in addresses:
            addresses.append(str(sockaddr[0]))
    return addresses


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int
    deadline_seconds: float
    connect_timeout_seconds: float
    accept_head: Callable[[bytes], bool]  # the first ``head_bytes`` decoded bytes are a kind we take
    head_bytes: int
    max_redirects: int = 3
    allow_loopback: bool = False
    ca_file: str | None = None  # a trust store instead of the system's (a test's own CA)


@dataclass(frozen=True)
class Fetched:
    url: str  # where the bytes came from, after redirects
    data: bytes


def fail(message: str) -> ImportRefused:
    return ImportRefused("fetch_failed", message)


def timed_out() -> ImportRefused:
    return ImportRefused("fetch_timeout", "the server did not send the whole file in time")


def too_large(limit: int) -> ImportRefused:
    return ImportRefused(
        "too_large", f"is larger than {limit} bytes; upload it with POST /v1/media/presign instead"
    )


def fetch(url: str, policy: FetchPolicy, *, resolver: Resolver = system_resolver) -> Fetched:
    """The bytes at ``url``, or :class:`ImportRefused` with the per-URL code."""
    deadline = time.monotonic() + policy.deadline_seconds
    watchdog = _Watchdog(policy.deadline_seconds)
    try:
        return _fetch(url, policy, resolver, deadline, watchdog)
    finally:
        watchdog.cancel()


def _fetch(
    url: str, policy: FetchPolicy, resolver: Resolver, deadline: float, watchdog: _Watchdog
) -> Fetched:
    current = url
    for _hop in range(policy.max_redirects + 1):
        target = parse_import_url(current, loopback_ports=policy.allow_loopback)
        address = _checked_address(target, policy, resolver, deadline)
        pool = _pool(target, address, policy, deadline)
        pool.ConnectionCls = watchdog.watching(pool.ConnectionCls)
        try:
            response = _request(pool, target, deadline)
            try:
                if response.status in REDIRECT_STATUSES:
                    location = response.headers.get("Location")
                    if not location:
                        raise fail(f"the server answered {response.status} without a Location")
                    current = urljoin(current, location)
                    continue
                if response.status != 200:
                    raise fail(f"the server answered {response.status}")
                return Fetched(current, _read_body(response, policy, deadline))
            finally:
                response.release_conn()
                response.close()
        finally:
            pool.close()
    raise fail(f"more than {policy.max_redirects} redirects")


def _checked_address(
    target: ImportTarget, policy: FetchPolicy, resolver: Resolver, deadline: float
) -> IPAddress:
    """The address to connect to: every address the host has must pass, and the first is used."""
    if target.literal is not None:
        addresses: list[IPAddress] = [target.literal]
    else:
        try:
            answers = _resolve_before(resolver, target.host, deadline)
        except (OSError, UnicodeError):
            raise fail("the host name does not resolve") from None
        try:
            addresses = [ipaddress.ip_address(answer) for answer in answers]
        except ValueError:
            raise fail("the host name resolves to something that is not an address") from None
        if not addresses:
            raise fail("the host name does not resolve")
    for address in addresses:
        check_address(address, allow_loopback=policy.allow_loopback)
    check_port(target, addresses)
    return addresses[0]


def _resolve_before(resolver: Resolver, host: str, deadline: float) -> Sequence[str]:
    """The resolver's answer, or ``fetch_timeout`` when it is not in before the deadline (the
    system resolver has no timeout of its own; its thread ends when the lookup does)."""
    answers: list[Sequence[str]] = []
    errors: list[BaseException] = []

    def lookup() -> None:
        try:
            answers.append(resolver(host))
        except BaseException as error:  # handed to the caller's thread
            errors.append(error)

    thread = threading.Thread(target=lookup, name="import-lookup", daemon=True)
    thread.start()
    thread.join(_remaining(deadline))
    if thread.is_alive():
        raise timed_out()
    if errors:
        raise errors[0]
    return answers[0]


def _pool(
    target: ImportTarget, address: IPAddress, policy: FetchPolicy, deadline: float
) -> urllib3.HTTPConnectionPool:
    remaining = _remaining(deadline)
    timeout = urllib3.Timeout(connect=min(policy.connect_timeout_seconds, remaining), read=remaining)
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            str(address),
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ca_certs=policy.ca_file,
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(str(address), target.port, timeout=timeout, retries=False, maxsize=1)


def _request(
    pool: urllib3.HTTPConnectionPool, target: ImportTarget, deadline: float
) -> urllib3.BaseHTTPResponse:
    try:
        return pool.urlopen(
            "GET",
            target.target,
            headers={
                "Host": target.host_header,
                "User-Agent": USER_AGENT,
                "Accept": "image/*, video/*, application/pdf, model/gltf-binary, */*;q=0.1",
                "Accept-Encoding": "gzip, deflate",
            },
            redirect=False,
            retries=False,
            preload_content=False,
            decode_content=False,
            assert_same_host=False,
        )
    except NewConnectionError:  # refused or unreachable (urllib3 files it under timeouts)
        raise fail("the server could not be reached") from None
    except Urllib3Timeout:
        raise timed_out() from None
    except (HTTPError, OSError):
        if time.monotonic() >= deadline:
            raise timed_out() from None
        raise fail("the server could not be reached or did not answer HTTP") from None


def _read_body(response: urllib3.BaseHTTPResponse, policy: FetchPolicy, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.strip().isdigit() and int(declared) > policy.max_bytes:
        raise too_large(policy.max_bytes)
    decoder = _Decoder(response.headers.get("Content-Encoding", ""), policy.max_bytes)
    sock = getattr(getattr(response, "connection", None), "sock", None)
    body = bytearray()
    raw_total = 0
    judged = False
    while True:
        remaining = _remaining(deadline)
        if sock is not None:
            sock.settimeout(remaining)  # one slow read cannot outlast the deadline
        try:
            chunk = response.read1(READ_CHUNK, decode_content=False)
        except Urllib3Timeout:
            raise timed_out() from None
        except (HTTPError, OSError):
            if time.monotonic() >= deadline:
                raise timed_out() from None
            raise fail("the connection broke before the whole file arrived") from None
        raw_total += len(chunk)
        if raw_total > policy.max_bytes:
            raise too_large(policy.max_bytes)
        body += decoder.feed(chunk) if chunk else decoder.flush()
        if len(body) > policy.max_bytes:
            raise too_large(policy.max_bytes)
        if not judged and (len(body) >= policy.head_bytes or not chunk):
            if not policy.accept_head(bytes(body[: policy.head_bytes])):
                raise ImportRefused("unsupported_type", "is not an image, video, PDF or GLB file")
            judged = True
        if not chunk:
            return bytes(body)


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise timed_out()
    return remaining


class _Watchdog:
    """Shuts the fetch's socket down when the deadline passes, whatever it is blocked on: a
    server that sends its headers or its TLS handshake a byte at a time cannot hold a read open
    past the deadline (the body's reads are bounded by their timeouts as well)."""

    def __init__(self, seconds: float):
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watching(self, connection_class: type[Any]) -> type[Any]:
        """``connection_class`` whose new sockets this watchdog shuts down at the deadline."""
        watchdog = self

        class Watched(connection_class):
            def _new_conn(self) -> socket.socket:
                sock = super()._new_conn()
                watchdog._watch(sock)
                return sock

        return Watched

    def _watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._socket = sock
            if self._expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            if self._socket is not None:
                _shut(self._socket)

    def cancel(self) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Decoder:
    """Content-Encoding undone chunk by chunk, never producing more than the cap + 1 bytes."""

    def __init__(self, encoding: str, limit: int):
        name = encoding.strip().lower()
        self._limit = limit
        self._produced = 0
        if name in ("", "identity"):
            self._inflater = None
        elif name in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif name == "deflate":
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise fail(f"the server sent a content encoding that is not supported ({name[:20]})")

    def feed(self, chunk: bytes) -> bytes:
        if self._inflater is None:
            return chunk
        out = bytearray()
        data = chunk
        try:
            while data:
                allowed = self._limit + 1 - self._produced - len(out)
                if allowed <= 0:
                    break
                out += self._inflater.decompress(data, allowed)
                data = self._inflater.unconsumed_tail
        except zlib.error:
            raise fail("the server sent a body that does not decode") from None
        self._produced += len(out)
        return bytes(out)

    def flush(self) -> bytes:
        if self._inflater is None:
            return b""
        if not self._inflater.eof:
            raise fail("the server sent a compressed body that ends early")
        return b""
