"""Methods and headers: the Fetch Standard's safelists, forbidden names and list parsing.

Every function here is pure and named after the Fetch Standard's concept;
each docstring links its anchor (https://fetch.spec.whatwg.org/#...).
Header lists are tuples of ``(name, value)`` pairs in wire order.

Engines add to the spec in places (Chromium safelists a few client-hint
headers); those additions come in through the ``extra_safelisted`` argument,
so the spec's own rules stay visible here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

__all__ = [
    "FORBIDDEN_RESPONSE_HEADER_NAMES",
    "ExtraSafelist",
    "MimeType",
    "cors_unsafe_request_header_names",
    "extract_header_list_values",
    "is_cors_non_wildcard_request_header_name",
    "is_cors_safelisted_method",
    "is_cors_safelisted_request_header",
    "is_cors_safelisted_response_header_name",
    "is_cors_unsafe_request_header_byte",
    "is_forbidden_method",
    "is_forbidden_request_header",
    "is_forbidden_response_header_name",
    "is_no_cors_safelisted_request_header",
    "is_privileged_no_cors_request_header_name",
    "normalize_method",
    "parse_mime_type",
    "parse_single_range_header_value",
]

Headers = tuple[tuple[str, str], ...]
#: ``(name lowercased, value) -> True`` if an engine safelists the header beyond the spec.
ExtraSafelist = Callable[[str, str], bool]

# -- Methods -----------------------------------------------------------------------------------

_NORMALIZED_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})


def is_cors_safelisted_method(method: str) -> bool:
    """https://fetch.spec.whatwg.org/#cors-safelisted-method: ``GET``, ``HEAD`` or ``POST``, byte for byte."""
    return method in ("GET", "HEAD", "POST")


def is_forbidden_method(method: str) -> bool:
    """https://fetch.spec.whatwg.org/#forbidden-method: ``CONNECT``, ``TRACE`` or ``TRACK``, any case."""
    return method.upper() in ("CONNECT", "TRACE", "TRACK")


def normalize_method(method: str) -> str:
    """https://fetch.spec.whatwg.org/#concept-method-normalize

    Only the six methods the spec names are uppercased: ``delete`` becomes
    ``DELETE``, but ``patch`` stays ``patch``.

    >>> normalize_method("delete"), normalize_method("patch")
    ('DELETE', 'patch')
    """
    upper = method.upper()
    return upper if upper in _NORMALIZED_METHODS else method


# -- MIME types (MIME Sniffing Standard) -------------------------------------------------------

_HTTP_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HTTP_QUOTED_STRING_CHARS = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_HTTP_WHITESPACE = " \t\r\n"


@dataclass(frozen=True)
class MimeType:
    """A parsed MIME type: ``type/subtype`` and its parameters (lowercased names)."""

    type: str
    subtype: str
    parameters: tuple[tuple[str, str], ...] = field(default=())

    @property
    def essence(self) -> str:
        """https://mimesniff.spec.whatwg.org/#mime-type-essence"""
        return f"{self.type}/{self.subtype}"


@functools.lru_cache(maxsize=1024)
def parse_mime_type(text: str) -> MimeType | None:
    """https://mimesniff.spec.whatwg.org/#parse-a-mime-type (None for failure).

    >>> parse_mime_type("Text/Plain;charset=UTF-8").essence
    'text/plain'
    >>> parse_mime_type("application/json, text/plain") is None
    True
    """
    # 1. Strip leading and trailing HTTP whitespace.
    text = text.strip(_HTTP_WHITESPACE)
    # 2-5. The type: code points up to "/", a non-empty token.
    slash = text.find("/")
    if slash <= 0 or not _HTTP_TOKEN.fullmatch(text[:slash]):
        return None
    type_ = text[:slash]
    rest = text[slash + 1 :]
    # 6-9. The subtype: up to ";", trailing whitespace stripped, a non-empty token.
    semicolon = rest.find(";")
    subtype = (rest if semicolon == -1 else rest[:semicolon]).rstrip(_HTTP_WHITESPACE)
    if not subtype or not _HTTP_TOKEN.fullmatch(subtype):
        return None
    parameters: dict[str, str] = {}
    position = len(rest) if semicolon == -1 else semicolon
    # 11. Parameters: each "; name=value", invalid ones skipped, first one wins.
    while position < len(rest):
        position += 1  # past ";"
        while position < len(rest) and rest[position] in _HTTP_WHITESPACE:
            position += 1
        start = position
        while position < len(rest) and rest[position] not in ";=":
            position += 1
        name = rest[start:position].lower()
        if position < len(rest) and rest[position] == ";":
            continue
        if position >= len(rest):
            break
        position += 1  # past "="
        if position < len(rest) and rest[position] == '"':
            value, position = _collect_quoted_string(rest, position)
            while position < len(rest) and rest[position] != ";":
                position += 1
        else:
            start = position
            while position < len(rest) and rest[position] != ";":
                position += 1
            value = rest[start:position].rstrip(_HTTP_WHITESPACE)
            if not value:
                continue
        if (
            name
            and _HTTP_TOKEN.fullmatch(name)
            and _HTTP_QUOTED_STRING_CHARS.fullmatch(value)
            and name not in parameters
        ):
            parameters[name] = value
    return MimeType(type_.lower(), subtype.lower(), tuple(parameters.items()))


