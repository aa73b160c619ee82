"""The server side of a browser scenario: apps built from the catalogue, served in-process and live.

A scenario names, per origin, either a FastAPI app (``demo``: the course's
``demo_api`` with CORSMiddleware options, plus optional extra middleware that
reproduces a reported FastAPI setup) or a response ``script``: the exact
status and headers to answer per method and path. The same description builds
the app twice: once for uvicorn (what Chromium talks to) and once for the
in-process model, so both sides see the same bytes.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware
from starlette.responses import PlainTextResponse

import cors_lab
from fastapi.middleware.cors import CORSMiddleware

PAGE_HTML = b'<!doctype html><html><head><title>cors-lab page</title><link rel="icon" href="data:,"></head><body>page</body></html>'


def fill(value: Any, origins: dict[str, str]) -> Any:
    """Replace ``{page}``, ``{api}``, ... in strings (recursively) with the scenario's origins."""
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: origins.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [fill(v, origins) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, origins) for k, v in value.items()}
    return value


class ScriptApp:
    """Answers each request with the response the scenario scripted for ``"METHOD /path"``, ``"METHOD"`` or ``"*"``."""

    def __init__(self, script: dict[str, dict[str, Any]]) -> None:
        self.script = script

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        spec = self.script.get(f"{method} {path}") or self.script.get(method) or self.script.get("*")
        if spec is None:
            spec = {"status": 404, "body": "no scripted response"}
        body = str(spec.get("body", "")).encode()
        headers = [(str(n).encode("latin-1"), str(v).encode("latin-1")) for n, v in spec.get("headers", [])]
        if not any(n.lower() == b"content-length" for n, _ in headers):
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": int(spec.get("status", 200)), "headers": headers})
        await send({"type": "http.response.body", "body": body})


class RejectPreflightAuth:
    """An auth layer that answers 401 to any request without Authorization (preflights carry none)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not any(k == b"authorization" for k, _ in scope["headers"]):
            response = PlainTextResponse("unauthorized", status_code=401)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def build_app(spec: dict[str, Any], origins: dict[str, str]):
    """An ASGI app from one origin's description in the catalogue."""
    spec = fill(spec, origins)
    if "script" in spec:
        return ScriptApp(spec["script"])
    if "demo" in spec:
        options = dict(spec["demo"])
        app = cors_lab.demo_api(**options)
        for layer in spec.get("outer", []):
            if layer == "https-redirect":
                app.add_middleware(HTTPSRedirectMiddleware)
            elif layer == "auth":
                app.add_middleware(RejectPreflightAuth)
            elif layer == "wrap-cors":
                # CORSMiddleware around the whole app, ServerErrorMiddleware included.
                return CORSMiddleware(app, **spec.get("wrap", {}))
            else:
                raise ValueError(f"unknown outer layer {layer!r}")
        return app
    raise ValueError(f"an origin needs 'demo' or 'script': {spec!r}")


_arrival = itertools.count()


class Dispatcher:
    """One live server's app: routes by Host to the current scenario's app, serves the page, and logs requests."""

    def __init__(self) -> None:
        self.apps: dict[str, Any] = {}
        self.log: list[dict[str, Any]] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        host = next((v for k, v in headers if k == "host"), "")
        path = scope["path"]
        if path == "/__page":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html; charset=utf-8")]})
            await send({"type": "http.response.body", "body": PAGE_HTML})
            return
        query = scope.get("query_string", b"").decode("latin-1")
        self.log.append({"seq": next(_arrival), "host": host, "method": scope["method"], "target": path + (f"?{query}" if query else ""), "headers": headers})
        app = self.apps.get(host)
        if app is None:
            response = PlainTextResponse(f"no app for {host}", status_code=421)
            await response(scope, receive, send)
            return
        await app(scope, receive, send)
