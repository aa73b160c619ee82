"""``Browser``: what a browser does with one cross-origin request, wired to real apps.

The orchestrator follows the Fetch Standard's *main fetch*, *HTTP fetch* and
*HTTP-redirect fetch* (https://fetch.spec.whatwg.org/#concept-main-fetch),
asks the pure functions in :mod:`cors_lab.fetch` every question (preflight or
not, does the CORS check pass, what may script read), asks the engine profile
how its browser departs from the spec and how it words a failure, and uses the
exchange layer to put each request on the wire: in-process for apps the
browser knows, over the network for any other URL.

Time is virtual: the preflight cache and cookie expiry read ``browser.now``,
which only :meth:`Browser.advance` moves. Notebooks and tests never sleep.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cors_lab.asgi import ASGIApp, call_app, describe_app, is_asgi_app
from cors_lab.bodies import Body, extract_body
from cors_lab.engines import Blocked, Engine, get_engine
from cors_lab.fetch.cache import PreflightCache
from cors_lab.fetch.cookies import CookieJar, parse_set_cookie
from cors_lab.fetch.cors import (
    CorsFailure,
    basic_filtered_headers,
    check_access,
    cors_filtered_headers,
    preflight_verdict,
)
from cors_lab.fetch.headers import (
    cors_unsafe_request_header_names,
    is_cors_safelisted_method,
    is_forbidden_method,
    is_forbidden_request_header,
    is_no_cors_safelisted_request_header,
    normalize_method,
)
from cors_lab.fetch.local_network import (
    ADDRESS_SPACES,
    AddressSpace,
    address_space_of_host,
    is_local_network_request,
    is_potentially_trustworthy,
)
from cors_lab.fetch.preflight import preflight_reasons
from cors_lab.fetch.urls import URL, InvalidURL, Origin, parse_origin, parse_page_origin, parse_url, same_site
from cors_lab.messages import Exchange, HeadersInput, Request, build_request, normalize_headers, validate_method
from cors_lab.network import NetworkError, asend_over_network
from cors_lab.runner import run_sync
from cors_lab.server import Server
from cors_lab.transport import DEFAULT_APP_ORIGIN

__all__ = ["Browser", "DroppedHeader", "FetchResult"]

Mode = Literal["cors", "no-cors", "same-origin"]
Credentials = Literal["omit", "same-origin", "include"]
RedirectMode = Literal["follow", "error", "manual"]
Initiator = Literal["fetch", "xhr"]
LocalNetworkPermission = Literal["denied", "granted"]

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# https://fetch.spec.whatwg.org/#request-body-header-name
_REQUEST_BODY_HEADERS = frozenset({"content-encoding", "content-language", "content-location", "content-type"})
_MISSING = object()


@dataclass(frozen=True)
class DroppedHeader:
    """A header script asked for that the browser did not send, and why."""

    name: str
    value: str
    reason: str


@dataclass(frozen=True)
class FetchResult:
    """What happened to one ``fetch()`` (or XHR), as the page's script and the console see it.

    Fields:
        blocked: the promise rejected (XHR: the ``error`` event fired).
        status: the status script sees (0 when blocked or opaque).
        type: ``"basic"``, ``"cors"``, ``"opaque"``, ``"opaqueredirect"`` or ``"error"``.
        preflight: the preflight exchange, or None.
        preflight_reasons: why a preflight was needed (empty for a simple request).
        exchanges: every exchange on the wire, in order.
        error_kind: Chromium's CorsError name of the failed check (``"MissingAllowOriginHeader"``), or None.
        console: the engine's console line about the failure, or None.
        console_messages: every console line the engine prints, in order.
        readable_headers: the response headers script can read, by lowercase name.
        body: the response text script can read, or None.
        engine, page_origin, url, method: what was asked, and of whom.
        dropped_headers: headers script set that the browser did not send.
        preflight_cached: the preflight was skipped because the cache covered it.
        script_error: what script sees when blocked (``"TypeError: Failed to fetch"``).
        warnings: non-blocking notices (deprecations) the engine raises.
    """

    blocked: bool
    status: int
    type: str
    preflight: Exchange | None
    exchanges: list[Exchange]
    error_kind: str | None
    console: str | None
    console_messages: list[str]
    readable_headers: dict[str, str]
    body: str | None
    engine: str
    page_origin: str
    url: str
    method: str
    initiator: str = "fetch"
    credentials: str = "same-origin"
    mode: str = "cors"
    dropped_headers: list[DroppedHeader] = field(default_factory=list)
    preflight_cached: bool = False
    script_error: str | None = None
    warnings: list[str] = field(default_factory=list)
    failure: CorsFailure | None = field(default=None, repr=False)
    cross_origin: bool = True
    redirected: bool = False
    final_url: str = ""
    #: The request as the page's script made it (headers the browser dropped are left out; no browser-added headers).
    script_request: Request | None = None
    #: The network error when a request got no HTTP response at all (``"ERR_CONNECTION_REFUSED"``), else None.
    net_error: str | None = None
    #: The Browser's keyword options that differ from the defaults (``address_spaces``,
    #: ``local_network_permission``), so a report can rebuild the same browser.
    browser_options: dict[str, Any] = field(default_factory=dict)
    # What preflight_reasons explains, kept so the sentences are only written when someone reads them.
    _preflight_question: tuple[Any, ...] | None = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def preflight_reasons(self) -> list[str]:
        """Why a preflight was needed, one sentence per cause (empty for a simple request)."""
        if self._preflight_question is None:
            return []
        method, headers, stream, upload_listener, extra = self._preflight_question
        return preflight_reasons(method, headers, stream_body=stream, upload_listener=upload_listener, extra_safelisted=extra)

    @property
    def ok(self) -> bool:
        """Not blocked and a 2xx status (``response.ok`` in script)."""
        return not self.blocked and 200 <= self.status <= 299

    @property
    def response(self) -> Exchange | None:
        """The last exchange (the actual request's), or None if nothing was sent."""
        return self.exchanges[-1] if self.exchanges else None

    def explain(self) -> str:
        """A plain-language account: what the browser did, which check failed and why, and what to change."""
        from cors_lab.explain import explain_result

        return explain_result(self)

    def __str__(self) -> str:
        from cors_lab import display

        return display.fetch_result_text(self)

    def __repr__(self) -> str:
        verdict = f"blocked: {self.error_kind}" if self.blocked else f"{self.status} {self.type}"
        return f"<FetchResult {self.method} {self.url} from {self.page_origin} ({self.engine}) -> {verdict}>"

    def _repr_html_(self) -> str:
        from cors_lab import display

        return display.fetch_result_html(self)


class _Blocked(Exception):
    """Internal: the fetch ends in a network error."""

    def __init__(
        self,
        failure: CorsFailure | None,
        *,
        url: str,
        status: int | None = None,
        console: list[str] | None = None,
        net_error: str | None = None,
        script_error: str | None = None,
    ):
        self.net_error = net_error
        #: What script sees instead of the engine's usual error (None: the usual one).
        self.script_error = script_error
        self.failure = failure
        self.url = url
        self.status = status
        self.console = console


class Browser:
    """A page at ``origin`` in a browser engine, making requests like ``fetch()`` and XHR.

    ``engine`` is ``"chromium"`` (default), ``"firefox"`` or ``"safari"``.
    ``servers`` are the in-process apps the browser can reach, each at its
    origin; a URL at any other origin goes over the network.

    Local Network Access: a page in the public address space that requests a
    local or loopback address needs the user's permission (Chromium, Firefox).
    ``address_spaces`` says where names resolve, by host or origin
    (``{"app.example": "public", "http://printer.lan": "local"}``); IP literals,
    ``localhost`` and ``.local`` names speak for themselves, any other name is
    ``public``, and an opaque (``null``) page is ``loopback``, like a ``file:``
    page. ``local_network_permission`` is the user's answer to the prompt:
    ``"denied"`` (what headless Chromium does without asking) or ``"granted"``.

    >>> import cors_lab
    >>> api = cors_lab.demo_api(allow_origins=["http://localhost:3000"])
    >>> browser = cors_lab.Browser(origin="http://localhost:3000")
    >>> result = browser.fetch(api, "/items", method="PUT", json={"name": "fig"})
    >>> result.blocked, result.error_kind
    (True, 'PreflightInvalidStatus')
    >>> print(result.console)
    Access to fetch at 'http://localhost:8000/items' from origin 'http://localhost:3000' has been blocked by CORS policy: Response to preflight request doesn't pass access control check: It does not have HTTP ok status.
    """

    def __init__(
        self,
        origin: str = "http://localhost:3000",
        *,
        engine: str | Engine = "chromium",
        servers: Iterable[Server] = (),
        timeout: float = 5.0,
        address_spaces: Mapping[str, AddressSpace] | None = None,
        local_network_permission: LocalNetworkPermission = "denied",
    ) -> None:
        try:
            parsed = parse_page_origin(origin)
        except InvalidURL as exc:
            raise ValueError(str(exc)) from None
        self.page_origin: Origin = parsed
        self.origin = parsed.serialize()
        # The page's own URL (Firefox names it in some console lines): the URL given, else the origin's root.
        self.page_url: str | None = None if parsed.opaque else (
            parse_url(origin).serialize(exclude_fragment=True) if isinstance(origin, str) else self.origin + "/"
        )
        self.engine = get_engine(engine)
        self.servers: dict[str, Server] = {}
        for server in servers:
            if not isinstance(server, Server):
                raise TypeError(f"servers must be cors_lab.Server objects, got {type(server).__name__} {server!r}")
            self.servers[parse_origin(server.origin).serialize()] = server
        self.timeout = timeout
        self.address_spaces = _check_address_spaces(address_spaces)
        _check_choice("local_network_permission", local_network_permission, ("denied", "granted"))
        self.local_network_permission: LocalNetworkPermission = local_network_permission
        self._bare_apps: weakref.WeakKeyDictionary[Any, Server] = weakref.WeakKeyDictionary()
        self.now = 0.0
        self.cookies = CookieJar()
        self.preflight_cache = PreflightCache(
            replace=self.engine.cache_replaces,
            wildcard_covers_authorization=self.engine.cache_wildcard_covers_authorization,
            max_url_length=self.engine.cache_max_url_length,
            wildcards=self.engine.cache_wildcards,
            credentials_exact=self.engine.cache_credentials_exact,
        )

    def __repr__(self) -> str:
        return f"Browser(origin={self.origin!r}, engine={self.engine.name!r})"

    def advance(self, seconds: float) -> float:
        """Move the virtual clock forward (preflight cache and cookie expiry); returns the new time."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"seconds must be a non-negative number, got {seconds!r}")
        self.now += seconds
        return self.now

    def clear(self) -> None:
        """Forget cookies and cached preflights (a fresh browser context)."""
        self.cookies.clear()
        self.preflight_cache.clear()

    # -- The public call ---------------------------------------------------------------------

    def fetch(
        self,
        target: ASGIApp | Server | str,
        path: str | None = None,
        *,
        method: str = "GET",
        headers: HeadersInput = None,
        body: Body = None,
        json: Any = _MISSING,
        credentials: Credentials = "same-origin",
        mode: Mode = "cors",
        redirect: RedirectMode = "follow",
        initiator: Initiator = "fetch",
        upload_listener: bool = False,
    ) -> FetchResult:
        """Make the request the way the page's script would, and report what the browser does.

        ``target`` is an ASGI app (served at ``http://localhost:8000``), a
        :class:`Server`, or a URL; ``path`` is a path or an absolute URL
        (``browser.fetch("http://localhost:8000/items")`` fetches that URL).
        ``headers`` is a dict or a list of pairs; ``body`` a str, bytes or one
        of ``cors_lab.URLSearchParams``/``FormData``/``Blob``/``ReadableStream``;
        ``json=`` sets the body and ``Content-Type: application/json``.
        ``initiator="xhr"`` models ``XMLHttpRequest`` (``credentials="include"``
        is ``withCredentials``; ``upload_listener`` an ``upload.onprogress``).

        Like a browser, this raises ``TypeError`` for requests ``fetch()``
        refuses (a forbidden method, a body with GET, an unparsable URL, a
        non-safelisted method in no-cors mode) and ``ValueError`` for malformed
        input (a header value with CR/LF, a method that is not a token).
        """
        prepared = self._prepare(target, path, method, headers, body, json, credentials, mode, redirect, initiator, upload_listener)
        return run_sync(self._fetch(prepared), timeout=None)

    async def afetch(
        self,
        target: ASGIApp | Server | str,
        path: str | None = None,
        *,
        method: str = "GET",
        headers: HeadersInput = None,
        body: Body = None,
        json: Any = _MISSING,
        credentials: Credentials = "same-origin",
        mode: Mode = "cors",
        redirect: RedirectMode = "follow",
        initiator: Initiator = "fetch",
        upload_listener: bool = False,
    ) -> FetchResult:
        """Async twin of :meth:`fetch`."""
        prepared = self._prepare(target, path, method, headers, body, json, credentials, mode, redirect, initiator, upload_listener)
        return await self._fetch(prepared)

    # -- Request construction (the Request constructor and fetch()'s checks) -------------------

    def _prepare(self, target, path, method, headers, body, json, credentials, mode, redirect, initiator, upload_listener):
        _check_choice("mode", mode, ("cors", "no-cors", "same-origin"))
        _check_choice("credentials", credentials, ("omit", "same-origin", "include"))
        _check_choice("redirect", redirect, ("follow", "error", "manual"))
        _check_choice("initiator", initiator, ("fetch", "xhr"))
        servers = dict(self.servers)
        if isinstance(target, Server):
            base = target.origin
            servers.setdefault(parse_origin(base).serialize(), target)
        elif isinstance(target, str):
            base = target
        elif is_asgi_app(target):
            base = DEFAULT_APP_ORIGIN
            server = self._bare_apps.get(target)
            if server is None:
                server = self._bare_apps[target] = Server(target, origin=DEFAULT_APP_ORIGIN)
            servers.setdefault(DEFAULT_APP_ORIGIN, server)
        else:
            raise TypeError(
                "target must be an ASGI app (such as a FastAPI() instance), a cors_lab.Server, or a URL "
                f"such as 'http://localhost:8000'; got {type(target).__name__} {target!r}"
            )
        if path is None:
            path = base if isinstance(target, str) else "/"
        where = "fetch" if initiator == "fetch" else "open"
        api = "Window" if initiator == "fetch" else "XMLHttpRequest"
        try:
            url = parse_url(path, base) if isinstance(path, str) else parse_url(path)
        except InvalidURL:
            raise TypeError(f"Failed to execute '{where}' on '{api}': Failed to parse URL from {path}") from None
        except TypeError:
            raise TypeError(f"path must be a string such as '/items', not {type(path).__name__} {path!r}") from None
        if url.scheme not in ("http", "https"):
            raise TypeError(f"Failed to execute '{where}' on '{api}': URL scheme {url.scheme!r} is not supported by the lab (use http or https)")
        if url.includes_credentials and initiator == "fetch":
            raise TypeError(
                f"Failed to execute 'fetch' on 'Window': Request cannot be constructed from a URL that includes credentials: {url}"
            )
        validate_method(method)
        if is_forbidden_method(method):
            raise TypeError(f"Failed to execute '{where}' on '{api}': '{method}' HTTP method is unsupported.")
        method = normalize_method(method)
        if mode == "no-cors" and not is_cors_safelisted_method(method):
            raise TypeError(f"Failed to execute 'fetch' on 'Window': '{method}' is unsupported in no-cors mode.")
        has_json = json is not _MISSING
        extracted = extract_body(
            body, json=json if has_json else None, has_json=has_json, stream_uploads=self.engine.stream_request_bodies
        )
        if (extracted.data or body is not None or has_json) and method in ("GET", "HEAD"):
            if initiator == "xhr":
                extracted = extract_body(None)  # XHR silently ignores a body with GET/HEAD
            else:
                raise TypeError("Failed to execute 'fetch' on 'Window': Request with GET/HEAD method cannot have body.")
        if extracted.stream and mode == "no-cors":
            raise TypeError("Failed to execute 'fetch' on 'Window': A request with a ReadableStream body must use mode 'cors' or 'same-origin'.")
        kept: list[tuple[str, str]] = []
        dropped: list[DroppedHeader] = []
        for name, value in normalize_headers(headers):
            if is_forbidden_request_header(name, value):
                dropped.append(DroppedHeader(name, value, "a forbidden request header: script cannot set it"))
            elif mode == "no-cors" and not is_no_cors_safelisted_request_header(name, value):
                dropped.append(DroppedHeader(name, value, "not a no-CORS-safelisted request header: no-cors mode drops it"))
            else:
                kept.append((name, value))
        if extracted.content_type is not None and not any(n.lower() == "content-type" for n, _ in kept):
            kept.append(("Content-Type", extracted.content_type))
        return _Prepared(
            url=url,
            method=method,
            headers=tuple(kept),
            body=extracted.data,
            stream=extracted.stream,
            credentials=credentials,
            mode=mode,
            redirect=redirect,
            initiator=initiator,
            upload_listener=upload_listener and initiator == "xhr",
            dropped=dropped,
            servers=servers,
        )

    # -- Main fetch ------------------------------------------------------------------------------

    async def _fetch(self, p: _Prepared) -> FetchResult:
        engine = self.engine
        initial_url = p.url.serialize(exclude_fragment=True)
        state = _FetchState(url=p.url, method=p.method, headers=p.headers, body=p.body)
        result_kwargs: dict[str, Any] = {}
        try:
            return await self._main_fetch(p, state, initial_url)
        except _Blocked as blocked:
            failure = blocked.failure
            if blocked.console is not None:
                console_messages = blocked.console
            elif failure is not None:
                console_messages = engine.console(
                    Blocked(
                        failure=failure,
                        url=blocked.url,
                        initial_url=initial_url,
                        page_origin=self.origin,
                        initiator=p.initiator,
                        status=blocked.status,
                        # The origin the failing request carried: null once a redirect tainted it.
                        request_origin=self.origin if state.taint == "same-origin" else "null",
                    )
                )
            else:
                console_messages = []
            # Notes logged earlier in the fetch (a preflight warning, a refused cookie) come first.
            console_messages = state.console_notes + console_messages
            result_kwargs = dict(
                blocked=True,
                status=0,
                type="error",
                error_kind=failure.kind if failure is not None else None,
                console=console_messages[0] if console_messages else None,
                console_messages=console_messages,
                readable_headers={},
                body=None,
                script_error=blocked.script_error or (engine.script_error if p.initiator == "fetch" else engine.xhr_script_error),
                failure=failure,
                net_error=blocked.net_error,
            )
        return self._result(p, state, initial_url, **result_kwargs)

    def _result(self, p: _Prepared, state: _FetchState, initial_url: str, **kwargs: Any) -> FetchResult:
        return FetchResult(
            preflight=state.preflight,
            _preflight_question=state.preflight_question,
            exchanges=state.exchanges,
            engine=self.engine.name,
            page_origin=self.origin,
            url=initial_url,
            method=p.method,
            initiator=p.initiator,
            credentials=p.credentials,
            mode=p.mode,
            dropped_headers=list(p.dropped),
            preflight_cached=state.preflight_cached,
            warnings=state.warnings,
            cross_origin=state.cross_origin,
            redirected=state.redirect_count > 0,
            final_url=state.url.serialize(exclude_fragment=True),
            script_request=Request(p.method, initial_url, p.headers, p.body),
            browser_options=self._non_default_options(),
            **kwargs,
        )

    async def _main_fetch(self, p: _Prepared, state: _FetchState, initial_url: str) -> FetchResult:
        engine = self.engine
        page = self.page_origin
        tainting = "basic"
        if p.stream and engine.stream_upload_rejection:
            # No streaming uploads at all: the promise rejects before anything is sent (WebKit).
            raise _Blocked(None, url=initial_url, console=[], script_error=engine.stream_upload_rejection)
        while True:
            url = state.url
            url_text = url.serialize(exclude_fragment=True)
            same = (not page.opaque) and url.origin == page
            # main fetch step 12: the response tainting for this URL.
            if same and tainting == "basic":
                tainting = "basic"
            elif p.mode == "same-origin":
                raise _Blocked(
                    CorsFailure("DisallowedByMode"),
                    url=url_text,
                    console=self._same_origin_mode_console(url_text),
                )
            elif p.mode == "no-cors":
                tainting = "opaque"
            else:
                tainting = "cors"
            if state.redirect_count == 0:
                state.cross_origin = not same
            # Mixed content: an https page may not fetch an http URL (nor follow a redirect to one).
            if self._is_mixed_content(url):
                raise _Blocked(None, url=url_text, console=engine.mixed_content(self.page_url or self.origin, url_text))
            request_origin = self.origin if state.taint == "same-origin" else "null"
            include_credentials = p.credentials == "include" or (p.credentials == "same-origin" and tainting == "basic")

            # HTTP fetch step 4: a CORS preflight, unless the cache covers the request.
            if tainting == "cors" and p.mode == "cors":
                await self._maybe_preflight(p, state, url, url_text, request_origin, include_credentials)

            if p.stream and engine.stream_upload_error:
                raise _Blocked(None, url=url_text, console=engine.network_error(engine.stream_upload_error))
            request = self._actual_request(p, state, url, url_text, tainting, request_origin, include_credentials)
            exchange = await self._send(p, request)
            state.exchanges.append(exchange)
            response = exchange.response
            if include_credentials:
                self._store_cookies(response.headers, url, state.console_notes)

            location = response.header("location") if response.status in _REDIRECT_STATUSES else None
            if location is not None:
                if p.redirect == "error":
                    raise _Blocked(None, url=url_text, console=engine.redirect_mode_error(url_text, p.initiator))
                if p.redirect == "manual":
                    return self._result(
                        p, state, initial_url, blocked=False, status=0, type="opaqueredirect", error_kind=None, console=None,
                        console_messages=[], readable_headers={}, body="",
                    )
                # HTTP fetch step 6 (redirects): the CORS check runs on the redirect response too.
                if tainting == "cors":
                    failure = check_access(
                        response.headers, origin=request_origin, credentials_mode=p.credentials, rules=engine.access_rules
                    )
                    if failure is not None:
                        raise _Blocked(_on_redirect(failure, _redirect_target(location, url_text)), url=url_text, status=response.status)
                await self._follow_redirect(p, state, url, url_text, response.status, location, tainting)
                continue

            # Main fetch, CORS check of the final response.
            if tainting == "cors":
                failure = check_access(
                    response.headers, origin=request_origin, credentials_mode=p.credentials, rules=engine.access_rules
                )
                if failure is not None:
                    raise _Blocked(failure, url=url_text, status=response.status)
                readable = cors_filtered_headers(response.headers, credentials_mode=p.credentials)
                return self._result(
                    p, state, initial_url, blocked=False, status=response.status, type="cors", error_kind=None, console=None,
                    console_messages=state.console_notes + self._http_error_lines(response) + self._xhr_lines(p, state, response),
                    readable_headers=readable, body=response.text,
                )
            if tainting == "opaque":
                # An opaque filtered response: status 0, no headers, a null body (script reads "").
                return self._result(
                    p, state, initial_url, blocked=False, status=0, type="opaque", error_kind=None, console=None,
                    console_messages=[], readable_headers={}, body="",
                )
            return self._result(
                p, state, initial_url, blocked=False, status=response.status, type="basic", error_kind=None, console=None,
                console_messages=state.console_notes + self._http_error_lines(response) + self._xhr_lines(p, state, response),
                readable_headers=basic_filtered_headers(response.headers), body=response.text,
            )

    def _http_error_lines(self, response) -> list[str]:
        template = self.engine.http_error_line
        if template is None or response.status < 400:
            return []
        return [template.format(status=response.status, reason=response.reason)]

    def _xhr_lines(self, p: _Prepared, state: _FetchState, response) -> list[str]:
        # Firefox parses an XHR response as XML as it arrives, and logs a parse error.
        lines_for = self.engine.xhr_response_lines
        if p.initiator != "xhr" or lines_for is None:
            return []
        return lines_for(  # type: ignore[operator]
            method=state.method, status=response.status, content_type=response.header("content-type"),
            body=response.text, url=state.url.serialize(exclude_fragment=True),
        )

    def _same_origin_mode_console(self, url_text: str) -> list[str]:
        if self.engine.name == "chromium":
            return [
                f'Fetch API cannot load {url_text}. Request mode is "same-origin" but the URL\'s origin is not same '
                f"as the request origin {self.origin}."
            ]
        if self.engine.same_origin_mode_line and self.page_url:
            return [self.engine.same_origin_mode_line.format(page_url=self.page_url, url=url_text)]
        return []

    async def _maybe_preflight(self, p, state, url: URL, url_text: str, request_origin: str, include_credentials: bool) -> None:
        engine = self.engine
        extra = engine.extra_safelisted
        # WebKit builds a preflight after a redirect from the headers script set, although the
        # request itself may have lost some (Authorization on a cross-origin hop, a 303's body headers).
        checked = p.headers if engine.redirect_preflight_from_script_headers and state.redirect_count > 0 else state.headers
        unsafe = cors_unsafe_request_header_names(checked, extra_safelisted=extra)  # type: ignore[arg-type]
        # The same names in the order script set them, as script spelled them: engines report the
        # first failing one in that order (or in their own, see AccessRules.header_order).
        in_request_order = [n for n, _ in checked if n.lower() in unsafe]
        use_cors_preflight = p.stream or p.upload_listener
        # Firefox keeps the unsafe names script set for every hop, so a redirected request that had
        # any is preflighted again even after losing them (Authorization dropped cross-origin).
        kept_preflight = (
            engine.redirect_keeps_preflight
            and state.redirect_count > 0
            and bool(cors_unsafe_request_header_names(p.headers, extra_safelisted=extra))  # type: ignore[arg-type]
        )
        if is_cors_safelisted_method(state.method) and not unsafe and not use_cors_preflight and not kept_preflight:
            return
        # Firefox sends (and checks) the page's origin on a preflight even after a tainting redirect.
        if engine.preflight_keeps_page_origin:
            request_origin = self.origin
        state.preflight_question = (state.method, state.headers, p.stream, p.upload_listener, extra)
        credentialed = p.credentials == "include"
        if self.preflight_cache.covers(
            origin=request_origin,
            url=url_text,
            credentials=credentialed,
            method=state.method,
            unsafe_header_names=unsafe,
            use_cors_preflight=use_cors_preflight,
            now=self.now,
        ):
            state.preflight_cached = True
            return
        # https://fetch.spec.whatwg.org/#cors-preflight-fetch-0 steps 1-5.
        preflight_headers = [("Accept", "*/*"), ("Access-Control-Request-Method", state.method)]
        if unsafe:
            preflight_headers.append(("Access-Control-Request-Headers", ",".join(unsafe)))
        preflight_headers.append(("Origin", request_origin))
        request = build_request("OPTIONS", url_text, headers=preflight_headers)
        exchange = await self._send(p, request)
        state.exchanges.append(exchange)
        state.preflight = exchange
        response = exchange.response
        if response.status in _REDIRECT_STATUSES and response.header("location") is not None:
            self.preflight_cache.forget(origin=request_origin, url=url_text)
            if engine.preflight_redirect_cors_check:
                # Firefox runs the CORS check on the redirect before refusing it; a failure wins.
                failure = check_access(
                    response.headers, origin=request_origin, credentials_mode=p.credentials, rules=engine.access_rules, preflight=True
                )
                if failure is not None:
                    raise _Blocked(_on_redirect(failure), url=url_text, status=response.status)
            raise _Blocked(CorsFailure("PreflightDisallowedRedirect"), url=url_text, status=response.status)
        verdict = preflight_verdict(
            status=response.status,
            headers=response.headers,
            origin=request_origin,
            method=state.method,
            unsafe_header_names=in_request_order,
            credentials_mode=p.credentials,
            rules=engine.access_rules,
            authorization_covered_by_wildcard=engine.authorization_covered_by_wildcard,
            use_cors_preflight=use_cors_preflight,
        )
        if verdict.failure is not None:
            self.preflight_cache.forget(origin=request_origin, url=url_text)
            raise _Blocked(verdict.failure, url=url_text, status=response.status)
        if verdict.authorization_by_wildcard:
            if engine.authorization_warning:
                state.console_notes.append(engine.authorization_warning.format(url=url_text))
            state.warnings.append(
                "Authorization was allowed only by 'Access-Control-Allow-Headers: *', which the Fetch Standard "
                "says must not cover it; list 'Authorization' explicitly (Chromium raises the "
                "AuthorizationCoveredByWildcard deprecation issue)"
            )
        max_age = engine.preflight_max_age(response.header("access-control-max-age"))
        self.preflight_cache.store(
            origin=request_origin,
            url=url_text,
            credentials=credentialed,
            methods=verdict.methods,
            header_names=verdict.header_names,
            max_age=max_age,
            now=self.now,
        )

    def _actual_request(self, p, state, url: URL, url_text: str, tainting: str, request_origin: str, include_credentials: bool) -> Request:
        headers = list(state.headers)
        names = {n.lower() for n, _ in headers}
        if "accept" not in names:
            headers.append(("Accept", "*/*"))
        # https://fetch.spec.whatwg.org/#append-a-request-origin-header
        if tainting == "cors" or state.method not in ("GET", "HEAD"):
            headers.append(("Origin", request_origin))
        if include_credentials and self._cookies_allowed(url, sending=True):
            cookie = self.cookies.header_for(url, now=self.now, cross_site=not same_site(self.page_origin, url.origin))
            if cookie:
                headers.append(("Cookie", cookie))
        return build_request(state.method, url_text, headers=headers, body=state.body if state.body else None)

    def _is_mixed_content(self, url: URL) -> bool:
        """https://w3c.github.io/webappsec-mixed-content/: a page loaded over https, an http URL whose host is not loopback."""
        if self.page_origin.opaque or self.page_origin.scheme != "https" or url.scheme != "http":
            return False
        return not is_potentially_trustworthy(url.origin)

    def _cookies_allowed(self, url: URL, *, sending: bool = False) -> bool:
        """May cookies be stored from (or, ``sending``, sent to) ``url`` under the engine's third-party policy?"""
        if not self.engine.blocks_third_party_cookies or same_site(self.page_origin, url.origin):
            return True
        return sending and self.engine.third_party_cookies_sent

    def _store_cookies(self, headers: tuple[tuple[str, str], ...], url: URL, notes: list[str]) -> None:
        if not self._cookies_allowed(url):
            return
        cross_site = not same_site(self.page_origin, url.origin)
        for name, value in headers:
            if name.lower() != "set-cookie":
                continue
            cookie, _why = parse_set_cookie(
                value,
                url=url,
                now=self.now,
                default_same_site=self.engine.default_same_site,
                none_requires_secure=self.engine.same_site_none_requires_secure,
            )
            if cookie is None:
                continue
            if cross_site and cookie.same_site != "none":
                if self.engine.cookie_same_site_line:
                    notes.append(self.engine.cookie_same_site_line.format(name=cookie.name))
                continue
            self.cookies.store(cookie, now=self.now)

    async def _follow_redirect(self, p, state, url: URL, url_text: str, status: int, location: str, tainting: str) -> None:
        # https://fetch.spec.whatwg.org/#concept-http-redirect-fetch
        try:
            target = parse_url(location, url_text)
        except InvalidURL:
            raise _Blocked(None, url=url_text, console=[]) from None
        redirect_to = {"redirect_to": dataclasses.replace(target, username="", password="").serialize(exclude_fragment=True)}
        if target.scheme not in ("http", "https"):
            raise _Blocked(
                CorsFailure("CorsDisabledScheme", "http, data, isolated-app, chrome-extension, chrome, https, chrome-untrusted", redirect_to),
                url=url_text,
            )
        if state.redirect_count >= 20:
            raise _Blocked(None, url=url_text, console=[])
        # Credentials in the Location of a cross-origin (or tainted) request are a network error.
        cross_to_page = self.page_origin.opaque or target.origin != self.page_origin
        if target.includes_credentials and ((p.mode == "cors" and cross_to_page) or tainting == "cors"):
            hint = "" if self.engine.name == "chromium" else target.serialize()
            raise _Blocked(CorsFailure("RedirectContainsCredentials", hint, redirect_to), url=url_text, status=status)
        state.redirect_count += 1
        # 301/302 turn POST into GET, and 303 turns anything but GET/HEAD into GET, without a body.
        if (status in (301, 302) and state.method == "POST") or (status == 303 and state.method not in ("GET", "HEAD")):
            state.method = "GET"
            state.body = b""
            state.headers = tuple((n, v) for n, v in state.headers if n.lower() not in _REQUEST_BODY_HEADERS)
        # A cross-origin hop drops Authorization.
        if target.origin != url.origin:
            state.headers = tuple((n, v) for n, v in state.headers if n.lower() != "authorization")
        # Redirect-taint: a hop to another origin from a URL that is not the page's own origin.
        if target.origin != url.origin and url.origin != self.page_origin:
            state.taint = "cross-site"
        state.url = target

    def _non_default_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.address_spaces:
            options["address_spaces"] = dict(self.address_spaces)
        if self.local_network_permission != "denied":
            options["local_network_permission"] = self.local_network_permission
        return options

    def address_space(self, origin: str | Origin) -> AddressSpace:
        """The IP address space this browser puts ``origin`` in (see the class docstring).

        >>> Browser(address_spaces={"intranet.example": "local"}).address_space("https://intranet.example")
        'local'
        """
        parsed = origin if isinstance(origin, Origin) else parse_origin(origin)
        if parsed.opaque:
            return self.address_spaces.get("null", "loopback")
        given = self.address_spaces.get(parsed.serialize()) or self.address_spaces.get(parsed.host)
        return given or address_space_of_host(parsed.host) or "public"

    def _check_local_network(self, p: _Prepared, request: Request, url: URL, *, preflight: bool) -> None:
        """Local Network Access, as the connection is made: a public page reaching a more private address."""
        engine = self.engine
        if not engine.local_network_checks:
            return
        target = self.address_space(url.origin)
        if not is_local_network_request(target=target, client=self.address_space(self.page_origin)):
            return
        secure = is_potentially_trustworthy(self.page_origin)
        if engine.local_network_requires_secure_context and not secure:
            raise _Blocked(CorsFailure("InsecureLocalNetwork", target), url=request.url)
        if self.local_network_permission == "granted":
            return
        failure = CorsFailure("LocalNetworkAccessPermissionDenied", target)
        if engine.local_network_requires_secure_context:
            raise _Blocked(failure, url=request.url)
        # Firefox: the refusal is a network error, worded as one.
        cors = request.header("origin") is not None and p.mode == "cors"
        console = engine.network_failure("ERR_FAILED", url=request.url, cors=cors, preflight=preflight, initiator=p.initiator)
        raise _Blocked(failure, url=request.url, console=console)

    async def _send(self, p: _Prepared, request: Request) -> Exchange:
        target_url = parse_url(request.url)
        is_preflight = request.is_preflight
        self._check_local_network(p, request, target_url, preflight=is_preflight)
        origin = target_url.origin.serialize()
        server = p.servers.get(origin)
        if server is None or server.live_network:
            try:
                return await asend_over_network(request, timeout=self.timeout)
            except NetworkError as exc:
                # No response at all: the fetch fails, as in a browser, with the network error's name.
                cors = request.header("origin") is not None and p.mode == "cors"
                console = self.engine.network_failure(
                    exc.net_error,
                    url=request.url,
                    cors=cors,
                    preflight=is_preflight,
                    initiator=p.initiator,
                )
                raise _Blocked(None, url=request.url, console=console, net_error=exc.net_error) from None
        try:
            async with asyncio.timeout(self.timeout):
                return await call_app(server.app, request, state=server.state)
        except TimeoutError:
            raise TimeoutError(
                f"{request.method} {request.url}: {describe_app(server.app)} did not finish its response "
                f"within {self.timeout:g} s (Browser(timeout={self.timeout:g}))"
            ) from None


@dataclass
class _Prepared:
    url: URL
    method: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    stream: bool
    credentials: str
    mode: str
    redirect: str
    initiator: str
    upload_listener: bool
    dropped: list[DroppedHeader]
    servers: dict[str, Server]


@dataclass
class _FetchState:
    url: URL
    method: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    exchanges: list[Exchange] = field(default_factory=list)
    preflight: Exchange | None = None
    preflight_question: tuple[Any, ...] | None = None
    preflight_cached: bool = False
    redirect_count: int = 0
    taint: str = "same-origin"
    cross_origin: bool = True
    warnings: list[str] = field(default_factory=list)
    console_notes: list[str] = field(default_factory=list)


def _on_redirect(failure: CorsFailure, redirect_to: str | None = None) -> CorsFailure:
    """``failure``, marked as found on a redirect response (Firefox then prints one more line).

    ``redirect_to``: the URL the redirect pointed to, without credentials (WebKit names it).
    """
    detail: dict[str, object] = {**failure.detail, "redirect": True}
    if redirect_to is not None:
        detail["redirect_to"] = redirect_to
    return CorsFailure(failure.kind, failure.hint, detail)


def _redirect_target(location: str, base: str) -> str | None:
    """The URL a ``Location`` value points to, without credentials, or None when it does not parse."""
    try:
        target = parse_url(location, base)
    except InvalidURL:
        return None
    return dataclasses.replace(target, username="", password="").serialize(exclude_fragment=True)


def _check_address_spaces(given: Mapping[str, AddressSpace] | None) -> dict[str, str]:
    """``address_spaces`` keyed by host or serialized origin (lowercase), each value checked."""
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise TypeError(f"address_spaces must be a dict such as {{'app.example': 'public'}}, not {type(given).__name__} {given!r}")
    checked: dict[str, str] = {}
    for key, space in given.items():
        if space not in ADDRESS_SPACES:
            raise ValueError(f"address_spaces[{key!r}] is {space!r}; expected one of {', '.join(repr(a) for a in ADDRESS_SPACES)}")
        if not isinstance(key, str) or not key:
            raise ValueError(f"address_spaces keys must be hosts or origins such as 'app.example', got {key!r}")
        if "://" in key:
            try:
                key = parse_origin(key).serialize()
            except (InvalidURL, ValueError):
                raise ValueError(f"address_spaces key {key!r} is not an origin such as 'http://app.example:8000'") from None
        checked[key.lower()] = space
    return checked


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} {value!r} is not one of {', '.join(repr(c) for c in choices)}")
