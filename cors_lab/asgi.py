"""Call an ASGI app in-process and record what it sends, line for line.

No HTTP client sits between the lab and the app: the request becomes an ASGI
``http`` scope, the app is awaited directly, and the ``http.response.start``
and ``http.response.body`` messages are recorded as the app sent them. That is
the most faithful way to show the headers an app produces (a client would add,
reorder or merge lines), and it works the same on every Starlette release.

Where a real server would step in, this module does what uvicorn does:

- an app that raises before it starts a response gets uvicorn's ``500``
  (``content-type: text/plain; charset=utf-8``, ``connection: close``, body
  ``Internal Server Error``) and its exception is kept on the exchange, never
  raised to the caller;
- an app that raises after it started (Starlette's ``ServerErrorMiddleware``
  sends its 500, then re-raises) keeps the response it sent;
- the body of a response to ``HEAD`` is dropped.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

from cors_lab.messages import AppError, Exchange, Request, Response, reason_phrase, split_url

__all__ = ["ASGIApp", "Lifespan", "NotAnASGIApp", "call_app", "describe_app", "is_asgi_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# What uvicorn sends when the app fails before starting a response
# (uvicorn.protocols.http.h11_impl.H11Protocol.send_500_response).
_UVICORN_500_HEADERS = (("content-type", "text/plain; charset=utf-8"), ("connection", "close"))
_UVICORN_500_BODY = b"Internal Server Error"

# The peer address an in-process request appears to come from.
CLIENT = ("127.0.0.1", 50000)


class NotAnASGIApp(TypeError):
    """Something was used as an ASGI app and is not one."""


def is_asgi_app(obj: object) -> bool:
    """True if ``obj`` looks like an ASGI 3 app: a coroutine function or an object with an async ``__call__``."""
    if inspect.isclass(obj) or not callable(obj):
        return False
    if inspect.iscoroutinefunction(obj):
        return True
    return inspect.iscoroutinefunction(getattr(obj, "__call__", None))


def describe_app(app: object) -> str:
    """A short, stable name for an app, for messages: ``"FastAPI app 'demo API'"``, ``"function echo"``."""
    if inspect.isfunction(app) or inspect.ismethod(app):
        return f"function {app.__qualname__}"
    kind = type(app).__name__
    title = getattr(app, "title", None)
    return f"{kind} app {title!r}" if isinstance(title, str) and title else f"{kind} app"


def _scope_for(request: Request, state: dict[str, Any] | None) -> Scope:
    scheme, host, port, path, query = split_url(request.url)
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": scheme,
        "path": unquote(path),
        "raw_path": path.encode("ascii"),
        "query_string": query.encode("ascii"),
        "root_path": "",
        # Servers hand header names to the app lowercased (h11 does), values as bytes.
        "headers": [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in request.headers],
        "client": CLIENT,
        "server": (host, port),
        "extensions": {},
    }
    if state is not None:
        scope["state"] = dict(state)
    return scope


def _decode_headers(raw: Any) -> tuple[tuple[str, str], ...]:
    try:
        return tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in raw or ())
    except (AttributeError, TypeError, ValueError):
        bad = next((item for item in raw if not (isinstance(item[0], bytes) and isinstance(item[1], bytes))), raw)
        raise TypeError(f"ASGI response headers must be (bytes, bytes) pairs, got {bad!r}") from None


async def call_app(app: ASGIApp, request: Request, *, state: dict[str, Any] | None = None) -> Exchange:
    """Deliver ``request`` to ``app`` and return the exchange as the app sent it.

    Exceptions from the app are kept on ``Exchange.error``; only cancellation
    (a timeout) propagates.
    """
    scope = _scope_for(request, state)
    body_sent = False
    response_complete = asyncio.Event()
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    chunks: list[bytes] = []
    error: AppError | None = None

    async def receive() -> Message:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": request.body, "more_body": False}
        # The client stays connected until the response is complete.
        await response_complete.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status, headers
        kind = message.get("type")
        if kind == "http.response.start":
            if status is not None:
                raise RuntimeError("ASGI app sent 'http.response.start' twice")
            headers = _decode_headers(message.get("headers"))
            status = int(message["status"])
        elif kind == "http.response.body":
            if status is None:
                raise RuntimeError("ASGI app sent 'http.response.body' before 'http.response.start'")
            if response_complete.is_set():
                raise RuntimeError("ASGI app sent 'http.response.body' after the response was complete")
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                response_complete.set()
        # Other messages (trailers, extensions the scope did not offer) are ignored, as uvicorn does.

    try:
        result = app(scope, receive, send)
        if not inspect.isawaitable(result):
            raise NotAnASGIApp(
                f"{describe_app(app)} is not an ASGI app: calling it with (scope, receive, send) "
                f"returned {type(result).__name__}, not an awaitable"
            )
        await result
    except (asyncio.CancelledError, NotAnASGIApp):
        raise
    except Exception as exc:
        error = AppError.from_exception(exc)

    if status is None:
        error = error or AppError.protocol("ASGI callable returned without starting response.")
        response = Response(500, reason_phrase(500), _UVICORN_500_HEADERS, _UVICORN_500_BODY)
    else:
        if not response_complete.is_set() and error is None:
            error = AppError.protocol("ASGI callable returned without completing response.")
        body = b"" if request.method.upper() == "HEAD" else b"".join(chunks)
        response = Response(status, reason_phrase(status), headers, body)
    response_complete.set()
    return Exchange(request=request, response=response, error=error, via="in-process")


class Lifespan:
    """Runs an app's ASGI ``lifespan`` protocol: startup on :meth:`startup`, shutdown on :meth:`shutdown`.

    Like uvicorn's ``lifespan="auto"``: an app that raises before answering
    the startup event does not support lifespan, and that is not an error.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._inbox: asyncio.Queue[Message] | None = None
        self._replies: asyncio.Queue[Message] | None = None
        self._task: asyncio.Task[None] | None = None
        self.supported = True

    async def _run(self) -> None:
        assert self._inbox is not None and self._replies is not None
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        try:
            await self.app(scope, self._inbox.get, self._replies.put)
        except Exception as exc:
            await self._replies.put({"type": "cors_lab.lifespan.raised", "error": exc})
        else:
            await self._replies.put({"type": "cors_lab.lifespan.returned"})

    async def startup(self) -> None:
        self._inbox, self._replies = asyncio.Queue(), asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"lifespan of {describe_app(self.app)}")
        await self._inbox.put({"type": "lifespan.startup"})
        reply = await self._replies.get()
        kind = reply["type"]
        if kind == "lifespan.startup.complete":
            return
        if kind == "lifespan.startup.failed":
            raise RuntimeError(f"lifespan startup of {describe_app(self.app)} failed: {reply.get('message', '')}")
        # The app raised or returned without answering: it does not do lifespan.
        self.supported = False

    async def shutdown(self) -> None:
        if self._task is None or not self.supported:
            return
        assert self._inbox is not None and self._replies is not None
        await self._inbox.put({"type": "lifespan.shutdown"})
        reply = await self._replies.get()
        await self._task
        self._task = None
        if reply["type"] == "lifespan.shutdown.failed":
            raise RuntimeError(f"lifespan shutdown of {describe_app(self.app)} failed: {reply.get('message', '')}")
        if reply["type"] == "cors_lab.lifespan.raised":
            raise RuntimeError(f"lifespan shutdown of {describe_app(self.app)} raised {reply['error']!r}")


