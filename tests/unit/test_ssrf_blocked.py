"""SSRF: every blocked form of URL is refused before any connection, and an address literal
before any lookup. Table-driven: each row is a URL, what the (injected) resolver answers for the
names in it, and the per-URL code. The socket module records what the fetch attempts."""

from __future__ import annotations

import pytest

from medialib.adapters.remote_fetch import FetchPolicy, fetch
from medialib.domain.import_urls import ImportRefused
from medialib.imaging.sniff import SNIFF_BYTES, sniff
from tests.support.connections import record

BLOCKED, INVALID = "url_blocked", "url_invalid"

# A public address in documentation's examples: never connected to, only handed out by the resolver.
PUBLIC = "93.184.215.14"
DNS = {
    "localhost": ["127.0.0.1", "::1"],
    "loop.test": ["127.0.0.1"],
    "loop6.test": ["::1"],
    "private.test": ["10.1.2.3"],
    "mapped-private.test": ["::ffff:10.1.2.3"],
    "metadata.google.internal": ["169.254.169.254"],
    "metadata6.test": ["fd00:ec2::254"],
    "cgnat.test": ["100.64.0.7"],
    "one-bad-answer.test": [PUBLIC, "10.0.0.1"],
    "one-bad-aaaa.test": [PUBLIC, "fe80::1"],
    "nat64-loop.test": ["64:ff9b::7f00:1"],
    "public.test": [PUBLIC],
}

CASES = [
    # private ranges
    ("http://10.0.0.1/a.jpg", BLOCKED),
    ("http://172.16.0.1/a.jpg", BLOCKED),
    ("http://172.31.255.255/a.jpg", BLOCKED),
    ("http://192.168.1.1/a.jpg", BLOCKED),
    ("http://[fc00::1]/a.jpg", BLOCKED),
    ("http://[fd12:3456::1]/a.jpg", BLOCKED),
    # loopback
    ("http://127.0.0.1/a.jpg", BLOCKED),
    ("http://127.255.255.254/a.jpg", BLOCKED),
    ("http://[::1]/a.jpg", BLOCKED),
    ("http://localhost/a.jpg", BLOCKED),
    # link-local
    ("http://169.254.1.1/a.jpg", BLOCKED),
    ("http://[fe80::1]/a.jpg", BLOCKED),
    # cloud metadata
    ("http://169.254.169.254/latest/meta-data/", BLOCKED),
    ("http://169.254.170.2/v2/credentials", BLOCKED),
    ("http://[fd00:ec2::254]/latest/meta-data/", BLOCKED),
    ("http://168.63.129.16/machine", BLOCKED),
    ("http://100.100.100.200/latest/meta-data/", BLOCKED),
    ("http://metadata.google.internal/computeMetadata/v1/", BLOCKED),
    ("http://metadata6.test/", BLOCKED),
    # carrier-grade NAT
    ("http://100.64.0.1/a.jpg", BLOCKED),
    ("http://100.127.255.254/a.jpg", BLOCKED),
    ("http://cgnat.test/a.jpg", BLOCKED),
    # reserved, unspecified, documentation, benchmarking, broadcast
    ("http://0.0.0.0/a.jpg", BLOCKED),
    ("http://240.0.0.1/a.jpg", BLOCKED),
    ("http://255.255.255.255/a.jpg", BLOCKED),
    ("http://192.0.2.1/a.jpg", BLOCKED),
    ("http://198.18.0.1/a.jpg", BLOCKED),
    ("http://192.0.0.192/a.jpg", BLOCKED),
    ("http://[::]/a.jpg", BLOCKED),
    ("http://[2001:db8::1]/a.jpg", BLOCKED),
    ("http://[2001::1]/a.jpg", BLOCKED),  # Teredo
    # multicast
    ("http://224.0.0.1/a.jpg", BLOCKED),
    ("http://239.255.255.250/a.jpg", BLOCKED),
    ("http://[ff02::1]/a.jpg", BLOCKED),
    ("http://[ff0e::1]/a.jpg", BLOCKED),
    # IPv4 spelled as browsers read it
    ("http://2130706433/a.jpg", BLOCKED),
    ("http://0x7f.1/a.jpg", BLOCKED),
    ("http://0177.0.0.1/a.jpg", BLOCKED),
    ("http://127.1/a.jpg", BLOCKED),
    ("http://0x7f000001/a.jpg", BLOCKED),
    ("http://017700000001/a.jpg", BLOCKED),
    ("http://0x7F.0.0.1/a.jpg", BLOCKED),
    ("http://0/a.jpg", BLOCKED),
    ("http://10.1/a.jpg", BLOCKED),
    ("http://0xa9.0xfe.0xa9.0xfe/latest/meta-data/", BLOCKED),
    ("http://2852039166/latest/meta-data/", BLOCKED),
    ("http://127.0.0.1./a.jpg", BLOCKED),
    ("http://1.2.3.4.5/a.jpg", INVALID),
    ("http://256.1.1.1/a.jpg", INVALID),
    ("http://0x1ffffffff/a.jpg", INVALID),
    ("http://example.123/a.jpg", INVALID),
    # IPv6 forms that carry a blocked IPv4 address
    ("http://[::ffff:127.0.0.1]/a.jpg", BLOCKED),
    ("http://[::ffff:7f00:1]/a.jpg", BLOCKED),
    ("http://[::ffff:169.254.169.254]/a.jpg", BLOCKED),
    ("http://[::ffff:10.0.0.1]/a.jpg", BLOCKED),
    ("http://[::127.0.0.1]/a.jpg", BLOCKED),  # IPv4-compatible
    ("http://[64:ff9b::7f00:1]/a.jpg", BLOCKED),  # NAT64
    ("http://[64:ff9b::a9fe:a9fe]/a.jpg", BLOCKED),
    ("http://[64:ff9b::10.0.0.1]/a.jpg", BLOCKED),
    ("http://[64:ff9b:1::1]/a.jpg", BLOCKED),  # local-use NAT64
    ("http://[2002:7f00:1::]/a.jpg", BLOCKED),  # 6to4
    ("http://[2002:a9fe:a9fe::1]/a.jpg", BLOCKED),
    ("http://[2002:c0a8:101::]/a.jpg", BLOCKED),
    ("http://[fe80::1%25eth0]/a.jpg", INVALID),
    ("http://[::ffff:127.0.0.1/a.jpg", INVALID),
    # names that resolve where imports may not go
    ("http://loop.test/a.jpg", BLOCKED),
    ("http://loop6.test/a.jpg", BLOCKED),
    ("http://private.test/a.jpg", BLOCKED),
    ("http://mapped-private.test/a.jpg", BLOCKED),
    ("http://one-bad-answer.test/a.jpg", BLOCKED),  # every answer must pass, not just the first
    ("http://one-bad-aaaa.test/a.jpg", BLOCKED),
    ("http://nat64-loop.test/a.jpg", BLOCKED),
    # schemes
    ("file:///etc/passwd", BLOCKED),
    ("gopher://127.0.0.1:70/_GET", BLOCKED),
    ("ftp://public.test/a.jpg", BLOCKED),
    ("dict://public.test:11211/stats", BLOCKED),
    ("data:image/png;base64,iVBORw0KGgo=", BLOCKED),
    ("javascript:alert(1)", BLOCKED),
    ("//public.test/a.jpg", BLOCKED),
    ("/a.jpg", BLOCKED),
    # ports
    ("http://public.test:8080/a.jpg", BLOCKED),
    ("https://public.test:22/a.jpg", BLOCKED),
    ("http://public.test:6379/", BLOCKED),
    ("http://public.test:0/a.jpg", BLOCKED),
    ("http://public.test:65536/a.jpg", INVALID),
    ("http://public.test:80x/a.jpg", INVALID),
    # userinfo tricks
    ("http://good.com@127.0.0.1/a.jpg", BLOCKED),
    ("http://user:pass@public.test/a.jpg", BLOCKED),
    ("http://public.test:80@127.0.0.1/a.jpg", BLOCKED),
    ("http://@public.test/a.jpg", BLOCKED),
    ("http://127.0.0.1#@public.test/a.jpg", BLOCKED),
    ("http://127.0.0.1?@public.test/a.jpg", BLOCKED),
    ("http://public.test\\@127.0.0.1/a.jpg", BLOCKED),
    ("http://public.test%40127.0.0.1/a.jpg", INVALID),
    # malformed
    ("http:///a.jpg", INVALID),
    ("http://pub lic.test/a.jpg", INVALID),
    ("http://public.test/\x00", INVALID),
    ("http://public.test/" + "a" * 2030, INVALID),  # 2,049 characters
    ("http://-bad-.test/a.jpg", INVALID),
]


