"""cors_lab.report: the Markdown a user pastes in an issue, and the script in it reproduces the same verdict."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import cors_lab
from cors_lab.report import Report, report

PAGE = "http://localhost:3000"
OPTIONS = {"allow_origins": [PAGE]}


def run_script(script: str, *, cwd=None, extra_path=None) -> str:
    """Run a report's script in a fresh interpreter, as a maintainer would; return its last line."""
    env = None
    if extra_path is not None:
        import os

        env = {**os.environ, "PYTHONPATH": str(extra_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_a_blocked_preflight_reproduces_with_the_demo_api():
    api = cors_lab.demo_api(**OPTIONS)
    result = cors_lab.Browser(origin=PAGE).fetch(api, "/items/1", method="PUT", json={"name": "fig"}, headers={"X-Request-Id": "7"})
    r = report(result, demo_api=OPTIONS, expected="the page replaces item 1")
    assert isinstance(r, Report)
    assert r.verdict == "verdict: blocked PreflightInvalidStatus"
    assert run_script(r.script) == r.verdict
    text = str(r)
    assert text.startswith("### CORS: fetch PUT http://localhost:8000/items/1 from http://localhost:3000 is blocked")
    assert "**Expected:** the page replaces item 1" in text
    assert "| Starlette | " in text and "| Browser | Chromium 156" in text
    assert result.console in text  # the console message, verbatim
    assert str(result.preflight) in text  # the raw exchange, verbatim
    assert "the body never left the browser" in r.script


def test_an_allowed_credentialed_request_keeps_its_cookie():
    options = {"allow_origins": [PAGE], "allow_methods": ["*"], "allow_credentials": True}
    api = cors_lab.demo_api(**options)
    browser = cors_lab.Browser(origin=PAGE)
    browser.fetch(api, "/login", method="POST", credentials="include")
    result = browser.fetch(api, "/items/1", method="PUT", json={"name": "fig"}, credentials="include")
    assert result.status == 200 and result.exchanges[-1].request.header("cookie") == "session=ada-1"
    r = report(result, demo_api=options)
    assert "browser.cookies.store(Cookie('session', 'ada-1'" in r.script
    assert "json={'name': 'fig'}" in r.script
    assert r.verdict == "verdict: allowed 200 cors"
    assert run_script(r.script) == r.verdict


def test_the_wildcard_with_credentials_message_reproduces_from_source():
    source = """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()

        @app.get("/items")
        def items():
            return []

        app.add_middleware(CORSMiddleware, allow_origins=["*"])
    """
    namespace: dict = {}
    exec(textwrap.dedent(source), namespace)
    result = cors_lab.Browser(origin=PAGE).fetch(namespace["app"], "/items", credentials="include")
    r = report(result, app_source=source)
    assert r.verdict == "verdict: blocked WildcardOriginNotAllowed"
    assert run_script(r.script) == r.verdict
    assert "credentials='include'" in r.script


def test_an_exchange_from_send_reproduces_status_and_allow_origin():
    source = "import cors_lab\napp = cors_lab.demo_api(allow_origins=['http://localhost:3000/'])\n"
    namespace: dict = {}
    exec(source, namespace)
    exchange = cors_lab.send(namespace["app"], "GET", "/items", headers={"Origin": PAGE})
    r = report(exchange, app_source=source)
    assert r.verdict == "verdict: 200, access-control-allow-origin: None"
    assert run_script(r.script) == r.verdict
    assert str(exchange) in str(r)
    assert "no `access-control-allow-origin`" in str(r)


def test_an_import_string_is_imported_by_the_script(tmp_path):
    (tmp_path / "myapi.py").write_text("import cors_lab\napp = cors_lab.demo_api(allow_origins=['http://localhost:3000'])\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import myapi  # noqa: F401
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("myapi", None)
    result = cors_lab.Browser(origin="http://localhost:5173").fetch(myapi.app, "/items")
    r = report(result, app="myapi:app")
    assert "from myapi import app as app" in r.script
    assert run_script(r.script, extra_path=tmp_path) == r.verdict == "verdict: blocked MissingAllowOriginHeader"


def test_without_an_app_the_report_says_how_to_add_the_script():
    result = cors_lab.Browser(origin=PAGE).fetch(cors_lab.demo_api(), "/items")
    r = report(result)
    assert r.script == ""
    assert "no app given" in str(r)
    assert "MissingAllowOriginHeader" in r.verdict


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"app_source": "x = 1", "app": "m:app"}, "one way only"),
        ({"app_source": "x = 1"}, "must define `app`"),
        ({"app_source": "app = ("}, "not valid Python"),
        ({"app": "main.py"}, "import string"),
        ({"demo_api": {"allow_origins": object()}}, "cannot be written"),
    ],
)
def test_mistakes_in_how_the_app_is_given_are_named(kwargs, message):
    result = cors_lab.Browser(origin=PAGE).fetch(cors_lab.demo_api(), "/items")
    with pytest.raises(ValueError, match=message):
        report(result, **kwargs)


def test_report_refuses_other_objects():
    with pytest.raises(TypeError, match="FetchResult"):
        report("GET /items")  # type: ignore[arg-type]
