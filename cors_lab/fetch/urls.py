"""URLs, origins and sites, as the URL Standard and HTML define them.

Facts that matter for CORS (URL Standard https://url.spec.whatwg.org/,
HTML https://html.spec.whatwg.org/multipage/browsers.html#origin):

- An origin is a (scheme, host, port) tuple, or *opaque* (``data:`` documents,
  sandboxed iframes, ``file:`` pages in Chromium and Firefox), which
  serializes as ``null``.
- Parsing canonicalizes: the scheme and host are lowercased, a default port
  (80 for http, 443 for https) becomes "no port", IPv4 hosts may be written
  in hex or octal (``0x7f.1`` is ``127.0.0.1``), IPv6 hosts are compressed and
  lowercased, and international domain names become punycode (UTS 46).
  The serialized origin in ``Origin`` and in ``Access-Control-Allow-Origin``
  must be that canonical form, byte for byte.
- *Same origin* compares the tuples; *same site* (schemeful) compares the
  scheme and the *registrable domain* (the domain one level below a public
  suffix: ``localhost:3000`` and ``localhost:8000`` are cross-origin but
  same-site; ``app.test`` and ``api.test`` are cross-site).

This is not a full WHATWG URL parser: it handles the special schemes a CORS
request can meet (http, https, ws, wss, ftp, file) and the opaque ones (data,
blob, about, javascript) as far as their origins go.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

import idna
from publicsuffixlist import PublicSuffixList

__all__ = [
    "DEFAULT_PORTS",
    "URL",
    "InvalidURL",
    "Origin",
    "origin_of",
    "parse_origin",
    "parse_page_origin",
    "parse_url",
    "same_origin",
    "same_site",
]

#: https://url.spec.whatwg.org/#special-scheme
DEFAULT_PORTS: dict[str, int | None] = {"ftp": 21, "file": None, "http": 80, "https": 443, "ws": 80, "wss": 443}

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
# https://url.spec.whatwg.org/#forbidden-domain-code-point
_FORBIDDEN_DOMAIN = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")
_C0_OR_SPACE = "".join(chr(i) for i in range(0x21))


class InvalidURL(ValueError):
    """A string that does not parse as a URL."""


@dataclass(frozen=True)
class Origin:
    """An origin: a ``(scheme, host, port)`` tuple, or opaque.

    ``port`` is None for the scheme's default port. Opaque origins are never
    same-origin with anything but themselves, and serialize as ``null``.
    """

    scheme: str = ""
    host: str = ""
    port: int | None = None
    opaque: bool = False

    def serialize(self) -> str:
        """The ASCII serialization: ``scheme://host[:port]``, or ``null`` for an opaque origin."""
        if self.opaque:
            return "null"
        return f"{self.scheme}://{self.host}" + (f":{self.port}" if self.port is not None else "")

    __str__ = serialize

    @property
    def site(self) -> tuple[str, str] | Origin:
        """The schemeful site: ``(scheme, registrable domain or host)``, or the opaque origin itself."""
        if self.opaque:
            return self
        return (self.scheme, registrable_domain(self.host) or self.host)


@dataclass(frozen=True)
class URL:
    """A parsed special URL (http, https, ws, wss, ftp, file) or an opaque-origin one.

    ``host`` is serialized (lowercase domain, punycode, dotted IPv4, bracketed
    IPv6); ``port`` is None for the default port.
    """

    scheme: str
    username: str = ""
    password: str = ""
    host: str = ""
    port: int | None = None
    path: str = "/"
    query: str | None = None
    fragment: str | None = None
    opaque_path: str | None = None

    @property
    def includes_credentials(self) -> bool:
        """https://url.spec.whatwg.org/#include-credentials"""
        return bool(self.username or self.password)

    @property
    def origin(self) -> Origin:
        """https://url.spec.whatwg.org/#concept-url-origin"""
        if self.scheme == "blob" and self.opaque_path is not None:
            try:
                inner = parse_url(self.opaque_path)
            except InvalidURL:
                return Origin(opaque=True)
            return inner.origin if inner.scheme in ("http", "https", "file") else Origin(opaque=True)
        if self.scheme in ("http", "https", "ws", "wss", "ftp"):
            return Origin(self.scheme, self.host, self.port)
        # file: is left to the implementation; Chromium and Firefox send "null".
        return Origin(opaque=True)

    def serialize(self, *, exclude_fragment: bool = False) -> str:
        """https://url.spec.whatwg.org/#concept-url-serializer"""
        if self.opaque_path is not None:
            out = f"{self.scheme}:{self.opaque_path}"
        else:
            out = f"{self.scheme}:"
            if self.host or self.scheme == "file":
                out += "//"
                if self.includes_credentials:
                    out += self.username + (f":{self.password}" if self.password else "") + "@"
                out += self.host + (f":{self.port}" if self.port is not None else "")
            out += self.path
        if self.query is not None:
            out += "?" + self.query
        if self.fragment is not None and not exclude_fragment:
            out += "#" + self.fragment
        return out

    __str__ = serialize

    @property
    def path_and_query(self) -> str:
        return self.path + (f"?{self.query}" if self.query is not None else "")


