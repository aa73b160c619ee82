"""``send``: one HTTP request to an app, a server or a URL, and the exchange exactly as it crossed the wire."""

from __future__ import annotations

import asyncio
import functools
from typing import Union
from urllib.parse import urljoin, urlsplit

from dataclasses import dataclass, field

from cors_lab.asgi import ASGIApp, call_app, call_websocket, describe_app, is_asgi_app
from cors_lab.messages import Exchange, HeadersInput, Request, build_request, normalize_headers
from cors_lab.network import asend_over_network, send_over_network
from cors_lab.runner import run_sync
from cors_lab.server import Server

__all__ = ["DEFAULT_APP_ORIGIN", "Target", "WebSocketHandshake", "asend", "send", "websocket_handshake"]

Target = Union[ASGIApp, Server, str]

#: Where a bare ASGI app is served when no :class:`Server` says otherwise.
DEFAULT_APP_ORIGIN = "http://localhost:8000"


def _base_url(target: str) -> str:
    parts = urlsplit(target)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        hint = f"; did you mean 'http://{target}'?" if "://" not in target else ""
        raise ValueError(
            f"target {target!r} is not a URL of a live server; expected an http:// or https:// URL "
            f"with a host, e.g. 'http://127.0.0.1:8000'{hint}"
        )
    return target


@functools.lru_cache(maxsize=1024)
def _join(base: str, url: str) -> str:
    return urljoin(base, url)