class RecordingResolver:
    """A resolver that answers from a table and remembers every question (no real DNS)."""

    def __init__(self, answers: dict[str, list[str]]):
        self.answers = answers
        self.asked: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError("no such host")
        return self.answers[host]


def policy(*, allow_loopback: bool = False) -> FetchPolicy:
    return FetchPolicy(
        max_bytes=1024 * 1024,
        deadline_seconds=5.0,
        connect_timeout_seconds=2.0,
        accept_head=lambda head: sniff(head) is not None,
        head_bytes=SNIFF_BYTES,
        allow_loopback=allow_loopback,
    )


@pytest.mark.parametrize(("url", "code"), CASES, ids=[url[:60] for url, _ in CASES])
def test_a_blocked_url_is_refused_without_any_connection(url, code, monkeypatch):
    attempts = record(monkeypatch)
    resolver = RecordingResolver(DNS)

    with pytest.raises(ImportRefused) as refused:
        fetch(url, policy(), resolver=resolver)

    assert refused.value.code == code, refused.value.message
    assert attempts.connections == []
    assert attempts.names_looked_up() == []  # the only resolver is the injected one
    assert len(resolver.asked) <= 1


LOOPBACK_SWITCH_STILL_BLOCKS = [
    "http://10.0.0.1/a.jpg",
    "http://10.0.0.1:8080/a.jpg",
    "http://192.168.0.10:8000/a.jpg",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[fe80::1]:8000/a.jpg",
    "http://100.64.0.1:8000/a.jpg",
    "http://[64:ff9b::7f00:1]:8000/a.jpg",  # NAT64 of loopback is not this machine
    "http://[2002:7f00:1::]:8000/a.jpg",
    "http://private.test:8000/a.jpg",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://public.test:8000/a.jpg",  # other ports only on loopback
    "http://one-bad-answer.test/a.jpg",
    "gopher://127.0.0.1:70/_GET",
    "http://good.com@127.0.0.1:8000/a.jpg",
]


@pytest.mark.parametrize("url", LOOPBACK_SWITCH_STILL_BLOCKS)
def test_the_loopback_switch_admits_loopback_only(url, monkeypatch):
    attempts = record(monkeypatch)

    with pytest.raises(ImportRefused) as refused:
        fetch(url, policy(allow_loopback=True), resolver=RecordingResolver(DNS))

    assert refused.value.code == BLOCKED, refused.value.message
    assert attempts.connections == []


def test_a_name_that_does_not_resolve_fails_without_a_connection(monkeypatch):
    attempts = record(monkeypatch)

    with pytest.raises(ImportRefused) as refused:
        fetch("http://nowhere.test/a.jpg", policy(), resolver=RecordingResolver(DNS))

    assert refused.value.code == "fetch_failed"
    assert attempts.connections == []
