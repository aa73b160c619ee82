"""Checks for the course's exercises: each takes what the learner wrote and answers in plain words.

A check never raises on a wrong answer; it returns a :class:`Check` that
says whether the learner got it and, if not, what is still wrong. Checks run
the learner's code through the same lab the course uses (real FastAPI apps,
the browser model), so "correct" means "a browser would let it through".
"""

from __future__ import annotations

import html
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, WebSocket  # module level: FastAPI resolves the endpoint's annotations here

from cors_lab.browser import Browser
from cors_lab.demo import demo_api
from cors_lab.fetch.urls import InvalidURL, origin_of, parse_origin, same_origin, same_site
from cors_lab.rules import needs_preflight
from cors_lab.server import Server

__all__ = [
    "BIG_APP",
    "ORIGIN_QUIZ",
    "REPORTED_CONSOLE",
    "REPORTED_OPTIONS",
    "SITE_QUIZ",
    "SLASH_CONSOLE",
    "Check",
    "check_bug_report",
    "check_cache_prediction",
    "check_credentialed_setup",
    "check_doctor_clean",
    "check_error_is_readable",
    "check_first_fix",
    "check_first_put",
    "check_fixed_origin_list",
    "check_least_privilege",
    "check_max_age",
    "check_minimal_app",
    "check_origins",
    "check_pagination",
    "check_preflight_fix",
    "check_preflight_headers",
    "check_reproduces_console",
    "check_same_site",
    "check_secure_config",
    "check_send_cookie",
    "check_simple_request",
    "check_websocket_origin",
]

PAGE = "http://localhost:3000"
EVIL = "https://evil.example"
#: Where checks serve an app when a page on another site must reach it: a public origin, so that no
#: Local Network Access rule (a public page calling localhost) gets in the way of the CORS question.
PUBLIC_API = "https://api.example.com"


def _from_evil(app: Any, path: str, **kwargs: Any):
    """What the evil site's page gets from ``app`` (served at a public origin, like the evil site)."""
    browser = Browser(origin=EVIL, servers=[Server(app, origin=PUBLIC_API)])
    return browser.fetch(PUBLIC_API + path, **kwargs)


@dataclass(frozen=True)
class Check:
    """The answer of an exercise check: ``passed``, a one-line verdict, and what is still wrong."""

    passed: bool
    verdict: str
    problems: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = ("Correct: " if self.passed else "Not yet: ") + self.verdict
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        color, border, label = ("#1b5e20", "#43a047", "Correct") if self.passed else ("#8a4b00", "#f0a020", "Not yet")
        items = "".join(f"<li>{html.escape(p)}</li>" for p in self.problems)
        details = f'<ul style="margin: 4px 0 0 0;">{items}</ul>' if items else ""
        return (
            f'<div style="border-left: 4px solid {border}; padding: 6px 10px; color: {color}; background: #fafafa;">'
            f"<b>{label}:</b> {html.escape(self.verdict)}{details}</div>"
        )


def _result(problems: list[str], success: str, failure: str) -> Check:
    return Check(not problems, success if not problems else failure, problems)


def _app_from_options(options: Any) -> tuple[Any, list[str]]:
    if not isinstance(options, Mapping):
        return None, [f"expected a dict of CORSMiddleware options, got {type(options).__name__} {options!r}"]
    try:
        return demo_api(**dict(options)), []
    except TypeError as exc:
        return None, [f"CORSMiddleware does not accept these options: {exc}"]


# -- 00 ------------------------------------------------------------------------------------------


def _config_hint(app: Any) -> str | None:
    """The first configuration mistake lint finds in the app's CORSMiddleware, as a hint."""
    from cors_lab.lint import lint
    from cors_lab.stack import cors_options

    options = cors_options(app)
    if not options:
        return None
    findings = lint(**options).at_least("medium")
    return f"{findings[0].title}: {findings[0].fix}" if findings else None


def check_first_fix(app: Any) -> Check:
    """00: the page at http://localhost:3000 can read ``GET /items`` from ``app``."""
    from cors_lab.explain import fix_for

    result = Browser(origin=PAGE).fetch(app, "/items")
    if not result.blocked:
        return Check(True, "the browser now lets the page read GET /items.")
    return Check(False, "the request is still blocked.", [result.console or "", f"hint: {_config_hint(app) or fix_for(result)}"])


