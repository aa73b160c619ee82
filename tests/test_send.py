"""The exchange layer: ``send`` to in-process apps, servers and live URLs, exactly as on the wire."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.applications import Starlette
from starlette.requests import Request

import cors_lab


async def mixed_case_app(scope, receive, send):
    """A hand-written ASGI app that sends mixed-case and repeated header lines."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"X-Mixed-Case", b"kept"),
                (b"set-cookie", b"a=1"),
                (b"Access-Control-Allow-Origin", b"http://localhost:3000"),
                (b"set-cookie", b"b=2"),
                (b"access-control-allow-origin", b"*"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"hello", "more_body": True})
    await send({"type": "http.response.body", "body": b" world"})


def test_response_headers_keep_order_case_and_duplicates():
    exchange = cors_lab.send(mixed_case_app, "GET", "/")
    assert exchange.response.headers == (
        ("X-Mixed-Case", "kept"),
        ("set-cookie", "a=1"),
        ("Access-Control-Allow-Origin", "http://localhost:3000"),
        ("set-cookie", "b=2"),
        ("access-control-allow-origin", "*"),
    )
    assert exchange.response.body == b"hello world"
    # A reader (a browser) sees duplicate lines joined: two ACAO lines can never match one origin.
    assert exchange.response.header("ACCESS-CONTROL-ALLOW-ORIGIN") == "http://localhost:3000, *"
    assert exchange.response.header("x-mixed-case") == "kept"
    assert exchange.response.header("x-absent") is None


def test_request_headers_are_sent_as_given_with_host_first():
    seen = {}

    async def echo_scope(scope, receive, send):
        seen["headers"] = scope["headers"]
        seen["path"], seen["query"] = scope["path"], scope["query_string"]
        message = await receive()
        seen["body"] = message["body"]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    exchange = cors_lab.send(
        echo_scope,
        "POST",
        "/a%20b?q=1",
        headers=[("X-B", "1"), ("x-a", "2"), ("X-B", "3")],
        body="hi",
    )
    assert exchange.request.headers == (
        ("Host", "localhost:8000"),
        ("X-B", "1"),
        ("x-a", "2"),
        ("X-B", "3"),
        ("Content-Length", "2"),
    )
    assert exchange.request.header("x-b") == "1, 3"
    # The app receives lowercased names (as from uvicorn/h11), in the same order.
    assert seen["headers"] == [
        (b"host", b"localhost:8000"),
        (b"x-b", b"1"),
        (b"x-a", b"2"),
        (b"x-b", b"3"),
        (b"content-length", b"2"),
    ]
    assert (seen["path"], seen["query"], seen["body"]) == ("/a b", b"q=1", b"hi")
    assert exchange.request.url == "http://localhost:8000/a%20b?q=1"


def test_route_that_raises_gives_the_500_starlette_sent_and_keeps_the_error():
    exchange = cors_lab.send(cors_lab.demo_api(allow_origins=["*"]), "GET", "/boom", headers={"Origin": "http://a.test"})
    assert exchange.response.status == 500
    assert exchange.response.body == b"Internal Server Error"
    # ServerErrorMiddleware sits outside CORSMiddleware: the 500 has no CORS headers.
    assert exchange.response.header("access-control-allow-origin") is None
    assert exchange.error is not None
    assert isinstance(exchange.error.exception, RuntimeError)
    assert exchange.error.summary == "RuntimeError: boom"
    assert 'raise RuntimeError("boom")' in exchange.error.traceback
    assert "! the app raised RuntimeError: boom" in str(exchange)


def test_app_raising_before_starting_gets_uvicorns_500():
    async def broken(scope, receive, send):
        raise ValueError("no response for you")

    exchange = cors_lab.send(broken, "GET", "/")
    assert exchange.response.status == 500
    assert exchange.response.reason == "Internal Server Error"
    assert exchange.response.headers == (("content-type", "text/plain; charset=utf-8"), ("connection", "close"))
    assert exchange.response.body == b"Internal Server Error"
    assert exchange.error.summary == "ValueError: no response for you"


