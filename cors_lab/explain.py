"""Plain-language accounts of what a browser did with a request, and what to change on a FastAPI server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cors_lab.fetch.urls import parse_origin, same_site

if TYPE_CHECKING:
    from cors_lab.browser import FetchResult

__all__ = ["explain_result", "fix_for"]


def _why_cross_origin(page: str, url: str) -> str:
    a, b = parse_origin(page), parse_origin(url)
    if a.opaque:
        return "the page's origin is opaque ('null'), so every request is cross-origin"
    differences = []
    if a.scheme != b.scheme:
        differences.append(f"scheme: {a.scheme} vs {b.scheme}")
    if a.host != b.host:
        differences.append(f"host: {a.host} vs {b.host}")
    if a.port != b.port:
        differences.append(f"port: {a.port or 'default'} vs {b.port or 'default'}")
    site = "same-site" if same_site(a, b) else "cross-site"
    return f"different {', '.join(differences)}; {site}"


def _starlette_refusal(result: FetchResult) -> str | None:
    """Advice from Starlette's 400 "Disallowed CORS ..." preflight answer, which names every refused part."""
    if result.preflight is None:
        return None
    body = result.preflight.response.text
    if not body.startswith("Disallowed CORS "):
        return None
    parts = body.removeprefix("Disallowed CORS ").split(", ")
    advice = []
    if "origin" in parts:
        advice.append(f"add {result.page_origin!r} to allow_origins")
    if "method" in parts:
        advice.append(f"add {result.method!r} to allow_methods (the default is only GET)")
    if "headers" in parts:
        wanted = result.preflight.request.header("access-control-request-headers") or ""
        advice.append(f"add the requested headers ({wanted}) to allow_headers")
    if "private-network" in parts:
        advice.append("set allow_private_network=True")
    return f"Starlette's CORSMiddleware refused the preflight with 400 {body!r}: " + "; ".join(advice) + "."


def fix_for(result: FetchResult) -> str | None:
    """What to change on the server (FastAPI's CORSMiddleware) so the request is allowed; None if nothing is blocked."""
    if not result.blocked:
        return None
    kind = (result.error_kind or "").removeprefix("Preflight") if result.error_kind != "PreflightInvalidStatus" else "PreflightInvalidStatus"
    origin = result.page_origin
    hint = result.failure.hint if result.failure is not None else None
    last = result.response.response if result.response is not None else None
    if kind == "MissingAllowOriginHeader":
        if last is not None and last.status >= 500 and result.response.error is not None:
            return (
                "The app raised, and Starlette's ServerErrorMiddleware answered the 500 from outside CORSMiddleware, "
                "so it has no CORS headers. Fix the exception; to keep CORS headers on 500s, wrap the whole app: "
                f"app = CORSMiddleware(app, allow_origins=[{origin!r}], ...) and serve that."
            )
        if result.preflight is not None and result.error_kind == "PreflightMissingAllowOriginHeader":
            refusal = _starlette_refusal(result)
            if refusal:
                return refusal + " Browsers report the missing Access-Control-Allow-Origin first."
            status = result.preflight.response.status
            if status in (401, 403):
                return (
                    f"The preflight got {status} without CORS headers: an auth layer answered it before CORSMiddleware. "
                    "Preflights never carry credentials; add CORSMiddleware last (app.add_middleware makes the last one "
                    "added the outermost) or let OPTIONS through the auth check."
                )
            return (
                f"Add {origin!r} to allow_origins=[...] of CORSMiddleware (exactly: scheme, host and port, no trailing slash). "
                "If it is there, something answers the preflight before CORSMiddleware sees it."
            )
        return (
            f"Add {origin!r} to allow_origins=[...] of CORSMiddleware (exactly: scheme, host and port, no trailing slash), "
            "and make sure the response passes through it."
        )
    if kind == "AllowOriginMismatch":
        if hint and hint.rstrip("/") == origin:
            return f"The server sent {hint!r} with a trailing slash; list the origin without it: allow_origins=[{origin!r}]."
        if hint == "null":
            return "The server allows the literal origin 'null', but the request came from " + repr(origin) + f"; list {origin!r}."
        return f"The server allows {hint!r}, not {origin!r}: add {origin!r} to allow_origins."
    if kind == "MultipleAllowOriginValues":
        return (
            f"Two layers both add Access-Control-Allow-Origin ({hint!r}): a proxy (nginx add_header), a second "
            "CORSMiddleware, or a mounted app with its own CORS. Keep exactly one."
        )
    if kind == "InvalidAllowOriginValue":
        return f"The server sent {hint!r}, which is not an origin; send the exact origin {origin!r}."
    if kind == "WildcardOriginNotAllowed":
        return (
            "A credentialed request (credentials: 'include' / withCredentials) needs the exact origin, never '*': "
            f"CORSMiddleware(allow_origins=[{origin!r}], allow_credentials=True)."
        )
    if kind == "InvalidAllowCredentials":
        return f"Set allow_credentials=True in CORSMiddleware (it sends Access-Control-Allow-Credentials: true) and keep allow_origins=[{origin!r}]."
    if kind == "PreflightInvalidStatus":
        status = result.preflight.response.status if result.preflight is not None else None
        refusal = _starlette_refusal(result)
        if refusal:
            return refusal + " Browsers only report that the preflight status was not 2xx."
        if status == 405:
            return "Nothing answered the preflight: add CORSMiddleware so OPTIONS preflights are answered before routing."
        return f"The preflight got {status}; it must get a 2xx. Put CORSMiddleware outermost so it answers preflights itself."
    if kind == "PreflightDisallowedRedirect":
        location = result.preflight.response.header("location") if result.preflight is not None else None
        return (
            f"The preflight was redirected (to {location!r}); browsers never follow redirects on preflights. "
            "Request the final URL directly (a missing trailing slash, or http vs https), or put CORSMiddleware "
            "outside HTTPSRedirectMiddleware."
        )
    if kind == "MethodDisallowedByPreflightResponse":
        return f"Add {hint!r} to allow_methods (methods are compared case-sensitively; 'patch' is not 'PATCH')."
    if kind == "HeaderDisallowedByPreflightResponse":
        if hint == "authorization":
            return "List 'Authorization' in allow_headers explicitly ('*' does not cover it in the Fetch Standard)."
        return f"Add {hint!r} to allow_headers."
    if kind in ("InvalidAllowMethodsPreflightResponse", "InvalidAllowHeadersPreflightResponse"):
        return f"The server's list {hint!r} does not parse: separate names with commas, not spaces."
    if kind == "RedirectContainsCredentials":
        return "The redirect's Location has user:password@ in it; drop the credentials from the URL."
    if kind == "DisallowedByMode":
        return "The request used mode 'same-origin' for a cross-origin URL; use mode 'cors' (the default)."
    return None