# -- Hosts -------------------------------------------------------------------------------------


def _parse_ipv4_number(part: str) -> int | None:
    # https://url.spec.whatwg.org/#ipv4-number-parser
    if part == "":
        return None
    radix = 10
    if part[:2] in ("0x", "0X"):
        part, radix = part[2:], 16
    elif len(part) > 1 and part[0] == "0":
        part, radix = part[1:], 8
    if part == "":
        return 0
    digits = {10: "0123456789", 16: "0123456789abcdefABCDEF", 8: "01234567"}[radix]
    if any(ch not in digits for ch in part):
        return None
    return int(part, radix)


def _ends_in_a_number(host: str) -> bool:
    # https://url.spec.whatwg.org/#ends-in-a-number-checker
    parts = host.split(".")
    if parts[-1] == "":
        if len(parts) == 1:
            return False
        parts.pop()
    last = parts[-1]
    if last and all(ch in "0123456789" for ch in last):
        return True
    return last[:2] in ("0x", "0X") and all(ch in "0123456789abcdefABCDEF" for ch in last[2:])


def _parse_ipv4(host: str) -> str:
    # https://url.spec.whatwg.org/#concept-ipv4-parser
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        raise InvalidURL(f"IPv4 address {host!r} has more than four parts")
    numbers = []
    for part in parts:
        number = _parse_ipv4_number(part)
        if number is None:
            raise InvalidURL(f"IPv4 address {host!r} has a part that is not a number: {part!r}")
        numbers.append(number)
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise InvalidURL(f"IPv4 address {host!r} is out of range")
    address = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        address += n * 256 ** (3 - i)
    return ".".join(str((address >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def _serialize_ipv6(address: ipaddress.IPv6Address) -> str:
    # https://url.spec.whatwg.org/#concept-ipv6-serializer: compress the first
    # longest run of two or more zero pieces, lowercase hex, no leading zeros.
    pieces = [int.from_bytes(address.packed[i : i + 2], "big") for i in range(0, 16, 2)]
    best_start, best_len, start = -1, 1, None
    for i, piece in enumerate([*pieces, 1]):
        if piece == 0 and start is None:
            start = i
        elif piece != 0 and start is not None:
            if i - start > best_len:
                best_start, best_len = start, i - start
            start = None
    text = [format(p, "x") for p in pieces]
    if best_start >= 0:
        left = ":".join(text[:best_start])
        right = ":".join(text[best_start + best_len :])
        return f"[{left}::{right}]"
    return "[" + ":".join(text) + "]"


@functools.lru_cache(maxsize=2048)
def parse_host(text: str, *, special: bool = True) -> str:
    """https://url.spec.whatwg.org/#concept-host-parser, serialized.

    >>> parse_host("EXAMPLE.com"), parse_host("0x7f.1"), parse_host("[0:0:0:0:0:0:0:1]")
    ('example.com', '127.0.0.1', '[::1]')
    """
    if text.startswith("["):
        if not text.endswith("]"):
            raise InvalidURL(f"IPv6 host {text!r} has no closing ']'")
        try:
            return _serialize_ipv6(ipaddress.IPv6Address(text[1:-1]))
        except ValueError:
            raise InvalidURL(f"{text!r} is not a valid IPv6 address") from None
    if not special:
        return quote(text, safe="!$&'()*+,;=:-._~%")
    domain = unquote(text)
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True, transitional=False, std3_rules=False).decode("ascii")
        except idna.IDNAError as exc:
            raise InvalidURL(f"host {text!r} is not a valid international domain name ({exc})") from None
    domain = domain.lower()
    if domain == "" or _FORBIDDEN_DOMAIN.search(domain):
        raise InvalidURL(f"host {text!r} is empty or contains a character a host cannot have")
    if _ends_in_a_number(domain):
        return _parse_ipv4(domain)
    return domain


_psl = PublicSuffixList()


@functools.lru_cache(maxsize=2048)
def registrable_domain(host: str) -> str | None:
    """The host's registrable domain (public suffix plus one label), or None (IP addresses, ``localhost``).

    >>> registrable_domain("api.example.co.uk"), registrable_domain("localhost")
    ('example.co.uk', None)
    """
    if host.startswith("[") or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", host):
        return None
    trailing = host.endswith(".")
    found = _psl.privatesuffix(host.rstrip(".")) if host.strip(".") else None
    if found is None:
        return None
    return found + ("." if trailing else "")


# -- URLs --------------------------------------------------------------------------------------

_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


@functools.lru_cache(maxsize=2048)
def parse_url(text: str, base: str | None = None) -> URL:
    """Parse ``text`` (relative to ``base`` when given) the way a browser does, as far as origins need.

    >>> str(parse_url("HTTP://Example.COM:80/a b?q#f"))
    'http://example.com/a%20b?q#f'
    >>> str(parse_url("/items?page=2", "http://localhost:8000/x"))
    'http://localhost:8000/items?page=2'
    """
    if not isinstance(text, str):
        raise TypeError(f"URL must be a string, not {type(text).__name__} {text!r}")
    # Leading/trailing C0 controls and spaces are stripped; tabs and newlines removed.
    cleaned = text.strip(_C0_OR_SPACE).replace("\t", "").replace("\n", "").replace("\r", "")
    match = _SCHEME.match(cleaned)
    if match and cleaned[match.end() : match.end() + 1] == ":":
        scheme = match.group().lower()
        rest = cleaned[match.end() + 1 :]
        return _parse_with_scheme(scheme, rest, text)
    if base is None:
        raise InvalidURL(f"{text!r} is not an absolute URL (it has no scheme such as 'http:')")
    return _parse_relative(cleaned, parse_url(base), text)


def _split_fragment_query(rest: str) -> tuple[str, str | None, str | None]:
    fragment = None
    if "#" in rest:
        rest, fragment = rest.split("#", 1)
    query = None
    if "?" in rest:
        rest, query = rest.split("?", 1)
    return rest, query, fragment


def _normalize_path(path: str) -> str:
    # https://url.spec.whatwg.org/#path-state: resolve "." and ".." segments.
    segments = path.split("/")[1:] if path.startswith("/") else path.split("/")
    out: list[str] = []
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        lowered = segment.lower()
        if lowered in ("..", ".%2e", "%2e.", "%2e%2e"):
            if out:
                out.pop()
            if last:
                out.append("")
        elif lowered in (".", "%2e"):
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/" + "/".join(out)


def _parse_with_scheme(scheme: str, rest: str, original: str) -> URL:
    if scheme not in DEFAULT_PORTS:
        body, query, fragment = _split_fragment_query(rest)
        return URL(scheme=scheme, opaque_path=body, query=query, fragment=fragment)
    rest = rest.replace("\\", "/")
    if scheme == "file":
        body, query, fragment = _split_fragment_query(rest.lstrip("/"))
        return URL(scheme="file", path=_normalize_path("/" + body), query=query, fragment=fragment)
    rest = rest.lstrip("/")
    authority_end = len(rest)
    for sep in "/?#":
        index = rest.find(sep)
        if index != -1:
            authority_end = min(authority_end, index)
    authority, remainder = rest[:authority_end], rest[authority_end:]
    username = password = ""
    if "@" in authority:
        userinfo, authority = authority.rsplit("@", 1)
        username, _, password = userinfo.partition(":")
    if authority.startswith("["):
        close = authority.find("]")
        host_text, port_text = authority[: close + 1], authority[close + 1 :]
        if port_text and not port_text.startswith(":"):
            raise InvalidURL(f"{original!r}: unexpected text after the IPv6 host")
        port_text = port_text[1:]
    else:
        host_text, _, port_text = authority.partition(":")
        if ":" in port_text:
            raise InvalidURL(f"{original!r} has an invalid port {port_text!r}")
    if host_text == "":
        raise InvalidURL(f"{original!r} has no host")
    try:
        host = parse_host(host_text)
    except InvalidURL as exc:
        raise InvalidURL(f"{original!r}: {exc}") from None
    port: int | None = None
    if port_text:
        if not port_text.isdigit() or not port_text.isascii():
            raise InvalidURL(f"{original!r} has an invalid port {port_text!r}")
        port = int(port_text)
        if port > 65535:
            raise InvalidURL(f"{original!r} has a port above 65535")
        if port == DEFAULT_PORTS[scheme]:
            port = None
    path, query, fragment = _split_fragment_query(remainder)
    return URL(
        scheme=scheme,
        username=quote(username, safe="%!$&'()*+,;=-._~"),
        password=quote(password, safe="%!$&'()*+,;=-._~"),
        host=host,
        port=port,
        path=quote(_normalize_path(path or "/"), safe=_PATH_SAFE),
        query=None if query is None else quote(query, safe=_QUERY_SAFE),
        fragment=fragment,
    )


def _parse_relative(text: str, base: URL, original: str) -> URL:
    if base.opaque_path is not None:
        raise InvalidURL(f"{original!r} cannot be resolved against {base.serialize()!r}")
    text = text.replace("\\", "/") if base.scheme in DEFAULT_PORTS else text
    if text.startswith("//"):
        return _parse_with_scheme(base.scheme, text, original)
    path, query, fragment = _split_fragment_query(text)
    if path == "":
        new_path = base.path
        if query is None:
            query = base.query
    elif path.startswith("/"):
        new_path = path
    else:
        new_path = base.path.rsplit("/", 1)[0] + "/" + path
    return URL(
        scheme=base.scheme,
        username=base.username,
        password=base.password,
        host=base.host,
        port=base.port,
        path=quote(_normalize_path(new_path), safe=_PATH_SAFE),
        query=None if query is None else quote(query, safe=_QUERY_SAFE),
        fragment=fragment,
    )


# -- Origins -----------------------------------------------------------------------------------


def parse_origin(value: str | Origin) -> Origin:
    """An origin from a URL or a serialized origin; ``"null"`` is an opaque origin.

    >>> parse_origin("http://LOCALHOST:3000/page").serialize()
    'http://localhost:3000'
    """
    if isinstance(value, Origin):
        return value
    if not isinstance(value, str):
        raise TypeError(f"origin must be a string such as 'http://localhost:3000', not {type(value).__name__} {value!r}")
    if value.strip() == "null":
        return Origin(opaque=True)
    try:
        return parse_url(value).origin
    except InvalidURL as exc:
        raise InvalidURL(f"{value!r} is not an origin or URL ({exc}); expected e.g. 'http://localhost:3000'") from None


def parse_page_origin(value: str | Origin) -> Origin:
    """The origin of a page given as ``"http://localhost:3000"`` (or a page URL), or ``"null"`` for an opaque one.

    Unlike :func:`parse_origin`, text such as ``"localhost:3000"`` (which a URL
    parser reads as the scheme ``localhost:``) is refused with a hint.
    """
    origin = parse_origin(value)
    if origin.opaque and isinstance(value, str) and value.strip() != "null":
        scheme = value.split(":", 1)[0].lower()
        if scheme not in ("data", "file", "about", "blob", "javascript"):
            raise InvalidURL(f"{value!r} is not an origin; did you mean 'http://{value}'? (an opaque origin is written 'null')")
    return origin


def origin_of(url: str) -> str:
    """The serialized origin of ``url``: what a browser sends in ``Origin`` for a page at that URL.

    >>> origin_of("https://example.com:443/a"), origin_of("http://[0:0:0:0:0:0:0:1]:8080/")
    ('https://example.com', 'http://[::1]:8080')
    >>> origin_of("data:text/html,hi")
    'null'

    Like ``new URL(...)`` in a browser, ``"localhost:3000"`` parses as a URL
    with the scheme ``localhost:``, whose origin is opaque (``'null'``):
    write ``"http://localhost:3000"``.
    """
    return parse_origin(url).serialize()


def same_origin(a: str | Origin, b: str | Origin) -> bool:
    """https://html.spec.whatwg.org/multipage/browsers.html#same-origin (URLs or origins).

    Two opaque origins given as text (``"null"``) are never the same origin.

    >>> same_origin("http://localhost:3000", "http://localhost:3000/app")
    True
    >>> same_origin("http://localhost:3000", "http://127.0.0.1:3000")
    False
    """
    first, second = parse_origin(a), parse_origin(b)
    if first.opaque or second.opaque:
        return first is second
    return first == second


def same_site(a: str | Origin, b: str | Origin) -> bool:
    """https://html.spec.whatwg.org/multipage/browsers.html#same-site (schemeful).

    >>> same_site("http://localhost:3000", "http://localhost:8000")
    True
    >>> same_site("http://app.test", "http://api.test")
    False
    >>> same_site("https://app.example.com", "https://api.example.com")
    True
    """
    first, second = parse_origin(a), parse_origin(b)
    if first.opaque or second.opaque:
        return first is second
    return first.site == second.site
