"""Which URLs remote import may fetch, and which addresses it may connect to (pure rules, no I/O).

A URL is read the way a browser reads it (WHATWG): ``http://0x7f.1/``, ``http://2130706433/``
and ``http://0177.0.0.1/`` all name 127.0.0.1, so a host made only of numbers is parsed as an
IPv4 address here and judged like any other address, never handed to a resolver that might read
it differently. Every address a host resolves to must be global once the IPv6 forms that carry an
IPv4 address (mapped, compatible, NAT64, 6to4) are unwrapped; link-local and cloud metadata
addresses are refused whatever the policy says. Loopback is allowed only when the local stack
asks for it (``ALLOW_LOOPBACK_IMPORTS=1``).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = ("http", "https")
ALLOWED_PORTS = (80, 443)
DEFAULT_PORTS = {"http": 80, "https": 443}

# Instance metadata and platform endpoints: refused even where a policy would allow the range.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack instance metadata
        "169.254.170.2",  # ECS task metadata and credentials
        "169.254.169.253",  # Amazon-provided DNS
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "fd00:ec2::23",  # AWS time sync / DNS over IPv6
        "168.63.129.16",  # Azure wire server (a public-looking address)
        "100.100.100.200",  # Alibaba Cloud metadata
        "192.0.0.192",  # Oracle Cloud metadata
    )
)
# Ranges Python's ``is_global`` lets through on some versions but no import may reach.
_NEVER_GLOBAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "192.0.0.0/24",  # IETF protocol assignments
        "192.88.99.0/24",  # 6to4 relay anycast
        "198.18.0.0/15",  # benchmarking
        "240.0.0.0/4",  # reserved, and the broadcast address
        "64:ff9b:1::/48",  # local-use NAT64
        "2001::/23",  # IETF protocol assignments (Teredo, ORCHIDs, ...)
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local
        "fec0::/10",  # site-local (deprecated)
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
_IPV4_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$")


class ImportRefused(ValueError):
    """A URL that is not imported; ``code`` is its stable per-URL error code (``url_invalid``,
    ``url_blocked`` here; ``fetch_failed``, ``fetch_timeout``, ``too_large``, ``unsupported_type``
    from the fetch)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(message: str) -> ImportRefused:
    return ImportRefused("url_invalid", message)


def blocked(message: str) -> ImportRefused:
    return ImportRefused("url_blocked", message)


@dataclass(frozen=True)
class ImportTarget:
    """A URL that passed the syntactic rules: where to connect and what to ask for."""

    url: str
    scheme: str
    host: str  # lower-case ASCII host name, or the address for a literal
    port: int
    target: str  # path and query, as sent in the request line
    literal: IPAddress | None  # the address when the URL names one (no lookup then)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def parse_import_url(url: str, *, loopback_ports: bool = False) -> ImportTarget:
    """The target of ``url``, or :class:`ImportRefused` (``url_invalid`` or ``url_blocked``).

    ``loopback_ports`` (the local stack's switch) lets any port through here; the fetcher then
    allows a port other than 80/443 only when every address is loopback (:func:`check_port`)."""
    if len(url) > MAX_URL_LENGTH:
        raise invalid(f"is longer than {MAX_URL_LENGTH} characters")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise invalid("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise invalid("is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise blocked("only http and https URLs can be imported")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise blocked("must not carry a user name or password")
    port = DEFAULT_PORTS[scheme] if port is None else port
    if port not in ALLOWED_PORTS and not loopback_ports:
        raise blocked("only ports 80 and 443 can be used")
    host, literal = _host(parts)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return ImportTarget(url, scheme, host, port, target, literal)


def _host(parts: SplitResult) -> tuple[str, IPAddress | None]:
    raw = parts.hostname  # lower-cased, brackets removed
    if not raw:
        raise invalid("must name a host")
    if "[" in parts.netloc:
        if "%" in raw:
            raise invalid("must not name an IPv6 zone")
        try:
            address = ipaddress.IPv6Address(raw)
        except ValueError:
            raise invalid("holds an invalid IPv6 address") from None
        return str(address), address
    try:
        ascii_host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise invalid("holds an invalid host name") from None
    ascii_host = ascii_host.removesuffix(".")
    ipv4 = _whatwg_ipv4(ascii_host)
    if ipv4 is not None:
        return str(ipv4), ipv4
    if not _HOSTNAME.match(ascii_host):
        raise invalid("holds an invalid host name")
    return ascii_host, None


def _whatwg_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address a host made of numbers names (``127.1``, ``0x7f.1``, ``017700000001``), as a
    browser reads it; None for a name. A host that ends in a number but is no address is invalid."""
    labels = host.split(".")
    if not labels[-1] or not (labels[-1].isdigit() or _IPV4_PART.match(labels[-1])):
        return None
    if len(labels) > 4 or not all(_IPV4_PART.match(label) for label in labels):
        raise invalid("holds a host that ends in a number but is not an IPv4 address")
    numbers = [_ipv4_number(label) for label in labels]
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise invalid("holds an IPv4 address out of range")
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _ipv4_number(label: str) -> int:
    if label[:2].lower() == "0x":
        return int(label[2:] or "0", 16)
    if len(label) > 1 and label.startswith("0"):
        return int(label, 8)
    return int(label)


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def check_port(target: ImportTarget, addresses: list[IPAddress]) -> None:
    """Ports other than 80 and 443 only on loopback (a local HTTP server, with the switch on)."""
    if target.port not in ALLOWED_PORTS and not all(_reaches_loopback(a) for a in addresses):
        raise blocked("only ports 80 and 443 can be used")


def _reaches_loopback(address: IPAddress) -> bool:
    """127.0.0.0/8, ::1 and ::ffff:127.x: forms that reach this machine (not NAT64 or 6to4 of it)."""
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def check_address(address: IPAddress, *, allow_loopback: bool) -> None:
    """Nothing when an import may connect to ``address``; :class:`ImportRefused` (``url_blocked``)
    otherwise. ``allow_loopback`` admits loopback only (never private, link-local or metadata)."""
    inner = embedded_ipv4(address)
    for candidate in (address, inner) if inner is not None else (address,):
        if candidate in METADATA_ADDRESSES:
            raise blocked("points to a cloud metadata address")
        if candidate.is_link_local:
            raise blocked("points to a link-local address")
    judged = inner if inner is not None else address
    if judged.is_loopback:
        if allow_loopback and _reaches_loopback(address):
            return
        raise blocked("points to a loopback address")
    if (
        judged.is_private
        or judged.is_multicast
        or judged.is_reserved
        or judged.is_unspecified
        or not judged.is_global
        or any(judged in network for network in _NEVER_GLOBAL if network.version == judged.version)
    ):
        raise blocked("points to an address that is not public")
