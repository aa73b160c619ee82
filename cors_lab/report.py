"""``report``: what to paste in an issue about a CORS problem, made from what the lab saw.

A good CORS bug report has five parts, and the lab already has four of them:

1. the versions in play (Python, FastAPI, Starlette, the lab, the browser profile);
2. the smallest app (only the reporter knows it: give it as source text, an
   import string, or ``demo_api`` options);
3. the one request, as a script anyone can run;
4. the raw exchanges, exactly as they crossed the wire;
5. the console message the browser printed.

:func:`report` puts them in one Markdown block. The script it writes is the
call that produced the result (``Browser.fetch`` for a
:class:`~cors_lab.FetchResult`, ``send`` for an :class:`~cors_lab.Exchange`)
and ends with a ``verdict:`` line, so a maintainer sees at once whether
their run agrees.

What the script cannot know is written in it as a comment: header values of a
request whose preflight failed (only the names crossed the wire), the body of
such a request, and the cookies the browser held before (reconstructed from
the ``Cookie`` line it sent).
"""

from __future__ import annotations

import ast
import importlib.metadata
import json as jsonlib
import platform
import pprint
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cors_lab.browser import FetchResult
from cors_lab.engines import get_engine
from cors_lab.fetch.headers import is_forbidden_request_header
from cors_lab.fetch.urls import origin_of, parse_url
from cors_lab.messages import Exchange

__all__ = ["Report", "report"]

_IMPORT_STRING = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


@dataclass(frozen=True)
class Report:
    """A ready-to-paste bug report.

    Fields:
        markdown: the whole report (``str(report)`` is the same text).
        script: the reproduction alone, a Python script (empty when no app was given).
        verdict: the script's last line of output, e.g. ``"verdict: blocked PreflightInvalidStatus"``.
    """

    markdown: str
    script: str
    verdict: str

    def __str__(self) -> str:
        return self.markdown

    def __repr__(self) -> str:
        return f"<Report {self.verdict!r}, {len(self.markdown.splitlines())} lines of Markdown>"

    def _repr_html_(self) -> str:
        import html

        return (
            '<pre style="white-space: pre-wrap; font-size: 12px; background: #fafafa; border: 1px solid #e0e0e0; '
            f'padding: 6px 8px;">{html.escape(self.markdown)}</pre>'
        )


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _app_section(app_source: str | None, app: str | None, demo_api: Mapping[str, Any] | None) -> tuple[str, str]:
    """``(Python lines that define `app`, what it is, for the prose)``."""
    given = [name for name, value in (("app_source", app_source), ("app", app), ("demo_api", demo_api)) if value is not None]
    if len(given) > 1:
        raise ValueError(f"give the app one way only: app_source=, app= or demo_api=; got {', '.join(given)}")
    if app_source is not None:
        if not isinstance(app_source, str):
            raise TypeError(f"app_source must be Python source text that defines `app`, got {type(app_source).__name__}")
        source = textwrap.dedent(app_source).strip("\n")
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            raise ValueError(f"app_source is not valid Python: {exc.msg} (line {exc.lineno})") from None
        if not any(_assigns_app(node) for node in ast.walk(tree)):
            raise ValueError("app_source must define `app` (e.g. `app = FastAPI()`), so the script can serve it")
        return source, "the app below"
    if app is not None:
        if not isinstance(app, str) or not _IMPORT_STRING.match(app):
            raise ValueError(
                f"app must be an import string 'package.module:attribute' such as 'myproject.main:app', got {app!r}"
            )
        module, attribute = app.split(":")
        return f"from {module} import {attribute} as app  # your project's app", f"`{app}` (from your project)"
    if demo_api is not None:
        if not isinstance(demo_api, Mapping):
            raise TypeError(f"demo_api must be a dict of CORSMiddleware options, got {type(demo_api).__name__}")
        for key, value in demo_api.items():
            try:
                if ast.literal_eval(repr(value)) != value:
                    raise ValueError
            except (ValueError, SyntaxError):
                raise ValueError(f"demo_api option {key}={value!r} cannot be written into a script as a literal") from None
        args = ", ".join(f"{key}={value!r}" for key, value in demo_api.items())
        return f"app = cors_lab.demo_api({args})", "the lab's demo API"
    return "", ""


def _assigns_app(node: ast.AST) -> bool:
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(isinstance(t, ast.Name) and t.id == "app" for t in targets)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name == "app"
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return any((alias.asname or alias.name) == "app" for alias in node.names)
    return False


def _literal(value: Any) -> str:
    return pprint.pformat(value, width=100, sort_dicts=False)


