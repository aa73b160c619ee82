"""``doctor``: run the requests a typical frontend makes against *your* app, and say what to change.

Each request goes through the browser model (the same one the course uses,
checked against real Chromium), so a row says what the browser does: passes or
blocked, the console message, and for each failure the concrete change to the
``CORSMiddleware(...)`` call, as options before and after, or the code to add.
The app's middleware stack is inspected too, for layers that answer before
CORSMiddleware can add its headers.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cors_lab.browser import Browser, FetchResult
from cors_lab.explain import fix_for, starlette_refused_parts
from cors_lab.fetch.cors import base_kind
from cors_lab.fetch.cookies import Cookie
from cors_lab.fetch.headers import is_cors_safelisted_response_header_name
from cors_lab.fetch.urls import parse_origin, parse_page_origin
from cors_lab.server import Server
from cors_lab.stack import ANSWERING_KINDS, middleware_layers

__all__ = ["DoctorReport", "DoctorRequest", "DoctorRow", "doctor"]

_MISSING = object()
_PROBE_PREFIX = "/__cors_lab_doctor"


@dataclass(frozen=True)
class DoctorRequest:
    """One request the frontend makes: what ``fetch()`` would be called with.

    ``read_header`` names a response header the frontend's script needs to read.
    """

    name: str
    method: str = "GET"
    path: str = "/"
    headers: dict[str, str] = field(default_factory=dict)
    credentials: str = "same-origin"
    json: Any = _MISSING
    read_header: str | None = None


@dataclass(frozen=True)
class DoctorRow:
    """What the browser did with one request, and the fix when it failed."""

    request: DoctorRequest
    result: FetchResult
    fix: str | None

    @property
    def blocked(self) -> bool:
        return self.result.blocked or self.unreadable

    @property
    def unreadable(self) -> bool:
        return _unreadable(self.request, self.result)

    @property
    def console(self) -> str | None:
        if self.unreadable:
            return f"(no error) response.headers.get('{self.request.read_header}') returns null"
        return self.result.console

    @property
    def outcome(self) -> str:
        if self.result.blocked:
            return f"blocked ({self.result.error_kind})" if self.result.error_kind else "blocked"
        if self.unreadable:
            return f"{self.result.status}, {self.request.read_header} unreadable"
        return f"passes ({self.result.status})"


@dataclass(frozen=True)
class DoctorReport:
    """The doctor's findings: one row per request, and warnings about the middleware stack."""

    frontend: str
    engine: str
    rows: list[DoctorRow]
    warnings: list[str]
    options: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        """True when every request passes and the stack raised no warning."""
        return not self.warnings and not any(row.blocked for row in self.rows)

    @property
    def blocked(self) -> list[DoctorRow]:
        return [row for row in self.rows if row.blocked]

    def as_dict(self) -> dict[str, Any]:
        return {
            "frontend": self.frontend,
            "engine": self.engine,
            "ok": self.ok,
            "rows": [
                {
                    "request": row.request.name,
                    "method": row.request.method,
                    "path": row.request.path,
                    "blocked": row.blocked,
                    "status": row.result.status,
                    "error_kind": row.result.error_kind,
                    "console": row.console,
                    "fix": row.fix,
                }
                for row in self.rows
            ],
            "warnings": list(self.warnings),
            "cors_options": _jsonable(self.options),
        }

    def __str__(self) -> str:
        lines = [f"CORS doctor: frontend {self.frontend}, {self.engine}"]
        width = max((len(row.request.name) for row in self.rows), default=10)
        for row in self.rows:
            lines.append(f"  {'BLOCKED' if row.blocked else 'ok':7}  {row.request.name:{width}}  {row.outcome}")
            if row.blocked:
                if row.console:
                    lines.append(f"           console: {row.console}")
                if row.fix:
                    lines += [f"           {line}" for line in ("fix: " + row.fix).splitlines()]
        for warning in self.warnings:
            lines.append(f"  warning: {warning}")
        lines.append("All good." if self.ok else f"{len(self.blocked)} of {len(self.rows)} requests need a change.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<DoctorReport frontend={self.frontend!r}: {len(self.blocked)} of {len(self.rows)} blocked, {len(self.warnings)} warning(s)>"

    def _repr_html_(self) -> str:
        rows = []
        for row in self.rows:
            color = "#b00020" if row.blocked else "#1b5e20"
            fix = html.escape(row.fix or "").replace("\n", "<br>")
            rows.append(
                f"<tr><td style='color:{color};font-weight:bold;'>{'blocked' if row.blocked else 'ok'}</td>"
                f"<td>{html.escape(row.request.name)}<br><code>{html.escape(row.request.method)} {html.escape(row.request.path)}</code></td>"
                f"<td><small>{html.escape(row.console or '')}</small></td>"
                f"<td><small><code>{fix}</code></small></td></tr>"
            )
        warnings = "".join(f"<div style='color:#8a4b00;'>warning: {html.escape(w)}</div>" for w in self.warnings)
        verdict = "All good." if self.ok else f"{len(self.blocked)} of {len(self.rows)} requests need a change."
        return (
            f"<div class='cors-lab-doctor'><div><b>CORS doctor</b>: frontend <code>{html.escape(self.frontend)}</code>, "
            f"{html.escape(self.engine)}</div>"
            "<table style='border-collapse:collapse;font-size:13px;'><tr><th></th><th>request</th><th>console</th><th>fix</th></tr>"
            + "".join(rows)
            + f"</table>{warnings}<div><b>{html.escape(verdict)}</b></div></div>"
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


# -- Which requests to make ------------------------------------------------------------------------------------


def _route_paths(app: Any) -> dict[str, str]:
    """The first concrete path per HTTP method in the app's routes (path parameters filled with 1)."""
    paths: dict[str, str] = {}
    for route in getattr(app, "routes", ()) or ():
        methods = getattr(route, "methods", None)
        path = getattr(route, "path", None)
        if not methods or not path or path.startswith(_PROBE_PREFIX) or path in ("/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"):
            continue
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        for method in methods:
            paths.setdefault(method, concrete)
    return paths


def default_requests(app: Any) -> list[DoctorRequest]:
    """The requests a typical frontend makes, using the app's own routes where it has them."""
    paths = _route_paths(app)
    get = paths.get("GET", "/")
    requests = [DoctorRequest("GET", "GET", get)]
    if "POST" in paths:
        requests.append(DoctorRequest("POST with JSON", "POST", paths["POST"], json={}))
    for method in ("PUT", "PATCH", "DELETE"):
        if method in paths:
            requests.append(DoctorRequest(f"{method} with JSON" if method != "DELETE" else "DELETE", method, paths[method], json={} if method != "DELETE" else _MISSING))
    requests += [
        DoctorRequest("with Authorization", "GET", get, headers={"Authorization": "Bearer doctor-token"}),
        DoctorRequest("with a custom header", "GET", get, headers={"X-Request-Id": "doctor-1"}),
        DoctorRequest("credentials: include, with a cookie", "GET", get, credentials="include"),
        DoctorRequest("error: 404", "GET", f"{_PROBE_PREFIX}/no-such-path"),
    ]
    if hasattr(app, "router") and hasattr(app, "add_api_route"):
        requests += [
            DoctorRequest("error: 401 from a dependency", "GET", f"{_PROBE_PREFIX}/unauthorized"),
            DoctorRequest("error: 500 from a raising route", "GET", f"{_PROBE_PREFIX}/boom"),
        ]
    return requests


class _ProbeRoutes:
    """Adds two temporary routes to a FastAPI app (a 401 from a dependency, a route that raises), then removes them."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.added: list[Any] = []

    def __enter__(self) -> None:
        if not (hasattr(self.app, "add_api_route") and hasattr(self.app, "router")):
            return
        from fastapi import Depends, HTTPException

        def require_token() -> None:
            raise HTTPException(status_code=401, detail="not authenticated")

        def unauthorized() -> dict[str, str]:
            return {}

        def boom() -> None:
            raise RuntimeError("cors-lab doctor: a route that raises")

        before = list(self.app.router.routes)
        self.app.add_api_route(f"{_PROBE_PREFIX}/unauthorized", unauthorized, dependencies=[Depends(require_token)], include_in_schema=False)
        self.app.add_api_route(f"{_PROBE_PREFIX}/boom", boom, include_in_schema=False)
        self.added = [r for r in self.app.router.routes if r not in before]

    def __exit__(self, *exc: object) -> None:
        for route in self.added:
            self.app.router.routes.remove(route)


# -- Fixes -------------------------------------------------------------------------------------------------------


def _call(options: dict[str, Any]) -> str:
    return "CORSMiddleware(" + ", ".join(f"{k}={v!r}" for k, v in options.items()) + ")"


def _before_after(options: dict[str, Any] | None, **changes: Any) -> str:
    before = dict(options or {})
    after = {**before, **changes}
    return f"before: {_call(before)}\nafter:  {_call(after)}"


def _unreadable(request: DoctorRequest, result: FetchResult) -> bool:
    """The request went through, but the header it wants to read is not readable by script."""
    header = request.read_header
    return bool(header) and not result.blocked and header.lower() not in result.readable_headers


def _suggest(row_request: DoctorRequest, result: FetchResult, options: dict[str, Any] | None, frontend: str) -> str | None:
    if _unreadable(row_request, result):
        exposed = list((options or {}).get("expose_headers", []))
        return _before_after(options, expose_headers=[*exposed, row_request.read_header])
    if not result.blocked:
        return None
    kind = base_kind(result.error_kind or "")
    if options is None:
        return (
            "add CORSMiddleware: app.add_middleware(CORSMiddleware, "
            f"allow_origins=[{frontend!r}], allow_methods=[...], allow_headers=[...])"
        )
    origins = [o for o in options.get("allow_origins", []) if o != "*" and o.rstrip("/") != frontend]
    last = result.exchanges[-1] if result.exchanges else None
    if kind == "MissingAllowOriginHeader" and last is not None and last.error is not None:
        return (
            "the app raised and Starlette's ServerErrorMiddleware answered 500 outside CORSMiddleware; wrap the whole "
            f"app so errors keep CORS headers:\n  app = CORSMiddleware(app, {', '.join(f'{k}={v!r}' for k, v in options.items())})"
        )
    if kind == "MissingAllowOriginHeader" and result.preflight is not None and result.preflight.response.status in (401, 403):
        return (
            f"a layer outside CORSMiddleware answered the preflight with {result.preflight.response.status}; add "
            "CORSMiddleware last (app.add_middleware puts the last one outermost) or let OPTIONS through"
        )
    parts = starlette_refused_parts(result)
    if kind in ("MissingAllowOriginHeader", "AllowOriginMismatch") or "origin" in parts:
        if frontend not in options.get("allow_origins", []):
            return _before_after(options, allow_origins=[*origins, frontend])
    if kind == "PreflightInvalidStatus":
        changes: dict[str, Any] = {}
        if "method" in parts:
            methods = [m for m in options.get("allow_methods", ["GET"]) if m != "*"]
            changes["allow_methods"] = [*methods, result.method]
        if "headers" in parts and result.preflight is not None:
            wanted = (result.preflight.request.header("access-control-request-headers") or "").split(",")
            current = [h for h in options.get("allow_headers", []) if h != "*"]
            changes["allow_headers"] = [*current, *("-".join(p.capitalize() for p in w.split("-")) for w in wanted if w and w not in [c.lower() for c in current])]
        if "private-network" in parts:
            changes["allow_private_network"] = True
        if changes:
            return _before_after(options, **changes)
    if kind == "WildcardOriginNotAllowed":
        return _before_after(options, allow_origins=[*origins, frontend], allow_credentials=True)
    if kind == "InvalidAllowCredentials":
        return _before_after(options, allow_credentials=True)
    return fix_for(result)


# -- The doctor --------------------------------------------------------------------------------------------------


def doctor(
    app: Any,
    frontend: str = "http://localhost:3000",
    *,
    requests: Iterable[DoctorRequest | dict[str, Any]] | None = None,
    engine: str = "chromium",
    origin: str = "http://localhost:8000",
) -> DoctorReport:
    """Run a frontend's typical requests against ``app`` through the browser model; report what fails and the fix.

    ``frontend`` is the page's origin. ``requests`` replaces the default set
    (each a :class:`DoctorRequest` or a dict with ``method``, ``path``,
    ``headers``, ``credentials``, ``json``, ``read_header``). ``origin`` is
    where the API is served. For FastAPI apps two temporary routes (a 401 from a
    dependency and a route that raises) are added while it runs.

    >>> import cors_lab
    >>> report = cors_lab.doctor(cors_lab.demo_api(allow_origins=["http://localhost:3000"]))
    >>> [row.request.name for row in report.blocked][:2]
    ['POST with JSON', 'PUT with JSON']
    """
    try:
        frontend = parse_page_origin(frontend).serialize()
    except ValueError:
        raise ValueError(f"frontend {frontend!r} is not an origin; expected e.g. 'http://localhost:3000'") from None
    layers = middleware_layers(app)
    cors_layers = [i for i, layer in enumerate(layers) if layer.kind == "cors"]
    options = dict(layers[cors_layers[0]].options) if cors_layers else None
    if requests is None:
        planned = default_requests(app)
    else:
        planned = [r if isinstance(r, DoctorRequest) else DoctorRequest(name=r.get("name") or f"{r.get('method', 'GET')} {r.get('path', '/')}", **{k: v for k, v in r.items() if k != "name"}) for r in requests]
    # Reading a non-safelisted response header: the first one the GET response carries.
    server = Server(app, origin=origin)
    rows: list[DoctorRow] = []
    with _ProbeRoutes(app):
        for request in planned:
            browser = Browser(origin=frontend, engine=engine, servers=[server])
            host = parse_origin(origin)
            browser.cookies.store(Cookie("session", "doctor", host.host, path="/", same_site="none", secure=True), now=0)
            kwargs: dict[str, Any] = {"method": request.method, "headers": request.headers, "credentials": request.credentials}
            if request.json is not _MISSING:
                kwargs["json"] = request.json
            result = browser.fetch(origin + request.path, **kwargs)
            rows.append(DoctorRow(request, result, _suggest(request, result, options, frontend)))
            if requests is None and request is planned[0] and not result.blocked and result.response is not None:
                extra = [
                    name
                    for name, _ in result.response.response.headers
                    if not is_cors_safelisted_response_header_name(name)
                    and name.lower() not in ("set-cookie", "vary", "date", "server")
                    and not name.lower().startswith("access-control-")
                ]
                if extra:
                    read = DoctorRequest(f"read {extra[0]}", "GET", request.path, read_header=extra[0])
                    again = browser.fetch(origin + read.path)
                    rows.append(DoctorRow(read, again, _suggest(read, again, options, frontend)))
    warnings = _stack_warnings(layers, cors_layers)
    return DoctorReport(frontend=frontend, engine=engine, rows=rows, warnings=warnings, options=options)


def _stack_warnings(layers: list[Any], cors_layers: list[int]) -> list[str]:
    if not cors_layers:
        return ["the app has no CORSMiddleware: every cross-origin read is blocked"]
    warnings = []
    outermost = cors_layers[0]
    for layer in layers[:outermost]:
        if layer.kind in ANSWERING_KINDS - {"errors"}:
            warnings.append(
                f"{layer.name} runs outside CORSMiddleware: whatever it answers (a redirect, a 400, a 401) has no CORS "
                "headers, and preflights it answers fail. Add CORSMiddleware last (app.add_middleware puts the last "
                "one outermost)."
            )
    if len(cors_layers) > 1:
        warnings.append("more than one CORSMiddleware: responses can carry two Access-Control-Allow-Origin values")
    return warnings
