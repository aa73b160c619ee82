"""HTTP messages as they cross the wire: requests, responses and exchanges.

Facts that shape the representation (RFC 9110 section 5, Fetch "header list"):

- Field names are case-insensitive, but a wire capture shows the case that was
  sent, so each message keeps its headers as an ordered tuple of ``(name,
  value)`` pairs with the original case, order and duplicate lines.
- A reader (a browser, ``fetch``'s ``Headers.get``) sees one value per name:
  the values of every line with that name, joined with ``", "``. That is what
  :meth:`Request.header` and :meth:`Response.header` return. It is also why
  two ``Access-Control-Allow-Origin`` lines can never pass the CORS check.
- HTTP/1.1 field names are tokens and field values are single lines of
  latin-1 octets; anything else cannot be sent, so it is refused here with a
  message that names the value, before any app or server sees it.
"""

from __future__ import annotations

import functools
import re
import traceback as traceback_module
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Union
from urllib.parse import quote, urlsplit

__all__ = [
    "AppError",
    "Exchange",
    "HeaderPairs",
    "HeadersInput",
    "Request",
    "Response",
    "header_list_get",
    "normalize_headers",
    "validate_method",
]

HeaderPairs = tuple[tuple[str, str], ...]
HeadersInput = Union[Mapping[str, str], Iterable[tuple[str, str]], None]

# RFC 9110 section 5.6.2: token = 1*tchar.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Bytes that may not appear in a field value on the wire (RFC 9110 section 5.5).
_FORBIDDEN_VALUE_CHARS = re.compile(r"[\r\n\x00]")
_HTTP_WHITESPACE = " \t"


def validate_method(method: object) -> str:
    """Return ``method`` if it is an HTTP token, else raise.

    >>> validate_method("PATCH")
    'PATCH'
    """
    if not isinstance(method, str):
        raise TypeError(f"method must be a string such as 'GET', not {type(method).__name__} {method!r}")
    if not _TOKEN.fullmatch(method):
        raise ValueError(
            f"method {method!r} is not an HTTP token; expected letters, digits or !#$%&'*+-.^_`|~ "
            "with no spaces, e.g. 'GET' or 'PATCH'"
        )
    return method


