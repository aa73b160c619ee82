"""How fast is one preflight + actual request pair, done five ways, against a floor measured in the same run?

    python bench/bench_send.py            # about 20 s
    python bench/bench_send.py --quick    # about 5 s

The app is FastAPI with CORSMiddleware and a sync route (``def``), the common
case. The floor is two direct ASGI calls awaited in one long-lived event loop:
nothing can be faster than calling the app. Every other way is reported as a
ratio to that floor. Timings are medians over many pairs; the ways are
interleaved round by round so that machine noise hits them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import warnings
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

import cors_lab

ORIGIN = "http://localhost:3000"
PREFLIGHT_HEADERS = {"Origin": ORIGIN, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"}
ACTUAL_HEADERS = {"Origin": ORIGIN, "Content-Type": "application/json"}
BODY = b'{"name": "fig"}'


def make_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=[ORIGIN], allow_methods=["*"], allow_headers=["*"])

    @app.put("/items/{item_id}")
    def replace_item(item_id: int) -> dict:
        return {"id": item_id}

    return app


def asgi_scope(method: str, headers: dict[str, str]) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/items/1",
        "raw_path": b"/items/1",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost:8000")] + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 8000),
    }


async def direct_pair(app: FastAPI) -> None:
    for method, headers, body in (("OPTIONS", PREFLIGHT_HEADERS, b""), ("PUT", ACTUAL_HEADERS, BODY)):
        sent = []

        async def receive(body=body):
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            sent.append(message)

        await app(asgi_scope(method, headers), receive, send)
        assert sent[0]["status"] == 200


def time_pairs(pair: Callable[[], None], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        pair()
        samples.append(time.perf_counter() - start)
    return samples


async def atime_pairs(pair, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await pair()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer pairs (noisier)")
    args = parser.parse_args()
    rounds, per_round = (3, 150) if args.quick else (5, 400)

    app = make_app()
    url = "/items/1"

    def lab_pair() -> None:
        assert cors_lab.send(app, "OPTIONS", url, headers=PREFLIGHT_HEADERS).response.status == 200
        assert cors_lab.send(app, "PUT", url, headers=ACTUAL_HEADERS, body=BODY).response.status == 200

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    import httpx2

    client = TestClient(app, base_url="http://localhost:8000")

    def testclient_pair() -> None:
        assert client.options(url, headers=PREFLIGHT_HEADERS).status_code == 200
        assert client.put(url, headers=ACTUAL_HEADERS, content=BODY).status_code == 200

    samples: dict[str, list[float]] = {name: [] for name in ("floor", "send", "send_in_loop", "asgitransport", "testclient", "live")}

    async def async_ways() -> None:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://localhost:8000") as http:

            async def transport_pair() -> None:
                assert (await http.options(url, headers=PREFLIGHT_HEADERS)).status_code == 200
                assert (await http.put(url, headers=ACTUAL_HEADERS, content=BODY)).status_code == 200

            samples["floor"] += await atime_pairs(lambda: direct_pair(app), per_round)
            samples["asgitransport"] += await atime_pairs(transport_pair, per_round)
            # The Jupyter case: the sync API called from a thread whose loop is running.
            samples["send_in_loop"] += time_pairs(lab_pair, per_round)

    with cors_lab.Server.live(app) as live:
        http_live = httpx2.Client(base_url=live.origin, trust_env=False)

        def live_pair() -> None:
            assert http_live.options(url, headers=PREFLIGHT_HEADERS).status_code == 200
            assert http_live.put(url, headers=ACTUAL_HEADERS, content=BODY).status_code == 200

        loop = asyncio.new_event_loop()
        # Warm up every way once (imports, thread pools, connections).
        loop.run_until_complete(direct_pair(app))
        lab_pair(), testclient_pair(), live_pair()
        for _ in range(rounds):
            loop.run_until_complete(async_ways())
            samples["send"] += time_pairs(lab_pair, per_round)
            samples["testclient"] += time_pairs(testclient_pair, per_round // 2)
            samples["live"] += time_pairs(live_pair, per_round // 2)
        loop.close()
        http_live.close()
    client.close()

    labels = {
        "floor": "direct ASGI calls (floor)",
        "send": "cors_lab.send",
        "send_in_loop": "cors_lab.send, loop running (Jupyter)",
        "asgitransport": "httpx2 ASGITransport",
        "testclient": "Starlette TestClient",
        "live": "live uvicorn on loopback",
    }
    floor = statistics.median(samples["floor"])
    print(f"One preflight + actual pair (FastAPI, CORSMiddleware, sync route); Python {sys.version.split()[0]}")
    print(f"{'way':40} {'median per pair':>16} {'x floor':>8}")
    for key, label in labels.items():
        median = statistics.median(samples[key])
        print(f"{label:40} {median * 1e6:13.0f} us {median / floor:8.2f}")
    send = statistics.median(samples["send"])
    testclient = statistics.median(samples["testclient"])
    print(f"cors_lab.send: {send / floor:.2f}x the floor (target <= 1.3x); TestClient is {testclient / send:.1f}x slower (target >= 3x)")


if __name__ == "__main__":
    main()
