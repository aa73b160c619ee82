"""Servers: an app placed at an origin, in-process or live on a loopback port.

``Server(app, origin=...)`` is what a browser needs to know about an app: where
it lives. Requests to it are delivered in-process. As a context manager it
runs the app's lifespan (startup on entry, shutdown on exit), so apps that
open resources at startup behave as under uvicorn.

``Server.live(app)`` is the real thing: uvicorn serving the app on a free
loopback port in a background thread. Its origin is the real
``http://127.0.0.1:PORT``, and requests to it cross a socket.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import httpx2

from cors_lab import pyodide as _pyodide
from cors_lab.asgi import ASGIApp, Lifespan, describe_app, is_asgi_app
from cors_lab.messages import authority, split_url
from cors_lab.runner import run_sync

__all__ = ["LiveServer", "Server"]


def _check_app(app: object) -> None:
    if not is_asgi_app(app):
        raise TypeError(
            "app must be an ASGI app (a FastAPI() or Starlette() instance, or an async callable "
            f"taking scope, receive, send), got {type(app).__name__} {app!r}"
        )


def normalize_server_origin(origin: object) -> str:
    """``scheme://host[:port]`` with a lowercase scheme and host and no default port.

    >>> normalize_server_origin("HTTP://LocalHost:8000/")
    'http://localhost:8000'
    """
    if not isinstance(origin, str):
        raise TypeError(f"origin must be a string such as 'http://localhost:8000', not {type(origin).__name__} {origin!r}")
    scheme, host, port, path, query = split_url(origin)
    if path not in ("", "/") or query:
        raise ValueError(
            f"origin {origin!r} has a path or query; an origin is only scheme://host[:port], "
            f"e.g. {scheme + '://' + authority(scheme, host, port)!r}"
        )
    return f"{scheme}://{authority(scheme, host, port)}"


class Server:
    """An ASGI app served at an origin, called in-process.

    >>> import cors_lab
    >>> with cors_lab.Server(cors_lab.demo_api(), origin="http://localhost:8000") as api:
    ...     cors_lab.send(api, "GET", "/items").response.status
    200
    """

    live_network = False

    def __init__(self, app: ASGIApp, origin: str = "http://localhost:8000") -> None:
        _check_app(app)
        self.app = app
        self.origin = normalize_server_origin(origin)
        self._lifespan: Lifespan | None = None

    @property
    def state(self) -> dict[str, Any] | None:
        """The lifespan state the app set at startup (None before startup)."""
        return self._lifespan.state if self._lifespan is not None else None

    @property
    def running(self) -> bool:
        return self._lifespan is not None

    # Lifespan ---------------------------------------------------------------
    async def astart(self, *, timeout: float = 10.0) -> Server:
        """Run the app's lifespan startup (async twin of :meth:`start`)."""
        import asyncio

        if self._lifespan is None:
            lifespan = Lifespan(self.app)
            async with asyncio.timeout(timeout):
                await lifespan.startup()
            self._lifespan = lifespan
        return self

    async def astop(self, *, timeout: float = 10.0) -> None:
        """Run the app's lifespan shutdown (async twin of :meth:`stop`)."""
        import asyncio

        lifespan, self._lifespan = self._lifespan, None
        if lifespan is not None:
            async with asyncio.timeout(timeout):
                await lifespan.shutdown()

    def start(self, *, timeout: float = 10.0) -> Server:
        """Run the app's lifespan startup; requests then see its state."""
        if self._lifespan is None:
            run_sync(self.astart(timeout=timeout), timeout=timeout)
        return self

    def stop(self, *, timeout: float = 10.0) -> None:
        """Run the app's lifespan shutdown."""
        if self._lifespan is not None:
            run_sync(self.astop(timeout=timeout), timeout=timeout)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Server:
        return await self.astart()

    async def __aexit__(self, *exc: object) -> None:
        await self.astop()

    def __repr__(self) -> str:
        return f"Server({describe_app(self.app)}, origin={self.origin!r})"

    @classmethod
    def live(cls, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> LiveServer:
        """A real uvicorn server for ``app`` on a loopback port (a free one unless ``port`` is given).

        Use it as a context manager (or call ``start()``/``stop()``); its
        ``origin`` is the real ``http://127.0.0.1:PORT``.

        >>> import cors_lab
        >>> with cors_lab.Server.live(cors_lab.demo_api()) as api:
        ...     cors_lab.send(api, "GET", "/items").response.header("server")
        'uvicorn'
        """
        return LiveServer(app, host=host, port=port, log_level=log_level)


class LiveServer(Server):
    """uvicorn serving an app on a loopback socket in a background thread. Create it with :meth:`Server.live`."""

    live_network = True

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> None:
        if _pyodide.IN_BROWSER:
            raise _pyodide.unavailable("start a live server (a browser tab has no sockets and no threads)")
        _check_app(app)
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an int from 0 (any free port) to 65535, got {port!r}")
        self.app = app
        self.host = host
        self.log_level = log_level
        self._lifespan = None
        self._socket: socket.socket | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._client: httpx2.Client | None = None
        self._port = port
        self.origin = ""

    @property
    def port(self) -> int:
        return self._port

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def state(self) -> dict[str, Any] | None:
        return None

    def start(self, *, timeout: float = 10.0) -> LiveServer:
        """Bind the port, start uvicorn in a thread and wait until it accepts connections."""
        import uvicorn

        if self.running:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP spelled out: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
        # sockets that say so, and accepted connections inherit it. Without it, every response
        # after the first on a kept-alive connection waits ~40 ms: uvicorn writes the head and
        # the body separately, and the body waits for the client's delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._port))
        except OSError as exc:
            sock.close()
            raise OSError(f"cannot listen on {self.host}:{self._port}: {exc.strerror}; pass port=0 for a free port") from None
        sock.listen(128)
        self._socket = sock
        self._port = sock.getsockname()[1]
        shown_host = f"[{self.host}]" if ":" in self.host else self.host
        self.origin = f"http://{shown_host}:{self._port}"
        config = uvicorn.Config(self.app, log_level=self.log_level, lifespan="auto", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"uvicorn {self.origin}", daemon=True
        )
        self._thread.start()
        deadline = threading.Event()
        waited = 0.0
        while not self._server.started:
            if not self._thread.is_alive():
                self._close_socket()
                raise RuntimeError(f"uvicorn did not start for {describe_app(self.app)} (see the log above)")
            if waited >= timeout:
                self.stop()
                raise TimeoutError(f"uvicorn did not start within {timeout} s for {describe_app(self.app)}")
            deadline.wait(0.005)
            waited += 0.005
        self._client = httpx2.Client(trust_env=False)
        return self

    def stop(self, *, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit, wait for its thread, and free the port."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._close_socket()

    def _close_socket(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    async def astart(self, *, timeout: float = 10.0) -> LiveServer:
        return self.start(timeout=timeout)

    async def astop(self, *, timeout: float = 10.0) -> None:
        self.stop(timeout=timeout)

    def __repr__(self) -> str:
        where = self.origin or f"{self.host} (not started)"
        return f"LiveServer({describe_app(self.app)}, origin={where!r})"