def check_first_put(app: Any) -> Check:
    """00: the page at http://localhost:3000 can also save an item with ``PUT /items/1`` and a JSON body."""
    from cors_lab.explain import fix_for

    result = Browser(origin=PAGE).fetch(app, "/items/1", method="PUT", json={"name": "fig"})
    if not result.blocked:
        return Check(True, "the preflight passed and the PUT went out.")
    return Check(False, "the PUT is still blocked.", [result.console or "", f"hint: {fix_for(result)}"])


# -- 01 ------------------------------------------------------------------------------------------

#: URLs whose origin the learner writes down (notebook 01).
ORIGIN_QUIZ = [
    "https://shop.example.com/cart?item=3",
    "http://localhost:3000/index.html",
    "https://shop.example.com:443/",
    "http://shop.example.com:8080/api",
    "HTTP://API.Example.COM/v1",
]

#: Pairs the learner classifies as "same-origin", "same-site" (but cross-origin) or "cross-site" (notebook 01).
SITE_QUIZ = [
    ("http://localhost:3000", "http://localhost:8000"),
    ("https://app.example.com", "https://api.example.com"),
    ("https://example.com", "http://example.com"),
    ("http://127.0.0.1:8000", "http://localhost:8000"),
    ("https://a.github.io", "https://b.github.io"),
    ("https://example.com/a", "https://example.com:443/b"),
]


def check_origins(answers: Mapping[str, str]) -> Check:
    """01: the origin of each URL in :data:`ORIGIN_QUIZ`."""
    problems = []
    for url in ORIGIN_QUIZ:
        expected = origin_of(url)
        given = answers.get(url) if isinstance(answers, Mapping) else None
        if given is None or given == "...":
            problems.append(f"{url}: no answer yet")
        elif given != expected:
            hint = " (an origin has no path and no trailing slash)" if "/" in given.split("://", 1)[-1] else ""
            hint = hint or (" (a default port is left out)" if given.endswith((":443", ":80")) else "")
            hint = hint or (" (scheme and host are lowercase)" if given != given.lower() else "")
            problems.append(f"{url}: you wrote {given!r}{hint}")
    return _result(problems, "every origin is right.", f"{len(problems)} of {len(ORIGIN_QUIZ)} origins are not right yet.")


def _relation(a: str, b: str) -> str:
    if same_origin(a, b):
        return "same-origin"
    return "same-site" if same_site(a, b) else "cross-site"


def check_same_site(answers: Mapping[tuple[str, str], str]) -> Check:
    """01: each pair of :data:`SITE_QUIZ` as "same-origin", "same-site" or "cross-site"."""
    problems = []
    for a, b in SITE_QUIZ:
        given = answers.get((a, b)) if isinstance(answers, Mapping) else None
        expected = _relation(a, b)
        if given not in ("same-origin", "same-site", "cross-site"):
            problems.append(f"{a} vs {b}: answer 'same-origin', 'same-site' or 'cross-site' (got {given!r})")
        elif given != expected:
            problems.append(f"{a} vs {b}: not {given!r}; compare scheme, host and port, then the registrable domain")
    return _result(problems, "every pair is classified right.", f"{len(problems)} of {len(SITE_QUIZ)} pairs are not right yet.")


# -- 02 ------------------------------------------------------------------------------------------


def check_simple_request(request: Mapping[str, Any]) -> Check:
    """02: a request that sends the item's name to ``/items`` without a preflight.

    ``request`` holds fetch() options: ``method``, ``headers``, ``body``.
    """
    if not isinstance(request, Mapping):
        return Check(False, "expected a dict with method, headers and body.", [f"got {request!r}"])
    method = request.get("method", "GET")
    try:
        reasons = needs_preflight(method, request.get("headers"), body=request.get("body"))
    except (TypeError, ValueError) as exc:
        return Check(False, "this is not a request fetch() would send.", [str(exc)])
    problems = [f"it still needs a preflight: {reason}" for reason in reasons]
    if str(method).upper() not in ("POST",):
        problems.append("the data has to reach the server in a body: use POST")
    if not request.get("body"):
        problems.append("there is no body: send the name, e.g. as URLSearchParams or a string")
    return _result(problems, "a simple request: no preflight, and the data still travels.", "the request is not simple yet.")


