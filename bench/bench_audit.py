"""How long does a full ``cors_lab.audit`` of an in-process FastAPI app take? (Target: under 0.5 s.)

    python bench/bench_audit.py

It audits two apps (a safe one and a reflecting one), several times each, and
prints the median, next to the floor: the same number of direct ASGI calls.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

import cors_lab

SITE = "https://app.example.com"


async def floor(app, calls: int, repeat: int = 15) -> float:
    samples = []
    for _ in range(repeat):
        samples.append(await _calls(app, calls))
    return statistics.median(samples)


async def _calls(app, calls: int) -> float:
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    start = time.perf_counter()
    for _ in range(calls):
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": "/items", "raw_path": b"/items", "query_string": b"", "root_path": "",
            "headers": [(b"host", b"localhost:8000"), (b"origin", SITE.encode())], "client": ("127.0.0.1", 1), "server": ("localhost", 8000),
        }
        await app(scope, receive, send)
    return time.perf_counter() - start


def main() -> None:
    apps = {
        "safe app": cors_lab.demo_api(allow_origins=[SITE], allow_credentials=True),
        "reflecting app": cors_lab.demo_api(allow_origins=["*"], allow_credentials=True),
    }
    print(f"Full cors_lab.audit of an in-process FastAPI app; Python {sys.version.split()[0]}")
    for name, app in apps.items():
        report = cors_lab.audit(app, site=SITE, path="/items")  # warm up
        calls = len(report.exchanges)
        samples = []
        for _ in range(15):
            start = time.perf_counter()
            cors_lab.audit(app, site=SITE, path="/items")
            samples.append(time.perf_counter() - start)
        base = asyncio.run(floor(app, calls))
        median = statistics.median(samples)
        print(
            f"{name:16} {median * 1000:7.1f} ms for {calls} probes; floor {base * 1000:.1f} ms as direct ASGI calls "
            f"({median / base:.2f}x); target < 500 ms: {'met' if median < 0.5 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