def explain_result(result: FetchResult) -> str:
    """The account behind :meth:`FetchResult.explain`."""
    who = "XMLHttpRequest" if result.initiator == "xhr" else "fetch()"
    lines = [f"The page at {result.page_origin} asked for {result.method} {result.url} with {who} ({result.engine})."]
    if not result.cross_origin:
        lines.append("It is same-origin, so CORS does not apply: the response is readable as it is (type 'basic').")
    else:
        lines.append(f"It is cross-origin ({_why_cross_origin(result.page_origin, result.url)}), so CORS applies (mode '{result.mode}').")
    for dropped in result.dropped_headers:
        lines.append(f"The browser dropped the header {dropped.name}: {dropped.reason}.")
    if result.preflight_reasons:
        lines.append("It needs a preflight, because " + "; and ".join(result.preflight_reasons) + ".")
        if result.preflight_cached:
            lines.append("A cached preflight covers it, so no OPTIONS request was sent this time.")
        elif result.preflight is not None:
            pf = result.preflight
            lines.append(
                f"The browser sent OPTIONS {pf.request.target} with Access-Control-Request-Method: "
                f"{pf.request.header('access-control-request-method')}"
                + (
                    f" and Access-Control-Request-Headers: {pf.request.header('access-control-request-headers')}"
                    if pf.request.header("access-control-request-headers")
                    else ""
                )
                + f"; the server answered {pf.response.status} {pf.response.reason}."
            )
    elif result.cross_origin and result.mode == "cors":
        lines.append("It is a simple request (safelisted method and headers), so no preflight: it goes straight to the server.")
    if result.blocked:
        if result.failure is not None and result.failure.preflight and result.preflight is not None:
            lines.append("The preflight failed, so the actual request was never sent.")
        elif result.exchanges:
            last = result.exchanges[-1]
            lines.append(
                f"The server received the {last.request.method} and answered {last.response.status}; "
                "the browser then hid the response from script."
            )
        if result.console:
            lines.append(f"Console ({result.engine}): {result.console}")
        lines.append(f"Script sees: {result.script_error}.")
        fix = fix_for(result)
        if fix:
            lines.append(f"What to change: {fix}")
    else:
        if result.type == "opaque":
            lines.append("No-cors mode: the response is opaque (status 0, no headers, no body); script cannot read it.")
        else:
            lines.append(f"Allowed: script reads status {result.status} (type '{result.type}').")
            response = result.response.response if result.response is not None else None
            if response is not None and result.type == "cors":
                hidden = sorted(
                    name
                    for name in {n.lower() for n, _ in response.headers} - set(result.readable_headers)
                    if name not in ("set-cookie", "vary") and not name.startswith("access-control-")
                )
                if hidden:
                    lines.append(
                        "Readable headers: " + ", ".join(sorted(result.readable_headers)) + ". Hidden from script: "
                        + ", ".join(hidden) + " (list them in expose_headers to make them readable)."
                    )
        for warning in result.warnings:
            lines.append(f"Note: {warning}.")
    return "\n".join(lines)