def check_preflight_headers(answer: str) -> Check:
    """02: the exact ``Access-Control-Request-Headers`` a browser sends for the notebook's request."""
    from cors_lab.fetch.headers import cors_unsafe_request_header_names

    headers = [("X-Request-Id", "7"), ("Content-Type", "application/json"), ("Accept", "application/json"), ("X-Api-Version", "2")]
    expected = ",".join(cors_unsafe_request_header_names(headers))
    if answer == expected:
        return Check(True, f"the browser sends Access-Control-Request-Headers: {expected}")
    problems = []
    if not isinstance(answer, str) or answer in ("", "..."):
        problems.append("no answer yet: write the header value as a string, e.g. 'a,b'")
    else:
        if " " in answer:
            problems.append("the names are joined with ',' and no space")
        if answer != answer.lower():
            problems.append("the names are lowercased")
        if "accept" in answer.split(","):
            problems.append("Accept: application/json is safelisted, so it is not listed")
        if sorted(answer.replace(" ", "").lower().split(",")) != answer.replace(" ", "").lower().split(","):
            problems.append("the names are sorted")
    return Check(False, "that is not the exact value.", problems or ["compare with needs_preflight() for these headers"])


# -- 03 ------------------------------------------------------------------------------------------


def check_least_privilege(options: Mapping[str, Any]) -> Check:
    """03: the page can GET /items and PUT JSON with X-Request-Id; nothing else is allowed."""
    app, problems = _app_from_options(options)
    if app is None:
        return Check(False, "these options do not build a CORSMiddleware.", problems)
    browser = Browser(origin=PAGE)
    get = browser.fetch(app, "/items")
    put = browser.fetch(app, "/items/1", method="PUT", headers={"X-Request-Id": "7"}, json={"name": "fig"})
    if get.blocked:
        problems.append(f"GET /items is blocked: {get.console}")
    if put.blocked:
        problems.append(f"PUT /items/1 is blocked: {put.console}")
    if not Browser(origin=PAGE).fetch(app, "/items/2", method="DELETE").blocked:
        problems.append("DELETE is allowed too: list only the methods the page uses")
    if not _from_evil(app, "/items").blocked:
        problems.append(f"{EVIL} can read the API too: list only {PAGE}")
    if not Browser(origin=PAGE).fetch(app, "/items", headers={"X-Debug": "1"}).blocked:
        problems.append("any request header is allowed: list only the headers the page sends")
    return _result(problems, "the page can do exactly what it needs, and nothing more.", "not the least privilege yet.")


def check_fixed_origin_list(options: Mapping[str, Any]) -> Check:
    """03: both frontends (http://localhost:3000 and http://localhost:5173) can read GET /items."""
    app, problems = _app_from_options(options)
    if app is None:
        return Check(False, "these options do not build a CORSMiddleware.", problems)
    for frontend in (PAGE, "http://localhost:5173"):
        result = Browser(origin=frontend).fetch(app, "/items")
        if result.blocked:
            problems.append(f"{frontend} is still blocked: {result.console}")
    origins = options.get("allow_origins", ())
    if isinstance(origins, str):
        problems.append("allow_origins is a string; give a list (a string turns the check into a substring test)")
    for entry in origins if not isinstance(origins, str) else ():
        try:
            if entry != "*" and parse_origin(entry).serialize() != entry:
                problems.append(f"{entry!r} is not a serialized origin (scheme://host[:port], lowercase, no slash)")
        except InvalidURL:
            problems.append(f"{entry!r} is not an origin")
    if "*" in origins:
        problems.append("'*' lets every site in: list the two frontends")
    return _result(problems, "both frontends can read the API.", "the origin list is not right yet.")


# -- 04 ------------------------------------------------------------------------------------------


def check_credentialed_setup(options: Mapping[str, Any]) -> Check:
    """04: the page logs in and reads /me with cookies; an evil site cannot read /me with the victim's cookies."""
    app, problems = _app_from_options(options)
    if app is None:
        return Check(False, "these options do not build a CORSMiddleware.", problems)
    browser = Browser(origin=PAGE)
    login = browser.fetch(app, "/login", method="POST", credentials="include")
    me = browser.fetch(app, "/me", credentials="include")
    if login.blocked:
        problems.append(f"POST /login is blocked: {login.console}")
    if me.blocked or me.status != 200:
        problems.append(f"GET /me does not return the user: {me.console or me.status}")
    stolen = _from_evil(app, "/me", credentials="include")
    if not stolen.blocked:
        problems.append(
            f"{EVIL} is allowed to read credentialed responses (its origin is reflected with credentials): "
            "list the page's origin instead of '*'"
        )
    return _result(problems, "credentialed requests work for the page, and only for the page.", "the credentialed setup is not right yet.")