def test_app_returning_without_a_response_is_a_500_with_a_protocol_error():
    async def silent(scope, receive, send):
        return None

    exchange = cors_lab.send(silent, "GET", "/")
    assert exchange.response.status == 500
    assert exchange.error.summary == "RuntimeError: ASGI callable returned without starting response."


def test_head_response_body_is_dropped():
    exchange = cors_lab.send(cors_lab.demo_api(), "HEAD", "/items")
    assert exchange.response.status in (200, 405)
    assert exchange.response.body == b""


def test_hanging_app_raises_timeout_error_naming_method_url_and_app():
    async def hangs(scope, receive, send):
        await asyncio.Event().wait()

    started = time.perf_counter()
    with pytest.raises(TimeoutError) as info:
        cors_lab.send(hangs, "GET", "/slow", timeout=0.2)
    assert time.perf_counter() - started < 2
    message = str(info.value)
    assert "GET http://localhost:8000/slow" in message
    assert "function" in message and "hangs" in message
    assert "0.2 s" in message
    # The lab still works afterwards.
    assert cors_lab.send(cors_lab.demo_api(), "GET", "/items").response.status == 200


def test_sync_route_blocked_in_a_thread_still_times_out():
    app = FastAPI(title="slow")

    @app.get("/sleep")
    def sleepy() -> dict:
        time.sleep(1.5)
        return {}

    with pytest.raises(TimeoutError, match="FastAPI app 'slow'"):
        cors_lab.send(app, "GET", "/sleep", timeout=0.2)
    assert cors_lab.send(cors_lab.demo_api(), "GET", "/items").response.status == 200


def test_lifespan_startup_and_shutdown_run_around_the_block():
    events = []

    @contextlib.asynccontextmanager
    async def lifespan(app):
        events.append("startup")
        yield {"greeting": "hello from startup"}
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/greeting")
    async def greeting(request: Request) -> dict:
        return {"greeting": request.state.greeting}

    with cors_lab.Server(app, origin="http://api.test:8000") as server:
        assert events == ["startup"]
        exchange = cors_lab.send(server, "GET", "/greeting")
        assert exchange.request.url == "http://api.test:8000/greeting"
        assert exchange.request.header("host") == "api.test:8000"
        assert exchange.response.text == '{"greeting":"hello from startup"}'
    assert events == ["startup", "shutdown"]


def test_lifespan_startup_failure_is_reported():
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.failed", "message": "database unreachable"})

    with pytest.raises(RuntimeError, match="database unreachable"):
        with cors_lab.Server(app):
            pass


def test_app_without_lifespan_support_starts_fine():
    with cors_lab.Server(mixed_case_app) as server:
        assert cors_lab.send(server, "GET", "/").response.status == 200


def test_live_server_round_trip_on_a_free_port_and_port_is_freed():
    app = cors_lab.demo_api(allow_origins=["http://localhost:3000"])
    with cors_lab.Server.live(app) as server:
        assert server.origin.startswith("http://127.0.0.1:")
        port = server.port
        assert port != 8000 and server.origin == f"http://127.0.0.1:{port}"
        exchange = cors_lab.send(server, "GET", "/items", headers={"Origin": "http://localhost:3000"})
        assert exchange.via == "network"
        assert exchange.response.status == 200
        assert exchange.response.header("access-control-allow-origin") == "http://localhost:3000"
        names = [name for name, _ in exchange.response.headers]
        assert names[:2] == ["date", "server"]  # real wire headers from uvicorn
        assert exchange.request.headers == (("Host", f"127.0.0.1:{port}"), ("Origin", "http://localhost:3000"))
        # The same server through its URL.
        by_url = cors_lab.send(server.origin, "GET", "/items")
        assert by_url.response.status == 200
    assert not server.running
    threads = [t.name for t in threading.enumerate()]
    assert not any(name.startswith("uvicorn") for name in threads)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # the port is free again