def _collect_quoted_string(text: str, position: int) -> tuple[str, int]:
    # https://fetch.spec.whatwg.org/#collect-an-http-quoted-string (extract-value true)
    value = ""
    position += 1
    while position < len(text):
        char = text[position]
        if char == '"':
            return value, position + 1
        if char == "\\":
            position += 1
            if position >= len(text):
                return value + "\\", position
            value += text[position]
        else:
            value += char
        position += 1
    return value, position


# -- Request headers ---------------------------------------------------------------------------

_UNSAFE_BYTES = frozenset('"():<>?@[\\]{}\x7f') | frozenset(chr(c) for c in range(0x20) if c != 0x09)
_LANGUAGE_CHARS = re.compile(r"[0-9A-Za-z *,\-.;=]*")
_SAFELISTED_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})


def is_cors_unsafe_request_header_byte(char: str) -> bool:
    """https://fetch.spec.whatwg.org/#cors-unsafe-request-header-byte"""
    return char in _UNSAFE_BYTES


def parse_single_range_header_value(value: str, *, allow_whitespace: bool = False) -> tuple[int | None, int | None] | None:
    """https://fetch.spec.whatwg.org/#simple-range-header-value (None for failure).

    >>> parse_single_range_header_value("bytes=0-499"), parse_single_range_header_value("bytes=-500")
    ((0, 499), (None, 500))
    """
    ws = " \t" if allow_whitespace else ""
    rest = value
    if not rest.startswith("bytes"):
        return None
    rest = rest[5:].lstrip(ws)
    if not rest.startswith("="):
        return None
    rest = rest[1:].lstrip(ws)
    match = re.match(r"[0-9]*", rest)
    start_text = match.group() if match else ""
    rest = rest[len(start_text) :].lstrip(ws)
    if not rest.startswith("-"):
        return None
    rest = rest[1:].lstrip(ws)
    match = re.match(r"[0-9]*", rest)
    end_text = match.group() if match else ""
    rest = rest[len(end_text) :].lstrip(ws)
    if rest:
        return None
    if not start_text and not end_text:
        return None
    start = int(start_text) if start_text else None
    end = int(end_text) if end_text else None
    if start is not None and end is not None and start > end:
        return None
    return start, end


def is_cors_safelisted_request_header(name: str, value: str, *, extra_safelisted: ExtraSafelist | None = None) -> bool:
    """https://fetch.spec.whatwg.org/#cors-safelisted-request-header

    >>> is_cors_safelisted_request_header("Content-Type", "text/plain;charset=UTF-8")
    True
    >>> is_cors_safelisted_request_header("Content-Type", "application/json")
    False
    """
    # 1. A value longer than 128 bytes is never safelisted.
    if len(value.encode("latin-1", errors="replace")) > 128:
        return False
    lowered = name.lower()
    # 2. Per name.
    if lowered == "accept":
        return not any(ch in _UNSAFE_BYTES for ch in value)
    if lowered in ("accept-language", "content-language"):
        return bool(_LANGUAGE_CHARS.fullmatch(value))
    if lowered == "content-type":
        if any(ch in _UNSAFE_BYTES for ch in value):
            return False
        mime = parse_mime_type(value)
        return mime is not None and mime.essence in _SAFELISTED_CONTENT_TYPES
    if lowered == "range":
        parsed = parse_single_range_header_value(value, allow_whitespace=False)
        # A range without a first byte position is not safelisted.
        return parsed is not None and parsed[0] is not None
    if extra_safelisted is not None:
        return extra_safelisted(lowered, value)
    return False


def is_no_cors_safelisted_request_header(name: str, value: str) -> bool:
    """https://fetch.spec.whatwg.org/#no-cors-safelisted-request-header: the four names a no-cors request keeps."""
    if name.lower() not in ("accept", "accept-language", "content-language", "content-type"):
        return False
    return is_cors_safelisted_request_header(name, value)


def is_privileged_no_cors_request_header_name(name: str) -> bool:
    """https://fetch.spec.whatwg.org/#privileged-no-cors-request-header-name: ``Range``."""
    return name.lower() == "range"


def is_cors_non_wildcard_request_header_name(name: str) -> bool:
    """https://fetch.spec.whatwg.org/#cors-non-wildcard-request-header-name: ``Authorization``."""
    return name.lower() == "authorization"


def cors_unsafe_request_header_names(headers: Iterable[tuple[str, str]], *, extra_safelisted: ExtraSafelist | None = None) -> list[str]:
    """https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names

    Sorted, lowercased and without duplicates; past 1024 bytes of safelisted
    values, the safelisted names count as unsafe too.

    >>> cors_unsafe_request_header_names([("X-B", "1"), ("x-a", "2"), ("Content-Type", "application/json"), ("Accept", "text/html")])
    ['content-type', 'x-a', 'x-b']
    """
    unsafe: list[str] = []
    potentially_unsafe: list[str] = []
    safelist_value_size = 0
    for name, value in headers:
        if not is_cors_safelisted_request_header(name, value, extra_safelisted=extra_safelisted):
            unsafe.append(name)
        else:
            potentially_unsafe.append(name)
            safelist_value_size += len(value.encode("latin-1", errors="replace"))
    if safelist_value_size > 1024:
        unsafe.extend(potentially_unsafe)
    # https://fetch.spec.whatwg.org/#convert-header-names-to-a-sorted-lowercase-set
    return sorted({name.lower() for name in unsafe})