def check_send_cookie(fetch_options: Mapping[str, Any]) -> Check:
    """04: the fetch() options that make GET /me send the session cookie cross-origin."""
    app = demo_api(allow_origins=[PAGE], allow_credentials=True)
    browser = Browser(origin=PAGE)
    browser.fetch(app, "/login", method="POST", credentials="include")
    try:
        result = browser.fetch(app, "/me", **dict(fetch_options))
    except (TypeError, ValueError) as exc:
        return Check(False, "fetch() would refuse these options.", [str(exc)])
    if result.ok and result.body == '{"user":"ada"}':
        return Check(True, "the cookie went along and the page read the user.")
    cookie = result.exchanges[-1].request.header("cookie") if result.exchanges else None
    problems = ["no Cookie header was sent: credentials must be 'include' for a cross-origin request"] if cookie is None else []
    return Check(False, "GET /me did not return the user.", problems or [result.console or f"status {result.status}"])


# -- 05 ------------------------------------------------------------------------------------------


def check_pagination(options: Mapping[str, Any]) -> Check:
    """05: script reads X-Total-Count (and the download's Content-Disposition) from GET /report."""
    app, problems = _app_from_options(options)
    if app is None:
        return Check(False, "these options do not build a CORSMiddleware.", problems)
    result = Browser(origin=PAGE).fetch(app, "/report")
    if result.blocked:
        return Check(False, "GET /report is blocked.", [result.console or ""])
    for name in ("x-total-count", "content-disposition"):
        if name not in result.readable_headers:
            problems.append(f"script cannot read {name}: add it to expose_headers")
    if options.get("expose_headers") == ["*"] or options.get("expose_headers") == ("*",):
        problems.append("'*' exposes every header (and not at all with credentials): list the two names")
    return _result(problems, "script can read the total and the file name.", "some headers are still hidden.")


def check_error_is_readable(app: Any) -> Check:
    """05: a 500 from GET /boom reaches script as status 500, not as a CORS error."""
    result = Browser(origin=PAGE).fetch(app, "/boom")
    if not result.blocked and result.status == 500:
        return Check(True, "the page sees status 500 and can show a real error message.")
    if result.blocked:
        return Check(False, "the 500 is still blocked.", [result.console or "", "wrap the whole app: app = CORSMiddleware(app, ...)"])
    return Check(False, f"GET /boom returned {result.status}, not 500.", ["keep /boom raising; change only how the app is wrapped"])


# -- 06 ------------------------------------------------------------------------------------------


def _preflights(max_age: int, engine: str, *, every: float, count: int) -> int:
    app = demo_api(allow_origins=[PAGE], allow_methods=["PUT"], allow_headers=["Content-Type"], max_age=max_age)
    browser = Browser(origin=PAGE, engine=engine)
    sent = 0
    for i in range(count):
        if i:
            browser.advance(every)
        sent += browser.fetch(app, "/items/1", method="PUT", json={"name": f"draft {i}"}).preflight is not None
    return sent


def check_max_age(max_age: Any) -> Check:
    """06: an editor saves every 30 s for 10 minutes; in Chromium only the first save is preflighted."""
    if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0:
        return Check(False, "max_age is a whole number of seconds.", [f"got {max_age!r}"])
    sent = _preflights(max_age, "chromium", every=30, count=21)
    problems = [] if sent == 1 else [f"{sent} preflights were sent over the 10 minutes; the cache must outlive the last save, at 600 s"]
    if max_age > 7200:
        problems.append("Chromium caps the cache at 7200 s anyway; a larger value only misleads readers")
    return _result(problems, f"one preflight for the whole session with max_age={max_age}.", "too many preflights.")


def check_cache_prediction(answer: Mapping[str, int]) -> Check:
    """06: how many preflights each engine sends for a save every 10 minutes over 2 hours with max_age=3600."""
    from cors_lab.engines import get_engine

    problems = []
    for engine in ("chromium", "firefox", "safari"):
        expected = _preflights(3600, engine, every=600, count=13)
        given = answer.get(engine) if isinstance(answer, Mapping) else None
        if given != expected:
            lifetime = min(3600, get_engine(engine).max_age_cap)
            problems.append(
                f"{engine}: not {given!r}; it caps Access-Control-Max-Age at {get_engine(engine).max_age_cap} s, so an "
                f"entry lives {lifetime} s, and is used only while it is younger than that"
            )
    return _result(problems, "you predicted every engine's preflights.", "some predictions are off.")


