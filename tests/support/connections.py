"""Records every outgoing TCP connection and every name lookup a test's code attempts, so a test
can assert that a refused URL caused none, and that a fetch connected only where it was checked.

The recorder wraps the socket module's own functions and lets them run (a test may still talk to
its local server); it replaces nothing under test.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import pytest


@dataclass
class Attempts:
    connections: list[tuple[str, int]] = field(default_factory=list)  # (address, port)
    lookups: list[str] = field(default_factory=list)  # hosts given to getaddrinfo

    def names_looked_up(self) -> list[str]:
        """Lookups of host names (a numeric address given to getaddrinfo asks no resolver)."""
        return [host for host in self.lookups if not _numeric(host)]


def _numeric(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


def record(monkeypatch: pytest.MonkeyPatch) -> Attempts:
    attempts = Attempts()
    connect, connect_ex, getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def recording_connect(sock: socket.socket, address: tuple) -> None:
        attempts.connections.append((str(address[0]), int(address[1])))
        return connect(sock, address)

    def recording_connect_ex(sock: socket.socket, address: tuple) -> int:
        attempts.connections.append((str(address[0]), int(address[1])))
        return connect_ex(sock, address)

    def recording_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        attempts.lookups.append(host.decode() if isinstance(host, bytes) else str(host))
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", recording_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", recording_getaddrinfo)
    return attempts