_FORBIDDEN_REQUEST_HEADER_NAMES = frozenset(
    {
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
        "connection",
        "content-length",
        "cookie",
        "cookie2",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
    }
)
_METHOD_OVERRIDE_HEADERS = frozenset({"x-http-method", "x-http-method-override", "x-method-override"})


def is_forbidden_request_header(name: str, value: str) -> bool:
    """https://fetch.spec.whatwg.org/#forbidden-request-header: headers script may not set.

    >>> is_forbidden_request_header("Cookie", "a=1"), is_forbidden_request_header("Sec-Foo", "x")
    (True, True)
    >>> is_forbidden_request_header("X-HTTP-Method-Override", "PUT, TRACE")
    True
    """
    lowered = name.lower()
    if lowered in _FORBIDDEN_REQUEST_HEADER_NAMES or lowered.startswith(("proxy-", "sec-")):
        return True
    if lowered in _METHOD_OVERRIDE_HEADERS:
        # Forbidden when any comma-separated value is a forbidden method.
        return any(is_forbidden_method(part.strip(" \t")) for part in value.split(","))
    return False


# -- Response headers --------------------------------------------------------------------------

_SAFELISTED_RESPONSE_HEADER_NAMES = frozenset(
    {"cache-control", "content-language", "content-length", "content-type", "expires", "last-modified", "pragma"}
)
#: https://fetch.spec.whatwg.org/#forbidden-response-header-name
FORBIDDEN_RESPONSE_HEADER_NAMES = frozenset({"set-cookie", "set-cookie2"})


def is_forbidden_response_header_name(name: str) -> bool:
    """https://fetch.spec.whatwg.org/#forbidden-response-header-name: ``Set-Cookie``, ``Set-Cookie2``."""
    return name.lower() in FORBIDDEN_RESPONSE_HEADER_NAMES


def is_cors_safelisted_response_header_name(name: str, exposed: Iterable[str] = ()) -> bool:
    """https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name

    The seven always-readable names, plus any name the response exposed
    (``Access-Control-Expose-Headers``) that is not a forbidden response-header name.
    """
    lowered = name.lower()
    if lowered in _SAFELISTED_RESPONSE_HEADER_NAMES:
        return True
    return lowered not in FORBIDDEN_RESPONSE_HEADER_NAMES and lowered in {e.lower() for e in exposed}


# -- Header list values ------------------------------------------------------------------------


class ParseFailure:
    """The "failure" result of extracting header list values."""

    def __repr__(self) -> str:
        return "FAILURE"

    def __bool__(self) -> bool:
        return False


FAILURE = ParseFailure()


def get_decode_split(value: str) -> list[str]:
    """https://fetch.spec.whatwg.org/#header-value-get-decode-and-split: commas outside quoted strings split."""
    if '"' not in value:
        return [part.strip(" \t") for part in value.split(",")]
    values: list[str] = []
    current = ""
    position = 0
    while position < len(value):
        char = value[position]
        if char == '"':
            quoted, end = _collect_quoted_string_raw(value, position)
            current += quoted
            position = end
            continue
        if char == ",":
            values.append(current.strip(" \t"))
            current = ""
        else:
            current += char
        position += 1
    values.append(current.strip(" \t"))
    return values


def _collect_quoted_string_raw(text: str, position: int) -> tuple[str, int]:
    # Quoted string kept as written (extract-value false).
    start = position
    position += 1
    while position < len(text):
        if text[position] == "\\":
            position += 2
            continue
        if text[position] == '"':
            return text[start : position + 1], position + 1
        position += 1
    return text[start:], position


def extract_header_list_values(headers: Headers, name: str) -> list[str] | None | ParseFailure:
    """https://fetch.spec.whatwg.org/#extract-header-list-values for a list of tokens.

    None when the header is absent; ``FAILURE`` when an item is not a token
    (``Access-Control-Allow-Methods: PUT DELETE``); empty items are dropped.

    >>> extract_header_list_values((("Access-Control-Allow-Methods", "PUT, ,DELETE"),), "access-control-allow-methods")
    ['PUT', 'DELETE']
    >>> extract_header_list_values((("Access-Control-Allow-Methods", "PUT DELETE"),), "access-control-allow-methods")
    FAILURE
    """
    wanted = name.lower()
    lines = [value for key, value in headers if key.lower() == wanted]
    if not lines:
        return None
    items: list[str] = []
    for item in get_decode_split(", ".join(lines)):
        if item == "":
            continue
        if not _HTTP_TOKEN.fullmatch(item):
            return FAILURE
        items.append(item)
    return items
