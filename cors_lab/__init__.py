"""cors-lab: see, model and debug CORS with FastAPI.

The lab in one breath::

    import cors_lab
    app = cors_lab.demo_api(allow_origins=["http://localhost:3000"])
    exchange = cors_lab.send(app, "GET", "/items", headers={"Origin": "http://localhost:3000"})
    print(exchange)          # the raw HTTP exchange, curl -v style

Public names:

- :func:`send` / :func:`asend`: one request to an ASGI app (in-process), a
  :class:`Server`, or a live URL; returns an :class:`Exchange`.
- :class:`Server`: an app placed at an origin; ``Server.live(app)`` runs it
  under uvicorn on a free loopback port.
- :func:`demo_api`: the FastAPI app the course uses.
"""

from cors_lab.demo import demo_api
from cors_lab.messages import AppError, Exchange, Request, Response
from cors_lab.server import LiveServer, Server
from cors_lab.transport import asend, send

__version__ = "0.1.0"

__all__ = [
    "AppError",
    "Exchange",
    "LiveServer",
    "Request",
    "Response",
    "Server",
    "__version__",
    "asend",
    "demo_api",
    "send",
]