def _fetch_call(result: FetchResult) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """``(lines of the Browser.fetch call, comments about what was reconstructed, cookies held)``."""
    notes: list[str] = []
    cookies: list[tuple[str, str]] = []
    actual = next((e for e in result.exchanges if not e.request.is_preflight), None)
    headers: list[tuple[str, str]]
    body: bytes | None = None
    if actual is not None:
        request = actual.request
        headers = [(n, v) for n, v in request.headers if not is_forbidden_request_header(n, v)]
        # The browser appends `Accept: */*` when script set no Accept; leave it to the browser again.
        if headers and headers[-1] == ("Accept", "*/*"):
            headers.pop()
        body = request.body or None
        cookie = request.header("cookie")
        if cookie:
            for part in cookie.split(";"):
                name, _, value = part.strip().partition("=")
                if name:
                    cookies.append((name, value))
    else:
        question = getattr(result, "_preflight_question", None)
        if question is not None:
            headers = list(question[1])
        else:
            preflight = result.preflight
            names = (preflight.request.header("access-control-request-headers") or "") if preflight else ""
            headers = [(n, "application/json" if n == "content-type" else "1") for n in names.split(",") if n]
            if headers:
                notes.append("header values are placeholders: only their names crossed the wire (in the preflight)")
        if result.method not in ("GET", "HEAD"):
            notes.append("the body never left the browser (the preflight failed), so any body reproduces this")
    lines = ["result = browser.fetch(", "    api,", f"    {result.url!r},"]
    if result.method != "GET":
        lines.append(f"    method={result.method!r},")
    json_body = None
    content_type = next((v for n, v in headers if n.lower() == "content-type"), None)
    if body is not None and content_type == "application/json":
        try:
            parsed = jsonlib.loads(body)
            if jsonlib.dumps(parsed, separators=(",", ":")).encode() == body:
                json_body = parsed
                headers = [(n, v) for n, v in headers if n.lower() != "content-type"]
        except ValueError:
            pass
    if headers:
        lines.append(f"    headers={_literal(headers)},")
    if json_body is not None:
        lines.append(f"    json={_literal(json_body)},")
    elif body is not None:
        if content_type is not None:
            try:
                lines.append(f"    body={body.decode('utf-8')!r},")
            except UnicodeDecodeError:
                lines.append(f"    body={body!r},")
        else:
            lines.append(f"    body={body!r},")  # bytes: no Content-Type, as the original request had none
    for name, default in (("credentials", "same-origin"), ("mode", "cors"), ("initiator", "fetch")):
        value = getattr(result, name)
        if value != default:
            lines.append(f"    {name}={value!r},")
    lines.append(")")
    return lines, notes, cookies


def _fetch_verdict(result: FetchResult) -> str:
    if result.blocked:
        return f"verdict: blocked {result.error_kind or 'network error'}"
    return f"verdict: allowed {result.status} {result.type}"


def _exchange_verdict(exchange: Exchange) -> str:
    acao = exchange.response.header("access-control-allow-origin")
    return f"verdict: {exchange.response.status}, access-control-allow-origin: {acao}"


def report(
    result: FetchResult | Exchange,
    *,
    app_source: str | None = None,
    app: str | None = None,
    demo_api: Mapping[str, Any] | None = None,
    title: str | None = None,
    expected: str | None = None,
) -> Report:
    """A self-contained Markdown report of ``result`` (a ``Browser.fetch`` result or a ``send`` exchange).

    Give the app one way, so the report carries a script that reproduces the result:

    - ``app_source=``: Python source that defines ``app`` (the smallest app that shows the bug);
    - ``app=``: an import string ``"myproject.main:app"`` (the script imports it; it runs where your project does);
    - ``demo_api=``: the ``CORSMiddleware`` options given to :func:`cors_lab.demo_api`.

    Without any, the report has everything but the script. ``expected`` is what
    you expected to happen, in your words; ``title`` replaces the generated title.

    >>> import cors_lab
    >>> from cors_lab.report import report
    >>> api = cors_lab.demo_api(allow_origins=["http://localhost:3000"])
    >>> result = cors_lab.Browser(origin="http://localhost:3000").fetch(api, "/items", method="PUT", json={"name": "fig"})
    >>> r = report(result, demo_api={"allow_origins": ["http://localhost:3000"]})
    >>> r.verdict
    'verdict: blocked PreflightInvalidStatus'
    """
    app_lines, app_what = _app_section(app_source, app, demo_api)
    if isinstance(result, FetchResult):
        return _report_fetch(result, app_lines, app_what, title, expected)
    if isinstance(result, Exchange):
        return _report_exchange(result, app_lines, app_what, title, expected)
    raise TypeError(
        f"report() takes a FetchResult (from Browser.fetch) or an Exchange (from send), got {type(result).__name__} {result!r}"
    )


