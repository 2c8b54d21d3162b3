"""The remote-import URL rules on their own: what a good URL becomes, which addresses are public,
what the loopback switch admits, and the filename an import gets from its URL."""

from __future__ import annotations

import ipaddress

import pytest

from medialib.domain.import_urls import ImportRefused, check_address, embedded_ipv4, parse_import_url
from medialib.services.remote_imports import FALLBACK_FILENAME, filename_from_url


@pytest.mark.parametrize(
    ("url", "host", "port", "target", "host_header"),
    [
        (
            "https://images.example.com/a/b.jpg?w=1",
            "images.example.com",
            443,
            "/a/b.jpg?w=1",
            "images.example.com",
        ),
        ("HTTP://Images.Example.COM./a.jpg", "images.example.com", 80, "/a.jpg", "images.example.com"),
        (
            "http://images.example.com:443/a.jpg",
            "images.example.com",
            443,
            "/a.jpg",
            "images.example.com:443",
        ),
        ("https://bücher.example/x.png", "xn--bcher-kva.example", 443, "/x.png", "xn--bcher-kva.example"),
        ("http://93.184.215.14", "93.184.215.14", 80, "/", "93.184.215.14"),
        (
            "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/a.jpg",
            "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
            443,
            "/a.jpg",
            "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]",
        ),
        (
            "https://images.example.com/a.jpg#fragment",
            "images.example.com",
            443,
            "/a.jpg",
            "images.example.com",
        ),
    ],
)
def test_a_good_url_becomes_its_target(url, host, port, target, host_header):
    parsed = parse_import_url(url)

    assert (parsed.host, parsed.port, parsed.target, parsed.host_header) == (host, port, target, host_header)


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "8.8.8.8",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
        "::ffff:93.184.215.14",
        "64:ff9b::5db8:d70e",
        "2002:5db8:d70e::1",
    ],
)
def test_public_addresses_pass_in_every_form(address):
    check_address(ipaddress.ip_address(address), allow_loopback=False)


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("::ffff:127.0.0.1", "127.0.0.1"),
        ("::127.0.0.1", "127.0.0.1"),
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
        ("2002:0a00:0001::", "10.0.0.1"),
        ("::1", None),
        ("2606:2800::1", None),
        ("127.0.0.1", None),
    ],
)
def test_ipv6_forms_that_carry_an_ipv4_address_are_unwrapped(address, inner):
    found = embedded_ipv4(ipaddress.ip_address(address))

    assert (str(found) if found else None) == inner


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_the_switch_admits_the_forms_that_reach_this_machine(address):
    check_address(ipaddress.ip_address(address), allow_loopback=True)
    with pytest.raises(ImportRefused):
        check_address(ipaddress.ip_address(address), allow_loopback=False)


@pytest.mark.parametrize(
    ("url", "filename"),
    [
        ("https://shop.example/img/Red%20Mug.jpg?v=3", "Red Mug.jpg"),
        ("https://shop.example/", FALLBACK_FILENAME),
        ("https://shop.example", FALLBACK_FILENAME),
        ("https://shop.example/a/%2E%2E", FALLBACK_FILENAME),
        ("https://shop.example/a%2Fb.jpg", FALLBACK_FILENAME),
        ("https://shop.example/%E2%80%AEgpj.exe", FALLBACK_FILENAME),  # a bidi override
    ],
)
def test_an_import_is_named_after_its_url_when_that_makes_a_safe_filename(url, filename):
    assert filename_from_url(url) == filename