def _validate_header(name: object, value: object) -> tuple[str, str]:
    if isinstance(name, str) and isinstance(value, str):
        return _validate_str_header(name, value)
    if not isinstance(name, str):
        raise TypeError(f"header name must be a string, not {type(name).__name__} {name!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise TypeError(f"value of header {name!r} must be a string, not {type(value).__name__} {value!r}")
    return _validate_str_header(name, value)


@functools.lru_cache(maxsize=4096)
def _validate_str_header(name: str, value: str) -> tuple[str, str]:
    # Pure and called for every header of every request: cached.
    if not _TOKEN.fullmatch(name):
        raise ValueError(
            f"header name {name!r} is not an HTTP token; expected letters, digits or "
            "!#$%&'*+-.^_`|~ with no spaces or colons, e.g. 'X-Request-Id'"
        )
    if _FORBIDDEN_VALUE_CHARS.search(value):
        raise ValueError(
            f"value {value!r} of header {name!r} contains CR, LF or NUL; a header value must be "
            "a single line (split it into several headers instead)"
        )
    try:
        value.encode("latin-1")
    except UnicodeEncodeError as exc:
        bad = value[exc.start]
        raise ValueError(
            f"value {value!r} of header {name!r} contains {bad!r}, which cannot be sent: "
            "header values are latin-1 (ISO-8859-1) bytes; percent-encode or base64-encode other text"
        ) from None
    # Fetch normalizes a value by stripping leading and trailing HTTP whitespace.
    return name, value.strip(_HTTP_WHITESPACE)


def normalize_headers(headers: HeadersInput) -> HeaderPairs:
    """Turn a dict or a list of ``(name, value)`` pairs into validated header pairs.

    Order, case and duplicates are kept; values are stripped of surrounding
    spaces and tabs, as ``fetch`` does.

    >>> normalize_headers({"X-A": "1"})
    (('X-A', '1'),)
    >>> normalize_headers([("x-b", " 2 "), ("X-B", "3")])
    (('x-b', '2'), ('X-B', '3'))
    """
    if headers is None:
        return ()
    if isinstance(headers, (str, bytes)):
        raise TypeError(
            f"headers must be a dict or a list of (name, value) pairs, not a {type(headers).__name__} {headers!r}"
        )
    items = headers.items() if isinstance(headers, Mapping) else headers
    pairs = []
    try:
        iterator = iter(items)
    except TypeError:
        raise TypeError(
            f"headers must be a dict or a list of (name, value) pairs, not {type(headers).__name__} {headers!r}"
        ) from None
    for item in iterator:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError(f"each header must be a (name, value) pair, got {item!r}")
        pairs.append(_validate_header(item[0], item[1]))
    return tuple(pairs)


def header_list_get(headers: HeaderPairs, name: str) -> str | None:
    """Fetch's *header list get*: every value of ``name`` joined with ``", "``, or None.

    https://fetch.spec.whatwg.org/#concept-header-list-get

    >>> header_list_get((("Vary", "Origin"), ("vary", "Accept")), "VARY")
    'Origin, Accept'
    """
    wanted = name.lower()
    values = [value for key, value in headers if key.lower() == wanted]
    return ", ".join(values) if values else None


@dataclass(frozen=True)
class Request:
    """An HTTP request exactly as sent.

    Fields:
        method: the request method, case kept (``"GET"``, ``"patch"``).
        url: the absolute URL (``"http://localhost:8000/items?page=2"``).
        headers: ``(name, value)`` pairs in wire order, case and duplicates kept.
        body: the body bytes (empty when there is none).
    """

    method: str
    url: str
    headers: HeaderPairs = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The value a reader sees for ``name`` (case-insensitive; repeated lines joined with ``", "``)."""
        return header_list_get(self.headers, name)

    @property
    def target(self) -> str:
        """The request target of the request line: path and query (``"/items?page=2"``)."""
        parts = urlsplit(self.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    @property
    def is_preflight(self) -> bool:
        """An ``OPTIONS`` request with ``Access-Control-Request-Method``: a CORS preflight (script
        cannot set that header, so no other request has it)."""
        return self.method == "OPTIONS" and self.header("access-control-request-method") is not None

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` of the URL, as written in the URL."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"

    def __str__(self) -> str:
        from cors_lab import display

        return display.request_text(self)


@dataclass(frozen=True)
class Response:
    """An HTTP response exactly as received.

    Fields:
        status: the status code (``200``).
        reason: the reason phrase (``"OK"``).
        headers: ``(name, value)`` pairs in wire order, case and duplicates kept.
        body: the body bytes as sent (not decompressed).
    """

    status: int
    reason: str = ""
    headers: HeaderPairs = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The value a reader sees for ``name`` (case-insensitive; repeated lines joined with ``", "``)."""
        return header_list_get(self.headers, name)

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def __str__(self) -> str:
        from cors_lab import display

        return display.response_text(self)


# Python 3.13 renamed four phrases after RFC 9110 (e.g. 422 "Unprocessable Content"); the
# course's stored outputs use the names Python 3.11 and 3.12 (and so uvicorn there) send, on
# every Python, so a notebook reads the same in JupyterLab and in Pyodide (Python 3.14).
_PHRASES = {413: "Request Entity Too Large", 414: "Request-URI Too Long", 416: "Requested Range Not Satisfiable",
            422: "Unprocessable Entity"}


def reason_phrase(status: int) -> str:
    """The standard reason phrase for ``status`` (``""`` for unknown codes).

    >>> reason_phrase(422), reason_phrase(404), reason_phrase(599)
    ('Unprocessable Entity', 'Not Found', '')
    """
    if status in _PHRASES:
        return _PHRASES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


@dataclass(frozen=True)
class AppError:
    """An exception raised by an app while it handled a request.

    The exchange keeps it instead of raising it, as a real server would log it
    and still answer. ``traceback`` is the full text; renderings show only the
    last line, which has no file paths in it.
    """

    exception: BaseException = field(repr=False, compare=False)
    traceback: str = field(repr=False)

    @classmethod
    def from_exception(cls, exc: BaseException) -> AppError:
        text = "".join(traceback_module.format_exception(type(exc), exc, exc.__traceback__))
        return cls(exception=exc, traceback=text)

    @classmethod
    def protocol(cls, message: str) -> AppError:
        """An error in how the app spoke ASGI (no exception was raised)."""
        exc = RuntimeError(message)
        return cls(exception=exc, traceback=f"RuntimeError: {message}\n")

    @property
    def summary(self) -> str:
        """``"RuntimeError: boom"``: the exception type and message."""
        return "".join(traceback_module.format_exception_only(type(self.exception), self.exception)).strip()

    def __str__(self) -> str:
        return self.summary


@dataclass(frozen=True)
class Exchange:
    """One request and the response to it, as they crossed the wire.

    Fields:
        request: what was sent.
        response: what came back.
        error: the app's exception, if it raised (the response is then the 500
            a server would send, or whatever the app sent before raising).
        via: ``"in-process"`` (the ASGI app was called directly) or ``"network"``.

    ``str(exchange)`` is the wire text in ``curl -v`` style; in Jupyter the
    exchange renders as HTML with the CORS headers highlighted.

    >>> import cors_lab
    >>> exchange = cors_lab.send(cors_lab.demo_api(), "GET", "/items")
    >>> exchange.response.status, exchange.response.header("content-type")
    (200, 'application/json')
    """

    request: Request
    response: Response
    error: AppError | None = None
    via: str = "in-process"

    def __str__(self) -> str:
        from cors_lab import display

        return display.exchange_text(self)

    def __repr__(self) -> str:
        error = f", error={self.error.summary!r}" if self.error is not None else ""
        return (
            f"<Exchange {self.request.method} {self.request.url} -> {self.response.status} "
            f"{self.response.reason} ({self.via}){error}>"
        )

    def _repr_html_(self) -> str:
        from cors_lab import display

        return display.exchange_html(self)


@functools.lru_cache(maxsize=1024)
def split_url(url: str) -> tuple[str, str, int, str, str]:
    """Split an absolute http(s) URL into ``(scheme, host, port, path, query)``.

    ``path`` is percent-encoded where the input had characters that cannot
    appear in a URL (spaces, non-ASCII), as a browser would send it.
    """
    if not isinstance(url, str):
        raise TypeError(f"url must be a string such as 'http://localhost:8000/items', not {type(url).__name__} {url!r}")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"URL {url!r} needs an http:// or https:// scheme and a host, e.g. 'http://localhost:8000/items'"
        )
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"URL {url!r} has an invalid port; expected a number from 0 to 65535") from None
    if port is None:
        port = 443 if scheme == "https" else 80
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    return scheme, parts.hostname, port, path, query


