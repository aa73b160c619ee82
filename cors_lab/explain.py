"""Plain-language accounts of CORS failures, and what to change on a FastAPI server.

- :func:`explain_result` (``FetchResult.explain()``): what the browser model did with one request.
- :func:`explain`: what a console message pasted from Chromium, Firefox or Safari means.
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cors_lab.fetch.cors import base_kind, is_preflight_kind
from cors_lab.fetch.local_network import permission_for
from cors_lab.fetch.urls import parse_origin, same_site

if TYPE_CHECKING:
    from cors_lab.browser import FetchResult

__all__ = ["Cause", "MessageExplanation", "explain", "explain_result", "fix_for"]


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


def starlette_refused_parts(result: FetchResult) -> list[str]:
    """What Starlette's 400 "Disallowed CORS origin, method, headers" preflight answer refused; [] for any other answer."""
    body = result.preflight.response.text if result.preflight is not None else ""
    return body.removeprefix("Disallowed CORS ").split(", ") if body.startswith("Disallowed CORS ") else []


def _starlette_refusal(result: FetchResult) -> str | None:
    """Advice from Starlette's 400 "Disallowed CORS ..." preflight answer, which names every refused part."""
    parts = starlette_refused_parts(result)
    if not parts:
        return None
    body = result.preflight.response.text  # type: ignore[union-attr]
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
    kind = base_kind(result.error_kind or "")
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
    if kind == "LocalNetworkAccessPermissionDenied":
        permission = permission_for(hint)  # type: ignore[arg-type]
        return (
            f"No server header fixes this. The page at {origin} is on the public internet and the API on the {hint} "
            f"network, so the browser asks the user for the {permission!r} permission, and the request fails when it "
            "is denied (headless Chromium denies without asking). Deploy the API at a public https address, or in "
            "development serve the page from localhost too; Browser(local_network_permission='granted') shows the rest."
        )
    if kind == "InsecureLocalNetwork":
        return (
            f"No server header fixes this. The page at {origin} is public and not a secure context (plain http), so "
            f"Chromium refuses its requests to the {hint} network without asking. Serve the page over https (then the "
            "user is asked), or serve the page and the API from the same network."
        )
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
        if result.error_kind in ("LocalNetworkAccessPermissionDenied", "InsecureLocalNetwork"):
            lines.append(
                "Nothing reached the server: the page is in the public address space and the server in the "
                f"{result.failure.hint if result.failure else 'a more private'} one, so Local Network Access stopped the request "
                "as the browser connected (a preflight too)."
            )
        elif result.failure is not None and result.failure.preflight and result.preflight is not None:
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


# -- explain(message): a pasted console message ------------------------------------------------------------------


@dataclass(frozen=True)
class Cause:
    """A likely cause of a CORS failure on a FastAPI server, and the lab call that confirms or rules it out."""

    title: str
    detail: str
    lab_call: str


