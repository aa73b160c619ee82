"""Browser.fetch end to end against in-process apps: the orchestrator, its clock, redirects, cookies and errors."""

from __future__ import annotations

import asyncio

import pytest

import cors_lab

PAGE = "http://localhost:3000"


def scripted(responses):
    """A tiny ASGI app answering ``{(method, path): (status, headers)}``; it also records what it received."""
    received = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        received.append((scope["method"], scope["path"], {k.decode(): v.decode() for k, v in scope["headers"]}))
        status, headers = responses.get((scope["method"], scope["path"]), (404, []))
        await send({"type": "http.response.start", "status": status, "headers": [(k.encode(), v.encode()) for k, v in headers]})
        await send({"type": "http.response.body", "body": b"ok"})

    app.received = received
    return app


def test_the_issue_example_reads_like_javascript():
    api = cors_lab.Server(cors_lab.demo_api(allow_origins=[PAGE], allow_methods=["PUT"], allow_headers=["Content-Type"]))
    browser = cors_lab.Browser(origin=PAGE, servers=[api])
    result = browser.fetch("http://localhost:8000/items/1", method="PUT", json={"name": "fig"})
    assert (result.blocked, result.status, result.type) == (False, 200, "cors")
    assert result.preflight is not None and result.preflight.request.method == "OPTIONS"
    assert result.preflight.request.header("access-control-request-headers") == "content-type"
    assert [e.request.method for e in result.exchanges] == ["OPTIONS", "PUT"]
    assert result.body == '{"id":1,"name":"fig"}'
    assert result.readable_headers == {"content-length": "21", "content-type": "application/json"}


def test_simple_request_is_sent_then_hidden():
    app = cors_lab.demo_api()
    result = cors_lab.Browser(origin=PAGE).fetch(app, "/items", method="POST", body="name=x")
    assert result.blocked and result.preflight is None and result.preflight_reasons == []
    assert result.exchanges[0].response.status == 422  # the server did run the request
    assert result.error_kind == "MissingAllowOriginHeader"
    assert result.status == 0 and result.type == "error" and result.body is None
    assert result.script_error == "TypeError: Failed to fetch"


def test_preflight_cache_on_the_virtual_clock():
    app = cors_lab.demo_api(allow_origins=[PAGE], allow_methods=["*"], allow_headers=["*"], max_age=10)
    browser = cors_lab.Browser(origin=PAGE)
    first = browser.fetch(app, "/items/1", method="PUT", json={"name": "a"})
    assert first.preflight is not None and not first.preflight_cached
    browser.advance(9.5)
    second = browser.fetch(app, "/items/1", method="PUT", json={"name": "b"})
    assert second.preflight is None and second.preflight_cached
    assert [e.request.method for e in second.exchanges] == ["PUT"]
    browser.advance(1)
    third = browser.fetch(app, "/items/1", method="PUT", json={"name": "c"})
    assert third.preflight is not None


@pytest.mark.parametrize(("engine", "cap"), [("chromium", 7200), ("firefox", 86400), ("safari", 600)])
def test_each_engine_caps_max_age(engine, cap):
    app = cors_lab.demo_api(allow_origins=[PAGE], allow_methods=["*"], max_age=100000)
    browser = cors_lab.Browser(origin=PAGE, engine=engine)
    browser.fetch(app, "/items/1", method="DELETE")
    browser.advance(cap - 1)
    assert browser.fetch(app, "/items/2", method="DELETE").preflight is not None  # another URL: its own entry
    assert browser.fetch(app, "/items/1", method="DELETE").preflight_cached
    browser.advance(2)
    assert not browser.fetch(app, "/items/1", method="DELETE").preflight_cached


def test_redirect_across_two_in_process_servers_taints_the_origin():
    # fetch/api/cors/cors-redirect.any.js: "cors to another cors" sends Origin: null.
    first = scripted({("GET", "/start"): (302, [("Access-Control-Allow-Origin", "*"), ("Location", "https://auth.example.com/final")])})
    second = scripted({("GET", "/final"): (200, [("Access-Control-Allow-Origin", PAGE)])})
    browser = cors_lab.Browser(
        origin=PAGE,
        servers=[cors_lab.Server(first, origin="http://localhost:8000"), cors_lab.Server(second, origin="https://auth.example.com")],
    )
    result = browser.fetch("http://localhost:8000/start")
    assert second.received[0][2]["origin"] == "null"
    assert result.blocked and result.error_kind == "AllowOriginMismatch"
    assert result.console == (
        "Access to fetch at 'https://auth.example.com/final' (redirected from 'http://localhost:8000/start') from origin "
        "'http://localhost:3000' has been blocked by CORS policy: The 'Access-Control-Allow-Origin' header has a value "
        "'http://localhost:3000' that is not equal to the supplied origin. Have the server send the header with a valid value."
    )


