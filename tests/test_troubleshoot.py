"""doctor on broken apps from the troubleshooting catalogue, explain on every message template, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware
from starlette.responses import PlainTextResponse

import cors_lab
from cors_lab.engines import ENGINES, Blocked
from cors_lab.fetch.cors import CorsFailure

PAGE = "http://localhost:3000"


def rows(report):
    return {row.request.name: row for row in report.rows}


class TestDoctor:
    def test_no_middleware(self):
        report = cors_lab.doctor(cors_lab.demo_api())
        assert not report.ok and "no CORSMiddleware" in report.warnings[0]
        assert rows(report)["GET"].result.error_kind == "MissingAllowOriginHeader"
        assert "add CORSMiddleware" in rows(report)["GET"].fix

    def test_default_methods_and_headers(self):
        report = rows(cors_lab.doctor(cors_lab.demo_api(allow_origins=[PAGE])))
        assert report["GET"].blocked is False
        assert "after:  CORSMiddleware(allow_origins=['http://localhost:3000'], allow_methods=['GET', 'PUT'])" in report["PUT with JSON"].fix
        assert "allow_headers=['Authorization']" in report["with Authorization"].fix
        assert "allow_headers=['X-Request-Id']" in report["with a custom header"].fix
        assert "allow_credentials=True" in report["credentials: include, with a cookie"].fix

    def test_500_without_cors_headers_suggests_wrapping(self):
        row = rows(cors_lab.doctor(cors_lab.demo_api(allow_origins=[PAGE])))["error: 500 from a raising route"]
        assert row.blocked and "app = CORSMiddleware(app, allow_origins=['http://localhost:3000'])" in row.fix
        wrapped = CORSMiddleware(cors_lab.demo_api(), allow_origins=[PAGE])
        assert not cors_lab.doctor(wrapped).blocked[0].request.name.startswith("error: 500")

    def test_temporary_routes_are_removed(self):
        app = cors_lab.demo_api(allow_origins=[PAGE])
        before = list(app.router.routes)
        cors_lab.doctor(app)
        assert app.router.routes == before

    def test_trailing_slash(self):
        row = rows(cors_lab.doctor(cors_lab.demo_api(allow_origins=[PAGE + "/"])))["GET"]
        assert row.fix == "before: CORSMiddleware(allow_origins=['http://localhost:3000/'])\nafter:  CORSMiddleware(allow_origins=['http://localhost:3000'])"

    def test_wildcard_with_credentials_from_the_frontend(self):
        row = rows(cors_lab.doctor(cors_lab.demo_api(allow_origins=["*"])))["credentials: include, with a cookie"]
        assert row.result.error_kind == "WildcardOriginNotAllowed"
        assert "allow_origins=['http://localhost:3000'], allow_credentials=True" in row.fix

    def test_middleware_order(self):
        class RequireToken:
            def __init__(self, app):
                self.app = app

            async def __call__(self, scope, receive, send):
                if scope["type"] == "http" and not any(k == b"authorization" for k, _ in scope["headers"]):
                    await PlainTextResponse("no token", status_code=401)(scope, receive, send)
                    return
                await self.app(scope, receive, send)

        app = cors_lab.demo_api(allow_origins=[PAGE], allow_headers=["Authorization"])
        app.add_middleware(RequireToken)  # added last: outermost, answers the preflight
        report = cors_lab.doctor(app)
        assert any("RequireToken runs outside CORSMiddleware" in w for w in report.warnings)
        row = rows(report)["with Authorization"]
        assert row.result.error_kind == "PreflightMissingAllowOriginHeader" and "add CORSMiddleware last" in row.fix

    def test_https_redirect_outside_cors(self):
        app = cors_lab.demo_api(allow_origins=[PAGE], allow_methods=["*"], allow_headers=["*"])
        app.add_middleware(HTTPSRedirectMiddleware)
        report = cors_lab.doctor(app)
        row = rows(report)["PUT with JSON"]
        assert row.result.error_kind == "PreflightDisallowedRedirect"
        assert "browsers never follow redirects on preflights" in row.fix and "outside HTTPSRedirectMiddleware" in row.fix
        assert any("HTTPSRedirectMiddleware runs outside" in w for w in report.warnings)

    def test_duplicate_acao_from_a_proxy_layer(self):
        inner = cors_lab.demo_api(allow_origins=[PAGE])

        async def proxy(scope, receive, send):  # nginx's add_header, in front of the app
            async def add(message):
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [*message["headers"], (b"access-control-allow-origin", b"*")]}
                await send(message)

            await inner(scope, receive, add)

        result = cors_lab.doctor(proxy, requests=[{"name": "GET", "path": "/items"}]).rows[0].result
        assert result.error_kind == "MultipleAllowOriginValues"

    def test_unreadable_response_header_and_custom_requests(self):
        report = cors_lab.doctor(
            cors_lab.demo_api(allow_origins=[PAGE]),
            requests=[{"name": "pagination", "path": "/report", "read_header": "X-Total-Count"}],
        )
        row = report.rows[0]
        assert row.blocked and row.unreadable
        assert "expose_headers=['X-Total-Count']" in row.fix
        assert "returns null" in row.console

    def test_renderings(self):
        report = cors_lab.doctor(cors_lab.demo_api(allow_origins=[PAGE]))
        assert "BLOCKED  PUT with JSON" in str(report)
        assert "<table" in report._repr_html_()
        assert json.loads(json.dumps(report.as_dict()))["rows"][0]["request"] == "GET"

    def test_bad_frontend(self):
        with pytest.raises(ValueError, match="frontend 'localhost:3000' is not an origin"):
            cors_lab.doctor(cors_lab.demo_api(), frontend="localhost:3000")


KINDS = [
    ("MissingAllowOriginHeader", None),
    ("AllowOriginMismatch", "http://other.example"),
    ("MultipleAllowOriginValues", "http://a.example, *"),
    ("InvalidAllowOriginValue", "foo"),
    ("WildcardOriginNotAllowed", None),
    ("InvalidAllowCredentials", ""),
    ("PreflightMissingAllowOriginHeader", None),
    ("PreflightAllowOriginMismatch", "http://other.example"),
    ("PreflightWildcardOriginNotAllowed", None),
    ("PreflightInvalidAllowCredentials", "false"),
    ("PreflightInvalidStatus", None),
    ("PreflightDisallowedRedirect", None),
    ("InvalidAllowMethodsPreflightResponse", "PUT DELETE"),
    ("InvalidAllowHeadersPreflightResponse", "a b"),
    ("MethodDisallowedByPreflightResponse", "PUT"),
    ("HeaderDisallowedByPreflightResponse", "x-custom"),
    ("RedirectContainsCredentials", ""),
]
@pytest.mark.parametrize(("kind", "hint"), KINDS)
@pytest.mark.parametrize("initiator", ["fetch", "xhr"])
@pytest.mark.parametrize("engine", list(ENGINES))
def test_explain_reads_every_template_of_every_engine(engine, initiator, kind, hint):
    blocked = Blocked(CorsFailure(kind, hint), url="http://localhost:8000/items", initial_url="http://localhost:8000/items", page_origin=PAGE, initiator=initiator, status=200)
    message = ENGINES[engine].console(blocked)[0]
    result = cors_lab.explain(message)
    assert result.engine == engine
    assert result.url in ("http://localhost:8000/items", None)
    if engine == "chromium":
        # Chromium's wording names the failed check exactly.
        assert result.error_kind == kind
        assert result.origin == PAGE and result.url == "http://localhost:8000/items"
    else:
        # Firefox and WebKit word several checks alike; the reading must still be one of the checks.
        assert result.error_kind is None or result.error_kind in {k for k, _ in KINDS} | {"CorsDisabledScheme", "DisallowedByMode"}
        assert result.check


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        # Older Chromium (up to about M132) had extra advice after the reason.
        (
            "Access to fetch at 'http://api.test/x' from origin 'http://app.test' has been blocked by CORS policy: No "
            "'Access-Control-Allow-Origin' header is present on the requested resource. If an opaque response serves your "
            "needs, set the request's mode to 'no-cors' to fetch the resource with CORS disabled.",
            "MissingAllowOriginHeader",
        ),
        (
            "Access to fetch at 'http://api.test/x' from origin 'http://app.test' has been blocked by CORS policy: Response to "
            "preflight request doesn't pass access control check: No 'Access-Control-Allow-Private-Network' header was present "
            "in the preflight response for this private network request targeting the `local` address space.",
            "PreflightMissingAllowPrivateNetwork",
        ),
        (
            "Access to fetch at 'http://127.0.0.1:8002/x' from origin 'http://app.test:8001' has been blocked by CORS policy: "
            "Permission was denied for this request to access the `loopback` address space.",
            "LocalNetworkAccessPermissionDenied",
        ),
        ("Access blocked by CORS policy: It does not have HTTP ok status.", "PreflightInvalidStatus"),
        # MDN's older Firefox wordings.
        ("Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://api.test/x. (Reason: CORS preflight channel did not succeed).", "PreflightInvalidStatus"),
        ("Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://api.test/x. (Reason: missing token 'xyz' in CORS header 'Access-Control-Allow-Headers' from CORS preflight channel).", "HeaderDisallowedByPreflightResponse"),
        ("Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://api.test/x. (Reason: CORS header 'Access-Control-Allow-Origin' missing).", "MissingAllowOriginHeader"),
        ('Fetch API cannot load http://api.test/x. Request mode is "same-origin" but the URL\'s origin is not same as the request origin http://app.test.', "DisallowedByMode"),
    ],
)
def test_explain_reads_older_and_other_wordings(message, kind):
    assert cors_lab.explain(message).error_kind == kind


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ("TypeError: Failed to fetch", "never says why"),
        ("TypeError: NetworkError when attempting to fetch resource.", "never says why"),
        ("Mixed Content: The page at 'https://a' was loaded over HTTPS, but requested an insecure resource 'http://b'.", "mixed content"),
        ("GET http://localhost:8000/items net::ERR_CONNECTION_REFUSED", "not reachable"),
        ("my app is broken", "not recognised as a CORS message"),
    ],
)
def test_explain_answers_non_cors_text_helpfully(message, says):
    result = cors_lab.explain(message)
    assert result.error_kind is None and says in result.check


def test_explain_ranks_causes_with_lab_calls():
    result = cors_lab.explain(
        "Access to fetch at 'http://localhost:8000/items/1' from origin 'http://localhost:3000' has been blocked by CORS "
        "policy: Response to preflight request doesn't pass access control check: It does not have HTTP ok status."
    )
    assert result.preflight and result.causes[0].title == "the method is not in allow_methods"
    assert "cors_lab.Browser(origin='http://localhost:3000').fetch(app, '/items/1', method='PUT'" in result.causes[0].lab_call
    assert "1. the method is not in allow_methods" in str(result)


def test_explain_bad_input():
    with pytest.raises(TypeError, match="message must be the console text"):
        cors_lab.explain(None)


# -- The command ----------------------------------------------------------------------------------------------------

APP = textwrap.dedent(
    """
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["http://localhost:3000"])

    @app.get("/items")
    def items():
        return [{"id": 1}]

    broken_config = CORSMiddleware(app, allow_origins=["*"], allow_credentials=True)
    """
)


def cli(tmp_path, *args, stdin=None):
    (tmp_path / "shop.py").write_text(APP)
    (tmp_path / "crashes.py").write_text("raise RuntimeError('no database')\n")
    return subprocess.run(
        [sys.executable, "-m", "cors_lab", *args], cwd=tmp_path, capture_output=True, text=True, input=stdin, timeout=60
    )


class TestCommand:
    def test_help_has_examples(self, tmp_path):
        run = cli(tmp_path, "--help")
        assert run.returncode == 0 and "examples:" in run.stdout and "cors-lab doctor main:app" in run.stdout

    def test_fetch_exit_codes_and_json(self, tmp_path):
        ok = cli(tmp_path, "fetch", "shop:app", "/items", "--json")
        assert ok.returncode == 0
        data = json.loads(ok.stdout)
        assert data["blocked"] is False and data["status"] == 200 and data["readable_headers"]["content-type"] == "application/json"
        blocked = cli(tmp_path, "fetch", "shop:app", "/items", "-X", "PUT", "-H", "Content-Type: application/json", "--data", "{}")
        assert blocked.returncode == 1 and "It does not have HTTP ok status." in blocked.stdout

    def test_doctor(self, tmp_path):
        run = cli(tmp_path, "doctor", "shop:app", "--json")
        assert run.returncode == 1
        assert json.loads(run.stdout)["rows"][0]["request"] == "GET"

    def test_audit(self, tmp_path):
        clean = cli(tmp_path, "audit", "shop:app", "--site", "http://localhost:3000", "--path", "/items")
        assert clean.returncode == 0, clean.stdout
        bad = cli(tmp_path, "audit", "shop:broken_config", "--path", "/items", "--json")
        assert bad.returncode == 1
        assert json.loads(bad.stdout)["findings"][0]["check"] == "origin-reflection"

    def test_explain_from_argument_and_stdin(self, tmp_path):
        message = "Origin http://localhost:3000 is not allowed by Access-Control-Allow-Origin. Status code: 200"
        run = cli(tmp_path, "explain", message, "--json")
        assert run.returncode == 0 and json.loads(run.stdout)["engine"] == "safari"
        piped = cli(tmp_path, "explain", "-", stdin="hello")
        assert piped.returncode == 1 and "not recognised" in piped.stdout

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["fetch", "nowhere:app"], "cannot import 'nowhere'"),
            (["fetch", "crashes:app"], "importing 'crashes' raised RuntimeError: no database"),
            (["fetch", "shop:nothing"], "module 'shop' has no attribute 'nothing'"),
            (["fetch", "shop:APP"], "has no attribute"),
            (["fetch", "localhost:8000"], "write the URL: 'http://localhost:8000'"),
            (["fetch", "http://127.0.0.1:9", "/x"], "no answer (ERR_CONNECTION_REFUSED); is a server listening there?"),
            (["fetch", "shop:app", "-X", "TRACE"], "'TRACE' HTTP method is unsupported"),
            (["doctor", "http://127.0.0.1:9"], "doctor needs the app itself"),
            (["explain"], "give the console message"),
        ],
    )
    def test_errors_are_one_line_and_exit_2(self, tmp_path, args, message):
        run = cli(tmp_path, *args, stdin="")
        assert run.returncode == 2
        assert message in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