@dataclass(frozen=True)
class MessageExplanation:
    """What :func:`explain` read in a console message.

    Fields:
        message: the text as given.
        engine: ``"chromium"``, ``"firefox"`` or ``"safari"`` (whose wording it is), or None.
        error_kind: Chromium's CorsError name of the failed check, whatever browser wrote the message, or
            None when it is not (recognised as) a CORS message.
        check: the failed check in plain words.
        url, origin, hint: what the message names (the request URL, the page's origin, the offending value).
        preflight: the failure was on the preflight.
        causes: likely causes on a FastAPI server, most often reported first.
    """

    message: str
    engine: str | None
    error_kind: str | None
    check: str
    url: str | None = None
    origin: str | None = None
    hint: str | None = None
    preflight: bool = False
    causes: list[Cause] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"Engine: {self.engine or 'not recognised'}; check: {self.check}"]
        if self.error_kind:
            lines[0] += f" ({self.error_kind})"
        if self.url or self.origin:
            lines.append(f"Request: {self.url or '?'} from origin {self.origin or '?'}")
        for number, cause in enumerate(self.causes, 1):
            lines.append(f"{number}. {cause.title}")
            lines.append(f"   {cause.detail}")
            lines.append(f"   check with: {cause.lab_call}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<MessageExplanation {self.engine or 'unknown'}: {self.error_kind or 'not a CORS message'}>"

    def _repr_html_(self) -> str:
        items = "".join(
            f"<li><b>{_html.escape(c.title)}</b><br>{_html.escape(c.detail)}<br><code>{_html.escape(c.lab_call)}</code></li>"
            for c in self.causes
        )
        kind = f" (<code>{_html.escape(self.error_kind)}</code>)" if self.error_kind else ""
        return (
            f"<div class='cors-lab-explain'><div><b>{_html.escape(self.engine or 'not recognised')}</b>: "
            f"{_html.escape(self.check)}{kind}</div><ol>{items}</ol></div>"
        )


_Q = "['\u2018\u2019\"]"  # Firefox quotes with ‘ ’; pasted text often has plain quotes
_CHROMIUM_FRAME = re.compile(
    r"Access to (?P<kind>[\w ]+?) at '(?P<url>[^']*)' (?:\(redirected from '(?P<from>[^']*)'\) )?"
    r"from origin '(?P<origin>[^']*)' has been blocked by CORS policy: (?P<rest>.*)",
    re.S,
)
_CHROMIUM_REASONS: list[tuple[str, str, str]] = [
    # (regex on the reason, CorsError, plain words)
    (r"No 'Access-Control-Allow-Origin' header is present on the requested resource", "MissingAllowOriginHeader", "the response has no Access-Control-Allow-Origin header"),
    (r"The 'Access-Control-Allow-Origin' header has a value '(?P<hint>.*?)' that is not equal to the supplied origin", "AllowOriginMismatch", "Access-Control-Allow-Origin names another origin"),
    (r"The 'Access-Control-Allow-Origin' header contains multiple values '(?P<hint>.*?)', but only one is allowed", "MultipleAllowOriginValues", "Access-Control-Allow-Origin has several values"),
    (r"The 'Access-Control-Allow-Origin' header contains the invalid value '(?P<hint>.*?)'", "InvalidAllowOriginValue", "Access-Control-Allow-Origin is not a valid origin"),
    (r"must not be the wildcard '\*' when the request's credentials mode is 'include'", "WildcardOriginNotAllowed", "Access-Control-Allow-Origin is '*' but the request carries credentials"),
    (r"The value of the 'Access-Control-Allow-Credentials' header in the response is '(?P<hint>.*?)' which must be 'true'", "InvalidAllowCredentials", "Access-Control-Allow-Credentials is not 'true' for a credentialed request"),
    (r"It does not have HTTP ok status", "PreflightInvalidStatus", "the preflight's status is not 2xx"),
    (r"Redirect is not allowed for a preflight request", "PreflightDisallowedRedirect", "the preflight was redirected"),
    (r"Cannot parse Access-Control-Allow-Methods", "InvalidAllowMethodsPreflightResponse", "Access-Control-Allow-Methods does not parse"),
    (r"Cannot parse Access-Control-Allow-Headers", "InvalidAllowHeadersPreflightResponse", "Access-Control-Allow-Headers does not parse"),
    (r"Method (?P<hint>\S+) is not allowed by Access-Control-Allow-Methods in preflight response", "MethodDisallowedByPreflightResponse", "the preflight does not allow the method"),
    (r"Request header field (?P<hint>\S+) is not allowed by Access-Control-Allow-Headers in preflight response", "HeaderDisallowedByPreflightResponse", "the preflight does not allow a request header"),
    (r"Redirect location '(?P<hint>.*?)' contains a username and password", "RedirectContainsCredentials", "a redirect's Location contains user:password"),
    (r"Cross origin requests are not allowed by request mode", "DisallowedByMode", "the request's mode forbids cross-origin requests"),
    (r"Cross origin requests are only supported for protocol schemes", "CorsDisabledScheme", "the URL's scheme does not support CORS"),
    (r"The response is invalid", "InvalidResponse", "the response is invalid"),
    (r"No 'Access-Control-Allow-Private-Network' header was present", "PreflightMissingAllowPrivateNetwork", "the private-network preflight was not granted"),
    (r"The 'Access-Control-Allow-Private-Network' header in the preflight response .* had a value of '(?P<hint>.*?)'", "PreflightInvalidAllowPrivateNetwork", "the private-network grant is not 'true'"),
    (r"Permission was denied for this request to access the `(?P<hint>\w+)` address space", "LocalNetworkAccessPermissionDenied", "Local Network Access: the user (or headless mode) denied access to a more private network"),
    (r"The request client is not a secure context and the resource is in more-private address space `(?P<hint>\w+)`", "InsecureLocalNetwork", "Local Network Access: an insecure page may not reach a more private network"),
    (r"Request had a target IP address space of", "InvalidLocalNetworkAccess", "Local Network Access: the target address space changed"),
]
_FIREFOX = re.compile(
    r"Cross-Origin Request (?:Blocked|Warning): The Same Origin Policy (?:disallows|will disallow) reading the remote resource at "
    rf"{_Q}?(?P<url>[^ ‘’']+?){_Q}?\.? (?:soon\. )?\(Reason: (?P<rest>.*)",
    re.S,
)
_FIREFOX_REASONS: list[tuple[str, str, str]] = [
    (rf"CORS header {_Q}Access-Control-Allow-Origin{_Q} missing", "MissingAllowOriginHeader", "the response has no Access-Control-Allow-Origin header"),
    (rf"CORS header {_Q}Access-Control-Allow-Origin{_Q} does not match {_Q}(?P<hint>.*?){_Q}", "AllowOriginMismatch", "Access-Control-Allow-Origin names another origin"),
    (rf"Multiple CORS header {_Q}Access-Control-Allow-Origin{_Q} not allowed", "MultipleAllowOriginValues", "Access-Control-Allow-Origin was sent more than once"),
    (rf"Credential is not supported if the CORS header {_Q}Access-Control-Allow-Origin{_Q} is {_Q}\*{_Q}", "WildcardOriginNotAllowed", "Access-Control-Allow-Origin is '*' but the request carries credentials"),
    (rf"expected {_Q}true{_Q} in CORS header {_Q}Access-Control-Allow-Credentials{_Q}", "InvalidAllowCredentials", "Access-Control-Allow-Credentials is not 'true' for a credentialed request"),
    (r"CORS preflight (?:response|channel) did not succeed", "PreflightInvalidStatus", "the preflight's status is not 2xx"),
    (r"CORS request external redirect not allowed", "PreflightDisallowedRedirect", "the preflight was redirected"),
    (rf"Did not find method in CORS header {_Q}Access-Control-Allow-Methods{_Q}", "MethodDisallowedByPreflightResponse", "the preflight does not allow the method"),
    (rf"invalid token {_Q}(?P<hint>.*?){_Q} in CORS header {_Q}Access-Control-Allow-Methods{_Q}", "InvalidAllowMethodsPreflightResponse", "Access-Control-Allow-Methods does not parse"),
    (rf"invalid token {_Q}(?P<hint>.*?){_Q} in CORS header {_Q}Access-Control-Allow-Headers{_Q}", "InvalidAllowHeadersPreflightResponse", "Access-Control-Allow-Headers does not parse"),
    (rf"header {_Q}(?P<hint>.*?){_Q} is not allowed according to header {_Q}Access-Control-Allow-Headers{_Q}", "HeaderDisallowedByPreflightResponse", "the preflight does not allow a request header"),
    (rf"missing token {_Q}(?P<hint>.*?){_Q} in CORS header {_Q}Access-Control-Allow-Headers{_Q}", "HeaderDisallowedByPreflightResponse", "the preflight does not allow a request header"),
    (r"When the `Access-Control-Allow-Headers` is `\*`, the `Authorization` header is not covered", "AuthorizationCoveredByWildcard", "a warning: Authorization is allowed only through '*'"),
    (r"CORS request did not succeed", "NetworkError", "the request got no HTTP response at all (a network, TLS or earlier CORS failure)"),
    (r"CORS request not http", "CorsDisabledScheme", "the URL's scheme does not support CORS"),
    (r"CORS disabled", "DisallowedByMode", "CORS is disabled in this browser"),
    (rf"CORS header {_Q}Origin{_Q} cannot be added", "InvalidResponse", "the browser could not add an Origin header"),
]
_SAFARI_REASONS: list[tuple[str, str, str]] = [
    (r"Origin (?P<origin>\S+) is not allowed by Access-Control-Allow-Origin\.", "MissingAllowOriginHeader", "Access-Control-Allow-Origin is missing or names another origin"),
    (r"Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true", "WildcardOriginNotAllowed", "Access-Control-Allow-Origin is '*' but the request carries credentials"),
    (r"Access-Control-Allow-Origin cannot contain more than one origin", "MultipleAllowOriginValues", "Access-Control-Allow-Origin has several values"),
    (r"Credentials flag is true, but Access-Control-Allow-Credentials is not \"true\"", "InvalidAllowCredentials", "Access-Control-Allow-Credentials is not 'true' for a credentialed request"),
    (r"Preflight response is not successful", "PreflightInvalidStatus", "the preflight's status is not 2xx"),
    (r"Header Access-Control-Allow-Methods has an invalid value: (?P<hint>.*)", "InvalidAllowMethodsPreflightResponse", "Access-Control-Allow-Methods does not parse"),
    (r"Header Access-Control-Allow-Headers has an invalid value: (?P<hint>.*)", "InvalidAllowHeadersPreflightResponse", "Access-Control-Allow-Headers does not parse"),
    (r"Method (?P<hint>\S+) is not allowed by Access-Control-Allow-Methods\.", "MethodDisallowedByPreflightResponse", "the preflight does not allow the method"),
    (r"Request header field (?P<hint>\S+) is not allowed by Access-Control-Allow-Headers\.", "HeaderDisallowedByPreflightResponse", "the preflight does not allow a request header"),
    (r"redirection URL (?P<hint>\S*) ?has credentials", "RedirectContainsCredentials", "a redirect's Location contains user:password"),
    (r"not allowed to follow a cross-origin CORS redirection with non CORS scheme", "CorsDisabledScheme", "a redirect went to a scheme without CORS"),
    (r"(?:Fetch API|XMLHttpRequest) cannot load (?P<url>\S+) due to access control checks", "", "Safari blocked the request; the line before this one says which check failed"),
]

_BASE_CALL = "cors_lab.Browser(origin={origin!r}).fetch(app, {path!r}{method}).explain()"


def _causes(kind: str, *, origin: str, path: str, preflight: bool, hint: str | None) -> list[Cause]:
    """Likely causes on a FastAPI server, most often reported first (starlette-cors.md §4)."""
    method = ", method='PUT'" if preflight else ""
    fetch = _BASE_CALL.format(origin=origin, path=path, method=method)
    doctor_call = f"cors_lab.doctor(app, frontend={origin!r})"
    preflight_call = f"print(cors_lab.send(app, 'OPTIONS', {path!r}, headers={{'Origin': {origin!r}, 'Access-Control-Request-Method': 'PUT'}}))"
    # The whole preflight as the browser sends it, with the page's real method and headers.
    full_preflight_call = f"print(cors_lab.Browser(origin={origin!r}).fetch(app, {path!r}, method='PUT', json={{}}, headers={{...}}).preflight)"
    options_call = "cors_lab.lint(**cors_options)"
    base = base_kind(kind)
    if base == "MissingAllowOriginHeader" and preflight:
        return [
            Cause("the origin is not in allow_origins", f"Starlette answers a preflight from an unknown origin with 400 and no Access-Control-Allow-Origin; {origin!r} must be listed exactly (scheme, host, port, no trailing slash).", preflight_call),
            Cause("an auth or other middleware answered the preflight first", "Preflights carry no credentials; an auth layer outside CORSMiddleware answers 401/403 without CORS headers. app.add_middleware puts the last-added middleware outermost.", doctor_call),
            Cause("no CORSMiddleware handles this app", "The middleware is missing, or added to another app object than the one served (a mounted or wrapped app).", "cors_lab.stack.middleware_layers(app)"),
        ]
    if base == "MissingAllowOriginHeader":
        return [
            Cause("the origin is not listed exactly in allow_origins", f"CORSMiddleware compares strings: {origin!r} must appear as written here (a trailing slash, a missing scheme, localhost vs 127.0.0.1 all fail).", options_call),
            Cause("the route raised: a 500 from outside CORSMiddleware", "Starlette's ServerErrorMiddleware answers unhandled exceptions outside CORSMiddleware, so the 500 has no CORS headers. Check the server log; wrap the app with CORSMiddleware to see the 500.", fetch),
            Cause("CORSMiddleware is missing or on another app", "It must wrap the app that uvicorn serves (watch out for mounted sub-apps and wrappers such as fastapi-versioning).", doctor_call),
            Cause("a layer outside CORSMiddleware answered", "TrustedHostMiddleware (400), a body-size limit (413) or a proxy answers without CORS headers.", doctor_call),
        ]
    if base == "PreflightInvalidStatus":
        return [
            Cause("the method is not in allow_methods", "Starlette's default is allow_methods=('GET',): PUT, PATCH, DELETE and POST-with-JSON preflights get 400 'Disallowed CORS method'. The preflight's body names what was refused.", full_preflight_call),
            Cause("a request header is not in allow_headers", "Authorization and custom headers must be listed (the four safelisted names are always allowed): 400 'Disallowed CORS headers'.", full_preflight_call),
            Cause("a route or layer that is not CORSMiddleware answered the OPTIONS with an error but kept CORS headers", "For example a handler for OPTIONS, or a proxy; the preflight must get a 2xx.", doctor_call),
            Cause("(older browsers only) a private-network preflight was refused", "Browsers that still send Access-Control-Request-Private-Network (Chrome before Local Network Access) get 400 from Starlette 0.51+ unless allow_private_network=True; Chromium 156 no longer sends it.", preflight_call),
        ]
    if base == "PreflightDisallowedRedirect":
        return [
            Cause("HTTPSRedirectMiddleware or a proxy redirects the OPTIONS", "Browsers never follow a redirect on a preflight. Put CORSMiddleware outside HTTPSRedirectMiddleware, or call the https URL directly.", doctor_call),
            Cause("the URL needs a trailing slash (or lacks one)", "Request the exact path the route declares; a redirect on the preflight fails.", preflight_call),
        ]
    if base == "WildcardOriginNotAllowed":
        return [
            Cause("allow_origins=['*'] while the frontend sends credentials", "credentials: 'include' or withCredentials needs the exact origin: allow_origins=[...] and allow_credentials=True.", fetch),
            Cause("an old Starlette (< 1.0) with allow_credentials=True", "Before 1.0 Starlette echoed the origin only when a Cookie header was present; a first login request without cookies got '*'. Upgrade Starlette.", options_call),
        ]
    if base == "InvalidAllowCredentials":
        return [Cause("allow_credentials is not set", "With credentials the browser needs Access-Control-Allow-Credentials: true: CORSMiddleware(..., allow_credentials=True).", options_call)]
    if base in ("MultipleAllowOriginValues",):
        return [
            Cause("two layers add Access-Control-Allow-Origin", f"A proxy (nginx add_header), a second CORSMiddleware or a mounted app with its own CORS also adds the header ({hint!r}). Keep one.", fetch),
        ]
    if base == "AllowOriginMismatch":
        return [
            Cause("the server names another origin", f"It sent {hint!r}. A cached response made for another origin (no Vary: Origin), a hard-coded value, or a redirect that made the request's origin 'null'.", fetch),
            Cause("a trailing slash or other spelling", "Access-Control-Allow-Origin must be the exact serialized origin.", options_call),
        ]
    if base == "InvalidAllowOriginValue":
        return [Cause("the header is not an origin", f"The server sent {hint!r}; send scheme://host[:port] exactly.", fetch)]
    if base == "MethodDisallowedByPreflightResponse":
        return [Cause("the method is not allowed", f"Add {hint!r} to allow_methods; methods are case-sensitive ('patch' is not 'PATCH').", preflight_call)]
    if base == "HeaderDisallowedByPreflightResponse":
        return [Cause("the request header is not allowed", f"Add {hint!r} to allow_headers (Authorization must be named, '*' does not cover it in the spec).", preflight_call)]
    if base in ("InvalidAllowMethodsPreflightResponse", "InvalidAllowHeadersPreflightResponse"):
        return [Cause("the allow list does not parse", f"Separate the names with commas, not spaces ({hint!r}).", preflight_call)]
    if base == "RedirectContainsCredentials":
        return [Cause("a redirect carries user:password", "Remove credentials from the Location URL.", fetch)]
    if base in ("LocalNetworkAccessPermissionDenied", "InsecureLocalNetwork", "InvalidLocalNetworkAccess", "PreflightMissingAllowPrivateNetwork", "PreflightInvalidAllowPrivateNetwork"):
        return [Cause("a public page calls a private or loopback server", "Local Network Access: Chromium 142+ and Firefox 153 ask the user for permission (headless Chromium denies it; Chromium refuses an http page outright); no server header fixes this. Serve the page and the API from the same network, deploy the API publicly, or grant the permission.", fetch)]
    if base == "NetworkError":
        return [
            Cause("the server is down or unreachable, or TLS failed", "Firefox prints this after any failure without an HTTP response: check the line before it, and whether the server answers curl.", f"cors_lab.send({'<url>'!r}, 'GET', '/')"),
            Cause("the preflight failed", "Firefox prints this second line after a failed preflight; the line before names the check.", preflight_call),
            Cause("a Local Network Access prompt was blocked", "A public page asked for localhost or a private address and the user chose Block (Firefox 153 asks first); no server header fixes this.", f"cors_lab.Browser(origin={origin!r}, engine='firefox').fetch(app, {path!r}).explain()"),
        ]
    if base == "DisallowedByMode":
        return [Cause("the request used mode 'same-origin' (or CORS is disabled)", "Use the default mode 'cors' for cross-origin requests.", fetch)]
    return []


def _path_of(url: str | None) -> str:
    if not url:
        return "/"
    match = re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*([^#]*)", url)
    return (match.group(1) or "/") if match else "/"


def explain(message: str) -> MessageExplanation:
    """Read a browser's CORS console message (Chromium, Firefox or Safari, any version's wording) and explain it.

    Returns which check failed (``error_kind``: Chromium's CorsError name, whatever browser wrote it), which
    engine's wording it is, and the likely causes on a FastAPI server, most often reported first, each with the
    lab call that confirms or rules it out. Text that is not a CORS message gets a helpful answer, not an error.

    >>> result = explain("Access to fetch at 'http://localhost:8000/items' from origin 'http://localhost:3000' "
    ...                  "has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource.")
    >>> result.engine, result.error_kind, result.origin
    ('chromium', 'MissingAllowOriginHeader', 'http://localhost:3000')
    """
    if not isinstance(message, str):
        raise TypeError(f"message must be the console text as a string, not {type(message).__name__} {message!r}")
    text = " ".join(message.split())
    text = re.sub(r"^(?:\S+:\d+(?::\d+)?\s+)?(?:CONSOLE \w+ \w+ )?", "", text)  # WebKit's stderr prefix
    frame = _CHROMIUM_FRAME.search(text)
    devtools = re.search(r"Access blocked by CORS policy: (?P<rest>.*)", text)
    if frame or devtools:
        rest = (frame or devtools).group("rest")
        preflight = "Response to preflight request doesn't pass access control check" in rest
        rest = rest.replace("Response to preflight request doesn't pass access control check: ", "")
        for pattern, kind, check in _CHROMIUM_REASONS:
            found = re.search(pattern, rest)
            if found:
                if preflight and kind in ("MissingAllowOriginHeader", "AllowOriginMismatch", "MultipleAllowOriginValues", "InvalidAllowOriginValue", "WildcardOriginNotAllowed", "InvalidAllowCredentials"):
                    kind = "Preflight" + kind
                url = frame.group("url") if frame else None
                origin = frame.group("origin") if frame else None
                hint = found.groupdict().get("hint")
                is_preflight = preflight or is_preflight_kind(kind)
                return MessageExplanation(
                    message, "chromium", kind, check + (" (on the preflight)" if preflight else ""), url, origin, hint, is_preflight,
                    _causes(kind, origin=origin or "http://localhost:3000", path=_path_of(url), preflight=is_preflight, hint=hint),
                )
        return MessageExplanation(message, "chromium", None, "a CORS-policy message whose reason the lab does not know", frame.group("url") if frame else None, frame.group("origin") if frame else None)
    same_origin_mode = re.search(r"Fetch API cannot load (?P<url>\S+)\. Request mode is \"same-origin\" but the URL's origin is not same as the request origin (?P<origin>\S+?)\.?$", text)
    if same_origin_mode:
        return MessageExplanation(message, "chromium", "DisallowedByMode", "mode 'same-origin' with a cross-origin URL", same_origin_mode.group("url"), same_origin_mode.group("origin"), None, False,
                                  _causes("DisallowedByMode", origin=same_origin_mode.group("origin"), path=_path_of(same_origin_mode.group("url")), preflight=False, hint=None))
    firefox = _FIREFOX.search(text)
    if firefox:
        rest, url = firefox.group("rest"), firefox.group("url")
        for pattern, kind, check in _FIREFOX_REASONS:
            found = re.search(pattern, rest)
            if found:
                hint = found.groupdict().get("hint")
                preflight = is_preflight_kind(kind)
                error_kind = None if kind in ("NetworkError", "AuthorizationCoveredByWildcard") else kind
                return MessageExplanation(
                    message, "firefox", error_kind, check, url, None, hint, preflight,
                    _causes(kind, origin="http://localhost:3000", path=_path_of(url), preflight=preflight, hint=hint),
                )
        return MessageExplanation(message, "firefox", None, "a CORS message whose reason the lab does not know", url)
    for pattern, kind, check in _SAFARI_REASONS:
        found = re.search(pattern, text)
        if found:
            groups = found.groupdict()
            origin = groups.get("origin")
            hint = groups.get("hint")
            preflight = is_preflight_kind(kind)
            return MessageExplanation(
                message, "safari", kind or None, check, groups.get("url"), origin, hint, preflight,
                _causes(kind, origin=origin or "http://localhost:3000", path=_path_of(groups.get("url")), preflight=preflight, hint=hint) if kind else [],
            )
    if re.search(r"Failed to fetch|NetworkError when attempting to fetch resource|Load failed", text):
        return MessageExplanation(
            message, None, None,
            "the script-side error of any failed fetch: it never says why. Look in the browser console (or the "
            "Network tab) for the line that starts 'Access to fetch at', 'Cross-Origin Request Blocked' or names "
            "Access-Control-Allow-Origin, and paste that",
        )
    if re.search(r"Mixed Content|blocked:mixed-content", text, re.I):
        return MessageExplanation(message, None, None, "not CORS: an https page may not call an http URL (mixed content); serve the API over https")
    if re.search(r"ERR_CONNECTION_REFUSED|ERR_NAME_NOT_RESOLVED|ECONNREFUSED|Connection refused", text):
        return MessageExplanation(message, None, None, "not CORS: the server is not reachable (down, wrong port or host)")
    return MessageExplanation(
        message, None, None,
        "not recognised as a CORS message: paste the whole console line, as Chromium ('Access to fetch at ... has been "
        "blocked by CORS policy: ...'), Firefox ('Cross-Origin Request Blocked: ...') or Safari ('Origin ... is not "
        "allowed by Access-Control-Allow-Origin') print it",
    )