def test_cross_origin_redirect_drops_authorization():
    first = scripted(
        {
            ("OPTIONS", "/start"): (204, [("Access-Control-Allow-Origin", PAGE), ("Access-Control-Allow-Headers", "authorization")]),
            ("GET", "/start"): (302, [("Access-Control-Allow-Origin", PAGE), ("Location", "https://cdn.example.com/file")]),
        }
    )
    second = scripted({("GET", "/file"): (200, [("Access-Control-Allow-Origin", "*")])})
    browser = cors_lab.Browser(
        origin=PAGE, servers=[cors_lab.Server(first), cors_lab.Server(second, origin="https://cdn.example.com")]
    )
    result = browser.fetch("http://localhost:8000/start", headers={"Authorization": "Bearer secret"})
    assert not result.blocked
    assert first.received[1][2]["authorization"] == "Bearer secret"
    assert "authorization" not in second.received[0][2]


def test_303_turns_post_into_get_without_body_headers():
    app = scripted(
        {
            ("POST", "/form"): (303, [("Access-Control-Allow-Origin", "*"), ("Location", "/done")]),
            ("GET", "/done"): (200, [("Access-Control-Allow-Origin", "*")]),
        }
    )
    result = cors_lab.Browser(origin=PAGE).fetch(app, "/form", method="POST", body="a=1")
    assert [(e.request.method, e.request.header("content-type")) for e in result.exchanges] == [
        ("POST", "text/plain;charset=UTF-8"),
        ("GET", None),
    ]


def test_preflight_redirect_is_an_error():
    app = scripted({("OPTIONS", "/x"): (307, [("Location", "https://api.example.com/x")])})
    result = cors_lab.Browser(origin=PAGE).fetch(app, "/x", method="DELETE")
    assert result.error_kind == "PreflightDisallowedRedirect"
    assert result.console.endswith("Response to preflight request doesn't pass access control check: Redirect is not allowed for a preflight request.")


def test_cookies_same_site_versus_cross_site():
    api = cors_lab.demo_api(allow_origins=[PAGE, "https://app.example"], allow_credentials=True)
    same_site = cors_lab.Browser(origin=PAGE)  # localhost:3000 -> localhost:8000: same site
    same_site.fetch(api, "/login", method="POST", credentials="include")
    assert same_site.fetch(api, "/me", credentials="include").body == '{"user":"ada"}'
    assert same_site.fetch(api, "/me").status == 401  # credentials "same-origin" sends none cross-origin

    deployed = cors_lab.Server(api, origin="https://api.example.net")
    cross_site = cors_lab.Browser(origin="https://app.example", servers=[deployed])
    cross_site.fetch("https://api.example.net/login", method="POST", credentials="include")
    assert len(cross_site.cookies) == 0  # SameSite=Lax (Starlette's default) is not stored cross-site
    assert cross_site.fetch("https://api.example.net/me", credentials="include").status == 401


def test_same_origin_requests_are_basic_and_fully_readable():
    app = cors_lab.demo_api()
    result = cors_lab.Browser(origin="http://localhost:8000").fetch(app, "/report")
    assert (result.type, result.cross_origin) == ("basic", False)
    assert "x-total-count" in result.readable_headers
    assert result.exchanges[0].request.header("origin") is None


def test_no_cors_gives_an_opaque_response():
    result = cors_lab.Browser(origin=PAGE).fetch(cors_lab.demo_api(), "/items", mode="no-cors", headers={"X-Custom": "1"})
    assert (result.blocked, result.type, result.status, result.readable_headers, result.body) == (False, "opaque", 0, {}, "")
    assert [d.name for d in result.dropped_headers] == ["X-Custom"]
    assert result.exchanges[0].request.header("origin") is None


def test_same_origin_mode_refuses_cross_origin_before_sending():
    result = cors_lab.Browser(origin=PAGE).fetch(cors_lab.demo_api(), "/items", mode="same-origin")
    assert result.blocked and result.exchanges == [] and result.error_kind == "DisallowedByMode"
    assert 'Request mode is "same-origin"' in result.console


def test_forbidden_headers_are_dropped_and_reported():
    result = cors_lab.Browser(origin=PAGE).fetch(cors_lab.demo_api(allow_origins=["*"]), "/items", headers={"Cookie": "a=1", "Sec-Foo": "x"})
    assert not result.blocked and result.preflight is None
    assert [d.name for d in result.dropped_headers] == ["Cookie", "Sec-Foo"]
    assert result.exchanges[0].request.header("cookie") is None