def test_live_server_connections_send_without_waiting_for_acks():
    # uvicorn writes a response's head and body separately; with Nagle's algorithm on, the body of
    # every response after the first on a kept-alive connection waits for the client's delayed ACK
    # (~40 ms on Linux). The accepted connections must have TCP_NODELAY.
    with cors_lab.Server.live(cors_lab.demo_api()) as server, httpx2.Client(base_url=server.origin, trust_env=False) as client:
        for _ in range(2):  # the second request reuses the connection
            assert client.get("/items").status_code == 200
        connections = list(server._server.server_state.connections)
        assert len(connections) == 1
        accepted = connections[0].transport.get_extra_info("socket")
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_live_server_answers_the_same_headers_as_in_process_apart_from_date_and_server():
    app = cors_lab.demo_api(allow_origins=["http://localhost:3000"], allow_methods=["PUT"])
    headers = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "PUT"}
    in_process = cors_lab.send(app, "OPTIONS", "/items/1", headers=headers)
    with cors_lab.Server.live(app) as server:
        live = cors_lab.send(server, "OPTIONS", "/items/1", headers=headers)
    wire = [(n, v) for n, v in live.response.headers if n not in ("date", "server")]
    assert wire == list(in_process.response.headers)
    assert live.response.body == in_process.response.body


def test_unreachable_url_gives_a_connection_error_naming_it():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionError, match=f"GET http://127.0.0.1:{port}/items"):
        cors_lab.send(f"http://127.0.0.1:{port}", "GET", "/items", timeout=2)


def test_sync_send_works_while_an_event_loop_runs_in_this_thread():
    app = cors_lab.demo_api()

    async def inside_a_running_loop():
        # As in a Jupyter cell: a loop runs in this thread, and the sync API is called anyway.
        first = cors_lab.send(app, "GET", "/items")
        second = cors_lab.send(app, "POST", "/items", headers={"Content-Type": "application/json"}, body='{"name":"fig"}')
        return first.response.status, second.response.status, asyncio.get_running_loop()

    statuses = asyncio.run(inside_a_running_loop())
    assert statuses[:2] == (200, 201)


def test_asend_runs_in_the_callers_loop():
    app = cors_lab.demo_api()

    async def main():
        exchange = await cors_lab.asend(app, "GET", "/items")
        with pytest.raises(TimeoutError):

            async def hangs(scope, receive, send):
                await asyncio.sleep(10)

            await cors_lab.asend(hangs, "GET", "/", timeout=0.1)
        return exchange

    assert asyncio.run(main()).response.status == 200