async def call_websocket(app: ASGIApp, request: Request, *, state: dict[str, Any] | None = None, messages: int = 0) -> dict[str, Any]:
    """Open a WebSocket to ``app`` in-process: does the app accept the handshake?

    Returns ``{"accepted": bool, "close_code": int | None, "received": [texts the app sent]}``.
    After the handshake the client waits for up to ``messages`` messages, then disconnects.
    """
    scope = _scope_for(request, state)
    scheme = "wss" if scope["scheme"] == "https" else "ws"
    scope.update({"type": "websocket", "scheme": scheme, "subprotocols": []})
    scope.pop("method", None)
    outcome: dict[str, Any] = {"accepted": False, "close_code": None, "received": []}
    connected = False
    done = asyncio.Event()

    async def receive() -> Message:
        nonlocal connected
        if not connected:
            connected = True
            return {"type": "websocket.connect"}
        await done.wait()
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        kind = message.get("type")
        if kind == "websocket.accept":
            outcome["accepted"] = True
            if messages == 0:
                done.set()
        elif kind == "websocket.close":
            outcome["close_code"] = message.get("code", 1000)
            done.set()
        elif kind == "websocket.send":
            outcome["received"].append(message.get("text") if message.get("text") is not None else message.get("bytes"))
            if len(outcome["received"]) >= messages:
                done.set()
        elif kind == "websocket.http.response.start":
            outcome["close_code"] = message.get("status")
            done.set()

    try:
        await app(scope, receive, send)
    except Exception as exc:  # a server closes the connection; keep the reason
        outcome["error"] = AppError.from_exception(exc)
    done.set()
    return outcome
