"""Checks for the exercises of notebook 09 (reproducing a CORS bug).

Kept apart from :mod:`cors_lab.exercises` only while that module has another
owner; each check returns the same :class:`~cors_lab.exercises.Check`.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Mapping
from typing import Any

from cors_lab.browser import Browser
from cors_lab.demo import demo_api
from cors_lab.exercises import Check

__all__ = [
    "BIG_APP",
    "REPORTED_CONSOLE",
    "REPORTED_OPTIONS",
    "SLASH_CONSOLE",
    "check_bug_report",
    "check_minimal_app",
    "check_reproduces_console",
]

PAGE = "http://localhost:3000"

#: Exercise 1: the configuration and the console message a user reported.
REPORTED_OPTIONS = {"allow_origins": ["*"]}
REPORTED_CONSOLE = (
    "Access to fetch at 'http://localhost:8000/me' from origin 'http://localhost:3000' has been blocked by CORS "
    "policy: The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' "
    "when the request's credentials mode is 'include'."
)

#: Exercise 2: the app as the user pasted it (too much of it), and what their console said.
BIG_APP = '''\
import logging

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware

log = logging.getLogger("shop")
settings = {"origins": ["http://localhost:3000/", "https://shop.example.com/"], "debug": False}

app = FastAPI(title="shop")


@app.middleware("http")
async def log_requests(request: Request, call_next):
    response = await call_next(request)
    log.info("%s %s %s", request.method, request.url.path, response.status_code)
    return response


@app.get("/items")
def list_items():
    return [{"id": 1, "name": "apple"}]


@app.get("/items/{item_id}")
def get_item(item_id: int):
    return {"id": item_id}


@app.post("/orders")
def create_order():
    return {"order": 1}


@app.get("/health")
def health():
    return {"ok": True}


app.add_middleware(GZipMiddleware, minimum_size=1000)
app.add_middleware(CORSMiddleware, allow_origins=settings["origins"], allow_credentials=True)
'''
SLASH_CONSOLE = (
    "Access to fetch at 'http://localhost:8000/items' from origin 'http://localhost:3000' has been blocked by CORS "
    "policy: No 'Access-Control-Allow-Origin' header is present on the requested resource."
)

_FETCH_KEYS = {"path", "method", "headers", "body", "json", "credentials", "mode"}


def check_reproduces_console(request: Mapping[str, Any]) -> Check:
    """09, exercise 1: ``request`` (``Browser.fetch`` arguments) makes the reported console message on the reported config."""
    if not isinstance(request, Mapping) or "path" not in request:
        return Check(False, "expected a dict of fetch arguments with at least 'path'.", [f"got {request!r}"])
    unknown = set(request) - _FETCH_KEYS
    if unknown:
        return Check(False, "these are not fetch() arguments.", [f"unknown keys: {', '.join(sorted(unknown))}"])
    kwargs = dict(request)
    path = kwargs.pop("path")
    try:
        result = Browser(origin=PAGE).fetch(demo_api(**REPORTED_OPTIONS), path, **kwargs)
    except (TypeError, ValueError) as exc:
        return Check(False, "fetch() would refuse this request.", [str(exc)])
    if result.console == REPORTED_CONSOLE:
        return Check(True, "your request prints exactly the reported message.")
    problems = [f"your request gives: {result.console or 'no CORS error (status ' + str(result.status) + ')'}"]
    if "/me" not in result.url:
        problems.append("the message names http://localhost:8000/me: fetch that URL")
    if result.credentials != "include":
        problems.append("the message mentions the credentials mode 'include'")
    return Check(False, "not the same message yet.", problems)


def _build(source: str) -> tuple[Any, list[str]]:
    if not isinstance(source, str):
        return None, [f"expected Python source text, got {type(source).__name__}"]
    namespace: dict[str, Any] = {"__name__": "minimal_app"}
    try:
        exec(compile(textwrap.dedent(source), "<minimal app>", "exec"), namespace)
    except Exception as exc:  # the learner's code: report, do not raise
        return None, [f"the source raised {type(exc).__name__}: {exc}"]
    if "app" not in namespace:
        return None, ["the source must define `app`"]
    return namespace["app"], []


def check_minimal_app(source: str) -> Check:
    """09, exercise 2: ``source`` still gives the reported message for ``GET /items``, with one route and only CORSMiddleware."""
    app, problems = _build(source)
    if app is None:
        return Check(False, "this source does not build an app.", problems)
    try:
        result = Browser(origin=PAGE).fetch(app, "/items")
    except (TypeError, ValueError) as exc:
        return Check(False, "the lab cannot fetch from this app.", [str(exc)])
    if result.console != SLASH_CONSOLE:
        problems.append(f"GET /items from {PAGE} should still fail with the reported message; it gives: "
                        f"{result.console or 'no CORS error'}")
    routes = [r for r in getattr(app, "routes", []) if getattr(r, "path", "") not in ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")]
    if len(routes) > 1:
        problems.append(f"{len(routes)} routes: keep only the one the report is about")
    middleware = [m.cls.__name__ for m in getattr(app, "user_middleware", []) if hasattr(m, "cls")]
    others = [name for name in middleware if name != "CORSMiddleware"]
    if others:
        problems.append(f"other middleware is not needed to show it: {', '.join(others)}")
    if not problems:
        return Check(True, "the smallest app that still shows the bug: one route, CORSMiddleware, the same message.")
    return Check(False, "not minimal yet, or no longer failing.", problems)


def check_bug_report(report: Any) -> Check:
    """09, exercise 3: the report has an expectation, a script, and its script gives the same verdict in a fresh Python."""
    from cors_lab.report import Report

    if not isinstance(report, Report):
        return Check(False, "expected the Report that cors_lab.report(...) returns.", [f"got {type(report).__name__}"])
    problems = []
    if "_(what you expected to happen)_" in report.markdown:
        problems.append("say what you expected: report(..., expected='...')")
    if not report.script:
        problems.append("no script: give the app with app_source=...")
    else:
        done = subprocess.run([sys.executable, "-c", report.script], capture_output=True, text=True, timeout=60)
        last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
        if done.returncode != 0:
            problems.append(f"the script fails: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'no output'}")
        elif last != report.verdict:
            problems.append(f"the script ends with {last!r}, not {report.verdict!r}")
        elif "blocked" not in report.verdict:
            problems.append("the script runs, but the request it makes is not blocked: report the failing request")
    if not problems:
        return Check(True, f"ready to paste: a fresh Python prints {report.verdict!r}.")
    return Check(False, "the report is not ready yet.", problems)