def test_xhr_wording():
    result = cors_lab.Browser(origin=PAGE).fetch(cors_lab.demo_api(allow_origins=["*"]), "/items", initiator="xhr", credentials="include")
    assert result.console.startswith("Access to XMLHttpRequest at 'http://localhost:8000/items'")
    assert result.console.endswith("The credentials mode of requests initiated by the XMLHttpRequest is controlled by the withCredentials attribute.")


def test_engines_word_the_same_failure_differently():
    app = cors_lab.demo_api()
    messages = {engine: cors_lab.Browser(origin=PAGE, engine=engine).fetch(app, "/items").console for engine in cors_lab.ENGINES}
    assert messages["chromium"].endswith("No 'Access-Control-Allow-Origin' header is present on the requested resource.")
    assert messages["firefox"].startswith("Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at http://localhost:8000/items.")
    assert messages["safari"] == "Origin http://localhost:3000 is not allowed by Access-Control-Allow-Origin. Status code: 200"


def test_authorization_with_star_allowed_but_never_cached_in_chromium():
    app = scripted({("OPTIONS", "/a"): (204, [("Access-Control-Allow-Origin", PAGE), ("Access-Control-Allow-Headers", "*"), ("Access-Control-Max-Age", "60")]),
                    ("GET", "/a"): (200, [("Access-Control-Allow-Origin", PAGE)])})
    browser = cors_lab.Browser(origin=PAGE)
    first = browser.fetch(app, "/a", headers={"Authorization": "Bearer x"})
    second = browser.fetch(app, "/a", headers={"Authorization": "Bearer x"})
    third = browser.fetch(app, "/a", headers={"X-Z": "1"})
    assert not first.blocked and first.warnings
    assert second.preflight is not None and third.preflight_cached


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"method": "TRACE"}, TypeError, "'TRACE' HTTP method is unsupported."),
        ({"method": "GET", "body": "x"}, TypeError, "Request with GET/HEAD method cannot have body."),
        ({"method": "PUT", "mode": "no-cors"}, TypeError, "'PUT' is unsupported in no-cors mode."),
        ({"path": "http://exa mple.com/"}, TypeError, "Failed to parse URL from http://exa mple.com/"),
        ({"path": "http://user:pw@localhost:8000/"}, TypeError, "includes credentials"),
        ({"method": "GE T"}, ValueError, "is not an HTTP token"),
        ({"headers": {"X-A": "1\r\n2"}}, ValueError, "CR, LF or NUL"),
        ({"mode": "cors-ish"}, ValueError, "mode 'cors-ish' is not one of"),
        ({"credentials": True}, ValueError, "credentials True is not one of"),
        ({"body": 3.5, "method": "POST"}, TypeError, "body must be a str, bytes"),
    ],
)
def test_bad_input_like_a_browser(kwargs, error, fragment):
    path = kwargs.pop("path", "/items")
    with pytest.raises(error) as info:
        cors_lab.Browser(origin=PAGE).fetch(cors_lab.demo_api(), path, **kwargs)
    assert fragment in str(info.value)


def test_bad_browser_arguments():
    with pytest.raises(ValueError, match="engine 'opera' is not known"):
        cors_lab.Browser(engine="opera")
    with pytest.raises(ValueError, match="'localhost' is not an origin or URL"):
        cors_lab.Browser(origin="localhost")
    with pytest.raises(TypeError, match="servers must be cors_lab.Server objects"):
        cors_lab.Browser(servers=[cors_lab.demo_api()])
    with pytest.raises(ValueError, match="seconds must be a non-negative number"):
        cors_lab.Browser().advance(-1)


def test_hanging_app_times_out_with_the_browser_timeout():
    async def hangs(scope, receive, send):
        await asyncio.sleep(60)

    with pytest.raises(TimeoutError, match=r"GET http://localhost:8000/: function .*hangs did not finish"):
        cors_lab.Browser(timeout=0.2).fetch(hangs)


def test_live_server_through_the_network():
    app = cors_lab.demo_api(allow_origins=[PAGE])
    with cors_lab.Server.live(app) as live:
        result = cors_lab.Browser(origin=PAGE).fetch(live.origin + "/items")
    assert (result.blocked, result.status) == (False, 200)
    assert result.exchanges[0].via == "network"


def test_afetch_in_a_running_loop():
    async def main():
        return await cors_lab.Browser(origin=PAGE).afetch(cors_lab.demo_api(allow_origins=[PAGE]), "/items")

    assert asyncio.run(main()).status == 200


