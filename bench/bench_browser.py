"""How fast is the browser model? Browser.fetch of a preflighted request against the ASGI floor, and the pure preflight decision.

    python bench/bench_browser.py            # about 15 s
    python bench/bench_browser.py --quick

The floor is the same as in bench_send.py: a preflight and the actual request
as two direct ASGI calls in one long-lived loop. ``Browser.fetch`` does those
two calls plus everything a browser decides around them (preflight or not, the
checks, the cache, the filtered response); the app answers ``max_age=0`` so
every fetch is preflighted. The pure decision is the sans-IO question "does
this request need a preflight?" with no app at all.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_send import ACTUAL_HEADERS, BODY, ORIGIN, direct_pair  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.middleware.cors import CORSMiddleware  # noqa: E402

import cors_lab  # noqa: E402
from cors_lab.engines import CHROMIUM  # noqa: E402
from cors_lab.fetch.headers import cors_unsafe_request_header_names, is_cors_safelisted_method  # noqa: E402


def make_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=[ORIGIN], allow_methods=["*"], allow_headers=["*"], max_age=0)

    @app.put("/items/{item_id}")
    def replace_item(item_id: int) -> dict:
        return {"id": item_id}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds, per_round = (3, 150) if args.quick else (5, 400)
    app = make_app()
    browser = cors_lab.Browser(origin=ORIGIN)

    def fetch() -> None:
        result = browser.fetch(app, "/items/1", method="PUT", headers={"Content-Type": "application/json"}, body=BODY)
        assert not result.blocked and result.preflight is not None

    async def floor(n: int) -> list[float]:
        samples = []
        for _ in range(n):
            start = time.perf_counter()
            await direct_pair(app)
            samples.append(time.perf_counter() - start)
        return samples

    loop = asyncio.new_event_loop()
    loop.run_until_complete(floor(5))
    fetch()
    floors, fetches = [], []
    for _ in range(rounds):
        floors += loop.run_until_complete(floor(per_round))
        for _ in range(per_round):
            start = time.perf_counter()
            fetch()
            fetches.append(time.perf_counter() - start)
    loop.close()

    headers = list(ACTUAL_HEADERS.items()) + [("Authorization", "Bearer token")]

    def decide() -> bool:
        return not is_cors_safelisted_method("POST") or bool(cors_unsafe_request_header_names(headers, extra_safelisted=CHROMIUM.extra_safelisted))

    def reasons() -> list[str]:
        return cors_lab.needs_preflight("PUT", headers)

    number = 20000
    decision = min(timeit.repeat(decide, number=number, repeat=5)) / number
    explained = min(timeit.repeat(reasons, number=number // 4, repeat=5)) / (number // 4)

    floor_median, fetch_median = statistics.median(floors), statistics.median(fetches)
    print(f"Browser.fetch of a preflighted PUT (FastAPI, CORSMiddleware, sync route); Python {sys.version.split()[0]}")
    print(f"{'way':44} {'median':>12} {'x floor':>8}")
    print(f"{'two direct ASGI calls (floor)':44} {floor_median * 1e6:9.0f} us {1:8.2f}")
    print(f"{'Browser.fetch (preflight + actual)':44} {fetch_median * 1e6:9.0f} us {fetch_median / floor_median:8.2f}")
    print(f"{'pure preflight decision':44} {decision * 1e6:9.2f} us")
    print(f"{'needs_preflight() with reasons':44} {explained * 1e6:9.2f} us")
    print(
        f"Browser.fetch: {fetch_median / floor_median:.2f}x the floor (target <= 1.5x); "
        f"preflight decision {decision * 1e6:.1f} us (target < 20 us)"
    )


if __name__ == "__main__":
    main()