def _resolve(target: object, url: object) -> tuple[str, Server | ASGIApp | None]:
    """The absolute URL to request, and what serves it in-process (None: the network)."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a string such as '/items' or 'http://localhost:8000/items', not {type(url).__name__} {url!r}")
    if isinstance(target, Server):
        if target.live_network and not target.origin:
            raise RuntimeError(f"{target!r} is not started; use it in a 'with' block or call start() first")
        return _join(target.origin + "/", url), (None if target.live_network else target)
    if isinstance(target, str):
        return _join(_base_url(target), url), None
    if is_asgi_app(target):
        return _join(DEFAULT_APP_ORIGIN + "/", url), target  # type: ignore[return-value]
    raise TypeError(
        "target must be an ASGI app (such as a FastAPI() instance), a cors_lab.Server, or the base URL "
        f"of a live server such as 'http://127.0.0.1:8000'; got {type(target).__name__} {target!r}"
    )


def _check_timeout(timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return float(timeout)


def _timeout_error(request: Request, served_by: object, timeout: float) -> TimeoutError:
    app = served_by.app if isinstance(served_by, Server) else served_by
    return TimeoutError(
        f"{request.method} {request.url}: {describe_app(app)} did not finish its response "
        f"within {timeout:g} s (timeout={timeout:g})"
    )


async def _call_in_process(served_by: Server | ASGIApp, request: Request) -> Exchange:
    if isinstance(served_by, Server):
        return await call_app(served_by.app, request, state=served_by.state)
    return await call_app(served_by, request)


def send(
    target: Target,
    method: str,
    url: str,
    *,
    headers: HeadersInput = None,
    body: bytes | str | None = None,
    timeout: float = 5.0,
) -> Exchange:
    """Send one HTTP request and return the :class:`Exchange` exactly as it crossed the wire.

    ``target`` is an ASGI app (called in-process, served at
    ``http://localhost:8000``), a :class:`Server` (in-process at its origin, or
    a live server over a socket), or the base URL of a live server. ``url`` is
    a path (``"/items"``) or an absolute URL. ``headers`` is a dict or a list
    of ``(name, value)`` pairs (case, order and duplicates kept); ``Host`` and
    ``Content-Length`` are added as an HTTP/1.1 client adds them.

    Nothing the app raises escapes: a failing app gives the 500 a server would
    send, with the exception on ``exchange.error``. An app that does not finish
    its response within ``timeout`` seconds raises ``TimeoutError``.

    >>> import cors_lab
    >>> exchange = cors_lab.send(cors_lab.demo_api(), "GET", "/items",
    ...                          headers={"Origin": "http://localhost:3000"})
    >>> exchange.response.status, exchange.response.header("access-control-allow-origin")
    (200, None)
    """
    absolute, served_by = _resolve(target, url)
    request = build_request(method, absolute, headers=headers, body=body)
    timeout = _check_timeout(timeout)
    if served_by is None:
        client = target._client if isinstance(target, Server) and target.live_network else None  # type: ignore[union-attr]
        return send_over_network(request, timeout=timeout, client=client)
    try:
        return run_sync(_call_in_process(served_by, request), timeout=timeout)
    except TimeoutError:
        raise _timeout_error(request, served_by, timeout) from None


async def asend(
    target: Target,
    method: str,
    url: str,
    *,
    headers: HeadersInput = None,
    body: bytes | str | None = None,
    timeout: float = 5.0,
) -> Exchange:
    """Async twin of :func:`send`, for code that already runs in an event loop.

    >>> import asyncio, cors_lab
    >>> asyncio.run(cors_lab.asend(cors_lab.demo_api(), "GET", "/items")).response.status
    200
    """
    absolute, served_by = _resolve(target, url)
    request = build_request(method, absolute, headers=headers, body=body)
    timeout = _check_timeout(timeout)
    if served_by is None:
        return await asend_over_network(request, timeout=timeout)
    try:
        async with asyncio.timeout(timeout):
            return await _call_in_process(served_by, request)
    except TimeoutError:
        raise _timeout_error(request, served_by, timeout) from None


@dataclass(frozen=True)
class WebSocketHandshake:
    """The outcome of a WebSocket handshake with an app.

    Fields:
        request: the handshake request as sent (its ``Origin`` is what a browser sends).
        accepted: the app accepted the connection.
        close_code: the close code (or HTTP status) when it refused, else None.
        received: the messages the app sent right after accepting.
    """

    request: Request
    accepted: bool
    close_code: int | None = None
    received: list[str | bytes] = field(default_factory=list)

    def __repr__(self) -> str:
        verdict = "accepted" if self.accepted else f"refused ({self.close_code})"
        return f"<WebSocketHandshake {self.request.url} from {self.request.header('origin')} -> {verdict}>"


def websocket_handshake(
    target: ASGIApp | Server, path: str, *, headers: HeadersInput = None, messages: int = 0, timeout: float = 5.0
) -> WebSocketHandshake:
    """Open a WebSocket to an in-process app, as a browser page would, and report whether the app accepted it.

    Browsers send the page's ``Origin`` with the handshake but apply no CORS
    rules to WebSockets: the app must check the origin itself. With
    ``messages=N`` the client waits for the first N messages before closing.

    >>> import cors_lab
    >>> from fastapi import FastAPI, WebSocket
    >>> app = FastAPI()
    >>> @app.websocket("/ws")
    ... async def ws(websocket: WebSocket):
    ...     await websocket.accept()
    ...     await websocket.send_text("hello")
    >>> cors_lab.websocket_handshake(app, "/ws", headers={"Origin": "https://evil.example"}, messages=1).received
    ['hello']
    """
    absolute, served_by = _resolve(target, path)
    if served_by is None:
        raise TypeError("websocket_handshake needs an in-process app or Server, not a URL")
    request = build_request("GET", absolute, headers=[*normalize_headers(headers), ("Connection", "Upgrade"), ("Upgrade", "websocket")])
    timeout = _check_timeout(timeout)
    app = served_by.app if isinstance(served_by, Server) else served_by
    state = served_by.state if isinstance(served_by, Server) else None
    try:
        outcome = run_sync(call_websocket(app, request, state=state, messages=messages), timeout=timeout)
    except TimeoutError:
        raise _timeout_error(request, served_by, timeout) from None
    return WebSocketHandshake(request, outcome["accepted"], outcome["close_code"], outcome["received"])
