"""Does a cross-origin request need a CORS preflight, and why?

https://fetch.spec.whatwg.org/#concept-main-fetch (step 12, "cors" branch) and
https://fetch.spec.whatwg.org/#cors-preflight-fetch-0

A request made with ``fetch()`` or ``XMLHttpRequest`` in ``cors`` mode is
preflighted when its method is not CORS-safelisted, when it has CORS-unsafe
request headers, or when its use-CORS-preflight flag is set (a
``ReadableStream`` body, an XHR upload listener). This module turns that rule
into sentences a learner can read, one per cause.
"""

from __future__ import annotations

from collections.abc import Iterable

from cors_lab.fetch.headers import (
    ExtraSafelist,
    cors_unsafe_request_header_names,
    is_cors_safelisted_method,
    is_cors_safelisted_request_header,
    is_cors_unsafe_request_header_byte,
    is_forbidden_request_header,
    parse_mime_type,
    parse_single_range_header_value,
)

__all__ = ["preflight_reasons", "why_not_safelisted"]

_SAFELISTED_NAMES = "Accept, Accept-Language, Content-Language, Content-Type and Range"


def why_not_safelisted(name: str, value: str, *, extra_safelisted: ExtraSafelist | None = None) -> str | None:
    """Why the header is not CORS-safelisted, in one clause; None if it is.

    >>> why_not_safelisted("Content-Type", "application/json")
    'its MIME type application/json is not application/x-www-form-urlencoded, multipart/form-data or text/plain'
    """
    if is_cors_safelisted_request_header(name, value, extra_safelisted=extra_safelisted):
        return None
    size = len(value.encode("latin-1", errors="replace"))
    if size > 128:
        return f"its value is {size} bytes long; safelisted values are at most 128 bytes"
    lowered = name.lower()
    unsafe = sorted({ch for ch in value if is_cors_unsafe_request_header_byte(ch)})
    if lowered in ("accept", "content-type") and unsafe:
        shown = ", ".join(repr(ch) for ch in unsafe)
        return f"its value contains {shown}, which a safelisted {name} value cannot contain"
    if lowered in ("accept-language", "content-language"):
        return "its value has a character other than letters, digits, space and *,-.;="
    if lowered == "content-type":
        mime = parse_mime_type(value)
        if mime is None:
            return f"its value {value!r} is not a valid MIME type"
        return f"its MIME type {mime.essence} is not application/x-www-form-urlencoded, multipart/form-data or text/plain"
    if lowered == "range":
        parsed = parse_single_range_header_value(value)
        if parsed is not None and parsed[0] is None:
            return "a Range without a first byte position (bytes=-N) is not safelisted"
        return "only a single range of the form bytes=N- or bytes=N-M is safelisted"
    return f"it is not one of the safelisted names ({_SAFELISTED_NAMES})"


def preflight_reasons(
    method: str,
    headers: Iterable[tuple[str, str]],
    *,
    use_cors_preflight: bool = False,
    stream_body: bool = False,
    upload_listener: bool = False,
    extra_safelisted: ExtraSafelist | None = None,
) -> list[str]:
    """The reasons a cross-origin ``cors``-mode request needs a preflight; empty for a simple request.

    Forbidden headers are ignored, as a browser drops them before this point.

    >>> preflight_reasons("PUT", {"Content-Type": "application/json"}.items())  # doctest: +NORMALIZE_WHITESPACE
    ['the method PUT is not CORS-safelisted (only GET, HEAD and POST are)',
     'the header Content-Type: application/json is not CORS-safelisted: its MIME type application/json is not
      application/x-www-form-urlencoded, multipart/form-data or text/plain']
    """
    pairs = [(n, v) for n, v in headers if not is_forbidden_request_header(n, v)]
    reasons: list[str] = []
    if not is_cors_safelisted_method(method):
        hint = " (methods are case-sensitive after normalization)" if method.upper() in ("GET", "HEAD", "POST") else ""
        reasons.append(f"the method {method} is not CORS-safelisted (only GET, HEAD and POST are){hint}")
    unsafe = set(cors_unsafe_request_header_names(pairs, extra_safelisted=extra_safelisted))
    reported: set[str] = set()
    for name, value in pairs:
        lowered = name.lower()
        if lowered not in unsafe or lowered in reported:
            continue
        why = why_not_safelisted(name, value, extra_safelisted=extra_safelisted)
        if why is not None:
            reported.add(lowered)
            reasons.append(f"the header {name}: {value} is not CORS-safelisted: {why}")
    over = sorted(unsafe - reported)
    if over:
        total = sum(
            len(v.encode("latin-1", errors="replace"))
            for n, v in pairs
            if is_cors_safelisted_request_header(n, v, extra_safelisted=extra_safelisted)
        )
        reasons.append(
            f"the safelisted header values add up to {total} bytes, over the 1024-byte limit, so these "
            f"names count as unsafe too: {', '.join(over)}"
        )
    if stream_body:
        reasons.append("the body is a ReadableStream, which always needs a preflight")
    if upload_listener:
        reasons.append("an upload progress listener is registered (XMLHttpRequest.upload), which always needs a preflight")
    if use_cors_preflight and not (stream_body or upload_listener):
        reasons.append("the use-CORS-preflight flag is set")
    return reasons
