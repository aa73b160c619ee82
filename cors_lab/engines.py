"""Engine profiles: where Chromium, Firefox and WebKit (Safari) depart from the Fetch Standard, and their wording.

Each profile is data: caps and defaults, flags for each departure, and the
console message templates, verbatim. The Fetch algorithms in
:mod:`cors_lab.fetch` take these as parameters, so the spec's behaviour stays
readable there and every departure is named here, with its evidence.

Evidence (see ``../shared/reference/browser-cors.md`` in the project's planning
material): Chromium 156, Firefox ESR 153 and WebKit wording and behaviour are
checked against the real engines scenario by scenario by ``tests/browser``; the
``safari`` profile against WebKitGTK 2.50.6, which runs Safari's WebKit CORS code
but not its network stack (CFNetwork) or Intelligent Tracking Prevention (the
profile marks what depends on those).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from cors_lab.fetch.cors import AccessRules, CorsFailure, base_kind
from cors_lab.fetch.headers import parse_mime_type

__all__ = ["ENGINES", "Engine", "EngineName", "get_engine"]

EngineName = Literal["chromium", "firefox", "safari"]

# -- Chromium's extra safelisted request headers (services/network/public/cpp/cors/cors.cc) ----

_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
_ECT_VALUES = frozenset({"slow-2g", "2g", "3g", "4g"})


def chromium_extra_safelisted(name: str, value: str) -> bool:
    """Client hints Chromium safelists beyond the spec (``name`` lowercased, value at most 128 bytes)."""
    if name == "intervention":
        return True
    if name in ("dpr", "downlink", "device-memory"):
        return bool(_DECIMAL.fullmatch(value))
    if name in ("width", "viewport-width", "rtt"):
        return bool(_DIGITS.fullmatch(value))
    if name == "ect":
        return value in _ECT_VALUES
    if name == "save-data":
        return value == "on"
    return False


# -- Console wording -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Blocked:
    """Everything an engine's console message about a blocked request can mention.

    Fields:
        failure: the failed check.
        url: the URL of the request that failed (after redirects).
        initial_url: the URL script asked for (differs after redirects).
        page_origin: the requesting page's origin, serialized.
        initiator: ``"fetch"`` or ``"xhr"``.
        status: the status of the response that failed the check (None when there was none).
        request_origin: the ``Origin`` the failing request carried, ``"null"`` once a
            redirect tainted it (None: the page's origin).
    """

    failure: CorsFailure
    url: str
    initial_url: str
    page_origin: str
    initiator: Literal["fetch", "xhr"] = "fetch"
    status: int | None = None
    request_origin: str | None = None


_CHROMIUM_REASONS = {
    "MissingAllowOriginHeader": "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
    "AllowOriginMismatch": "The 'Access-Control-Allow-Origin' header has a value '{hint}' that is not equal to the supplied origin.",
    "MultipleAllowOriginValues": "The 'Access-Control-Allow-Origin' header contains multiple values '{hint}', but only one is allowed.",
    "InvalidAllowOriginValue": "The 'Access-Control-Allow-Origin' header contains the invalid value '{hint}'.",
    "WildcardOriginNotAllowed": "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.",
    "InvalidAllowCredentials": "The value of the 'Access-Control-Allow-Credentials' header in the response is '{hint}' which must be 'true' when the request's credentials mode is 'include'.",
    "PreflightInvalidStatus": "It does not have HTTP ok status.",
    "PreflightDisallowedRedirect": "Redirect is not allowed for a preflight request.",
    "InvalidAllowMethodsPreflightResponse": "Cannot parse Access-Control-Allow-Methods response header field in preflight response.",
    "InvalidAllowHeadersPreflightResponse": "Cannot parse Access-Control-Allow-Headers response header field in preflight response.",
    "MethodDisallowedByPreflightResponse": "Method {hint} is not allowed by Access-Control-Allow-Methods in preflight response.",
    "HeaderDisallowedByPreflightResponse": "Request header field {hint} is not allowed by Access-Control-Allow-Headers in preflight response.",
    "RedirectContainsCredentials": "Redirect location '{hint}' contains a username and password, which is disallowed for cross-origin requests.",
    "DisallowedByMode": "Cross origin requests are not allowed by request mode.",
    "InvalidResponse": "The response is invalid.",
    "CorsDisabledScheme": "Cross origin requests are only supported for protocol schemes: {hint}.",
    # Local Network Access (observed with Chromium 156; {hint} is the target's address space).
    "LocalNetworkAccessPermissionDenied": "Permission was denied for this request to access the `{hint}` address space.",
    "InsecureLocalNetwork": "The request client is not a secure context and the resource is in more-private address space `{hint}`.",
}
_CHROMIUM_FETCH_SUFFIX = " Have the server send the header with a valid value."
_CHROMIUM_XHR_SUFFIX = " The credentials mode of requests initiated by the XMLHttpRequest is controlled by the withCredentials attribute."


def _encode_hint(hint: str) -> str:
    # Chromium's EncodeHint: printable ASCII kept, anything else as \uXXXX.
    return "".join(ch if " " <= ch <= "~" else f"\\u{ord(ch):04X}" for ch in hint)


def chromium_console(blocked: Blocked) -> list[str]:
    """Chromium's console lines for a blocked request (cors_error_string.cc, Chromium 156)."""
    failure = blocked.failure
    base = base_kind(failure.kind)
    reason = _CHROMIUM_REASONS[base].format(hint=_encode_hint(failure.hint or ""))
    if blocked.initiator == "fetch" and base in ("AllowOriginMismatch", "MultipleAllowOriginValues", "InvalidAllowOriginValue"):
        reason += _CHROMIUM_FETCH_SUFFIX
    if blocked.initiator == "xhr" and base in ("WildcardOriginNotAllowed", "InvalidAllowCredentials"):
        reason += _CHROMIUM_XHR_SUFFIX
    kind = "XMLHttpRequest" if blocked.initiator == "xhr" else "fetch"
    redirected = f"(redirected from '{blocked.initial_url}') " if blocked.initial_url != blocked.url else ""
    prefix = "Response to preflight request doesn't pass access control check: " if failure.kind.startswith("Preflight") else ""
    return [
        f"Access to {kind} at '{blocked.url}' {redirected}from origin '{blocked.page_origin}' "
        f"has been blocked by CORS policy: {prefix}{reason}",
        "Failed to load resource: net::ERR_FAILED",
    ]


_FIREFOX_FRAME = "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at {url}. (Reason: {reason}"
_FIREFOX_DID_NOT_SUCCEED = "CORS request did not succeed). Status code: (null)."
_FIREFOX_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _firefox_line(url: str, reason: str) -> str:
    # Reasons that carry a status code close the parenthesis themselves.
    return _FIREFOX_FRAME.format(url=url, reason=reason) + ("" if "). Status code:" in reason else ").")


def _firefox_invalid_token(value: str | None) -> str:
    """The item Firefox names in its invalid-token message: the first comma-separated item that is not a token.

    Firefox walks ``Access-Control-Allow-Methods``/``-Headers`` item by item (trimmed, empty
    items skipped) and reports the first bad one, not the whole header value.
    """
    for item in (value or "").split(","):
        item = item.strip(" \t")
        if item and not _FIREFOX_TOKEN.fullmatch(item):
            return item
    return value or ""


def firefox_console(blocked: Blocked) -> list[str]:
    """Firefox's console lines (security.properties, nsCORSListenerProxy.cpp), as Firefox ESR 153 prints them.

    Checked against the real browser by ``tests/browser`` (Firefox ESR 153.7.0). One
    failure can print several lines: the reason, then "CORS request did not succeed"
    for each request that dies with it: the redirected request when the failing
    response was a redirect, the actual request when the preflight failed.
    """
    failure = blocked.failure
    base = base_kind(failure.kind)
    status = "(null)" if blocked.status is None else str(blocked.status)
    url = blocked.url
    if base == "RedirectContainsCredentials":
        # The redirect is refused without a reason of its own: the request just fails.
        return [_firefox_line(url, _FIREFOX_DID_NOT_SUCCEED)]
    if base == "PreflightDisallowedRedirect":
        # The preflight's redirect is refused, then its 3xx is judged as a preflight response.
        return [
            _firefox_line(url, "CORS request external redirect not allowed"),
            _firefox_line(url, f"CORS preflight response did not succeed). Status code: {status}."),
            _firefox_line(url, _FIREFOX_DID_NOT_SUCCEED),
        ]
    if base == "WildcardOriginNotAllowed":
        line = _firefox_line(f"\u2018{url}\u2019", "Credential is not supported if the CORS header \u2018Access-Control-Allow-Origin\u2019 is \u2018*\u2019")
    else:
        reason = {
            "MissingAllowOriginHeader": f"CORS header \u2018Access-Control-Allow-Origin\u2019 missing). Status code: {status}.",
            "MultipleAllowOriginValues": "Multiple CORS header \u2018Access-Control-Allow-Origin\u2019 not allowed",
            "AllowOriginMismatch": f"CORS header \u2018Access-Control-Allow-Origin\u2019 does not match \u2018{failure.hint}\u2019",
            "InvalidAllowOriginValue": f"CORS header \u2018Access-Control-Allow-Origin\u2019 does not match \u2018{failure.hint}\u2019",
            "InvalidAllowCredentials": "expected \u2018true\u2019 in CORS header \u2018Access-Control-Allow-Credentials\u2019",
            "PreflightInvalidStatus": f"CORS preflight response did not succeed). Status code: {status}.",
            "InvalidAllowMethodsPreflightResponse": f"invalid token \u2018{_firefox_invalid_token(failure.hint)}\u2019 in CORS header \u2018Access-Control-Allow-Methods\u2019",
            "InvalidAllowHeadersPreflightResponse": f"invalid token \u2018{_firefox_invalid_token(failure.hint)}\u2019 in CORS header \u2018Access-Control-Allow-Headers\u2019",
            "MethodDisallowedByPreflightResponse": "Did not find method in CORS header \u2018Access-Control-Allow-Methods\u2019",
            "HeaderDisallowedByPreflightResponse": f"header \u2018{failure.hint}\u2019 is not allowed according to header \u2018Access-Control-Allow-Headers\u2019 from CORS preflight response",
            "DisallowedByMode": "CORS disabled",
            "CorsDisabledScheme": "CORS request not http",
        }[base]
        line = _firefox_line(url, reason)
    lines = [line]
    if failure.detail.get("redirect"):
        # The failing response was a redirect: the request that followed it fails too.
        lines.append(_firefox_line(url, _FIREFOX_DID_NOT_SUCCEED))
    if failure.preflight:
        # The actual request then fails without a response of its own.
        lines.append(_firefox_line(url, _FIREFOX_DID_NOT_SUCCEED))
    return lines


# Firefox's strings for Expat's error codes (dom/locales/en-US/chrome/layout/xmlparser.properties).
_FIREFOX_XML_ERRORS = {
    1: "out of memory", 2: "syntax error", 3: "no root element found", 4: "not well-formed", 5: "unclosed token",
    6: "partial character", 7: "mismatched tag", 8: "duplicate attribute", 9: "junk after document element",
    10: "illegal parameter entity reference", 11: "undefined entity", 12: "recursive entity reference",
    13: "asynchronous entity", 14: "reference to invalid character number", 15: "reference to binary entity",
    16: "reference to external entity in attribute", 17: "XML or text declaration not at start of entity",
    18: "unknown encoding", 19: "encoding specified in XML declaration is incorrect", 20: "unclosed CDATA section",
    21: "error in processing external entity reference", 22: "document is not standalone",
    23: "unexpected parser state", 24: "entity declared in parameter entity", 27: "prefix not bound to a namespace",
    28: "must not undeclare prefix", 29: "incomplete markup in parameter entity", 30: "XML declaration not well-formed",
    31: "text declaration not well-formed", 32: "illegal character(s) in public id",
    38: "reserved prefix (xml) must not be undeclared or bound to another namespace name",
    39: "reserved prefix (xmlns) must not be declared or undeclared",
    40: "prefix must not be bound to one of the reserved namespace names",
}
# XMLHttpRequestMainThread: no parse-error message for statuses that may have an empty body (bug 884693).
_FIREFOX_XML_QUIET_STATUSES = frozenset({201, 202, 204, 205, 304})


def firefox_xhr_lines(*, method: str, status: int, content_type: str | None, body: str, url: str) -> list[str]:
    """The console error Firefox prints when an XHR response it parses as XML is not well-formed.

    With ``responseType`` ``""``, Firefox parses every non-empty response whose MIME
    type is missing or unparsable (XHR's default is ``text/xml``), ``text/xml``,
    ``application/xml`` or ``*+xml``, and logs Expat's first error, except for
    statuses that may have no body (201, 202, 204, 205, 304). Chromium parses only
    when script reads ``responseXML``, and prints nothing. Observed with Firefox ESR
    153 for missing, ``text/xml``, ``image/svg+xml`` and ``bogus`` types, 200/201/204/404
    statuses, and bodies ``ok``, ``<a>``, ``<a></b>``, JSON and trailing junk.
    """
    import xml.parsers.expat

    if method == "HEAD" or status in _FIREFOX_XML_QUIET_STATUSES or not body:
        return []  # an empty body is not parsed at all
    # A Content-Type that does not parse as a MIME type counts as missing, hence as text/xml.
    mime = parse_mime_type(content_type) if content_type is not None else None
    if mime is not None and mime.essence not in ("text/xml", "application/xml") and not mime.essence.endswith("+xml"):
        return []
    parser = xml.parsers.expat.ParserCreate(namespace_separator="\x01")
    open_tags: list[str] = []
    parser.StartElementHandler = lambda name, _attributes: open_tags.append(name.rsplit("\x01", 1)[-1])
    parser.EndElementHandler = lambda _name: open_tags.pop()
    try:
        parser.Parse(body.encode("utf-8"), True)
    except xml.parsers.expat.ExpatError as error:
        message = _FIREFOX_XML_ERRORS.get(error.code, xml.parsers.expat.ErrorString(error.code))
        if error.code == 7 and open_tags:
            message += f". Expected: </{open_tags[-1]}>."
        # Expat counts columns from 0, Firefox from 1.
        return [f"XML Parsing Error: {message}\nLocation: {url}\nLine Number {error.lineno}, Column {error.offset + 1}:"]
    return []


# WebKit's HTTPHeaderName table (WebCore/platform/network/HTTPHeaderNames.in): a request header
# with one of these names is kept, and reported, in this spelling, and is checked before any other.
# Only names script may set are listed; each one was observed in WebKitGTK 2.50.6 (set in lowercase,
# reported in this spelling). Names not listed keep the spelling script gave them, e.g.
# x-requested-with, priority, purpose, alt-svc, permissions-policy.
_WEBKIT_KNOWN_HEADER_NAMES = {
    name.lower(): name
    for name in (
        "Accept", "Accept-Language", "Accept-Ranges", "Access-Control-Allow-Credentials",
        "Access-Control-Allow-Headers", "Access-Control-Allow-Methods", "Access-Control-Allow-Origin",
        "Access-Control-Expose-Headers", "Access-Control-Max-Age", "Age", "Authorization", "Cache-Control",
        "Clear-Site-Data", "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Location",
        "Content-Range", "Content-Security-Policy", "Content-Security-Policy-Report-Only", "Content-Type",
        "Cross-Origin-Embedder-Policy", "Cross-Origin-Embedder-Policy-Report-Only", "Cross-Origin-Opener-Policy",
        "Cross-Origin-Opener-Policy-Report-Only", "Cross-Origin-Resource-Policy", "Default-Style", "ETag",
        "Expires", "Icy-MetaInt", "Icy-Metadata", "If-Match", "If-Modified-Since", "If-None-Match", "If-Range",
        "If-Unmodified-Since", "Last-Event-ID", "Last-Modified", "Link", "Location", "Ping-From", "Ping-To",
        "Pragma", "Range", "Referrer-Policy", "Refresh", "Report-To", "Reporting-Endpoints", "Server-Timing",
        "Service-Worker", "Service-Worker-Allowed", "Service-Worker-Navigation-Preload", "SourceMap",
        "Timing-Allow-Origin", "Upgrade-Insecure-Requests", "User-Agent", "Vary", "X-Content-Type-Options",
        "X-Frame-Options", "X-SourceMap", "X-Temp-Tablet", "X-XSS-Protection",
    )
}


def webkit_header_order(names: Sequence[str]) -> list[str]:
    """The order WebKit checks request headers against ``Access-Control-Allow-Headers``, and their spelling.

    WebKit's HTTPHeaderMap keeps the header names it knows (its HTTPHeaderName table) apart
    from the others and walks the known ones first; each group is in the order script set
    the headers. A known name is reported in its canonical spelling (``content-type`` set
    by script is reported as ``Content-Type``), any other name as script spelled it (the
    first spelling, when one is set twice). Observed with WebKitGTK 2.50.6: ``x-a`` then
    ``Content-Type`` reports ``Content-Type``; ``pragma``, ``x-a``, ``cache-control``
    reports ``Pragma``; ``X-Zeta`` then ``X-Alpha`` reports ``X-Zeta``.
    """
    known: dict[str, str] = {}
    other: dict[str, str] = {}
    for name in names:
        lowered = name.lower()
        if lowered in _WEBKIT_KNOWN_HEADER_NAMES:
            known.setdefault(lowered, _WEBKIT_KNOWN_HEADER_NAMES[lowered])
        else:
            other.setdefault(lowered, name)
    return [*known.values(), *other.values()]


def _webkit_lines(reason: str, url: str, initiator: str) -> list[str]:
    """WebKit's three console lines for a load it refused: the reason (security source), the script
    line (javascript source), and the network source's ``Failed to load resource:`` line, which
    Web Inspector lists (the console on stdout does not)."""
    api = "XMLHttpRequest" if initiator == "xhr" else "Fetch API"
    return [reason, f"{api} cannot load {url} due to access control checks.", f"Failed to load resource: {reason}"]


def safari_console(blocked: Blocked) -> list[str]:
    """WebKit's console lines, as Web Inspector shows them (CrossOriginAccessControl.cpp, NetworkLoadChecker.cpp).

    Checked against WebKitGTK 2.50.6 scenario by scenario by ``tests/browser`` (webkit.py):
    the reason, ``Fetch API cannot load <url> due to access control checks.`` (or
    ``XMLHttpRequest cannot load ...``), then ``Failed to load resource: <reason>``.

    - "Origin X is not allowed" names the origin the failing request carried: ``null``
      once a cross-origin redirect has tainted it (Chromium and Firefox name the page).
    - A refused preflight redirect reports its status like any other non-2xx preflight.
    - A header refused by ``Access-Control-Allow-Headers`` is named as WebKit keeps it
      (see :func:`webkit_header_order`).
    - A failure found while following a redirect (the redirect response's CORS check,
      credentials in its Location) is wrapped as "Cross-origin redirection to <target,
      without credentials> denied by Cross-Origin Resource Sharing policy: <reason>",
      and the script line names the URL that redirected.
    """
    failure = blocked.failure
    base = base_kind(failure.kind)
    status = "" if blocked.status is None else f" Status code: {blocked.status}"
    origin = blocked.request_origin or blocked.page_origin
    reason = {
        "MissingAllowOriginHeader": f"Origin {origin} is not allowed by Access-Control-Allow-Origin.{status}",
        "AllowOriginMismatch": f"Origin {origin} is not allowed by Access-Control-Allow-Origin.{status}",
        "InvalidAllowOriginValue": f"Origin {origin} is not allowed by Access-Control-Allow-Origin.{status}",
        "MultipleAllowOriginValues": "Access-Control-Allow-Origin cannot contain more than one origin.",
        "WildcardOriginNotAllowed": "Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true.",
        "InvalidAllowCredentials": 'Credentials flag is true, but Access-Control-Allow-Credentials is not "true".',
        "PreflightInvalidStatus": f"Preflight response is not successful.{status}",
        "PreflightDisallowedRedirect": f"Preflight response is not successful.{status}",
        "InvalidAllowMethodsPreflightResponse": f"Header Access-Control-Allow-Methods has an invalid value: {failure.hint}",
        "InvalidAllowHeadersPreflightResponse": f"Header Access-Control-Allow-Headers has an invalid value: {failure.hint}",
        "MethodDisallowedByPreflightResponse": f"Method {failure.hint} is not allowed by Access-Control-Allow-Methods.",
        "HeaderDisallowedByPreflightResponse": f"Request header field {failure.detail.get('name', failure.hint)} is not allowed by Access-Control-Allow-Headers.",
        "RedirectContainsCredentials": f"redirection URL {failure.hint} has credentials",
        "DisallowedByMode": "Cross origin requests are not allowed by request mode.",
        "CorsDisabledScheme": "not allowed to follow a cross-origin CORS redirection with non CORS scheme",
    }[base]
    redirect_to = failure.detail.get("redirect_to")
    if redirect_to is not None:
        reason = f"Cross-origin redirection to {redirect_to} denied by Cross-Origin Resource Sharing policy: {reason}"
    return _webkit_lines(reason, blocked.url, blocked.initiator)


def webkit_redirect_mode_error(url: str, initiator: str) -> list[str]:
    """``redirect: "error"`` met a redirect (observed with WebKitGTK 2.50.6; Chromium prints net::ERR_FAILED)."""
    return _webkit_lines(f"Not allowed to follow a redirection while loading {url}", url, initiator)


# What libsoup (WebKitGTK's HTTP stack) says when no HTTP response came back, by Chromium's net
# error name. Safari's CFNetwork words these differently ("Could not connect to the server.").
_LIBSOUP_NETWORK_ERRORS = {
    "ERR_CONNECTION_REFUSED": "Could not connect to {host}: Connection refused",  # observed, WebKitGTK 2.50.6
    "ERR_NAME_NOT_RESOLVED": "Error resolving \u201c{host}\u201d: Name or service not known",  # GLib's wording, not observed
}


def webkit_network_failure(error: str, *, url: str, cors: bool, preflight: bool, initiator: str) -> list[str]:
    """WebKitGTK's console lines for a request that got no HTTP response at all.

    Observed with WebKitGTK 2.50.6 (connection refused): a simple request prints only the
    network line ``Failed to load resource: <libsoup error>``; a failed preflight prints
    the error as the reason of an access-control failure, in WebKit's three lines.
    """
    from cors_lab.fetch.urls import InvalidURL, parse_url

    try:
        host = parse_url(url).host
    except InvalidURL:
        host = url
    reason = _LIBSOUP_NETWORK_ERRORS.get(error, "Could not connect to {host}").format(host=host.strip("[]"))
    if preflight:
        return _webkit_lines(reason, url, initiator)
    return [f"Failed to load resource: {reason}"]


# -- Profiles ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Engine:
    """One browser engine's CORS behaviour.

    Fields:
        name / product: ``"chromium"`` and ``"Chromium 156"``.
        access_rules: how the CORS check orders and tells failures apart.
        extra_safelisted: request headers safelisted beyond the spec.
        authorization_covered_by_wildcard: ``Access-Control-Allow-Headers: *``
            lets ``Authorization`` through the network check (spec: it does not).
        authorization_warning: a console warning is printed when it does (Firefox).
        cache_replaces: a new preflight replaces the cached result for the URL
            (Chromium, WebKit) rather than merging into it (spec, Firefox).
        cache_wildcard_covers_authorization: the cache lets ``*`` cover ``Authorization``.
        max_age_default / max_age_cap: preflight cache lifetime in seconds.
        cache_max_url_length: URLs this long or longer are not cached.
        default_same_site: the SameSite a cookie without the attribute gets.
        same_site_none_requires_secure: ``SameSite=None`` without ``Secure`` is rejected.
        blocks_third_party_cookies: cross-site responses cannot store cookies, and cross-site
            requests send none (unless ``third_party_cookies_sent``).
        third_party_cookies_sent: with ``blocks_third_party_cookies``, cookies a site set as
            the first party are still sent to it from another site's page, SameSite permitting
            (WebKitGTK's no-third-party policy only refuses storing).
        script_error: what script sees when a fetch is blocked.
    """

    name: EngineName
    product: str
    access_rules: AccessRules
    console_lines: object = field(repr=False)
    extra_safelisted: object = field(default=None, repr=False)
    authorization_covered_by_wildcard: bool = True
    authorization_warning: str | None = None
    cache_replaces: bool = True
    cache_wildcard_covers_authorization: bool = False
    max_age_default: int = 5
    max_age_cap: int = 7200
    cache_max_url_length: int | None = None
    default_same_site: Literal["lax", "none"] = "lax"
    same_site_none_requires_secure: bool = True
    blocks_third_party_cookies: bool = False
    third_party_cookies_sent: bool = False
    script_error: str = "TypeError: Failed to fetch"
    xhr_script_error: str = "XMLHttpRequest error event (status 0)"
    #: Printed for a response script can read whose status is 400 or more (None: nothing).
    http_error_line: str | None = "Failed to load resource: the server responded with a status of {status} ({reason})"
    #: Printed for a network error that is not a CORS failure, with the net error name (None: nothing).
    network_error_line: str | None = "Failed to load resource: net::{error}"
    #: A ReadableStream upload fails after any preflight, with this net error: Chromium streams
    #: uploads only over HTTP/2 or QUIC, and the lab's servers speak HTTP/1.1 (None: sent normally).
    stream_upload_error: str | None = None
    #: fetch() takes a ReadableStream body (False: it has no streaming uploads, so the stream
    #: is turned into its string form, "[object ReadableStream]", a text/plain body; Firefox).
    stream_request_bodies: bool = True
    #: The preflight cache matches a cached ``*`` as any method or header (False: literally,
    #: so it covers nothing; Firefox).
    cache_wildcards: bool = True
    #: A cached preflight serves only requests with the same credentials flag (Firefox)
    #: instead of a credentialed one also serving uncredentialed requests.
    cache_credentials_exact: bool = False
    #: A redirect answered to a preflight first gets the CORS check, whose failure is then
    #: reported instead of the refused redirect (Firefox).
    preflight_redirect_cors_check: bool = False
    #: A preflight after a tainting redirect carries, and is checked against, the page's
    #: origin rather than ``null`` (Firefox; only the actual request says ``null``).
    preflight_keeps_page_origin: bool = False
    #: After a redirect, a request that script gave CORS-unsafe headers is preflighted again
    #: even when it no longer has any (Firefox, once Authorization is dropped on a cross-origin hop).
    redirect_keeps_preflight: bool = False
    #: Printed when a cross-site response sets a cookie whose SameSite (given or default) is
    #: Lax or Strict, which is then refused ({name}; None: nothing).
    cookie_same_site_line: str | None = None
    #: Printed for a ``mode: "same-origin"`` fetch of another origin ({page_url}, {url});
    #: None: Chromium's own line (built by the browser) or nothing.
    same_origin_mode_line: str | None = None
    #: Console lines for a readable XHR response (``firefox_xhr_lines``), or None.
    xhr_response_lines: object = field(default=None, repr=False)
    #: fetch() with a ReadableStream body rejects with this error before anything is sent,
    #: printing nothing (WebKit has no streaming uploads); None: see ``stream_request_bodies``.
    stream_upload_rejection: str | None = None
    #: A preflight made after a redirect lists (and checks) the unsafe headers script set, even
    #: ones the request itself lost on the way: Authorization on a cross-origin hop, the body
    #: headers of a 303's GET (WebKit).
    redirect_preflight_from_script_headers: bool = False
    #: Console lines when ``redirect: "error"`` meets a redirect (``(url, initiator) -> lines``);
    #: None: ``network_error("ERR_FAILED")``.
    redirect_error_lines: object = field(default=None, repr=False)
    #: Console lines for a request with no HTTP response (``(error, url=, cors=, preflight=,
    #: initiator=) -> lines``); None: ``cors_network_failure_line`` or ``network_error_line``.
    network_failure_lines: object = field(default=None, repr=False)
    #: Local Network Access: a public page's requests to a local or loopback address need the
    #: user's permission (Chromium 142+, Firefox 153). False: no such check (WebKit).
    local_network_checks: bool = False
    #: ...and a page that is not a secure context is refused without asking (Chromium); False:
    #: any page may ask (Firefox). A refusal is then a network error, worded as one (Firefox).
    local_network_requires_secure_context: bool = False

    def redirect_mode_error(self, url: str, initiator: str = "fetch") -> list[str]:
        """Console lines when a request with ``redirect: "error"`` gets a redirect."""
        if self.redirect_error_lines is not None:
            return self.redirect_error_lines(url, initiator)  # type: ignore[operator]
        return self.network_error("ERR_FAILED")

    #: The console line for a blocked mixed-content request ({page} is the page's URL, {url} the request's), or None.
    mixed_content_line: str | None = (
        "Mixed Content: The page at '{page}' was loaded over HTTPS, but requested an insecure resource '{url}'. "
        "This request has been blocked; the content must be served over HTTPS."
    )

    def mixed_content(self, page: str, url: str) -> list[str]:
        """Console lines for an https page's request to an http URL (blocked before any CORS step)."""
        return [] if self.mixed_content_line is None else [self.mixed_content_line.format(page=page, url=url)]

    #: For a CORS request that got no HTTP response at all: the line printed per failed request
    #: ({url}), instead of ``network_error_line`` (Firefox), or None.
    cors_network_failure_line: str | None = None

    def network_failure(self, error: str, *, url: str, cors: bool, preflight: bool, initiator: str = "fetch") -> list[str]:
        """Console lines when a request gets no HTTP response (connection refused, DNS failure).

        ``preflight``: it was the preflight that failed, so the actual request fails too.
        """
        if self.network_failure_lines is not None:
            return self.network_failure_lines(error, url=url, cors=cors, preflight=preflight, initiator=initiator)  # type: ignore[operator]
        if self.cors_network_failure_line is not None:
            if not cors:
                return []
            return [self.cors_network_failure_line.format(url=url)] * (2 if preflight else 1)
        return self.network_error(error)

    def network_error(self, error: str) -> list[str]:
        """Console lines for a network error (``error`` is Chromium's net error name, e.g. ``"ERR_FAILED"``)."""
        return [] if self.network_error_line is None else [self.network_error_line.format(error=error)]

    def console(self, blocked: Blocked) -> list[str]:
        """Every console line the engine prints for ``blocked``, in order."""
        return self.console_lines(blocked)  # type: ignore[operator]

    def preflight_max_age(self, raw: str | None) -> int:
        """Seconds a successful preflight is cached, from its ``Access-Control-Max-Age`` value."""
        if raw is None:
            return self.max_age_default
        value = raw.strip()
        if self.name == "firefox":
            # nsCORSListenerProxy.cpp: digits only, else not cached at all.
            if value.isdigit() and value.isascii():
                return min(int(value), self.max_age_cap)
            return 0
        # Chromium (preflight_result.cc) and WebKit (CrossOriginPreflightResultCache.cpp,
        # parseAccessControlMaxAge): an integer, else the default; a negative one means nothing is
        # cached (observed with WebKitGTK 2.50.6: Max-Age -1 preflights again, "soon" caches for
        # the default 5 s).
        if re.fullmatch(r"[+-]?[0-9]+", value):
            return max(0, min(int(value), self.max_age_cap))
        return self.max_age_default


CHROMIUM = Engine(
    name="chromium",
    product="Chromium 156",
    access_rules=AccessRules(multiple_origins="space-or-comma", invalid_origin_value=True),
    console_lines=chromium_console,
    extra_safelisted=chromium_extra_safelisted,
    # CorsNonWildcardRequestHeadersSupport is disabled by default: `*` covers
    # Authorization on the network check, but not in the preflight cache.
    authorization_covered_by_wildcard=True,
    cache_replaces=True,
    cache_wildcard_covers_authorization=False,
    max_age_cap=7200,
    cache_max_url_length=1024,
    default_same_site="lax",
    script_error="TypeError: Failed to fetch",
    stream_upload_error="ERR_ALPN_NEGOTIATION_FAILED",
    # Local Network Access (observed with Chromium 156 and --ip-address-space-overrides): a public
    # page that is a secure context gets the permission prompt (headless: denied without asking),
    # one that is not is refused at once; either way nothing reaches the server, not even a
    # preflight, and the console line is a CORS one, in no-cors mode too.
    local_network_checks=True,
    local_network_requires_secure_context=True,
)

FIREFOX = Engine(
    name="firefox",
    product="Firefox 153",
    # Checked scenario by scenario against Firefox ESR 153.7.0 (tests/browser, firefox.py).
    # nsCORSPreflightListener: repeated ACAO lines are told apart by counting lines; the
    # methods are checked before Access-Control-Allow-Headers is parsed; the first missing
    # request header is reported in sorted order, the order of Access-Control-Request-Headers.
    access_rules=AccessRules(multiple_origins="lines", sorted_header_check=True, method_before_allow_headers=True),
    console_lines=firefox_console,
    # network.cors_preflight.authorization_covered_by_wildcard defaults to true, with a warning
    # (a warning, so WebDriver BiDi's log.entryAdded never reports it; the harness listens
    # to the console service instead).
    authorization_covered_by_wildcard=True,
    authorization_warning=(
        "Cross-Origin Request Warning: The Same Origin Policy will disallow reading the remote resource at {url} soon. "
        "(Reason: When the `Access-Control-Allow-Headers` is `*`, the `Authorization` header is not covered. "
        "To include the `Authorization` header, it must be explicitly listed in CORS header `Access-Control-Allow-Headers`)."
    ),
    # nsPreflightCache: entries merge per method and header, keyed by the credentials flag too,
    # and CheckRequest compares cached tokens literally, so a cached `*` covers nothing.
    cache_replaces=False,
    cache_wildcard_covers_authorization=False,
    cache_wildcards=False,
    cache_credentials_exact=True,
    max_age_cap=86400,
    # A cookie without SameSite is Lax (observed: refused cross-site, with a console error).
    default_same_site="lax",
    cookie_same_site_line=(
        "Cookie \u201c{name}\u201d has been rejected because it is in a cross-site context and its "
        "\u201cSameSite\u201d is \u201cLax\u201d or \u201cStrict\u201d."
    ),
    script_error="TypeError: NetworkError when attempting to fetch resource.",
    http_error_line=None,
    network_error_line=None,
    cors_network_failure_line=_FIREFOX_FRAME.format(url="{url}", reason=_FIREFOX_DID_NOT_SUCCEED),
    # security.properties BlockMixedActiveContent (wording from source; not yet observed here, the
    # agreement suite serves no https page).
    mixed_content_line="Blocked loading mixed active content \u201c{url}\u201d",
    # No streaming uploads: fetch() sends a ReadableStream as "[object ReadableStream]", unpreflighted.
    stream_request_bodies=False,
    preflight_redirect_cors_check=True,
    preflight_keeps_page_origin=True,
    redirect_keeps_preflight=True,
    # nsScriptSecurityManager's CheckSameOriginError (category SOP).
    same_origin_mode_line="Security Error: Content at {page_url} may not load data from {url}.",
    xhr_response_lines=firefox_xhr_lines,
    # Observed with Firefox ESR 153 (network.lna.blocking is on): a page made public with
    # network.lna.address_space.public.override gets a prompt ("loopback-network" or
    # "local-network"), secure context or not; the request waits for the answer, and "Block"
    # fails it as a network error ("CORS request did not succeed", twice for a preflighted
    # request, nothing in no-cors mode). A local page reaching loopback is not asked.
    local_network_checks=True,
)

SAFARI = Engine(
    name="safari",
    # WebKit as shipped in Safari, checked scenario by scenario against WebKitGTK 2.50.6
    # (tests/browser, webkit.py). WebKitGTK runs WebCore's and the network process's CORS code
    # (CrossOriginAccessControl, NetworkCORSPreflightChecker, NetworkLoadChecker) as Safari does,
    # so the checks, their order and their console strings below are verified. It is not Safari:
    # its HTTP stack is libsoup (Safari's is CFNetwork) and it has no Intelligent Tracking
    # Prevention; the settings that depend on those are marked below.
    product="WebKit (Safari's engine)",
    # The preflight's status is checked before its CORS headers; a comma in
    # Access-Control-Allow-Origin is "more than one origin"; request headers are checked known
    # names first, and reported in WebKit's spelling (all observed).
    access_rules=AccessRules(multiple_origins="comma", preflight_status_first=True, header_order=webkit_header_order),
    console_lines=safari_console,
    # `*` in Access-Control-Allow-Headers covers Authorization, on the network check and in the
    # preflight cache, with no warning (observed).
    authorization_covered_by_wildcard=True,
    cache_wildcard_covers_authorization=True,
    # One cached result per URL, replaced by each new preflight (observed). The 600 s cap
    # (maxPreflightCacheTimeout) is from the source: the suite waits seconds, not minutes.
    cache_replaces=True,
    max_age_cap=600,
    # Cookies, as WebKitGTK does them with its default policy (no third-party cookies), which
    # MiniBrowser keeps. Observed ad hoc (the catalogue's login cookies are SameSite=lax, refused
    # cross-site anyway): a cross-site response cannot set a cookie, even with SameSite=None;
    # cookies api.test set while it was the top-level site are sent to it from app.test's page
    # when their SameSite allows it; a cookie without SameSite is sent cross-site like
    # SameSite=None (Lax and Strict ones are not); `SameSite=None` without Secure is accepted over
    # http. Safari-specific and not verified here: Safari (CFNetwork, ITP) blocks third-party
    # cookies entirely, so it would not send those first-party cookies cross-site either; whether
    # CFNetwork requires Secure with SameSite=None.
    blocks_third_party_cookies=True,
    third_party_cookies_sent=True,
    default_same_site="none",
    same_site_none_requires_secure=False,
    script_error="TypeError: Load failed",
    network_error_line=None,
    # No HTTP response (connection refused): libsoup's wording, observed in WebKitGTK. Safari's
    # CFNetwork words it differently ("Could not connect to the server."), so this part is WebKitGTK's.
    network_failure_lines=webkit_network_failure,
    # WebKit blocks mixed content too; its console wording is not confirmed (the suite serves no
    # https page), so the lab prints none.
    mixed_content_line=None,
    # Observed: `mode: "same-origin"` to another origin prints only this line, and sends nothing.
    same_origin_mode_line="Fetch API cannot load {url}.",
    # Observed: `redirect: "error"` prints WebKit's three lines ("Not allowed to follow a redirection ...").
    redirect_error_lines=webkit_redirect_mode_error,
    # Observed: no streaming uploads; fetch() with a ReadableStream body rejects at once and sends nothing.
    stream_upload_rejection="NotSupportedError: ReadableStream uploading is not supported",
    # Observed: after a cross-origin redirect the request loses Authorization, but the new preflight
    # still asks for it (Access-Control-Request-Headers: authorization, Origin: null); ad hoc, a JSON
    # POST answered 303 is preflighted again with content-type, though the GET carries none.
    redirect_preflight_from_script_headers=True,
)

ENGINES: dict[str, Engine] = {"chromium": CHROMIUM, "firefox": FIREFOX, "safari": SAFARI}


def get_engine(name: str | Engine) -> Engine:
    """The profile named ``name``: ``"chromium"``, ``"firefox"`` or ``"safari"``."""
    if isinstance(name, Engine):
        return name
    if not isinstance(name, str) or name.lower() not in ENGINES:
        raise ValueError(f"engine {name!r} is not known; expected one of {', '.join(repr(n) for n in ENGINES)}")
    return ENGINES[name.lower()]
