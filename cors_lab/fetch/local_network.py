"""Local Network Access: when a page may reach a more private network (https://wicg.github.io/local-network-access/).

A request's *IP address space* is ``public``, ``local`` (private networks: a
home router, a company's intranet) or ``loopback`` (this machine). A page in
the public space that reaches ``local`` or ``loopback`` makes a *local network
request*, which browsers now gate: Chromium 142 and later ask the user for a
permission (separate ``local-network`` and ``loopback-network`` permissions
since 145) and refuse outright when the page is not a secure context; Firefox
153 asks too. ``local`` reaching ``loopback`` is not gated (both engines skip
it, observed with Chromium 156 and Firefox ESR 153).

Browsers decide by the IP address a connection reaches, after DNS. The lab
resolves nothing, so :func:`address_space_of_host` classifies what the URL
itself says (IP literals, ``localhost``, ``.local`` names) and leaves other
names to the caller (``Browser(address_spaces=...)``), which defaults them
to ``public``.

>>> address_space_of_host("192.168.1.20"), address_space_of_host("localhost")
('local', 'loopback')
>>> is_local_network_request(target="loopback", client="public")
True
>>> is_local_network_request(target="loopback", client="local")
False
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from cors_lab.fetch.urls import Origin

__all__ = [
    "ADDRESS_SPACES",
    "AddressSpace",
    "address_space_of_host",
    "ip_address_space",
    "is_local_network_request",
    "is_potentially_trustworthy",
    "permission_for",
]

AddressSpace = Literal["public", "local", "loopback"]
#: From least to most private.
ADDRESS_SPACES: tuple[AddressSpace, ...] = ("public", "local", "loopback")

# The non-public blocks, first match wins (the LNA spec's table, as Chromium 156 applies it).
_NON_PUBLIC: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, AddressSpace], ...] = tuple(
    (ipaddress.ip_network(block), space)
    for block, space in (
        ("::1/128", "loopback"),
        ("fc00::/7", "local"),  # unique local
        ("fe80::/10", "local"),  # link-local
        ("127.0.0.0/8", "loopback"),
        ("10.0.0.0/8", "local"),  # RFC 1918
        ("172.16.0.0/12", "local"),
        ("192.168.0.0/16", "local"),
        ("169.254.0.0/16", "local"),  # link-local
        ("0.0.0.0/32", "loopback"),  # "this host"
        ("0.0.0.0/8", "local"),
        ("::/128", "loopback"),  # unspecified, treated as 0.0.0.0
        ("100.64.0.0/10", "local"),  # carrier-grade NAT
        ("2001:db8::/32", "local"),  # documentation prefixes
        ("3fff::/20", "local"),
        ("fec0::/10", "local"),  # deprecated site-local
    )
)


def ip_address_space(address: str) -> AddressSpace:
    """The address space of an IP address (``"10.0.0.7"``, ``"::1"``, brackets allowed).

    >>> ip_address_space("127.0.0.1"), ip_address_space("10.1.2.3"), ip_address_space("8.8.8.8")
    ('loopback', 'local', 'public')
    """
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        raise ValueError(f"{address!r} is not an IP address (expected something like '127.0.0.1' or '[::1]')") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for network, space in _NON_PUBLIC:
        if ip.version == network.version and ip in network:
            return space
    return "public"


def address_space_of_host(host: str) -> AddressSpace | None:
    """What a URL's host says about its address space, or None when only DNS could tell.

    IP literals by the table; ``localhost`` and its subdomains are loopback;
    ``.local`` (mDNS) names are local. Any other name: None.

    >>> address_space_of_host("api.example.com") is None
    True
    """
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback"
    if host.endswith(".local"):
        return "local"
    try:
        return ip_address_space(host)
    except ValueError:
        return None


def is_local_network_request(*, target: AddressSpace, client: AddressSpace) -> bool:
    """Is a request from ``client``'s space to ``target``'s gated? Only public to local or loopback.

    The spec orders loopback above local, but Chromium (``IsLessPublicAddressSpaceLNA``) and
    Firefox (``network.lna.local-network-to-localhost.skip-checks``) both let a local page reach
    loopback; the lab follows them.
    """
    return client == "public" and target in ("local", "loopback")


def permission_for(target: AddressSpace) -> str:
    """The permission a page needs to reach ``target``: ``"loopback-network"`` or ``"local-network"``."""
    return "loopback-network" if target == "loopback" else "local-network"


def is_potentially_trustworthy(origin: Origin) -> bool:
    """https://w3c.github.io/webappsec-secure-contexts/#is-origin-trustworthy, for a page's origin.

    https and wss; loopback hosts (``localhost``, ``*.localhost``, 127.0.0.0/8, ``[::1]``).
    An opaque origin is not (its page may still be a secure context; the lab does not track that).

    >>> from cors_lab.fetch.urls import parse_origin
    >>> [is_potentially_trustworthy(parse_origin(o)) for o in ("https://a.example", "http://localhost:3000", "http://a.example")]
    [True, True, False]
    """
    if origin.opaque:
        return False
    if origin.scheme in ("https", "wss"):
        return True
    host = origin.host.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return ip.is_loopback
