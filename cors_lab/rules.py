"""Quick answers from the pure rules, without an app: does this request need a preflight?"""

from __future__ import annotations

from cors_lab.bodies import Body, extract_body
from cors_lab.engines import Engine, get_engine
from cors_lab.fetch.headers import is_forbidden_method, normalize_method
from cors_lab.fetch.preflight import preflight_reasons
from cors_lab.messages import HeadersInput, normalize_headers, validate_method

__all__ = ["needs_preflight"]


def needs_preflight(
    method: str = "GET",
    headers: HeadersInput = None,
    *,
    body: Body = None,
    engine: str | Engine = "chromium",
    mode: str = "cors",
    upload_listener: bool = False,
) -> list[str]:
    """Why a cross-origin request made with ``fetch()`` needs a CORS preflight; an empty list means it is simple.

    The method is normalized as ``fetch()`` does (``put`` becomes ``PUT``, but
    ``patch`` stays ``patch``), forbidden headers are ignored as a browser drops
    them, and a ``body`` brings its own ``Content-Type`` unless one is given.
    ``engine`` matters for Chromium's extra safelisted client-hint headers.

    >>> needs_preflight("GET", {"Accept": "application/json"})
    []
    >>> needs_preflight("POST", {"Content-Type": "application/json"})
    ['the header Content-Type: application/json is not CORS-safelisted: its MIME type application/json is not application/x-www-form-urlencoded, multipart/form-data or text/plain']
    """
    validate_method(method)
    if is_forbidden_method(method):
        raise TypeError(f"'{method}' HTTP method is unsupported (fetch() refuses CONNECT, TRACE and TRACK)")
    if mode not in ("cors", "no-cors", "same-origin"):
        raise ValueError(f"mode {mode!r} is not one of 'cors', 'no-cors', 'same-origin'")
    if mode != "cors":
        return []  # only cors-mode requests are ever preflighted
    profile = get_engine(engine)
    pairs = list(normalize_headers(headers))
    extracted = extract_body(body, stream_uploads=profile.stream_request_bodies)
    if extracted.content_type is not None and not any(n.lower() == "content-type" for n, _ in pairs):
        pairs.append(("Content-Type", extracted.content_type))
    return preflight_reasons(
        normalize_method(method),
        pairs,
        stream_body=extracted.stream,
        upload_listener=upload_listener,
        extra_safelisted=profile.extra_safelisted,  # type: ignore[arg-type]
    )