def authority(scheme: str, host: str, port: int) -> str:
    """``host[:port]`` as a Host header carries it (default port left out)."""
    shown = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return shown if port == default else f"{shown}:{port}"


def build_request(method: str, url: str, *, headers: HeadersInput = None, body: bytes | str | None = None) -> Request:
    """Validate the inputs of a request and add the headers an HTTP/1.1 client adds.

    ``Host`` goes first unless given; ``Content-Length`` goes last when there is
    a body (or the method is POST, PUT or PATCH), unless given. That is what
    httpx2 and curl put on the wire, so an in-process request and a request
    to a live server carry the same lines.

    >>> build_request("POST", "http://localhost:8000/items", body='{}').headers
    (('Host', 'localhost:8000'), ('Content-Length', '2'))
    """
    method = validate_method(method)
    scheme, host, port, path, query = split_url(url)
    pairs = normalize_headers(headers)
    if body is None:
        data = b""
    elif isinstance(body, str):
        data = body.encode("utf-8")
    elif isinstance(body, (bytes, bytearray, memoryview)):
        data = bytes(body)
    else:
        raise TypeError(f"body must be bytes or str, not {type(body).__name__} {body!r}")
    names = {name.lower() for name, _ in pairs}
    before: list[tuple[str, str]] = []
    after: list[tuple[str, str]] = []
    if "host" not in names:
        before.append(("Host", authority(scheme, host, port)))
    if "content-length" not in names and "transfer-encoding" not in names:
        if data or method.upper() in ("POST", "PUT", "PATCH"):
            after.append(("Content-Length", str(len(data))))
    full_url = f"{scheme}://{authority(scheme, host, port)}{path}" + (f"?{query}" if query else "")
    return Request(method=method, url=full_url, headers=(*before, *pairs, *after), body=data)