def test_async_server_context_manager_runs_lifespan():
    events = []

    @contextlib.asynccontextmanager
    async def lifespan(app):
        events.append("up")
        yield
        events.append("down")

    async def main():
        async with cors_lab.Server(Starlette(lifespan=lifespan)) as server:
            exchange = await cors_lab.asend(server, "GET", "/nothing")
            return exchange.response.status

    assert asyncio.run(main()) == 404
    assert events == ["up", "down"]


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"method": "GET POST"}, ValueError, "method 'GET POST' is not an HTTP token"),
        ({"method": ""}, ValueError, "method '' is not an HTTP token"),
        ({"method": 3}, TypeError, "method must be a string"),
        ({"headers": {"X Bad": "1"}}, ValueError, "header name 'X Bad' is not an HTTP token"),
        ({"headers": {"X-A": "1\r\nX-Injected: yes"}}, ValueError, "contains CR, LF or NUL"),
        ({"headers": {"X-A": "caf\u00e9 \u2603"}}, ValueError, "contains '\u2603', which cannot be sent"),
        ({"headers": "X-A: 1"}, TypeError, "headers must be a dict or a list of (name, value) pairs"),
        ({"headers": [("X-A",)]}, TypeError, "each header must be a (name, value) pair"),
        ({"body": 12}, TypeError, "body must be bytes or str"),
        ({"timeout": 0}, ValueError, "timeout must be a positive number"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_the_value(kwargs, error, fragment):
    call = {"method": "GET", "headers": None, "body": None, "timeout": 5.0} | kwargs
    method = call.pop("method")
    with pytest.raises(error) as info:
        cors_lab.send(cors_lab.demo_api(), method, "/items", **call)
    assert fragment in str(info.value)


def test_latin1_header_values_are_allowed():
    exchange = cors_lab.send(mixed_case_app, "GET", "/", headers={"X-Name": "caf\u00e9"})
    assert exchange.request.header("x-name") == "caf\u00e9"


@pytest.mark.parametrize(
    ("target", "error", "fragment"),
    [
        ("localhost:8000", ValueError, "did you mean 'http://localhost:8000'"),
        ("ftp://example.com", ValueError, "expected an http:// or https:// URL"),
        (42, TypeError, "target must be an ASGI app"),
        (FastAPI, TypeError, "target must be an ASGI app"),
        (print, TypeError, "target must be an ASGI app"),
    ],
)
def test_bad_targets_are_refused(target, error, fragment):
    with pytest.raises(error) as info:
        cors_lab.send(target, "GET", "/")
    assert fragment in str(info.value)


def test_sync_callables_are_not_taken_for_apps():
    class SilentApp:
        async def __call__(self, scope, receive, send):
            return None

    assert cors_lab.send(SilentApp(), "GET", "/").response.status == 500

    with pytest.raises(TypeError, match="app must be an ASGI app"):
        cors_lab.Server(lambda scope, receive, send: None)


def test_server_origin_is_normalized_and_checked():
    assert cors_lab.Server(mixed_case_app, origin="HTTP://API.Example:80/").origin == "http://api.example"
    with pytest.raises(ValueError, match="has a path or query"):
        cors_lab.Server(mixed_case_app, origin="http://api.example/v1")
    with pytest.raises(ValueError, match="needs an http:// or https:// scheme"):
        cors_lab.Server(mixed_case_app, origin="api.example")


def test_renderings_are_deterministic_text_and_html():
    app = cors_lab.demo_api(allow_origins=["http://localhost:3000"])
    one = cors_lab.send(app, "GET", "/items", headers={"Origin": "http://localhost:3000"})
    two = cors_lab.send(app, "GET", "/items", headers={"Origin": "http://localhost:3000"})
    assert str(one) == str(two)
    assert one._repr_html_() == two._repr_html_()
    text = str(one)
    assert text.splitlines()[:4] == ["> GET /items HTTP/1.1", "> Host: localhost:8000", "> Origin: http://localhost:3000", ">"]
    assert "< HTTP/1.1 200 OK" in text
    assert "< access-control-allow-origin: http://localhost:3000" in text
    html = one._repr_html_()
    assert "<mark" in html and "access-control-allow-origin: http://localhost:3000</mark>" in html
    assert "0x" not in html and "0x" not in text


def test_binary_and_long_bodies_are_previewed():
    async def binary(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": bytes(range(256)) * 4})

    assert "[1024 bytes of binary data]" in str(cors_lab.send(binary, "GET", "/"))


def test_demo_api_routes():
    app = cors_lab.demo_api()
    assert cors_lab.send(app, "GET", "/items").response.status == 200
    created = cors_lab.send(app, "POST", "/items", headers={"Content-Type": "application/json"}, body='{"name":"fig"}')
    assert (created.response.status, created.response.text) == (201, '{"id":3,"name":"fig"}')
    replaced = cors_lab.send(app, "PUT", "/items/3", headers={"Content-Type": "application/json"}, body='{"name":"plum"}')
    assert replaced.response.text == '{"id":3,"name":"plum"}'
    assert cors_lab.send(app, "DELETE", "/items/3").response.status == 204
    assert cors_lab.send(app, "DELETE", "/items/3").response.status == 404
    login = cors_lab.send(app, "POST", "/login")
    cookie = login.response.header("set-cookie")
    assert cookie.startswith("session=ada-1;") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert cors_lab.send(app, "GET", "/me").response.status == 401
    me = cors_lab.send(app, "GET", "/me", headers={"Cookie": "session=ada-1"})
    assert me.response.text == '{"user":"ada"}'
    report = cors_lab.send(app, "GET", "/report")
    assert report.response.header("content-disposition") == 'attachment; filename="report.csv"'
    assert report.response.header("x-total-count") == "2"
    old = cors_lab.send(app, "GET", "/old")
    assert (old.response.status, old.response.header("location")) == (301, "/items")
    assert cors_lab.send(app, "GET", "/boom").response.status == 500


def test_demo_api_with_cors_options_adds_fastapis_middleware():
    app = cors_lab.demo_api(allow_origins=["http://localhost:3000"])
    assert any(m.cls is CORSMiddleware for m in app.user_middleware)
    assert not any(m.cls is CORSMiddleware for m in cors_lab.demo_api().user_middleware)
