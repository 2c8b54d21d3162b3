"""SSRF and hostile servers, against real HTTP servers on 127.0.0.1 (the fetcher's policy has the
loopback switch on, as ``ALLOW_LOOPBACK_IMPORTS=1`` sets it): one lookup and a connection to the
address that was checked, redirects checked hop by hop, and bodies that are slow, endless, gzip
bombs or lie about their length all end within the deadline and the byte cap."""

from __future__ import annotations

import dataclasses
import gzip
import io
import threading
import zlib

import pytest
from PIL import Image

from medialib.adapters.remote_fetch import FetchPolicy, fetch
from medialib.domain.import_urls import ImportRefused
from medialib.imaging.sniff import SNIFF_BYTES, sniff
from tests.support import origin_server as serve
from tests.support.connections import record
from tests.support.origin_server import OriginServer
from tests.support.tls import ThrowawayAuthority

CAP = 1024 * 1024


def png(size: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


PNG = png()


def policy(*, deadline: float = 5.0, cap: int = CAP, allow_loopback: bool = True) -> FetchPolicy:
    return FetchPolicy(
        max_bytes=cap,
        deadline_seconds=deadline,
        connect_timeout_seconds=min(2.0, deadline),
        accept_head=lambda head: sniff(head) is not None,
        head_bytes=SNIFF_BYTES,
        allow_loopback=allow_loopback,
    )


class Resolver:
    """Answers from a list per host, one answer set per call (the next call gets the next set),
    and counts the calls: a rebinding DNS server in a few lines."""

    def __init__(self, **answers: list[list[str]]):
        self.answers = {host.replace("_", "-") + ".test": sets for host, sets in answers.items()}
        self.asked: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.asked.append(host)
        sets = self.answers[host]
        return sets[min(self.asked.count(host), len(sets)) - 1]


@pytest.fixture
def origin():
    with OriginServer() as server:
        yield server


def refused(url: str, fetch_policy: FetchPolicy, resolver=None) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        fetch(url, fetch_policy, resolver=resolver or Resolver())
    return caught.value


# ---------------------------------------------------------------- the happy path and the switch
def test_a_file_on_a_loopback_server_is_fetched_with_the_switch_on(origin, monkeypatch):
    origin.routes["/photo.png"] = serve.file(PNG, "image/png")
    attempts = record(monkeypatch)

    fetched = fetch(origin.url("/photo.png"), policy())

    assert fetched.data == PNG
    assert attempts.connections == [("127.0.0.1", origin.port)]


def test_with_the_switch_off_the_same_server_is_never_contacted(origin, monkeypatch):
    origin.routes["/photo.png"] = serve.file(PNG, "image/png")
    attempts = record(monkeypatch)

    error = refused(origin.url("/photo.png"), policy(allow_loopback=False))

    assert error.code == "url_blocked"
    assert attempts.connections == [] and origin.requests == []


def test_a_gzip_encoded_file_arrives_decoded(origin):
    origin.routes["/photo.png"] = serve.file(gzip.compress(PNG), "image/png", Content_Encoding="gzip")

    assert fetch(origin.url("/photo.png"), policy()).data == PNG


def test_a_deflate_encoded_file_arrives_decoded(origin):
    origin.routes["/photo.png"] = serve.file(zlib.compress(PNG), "image/png", Content_Encoding="deflate")

    assert fetch(origin.url("/photo.png"), policy()).data == PNG


# ---------------------------------------------------------------- one lookup, the checked address
def test_the_connection_goes_to_the_checked_address_with_the_name_in_host(origin, monkeypatch):
    origin.routes["/photo.png"] = serve.file(PNG, "image/png")
    resolver = Resolver(images=[["127.0.0.1"]])
    attempts = record(monkeypatch)

    fetched = fetch(f"http://images.test:{origin.port}/photo.png", policy(), resolver=resolver)

    assert fetched.data == PNG
    assert resolver.asked == ["images.test"]
    assert attempts.names_looked_up() == []  # nothing resolved the name a second time
    assert attempts.connections == [("127.0.0.1", origin.port)]
    assert origin.requests == [("/photo.png", f"images.test:{origin.port}")]


def test_dns_answers_that_change_between_lookups_are_never_asked_twice(origin, monkeypatch):
    """Rebinding: the first answer passes the check, every later one points at metadata. Only
    one lookup happens and the connection goes to the address that was checked."""
    origin.routes["/photo.png"] = serve.file(PNG, "image/png")
    resolver = Resolver(rebind=[["127.0.0.1"], ["169.254.169.254"], ["10.0.0.1"]])
    attempts = record(monkeypatch)

    fetched = fetch(f"http://rebind.test:{origin.port}/photo.png", policy(), resolver=resolver)

    assert fetched.data == PNG
    assert resolver.asked == ["rebind.test"]
    assert attempts.names_looked_up() == []
    assert attempts.connections == [("127.0.0.1", origin.port)]


def test_a_name_whose_first_lookup_is_bad_is_refused_before_connecting(monkeypatch):
    resolver = Resolver(rebind=[["169.254.169.254"], ["127.0.0.1"]])
    attempts = record(monkeypatch)

    error = refused("http://rebind.test/photo.png", policy(), resolver)

    assert error.code == "url_blocked"
    assert resolver.asked == ["rebind.test"] and attempts.connections == []


# ---------------------------------------------------------------- redirects
BLOCKED_LOCATIONS = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://0xa9fea9fe/latest/meta-data/",
    "http://10.0.0.1/photo.png",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://metadata.test/computeMetadata/v1/",
    "http://internal.test/photo.png",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_FLUSHALL",
    "http://user@127.0.0.1/photo.png",
    "http://100.64.0.1/photo.png",
]