def test_renderings_are_deterministic():
    app = cors_lab.demo_api(allow_origins=[PAGE])
    one = cors_lab.Browser(origin=PAGE).fetch(app, "/items/1", method="PUT", json={"name": "x"})
    two = cors_lab.Browser(origin=PAGE).fetch(app, "/items/1", method="PUT", json={"name": "x"})
    assert str(one) == str(two) and one._repr_html_() == two._repr_html_()
    assert "OPTIONS /items/1 (preflight)" in str(one)
    assert repr(one) == "<FetchResult PUT http://localhost:8000/items/1 from http://localhost:3000 (chromium) -> blocked: PreflightInvalidStatus>"


@pytest.mark.parametrize(
    ("options", "kwargs", "advice"),
    # The ten most common failures (starlette-cors.md §4) and what explain() tells the developer.
    [
        ({}, {}, "Add 'http://localhost:3000' to allow_origins"),
        ({"allow_origins": [PAGE]}, {"path": "/boom"}, "wrap the whole app"),
        ({"allow_origins": [PAGE + "/"]}, {}, "Add 'http://localhost:3000' to allow_origins"),
        ({"allow_origins": [PAGE]}, {"method": "PUT", "json": {"name": "x"}}, "add 'PUT' to allow_methods"),
        ({"allow_origins": [PAGE]}, {"headers": {"Authorization": "Bearer x"}}, "add the requested headers (authorization) to allow_headers"),
        ({"allow_origins": ["*"]}, {"credentials": "include"}, "needs the exact origin, never '*'"),
        ({"allow_origins": [PAGE]}, {"credentials": "include"}, "Set allow_credentials=True"),
        ({"allow_origins": ["https://elsewhere.example"]}, {"method": "DELETE", "path": "/items/1"}, "add 'http://localhost:3000' to allow_origins"),
        ({"allow_origins": [PAGE]}, {"headers": {"X-Request-Id": "1"}}, "(x-request-id) to allow_headers"),
        ({"allow_origins": [PAGE], "allow_methods": ["patch"]}, {"method": "PATCH", "path": "/items/1"}, "add 'PATCH' to allow_methods"),
    ],
)
def test_explain_names_the_fix(options, kwargs, advice):
    path = kwargs.pop("path", "/items")
    result = cors_lab.Browser(origin=PAGE).fetch(cors_lab.demo_api(**options), path, **kwargs)
    assert result.blocked
    text = result.explain()
    assert advice in text, text
    assert result.console in text


def test_mixed_content_is_blocked_before_any_cors_step():
    api = cors_lab.Server(cors_lab.demo_api(allow_origins=["*"]), origin="http://api.example.com")
    result = cors_lab.Browser(origin="https://app.example.com/index.html", servers=[api]).fetch("http://api.example.com/items")
    assert result.blocked and result.exchanges == [] and result.error_kind is None
    assert result.console == (
        "Mixed Content: The page at 'https://app.example.com/index.html' was loaded over HTTPS, but requested an "
        "insecure resource 'http://api.example.com/items'. This request has been blocked; the content must be served over HTTPS."
    )
    # Loopback is potentially trustworthy: an https page's call to http://localhost is not mixed
    # content (it meets Local Network Access instead, and passes once the user allows it).
    local = cors_lab.Browser(origin="https://app.example.com").fetch(cors_lab.demo_api(allow_origins=["*"]), "/items")
    assert local.error_kind == "LocalNetworkAccessPermissionDenied"
    allowed = cors_lab.Browser(origin="https://app.example.com", local_network_permission="granted")
    assert allowed.fetch(cors_lab.demo_api(allow_origins=["*"]), "/items").status == 200


def test_redirect_to_http_behind_a_tls_proxy_is_mixed_content():
    inner = cors_lab.demo_api(allow_origins=["https://app.example.com"])

    async def tls_terminating_proxy(scope, receive, send):  # uvicorn without --proxy-headers sees http
        await inner({**scope, "scheme": "http"} if scope["type"] == "http" else scope, receive, send)

    api = cors_lab.Server(tls_terminating_proxy, origin="https://api.example.com")
    result = cors_lab.Browser(origin="https://app.example.com", servers=[api]).fetch("https://api.example.com/items/")
    assert [e.response.status for e in result.exchanges] == [307]
    assert result.exchanges[0].response.header("location") == "http://api.example.com/items"
    assert result.console.startswith("Mixed Content:") and "'http://api.example.com/items'" in result.console


def test_a_server_that_is_down_is_a_network_error_not_an_exception():
    result = cors_lab.Browser(origin=PAGE).fetch("http://127.0.0.1:9/items")
    assert result.blocked and result.error_kind is None and result.exchanges == []
    assert result.console_messages == ["Failed to load resource: net::ERR_CONNECTION_REFUSED"]
    assert result.script_request.method == "GET"