# -- 07 ------------------------------------------------------------------------------------------

BANK_SITE = "https://app.example.com"


def check_secure_config(options: Mapping[str, Any]) -> Check:
    """07: the bank's frontend reads with credentials, and the audit finds nothing worse than info."""
    from cors_lab.audit import audit

    app, problems = _app_from_options(options)
    if app is None:
        return Check(False, "these options do not build a CORSMiddleware.", problems)
    browser = Browser(origin=BANK_SITE, servers=[Server(app, origin=PUBLIC_API)])
    result = browser.fetch(PUBLIC_API + "/items", credentials="include")
    if result.blocked:
        problems.append(f"the frontend {BANK_SITE} is blocked: {result.console}")
    report = audit(app, site=BANK_SITE, path="/items")
    problems += [f"audit: [{f.severity}] {f.check}: {f.title}" for f in report.at_least("low")]
    return _result(problems, "the frontend works and the audit finds nothing to exploit.", "not secure yet.")


def check_websocket_origin(origin_allowed: Callable[[str | None], bool]) -> Check:
    """07: a WebSocket endpoint that accepts the bank's frontend and refuses other browser origins."""
    from cors_lab.transport import websocket_handshake

    if not callable(origin_allowed):
        return Check(False, "expected a function origin_allowed(origin) -> bool.", [f"got {origin_allowed!r}"])
    app = FastAPI()

    @app.websocket("/ws")
    async def live(websocket: WebSocket) -> None:
        if not origin_allowed(websocket.headers.get("origin")):
            await websocket.close(code=1008)
            return
        await websocket.accept()
        await websocket.send_text("balance: 100")

    problems = []
    for origin, should in [(BANK_SITE, True), (EVIL, False), ("null", False), ("http://app.example.com", False), ("https://app.example.com.evil.example", False)]:
        try:
            accepted = websocket_handshake(app, "/ws", headers={"Origin": origin}).accepted
        except Exception as exc:  # the learner's function raised
            return Check(False, f"origin_allowed raised {type(exc).__name__} for {origin!r}.", [str(exc)])
        if accepted != should:
            problems.append(f"a handshake from {origin} is {'accepted' if accepted else 'refused'}; it should be {'accepted' if should else 'refused'}")
    return _result(problems, "only the bank's frontend can open the socket.", "the origin check is not right yet.")


# -- 08 ------------------------------------------------------------------------------------------


def check_doctor_clean(app: Any) -> Check:
    """08: the teammate's app, fixed: doctor finds no blocked request and no stack warning."""
    from cors_lab.doctor import DoctorRequest, doctor

    token = {"Authorization": "Bearer t"}
    requests = [
        DoctorRequest("GET with a token", "GET", "/items", headers=token),
        DoctorRequest("PUT with JSON and a token", "PUT", "/items/1", headers=token, json={"name": "x"}),
        DoctorRequest("error: 500", "GET", "/boom", headers=token),
    ]
    report = doctor(app, frontend=PAGE, requests=requests)
    problems = [f"{row.request.name}: {row.console}" for row in report.rows if row.blocked] + [f"warning: {w}" for w in report.warnings]
    return _result(problems, "doctor is happy: every request passes and the stack is in order.", "doctor still finds problems.")


def check_preflight_fix(options: Mapping[str, Any]) -> Check:
    """08: the page's PUT with JSON and an X-Api-Key header passes the preflight."""
    app, problems = _app_from_options(options)
    if app is None:
        return Check(False, "these options do not build a CORSMiddleware.", problems)
    result = Browser(origin=PAGE).fetch(app, "/items/1", method="PUT", headers={"X-Api-Key": "k"}, json={"name": "x"})
    if result.blocked:
        body = result.preflight.response.text if result.preflight is not None else ""
        return Check(False, "the preflight still fails.", [result.console or "", f"the preflight's body says: {body!r}"])
    if "*" in options.get("allow_headers", ()) or "*" in options.get("allow_methods", ()):
        return Check(False, "it works, with wildcards.", ["list the method and the header instead of '*'"])
    return Check(True, "the preflight passes and the PUT goes out.")


# -- 09 ------------------------------------------------------------------------------------------

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
    from cors_lab.stack import middleware_layers

    others = [layer.name for layer in middleware_layers(app)[1:-2] if layer.kind != "cors"]
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