@pytest.mark.parametrize("location", BLOCKED_LOCATIONS)
def test_a_redirect_to_a_blocked_target_is_refused_without_following_it(origin, monkeypatch, location):
    origin.routes["/go"] = serve.redirect(location)
    resolver = Resolver(metadata=[["169.254.169.254"]], internal=[["192.168.1.20"]])
    attempts = record(monkeypatch)

    error = refused(origin.url("/go"), policy(), resolver)

    assert error.code == "url_blocked", error.message
    assert attempts.connections == [("127.0.0.1", origin.port)]  # the first hop only
    assert [path for path, _ in origin.requests] == ["/go"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_up_to_three_redirects_are_followed_each_checked_again(origin, monkeypatch, status):
    origin.routes["/one"] = serve.redirect(origin.url("/two"), status)
    origin.routes["/two"] = serve.redirect(f"http://images.test:{origin.port}/three", status)
    origin.routes["/three"] = serve.redirect("/photo.png", status)  # relative
    origin.routes["/photo.png"] = serve.file(PNG, "image/png")
    resolver = Resolver(images=[["127.0.0.1"]])

    fetched = fetch(origin.url("/one"), policy(), resolver=resolver)

    assert fetched.data == PNG
    assert fetched.url == f"http://images.test:{origin.port}/photo.png"
    assert resolver.asked == ["images.test", "images.test"]  # one lookup per hop that names it


def test_a_fourth_redirect_is_not_followed(origin):
    for hop in range(4):
        origin.routes[f"/{hop}"] = serve.redirect(f"/{hop + 1}")
    origin.routes["/4"] = serve.file(PNG, "image/png")

    error = refused(origin.url("/0"), policy())

    assert error.code == "fetch_failed"
    assert "/4" not in [path for path, _ in origin.requests]


def test_a_redirect_without_a_location_fails(origin):
    origin.routes["/go"] = serve.status(302)

    assert refused(origin.url("/go"), policy()).code == "fetch_failed"


# ---------------------------------------------------------------- slow, endless and lying bodies
def test_a_slow_body_ends_at_the_deadline(origin):
    origin.routes["/slow.png"] = serve.dribble(PNG[:100], pause_seconds=0.05)

    assert refused(origin.url("/slow.png"), policy(deadline=1.0)).code == "fetch_timeout"


def test_headers_sent_a_byte_at_a_time_end_at_the_deadline(origin):
    """Each byte arrives well within the read timeout; only the deadline's watchdog ends it: the
    server finds the connection shut long before it has sent its 600 bytes (30 s)."""
    headers = serve.DribbledHeaders(pause_seconds=0.05, limit=600)
    origin.routes["/slow-headers.png"] = headers

    assert refused(origin.url("/slow-headers.png"), policy(deadline=1.0)).code == "fetch_timeout"
    assert headers.finished.wait(timeout=60)
    assert not headers.completed


def test_a_lookup_that_never_answers_ends_at_the_deadline(monkeypatch):
    released = threading.Event()

    def hanging_resolver(host: str) -> list[str]:
        released.wait(60)
        return ["127.0.0.1"]

    attempts = record(monkeypatch)
    try:
        error = refused("http://slow-dns.test/photo.png", policy(deadline=1.0), hanging_resolver)
    finally:
        released.set()

    assert error.code == "fetch_timeout"
    assert attempts.connections == []


def test_an_endless_body_ends_at_the_byte_cap(origin):
    origin.routes["/endless.png"] = serve.endless(PNG[:100])

    assert refused(origin.url("/endless.png"), policy(deadline=30.0)).code == "too_large"


def test_an_endless_body_ends_at_the_deadline_when_the_cap_is_far(origin):
    origin.routes["/endless.png"] = serve.endless(PNG[:100], chunk=b"\0" * 512)

    error = refused(origin.url("/endless.png"), policy(deadline=1.0, cap=10 * 1024**3))

    assert error.code in ("fetch_timeout", "too_large")  # whichever the machine's speed reaches first


@pytest.mark.parametrize("declared_length", [True, False])
def test_a_gzip_bomb_is_cut_at_the_cap_on_decoded_bytes(origin, declared_length):
    # About 64 KB on the wire, 64 MB decoded; the Content-Length (of the wire bytes) is far below the cap.
    origin.routes["/bomb.png"] = serve.gzip_bomb(PNG[:100], 64 * 1024 * 1024, declared_length)

    assert refused(origin.url("/bomb.png"), policy()).code == "too_large"


def test_a_content_length_over_the_cap_is_refused_before_the_body(origin):
    origin.routes["/big.png"] = serve.lying_length(CAP + 1, PNG)

    assert refused(origin.url("/big.png"), policy()).code == "too_large"


def test_a_content_length_shorter_than_the_body_bounds_what_is_read(origin):
    origin.routes["/short.png"] = serve.lying_length(len(PNG), PNG + b"\0" * (4 * CAP))

    assert fetch(origin.url("/short.png"), policy()).data == PNG


def test_a_content_length_longer_than_the_body_fails(origin):
    origin.routes["/cut.png"] = serve.lying_length(len(PNG) + 1000, PNG)

    assert refused(origin.url("/cut.png"), policy()).code == "fetch_failed"


def test_a_gzip_body_that_stops_early_fails(origin):
    origin.routes["/cut.png"] = serve.file(gzip.compress(PNG)[:-20], "image/png", Content_Encoding="gzip")

    assert refused(origin.url("/cut.png"), policy()).code == "fetch_failed"


def test_an_unknown_content_encoding_fails(origin):
    origin.routes["/photo.png"] = serve.file(PNG, "image/png", Content_Encoding="br")

    assert refused(origin.url("/photo.png"), policy()).code == "fetch_failed"


# ---------------------------------------------------------------- what is not a file we take
def test_a_page_that_is_not_media_is_refused_from_its_first_bytes(origin):
    origin.routes["/index.html"] = serve.file(b"<!doctype html><title>hi</title>" * 10, "image/png")

    assert refused(origin.url("/index.html"), policy()).code == "unsupported_type"


def test_an_endless_page_that_is_not_media_is_refused_before_the_cap(origin):
    origin.routes["/page"] = serve.endless(b"<html>" + b"x" * SNIFF_BYTES)

    assert refused(origin.url("/page"), policy(cap=10 * 1024**3, deadline=30.0)).code == "unsupported_type"


@pytest.mark.parametrize("status", [204, 403, 404, 500])
def test_an_answer_other_than_200_fails(origin, status):
    origin.routes["/photo.png"] = serve.status(status)

    assert refused(origin.url("/photo.png"), policy()).code == "fetch_failed"


def test_a_port_where_nothing_listens_fails(origin):
    with OriginServer() as closed:
        url = closed.url("/photo.png")

    assert refused(url, policy()).code == "fetch_failed"


# ---------------------------------------------------------------- TLS to the checked address
@pytest.fixture
def authority(tmp_path):
    return ThrowawayAuthority.create(tmp_path)


def test_https_connects_to_the_checked_address_and_checks_the_certificate_by_name(authority, monkeypatch):
    context, sni = authority.server_context("images.test")
    resolver = Resolver(images=[["127.0.0.1"]])
    attempts = record(monkeypatch)
    with OriginServer(tls=context) as server:
        server.routes["/photo.png"] = serve.file(PNG, "image/png")
        fetch_policy = dataclasses.replace(policy(), ca_file=str(authority.ca_file))

        fetched = fetch(server.url("/photo.png", host="images.test"), fetch_policy, resolver=resolver)

    assert fetched.data == PNG
    assert sni == ["images.test"]  # SNI carries the name, though the socket went to the IP
    assert attempts.connections == [("127.0.0.1", server.port)]
    assert attempts.names_looked_up() == []
    assert server.requests == [("/photo.png", f"images.test:{server.port}")]


def test_https_refuses_a_certificate_for_another_name(authority):
    context, _ = authority.server_context("other.test")
    with OriginServer(tls=context) as server:
        server.routes["/photo.png"] = serve.file(PNG, "image/png")
        fetch_policy = dataclasses.replace(policy(), ca_file=str(authority.ca_file))

        error = refused(
            server.url("/photo.png", host="images.test"), fetch_policy, Resolver(images=[["127.0.0.1"]])
        )

    assert error.code == "fetch_failed"
    assert server.requests == []


def test_https_refuses_a_certificate_from_an_unknown_authority(authority):
    context, _ = authority.server_context("images.test")
    with OriginServer(tls=context) as server:
        server.routes["/photo.png"] = serve.file(PNG, "image/png")

        error = refused(
            server.url("/photo.png", host="images.test"), policy(), Resolver(images=[["127.0.0.1"]])
        )

    assert error.code == "fetch_failed"
    assert server.requests == []