def _versions_table(engine_line: str | None) -> list[str]:
    rows = [
        ("Python", platform.python_version()),
        ("FastAPI", _version("fastapi")),
        ("Starlette", _version("starlette")),
        ("cors_lab", _version("cors-lab")),
    ]
    if engine_line:
        rows.append(("Browser", engine_line))
    return ["| | version |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]


def _script_header(what: str) -> list[str]:
    return [
        f"# Reproduces: {what}",
        f"# with cors_lab {_version('cors-lab')}, FastAPI {_version('fastapi')}, Starlette {_version('starlette')}",
        "import cors_lab",
        "",
    ]


def _report_fetch(result: FetchResult, app_lines: str, app_what: str, title: str | None, expected: str | None) -> Report:
    engine = get_engine(result.engine)
    verdict = _fetch_verdict(result)
    what = f"fetch {result.method} {result.url} from {result.page_origin}"
    outcome = f"blocked ({result.error_kind})" if result.blocked else f"status {result.status}, not blocked"
    heading = title or (f"CORS: {what} is {outcome}" if result.blocked else f"CORS: {what}: {outcome}")
    script = ""
    if app_lines:
        call, notes, cookies = _fetch_call(result)
        api_origin = origin_of(result.url)
        lines = _script_header(f"{what} -> {outcome}")
        lines += [app_lines, ""]
        lines.append(f"api = cors_lab.Server(app, origin={api_origin!r})")
        options = "".join(f", {name}={value!r}" for name, value in result.browser_options.items())
        lines.append(f"browser = cors_lab.Browser(origin={result.page_origin!r}, engine={result.engine!r}{options})")
        if cookies:
            host = parse_url(result.url).host
            lines.append("# The browser already held these cookies: they were on the request.")
            lines.append("from cors_lab.fetch.cookies import Cookie")
            for name, value in cookies:
                lines.append(f"browser.cookies.store(Cookie({name!r}, {value!r}, domain={host!r}, same_site='none'), now=0)")
        if result.final_url and origin_of(result.final_url) != api_origin:
            notes.append(f"the request was redirected to {origin_of(result.final_url)}: serve that app too (cors_lab.Server)")
        lines += [f"# Note: {note}" for note in notes]
        lines += call
        lines += [
            "print(result)",
            "if result.blocked:",
            "    print(\"verdict: blocked\", result.error_kind or \"network error\")",
            "else:",
            "    print(\"verdict: allowed\", result.status, result.type)",
        ]
        script = "\n".join(lines) + "\n"
    actual = (
        f"the browser blocks the request; script sees `{result.script_error}`"
        if result.blocked else f"script reads status {result.status}"
    )
    parts = _common_parts(heading, expected, actual, engine_line=f"{engine.product} (cors_lab's `{engine.name}` profile)")
    parts += _script_parts(script, app_what, verdict)
    if result.console_messages:
        parts += ["**Console** (the lab's model of " + engine.product + ")", "", "```", *result.console_messages, "```", ""]
    parts += _exchange_parts(result.exchanges)
    return Report("\n".join(parts).rstrip() + "\n", script, verdict)


def _report_exchange(exchange: Exchange, app_lines: str, app_what: str, title: str | None, expected: str | None) -> Report:
    request, response = exchange.request, exchange.response
    verdict = _exchange_verdict(exchange)
    what = f"{request.method} {request.url}"
    heading = title or f"CORS: {what} answers {response.status} {response.reason}".rstrip()
    script = ""
    if app_lines:
        lines = _script_header(f"{what} -> {response.status}")
        lines += [app_lines, ""]
        lines.append(f"api = cors_lab.Server(app, origin={origin_of(request.url)!r})")
        lines.append("exchange = cors_lab.send(")
        lines.append("    api,")
        lines.append(f"    {request.method!r},")
        lines.append(f"    {request.url!r},")
        lines.append(f"    headers={_literal([tuple(h) for h in request.headers])},")
        if request.body:
            try:
                lines.append(f"    body={request.body.decode('utf-8')!r},")
            except UnicodeDecodeError:
                lines.append(f"    body={request.body!r},")
        lines.append(")")
        lines.append("print(exchange)")
        lines.append("print(f\"verdict: {exchange.response.status}, access-control-allow-origin: "
                     "{exchange.response.header('access-control-allow-origin')}\")")
        script = "\n".join(lines) + "\n"
    acao = response.header("access-control-allow-origin")
    actual = f"status {response.status}, `access-control-allow-origin: {acao}`" if acao else f"status {response.status}, no `access-control-allow-origin`"
    parts = _common_parts(heading, expected, actual, engine_line=None)
    parts += _script_parts(script, app_what, verdict)
    parts += _exchange_parts([exchange])
    return Report("\n".join(parts).rstrip() + "\n", script, verdict)


def _common_parts(heading: str, expected: str | None, actual: str, *, engine_line: str | None) -> list[str]:
    return [
        f"### {heading}",
        "",
        f"**Expected:** {expected or '_(what you expected to happen)_'}",
        "",
        f"**Actual:** {actual}.",
        "",
        "**Versions**",
        "",
        *_versions_table(engine_line),
        "",
    ]


def _script_parts(script: str, app_what: str, verdict: str) -> list[str]:
    if not script:
        return [
            "**Reproduction:** _(no app given: call `report(..., app_source=...)`, `app=\"module:app\"` or "
            "`demo_api={...}` to include a runnable script)_",
            "",
        ]
    return [
        f"**Reproduction** with {app_what} (`python repro.py`; its last line should read `{verdict}`)",
        "",
        "```python",
        script.rstrip("\n"),
        "```",
        "",
    ]


def _exchange_parts(exchanges: list[Exchange]) -> list[str]:
    if not exchanges:
        return ["**Raw exchanges:** none (nothing was sent)", ""]
    parts = ["**Raw exchanges** (as the app sent them; `>` request, `<` response)", ""]
    for exchange in exchanges:
        parts += ["```http", str(exchange), "```", ""]
    return parts
