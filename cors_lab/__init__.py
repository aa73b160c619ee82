"""cors-lab: see, model and debug CORS with FastAPI.

The lab in one breath::

    import cors_lab
    api = cors_lab.demo_api(allow_origins=["http://localhost:3000"])
    browser = cors_lab.Browser(origin="http://localhost:3000")
    result = browser.fetch(api, "/items", method="PUT", json={"name": "fig"})
    print(result.console)    # what Chromium prints
    print(result.explain())  # why, and what to change

Public names:

- :func:`send` / :func:`asend`: one raw HTTP request to an ASGI app (in-process),
  a :class:`Server`, or a live URL; returns an :class:`Exchange`.
- :class:`Server`: an app placed at an origin; ``Server.live(app)`` runs it under
  uvicorn on a free loopback port.
- :class:`Browser`: what Chromium, Firefox or Safari does with a request:
  preflight or not, which check fails, what script reads, the console message.
- :func:`needs_preflight`, :func:`origin_of`, :func:`same_origin`,
  :func:`same_site`: the pure rules, for quick questions.
- :func:`doctor`, :func:`audit`, :func:`lint`, :func:`explain`: troubleshoot and
  secure a CORS setup (your own app, a live URL, or a pasted console message).
- :func:`report` and :mod:`versions`: a paste-ready bug report with a runnable
  reproduction, and one scenario run on several Starlette releases.
- :func:`demo_api`: the FastAPI app the course uses.
"""

from cors_lab.bodies import Blob, FormData, ReadableStream, URLSearchParams
from cors_lab.browser import Browser, DroppedHeader, FetchResult
from cors_lab.audit import AuditReport, audit
from cors_lab.demo import demo_api
from cors_lab.doctor import DoctorReport, DoctorRequest, doctor
from cors_lab.engines import ENGINES, Engine
from cors_lab.explain import MessageExplanation, explain
from cors_lab.fetch.urls import origin_of, same_origin, same_site
from cors_lab.findings import Finding, FindingsReport
from cors_lab.lint import lint
from cors_lab import versions
from cors_lab.report import Report, report
from cors_lab.messages import AppError, Exchange, Request, Response
from cors_lab.rules import needs_preflight
from cors_lab.server import LiveServer, Server
from cors_lab.transport import WebSocketHandshake, asend, send, websocket_handshake

__version__ = "0.1.0"

__all__ = [
    "ENGINES",
    "AppError",
    "AuditReport",
    "Blob",
    "Browser",
    "DoctorReport",
    "DoctorRequest",
    "DroppedHeader",
    "Engine",
    "Exchange",
    "FetchResult",
    "Finding",
    "FindingsReport",
    "FormData",
    "LiveServer",
    "MessageExplanation",
    "ReadableStream",
    "Report",
    "Request",
    "Response",
    "Server",
    "URLSearchParams",
    "WebSocketHandshake",
    "__version__",
    "asend",
    "audit",
    "demo_api",
    "doctor",
    "explain",
    "lint",
    "needs_preflight",
    "origin_of",
    "report",
    "same_origin",
    "same_site",
    "send",
    "versions",
    "websocket_handshake",
]
