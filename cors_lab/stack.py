"""What an app's middleware stack looks like from the outside, as a request meets it.

Order matters for CORS: a layer outside ``CORSMiddleware`` that answers a
request itself (an auth check, an HTTPS redirect, a host check, Starlette's
``ServerErrorMiddleware`` on an unhandled exception) sends its answer without
CORS headers. ``app.add_middleware`` inserts at the front, so the middleware
added *last* is the *outermost*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Layer", "cors_options", "middleware_layers"]

_KINDS = {
    "CORSMiddleware": "cors",
    "HTTPSRedirectMiddleware": "https-redirect",
    "TrustedHostMiddleware": "trusted-host",
    "AuthenticationMiddleware": "auth",
    "GZipMiddleware": "compression",
    "SessionMiddleware": "session",
    "ServerErrorMiddleware": "errors",
    "ExceptionMiddleware": "exceptions",
    "ProxyHeadersMiddleware": "proxy-headers",
}
#: Kinds of layer that can answer a request without calling the app inside them.
ANSWERING_KINDS = frozenset({"https-redirect", "trusted-host", "auth", "custom", "errors"})


@dataclass(frozen=True)
class Layer:
    """One layer of the stack: its class name, what kind of layer it is, and its options if known."""

    name: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)


def _kind(cls: Any) -> str:
    name = getattr(cls, "__name__", type(cls).__name__)
    if name in _KINDS:
        return _KINDS[name]
    if "auth" in name.lower():
        return "auth"
    return "custom"


def _options_of_instance(cors: Any) -> dict[str, Any]:
    # A CORSMiddleware instance keeps its options in attributes (Starlette 0.13 to 1.10).
    options: dict[str, Any] = {
        "allow_origins": list(getattr(cors, "allow_origins", ())),
        "allow_methods": list(getattr(cors, "allow_methods", ())),
        "allow_credentials": bool(getattr(cors, "allow_credentials", False)),
    }
    regex = getattr(cors, "allow_origin_regex", None)
    if regex is not None:
        options["allow_origin_regex"] = getattr(regex, "pattern", regex)
    headers = [h for h in getattr(cors, "allow_headers", ()) if h not in ("accept", "accept-language", "content-language", "content-type")]
    if getattr(cors, "allow_all_headers", False):
        headers = ["*"]
    options["allow_headers"] = headers
    simple = getattr(cors, "simple_headers", {}) or {}
    if simple.get("Access-Control-Expose-Headers"):
        options["expose_headers"] = [h.strip() for h in simple["Access-Control-Expose-Headers"].split(",")]
    preflight = getattr(cors, "preflight_headers", {}) or {}
    if "Access-Control-Max-Age" in preflight:
        options["max_age"] = int(preflight["Access-Control-Max-Age"])
    if getattr(cors, "allow_private_network", False):
        options["allow_private_network"] = True
    return options


def middleware_layers(app: Any) -> list[Layer]:
    """The layers a request meets, outermost first; the innermost entry is the app itself.

    Understands Starlette and FastAPI apps (``user_middleware``), middleware
    instances wrapping an app (anything with an ``.app``), and plain ASGI callables.
    """
    layers: list[Layer] = []
    seen: set[int] = set()
    current = app
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        cls = type(current)
        if hasattr(current, "user_middleware") and hasattr(current, "router"):
            # A Starlette/FastAPI app: ServerErrorMiddleware, user middleware (first = outermost), ExceptionMiddleware.
            layers.append(Layer("ServerErrorMiddleware", "errors"))
            for middleware in current.user_middleware:
                factory = getattr(middleware, "cls", None) or middleware[0]
                kwargs = dict(getattr(middleware, "kwargs", {}) or {})
                name = getattr(factory, "__name__", str(factory))
                dispatch = kwargs.get("dispatch")
                if name == "BaseHTTPMiddleware" and dispatch is not None:
                    name = f"the @app.middleware('http') function {getattr(dispatch, '__name__', 'dispatch')}"
                layers.append(Layer(name, _kind(factory), kwargs))
            layers.append(Layer("ExceptionMiddleware", "exceptions"))
            layers.append(Layer(f"{cls.__name__} app", "app"))
            break
        if cls.__name__ == "CORSMiddleware":
            layers.append(Layer("CORSMiddleware", "cors", _options_of_instance(current)))
        elif hasattr(current, "app") and callable(getattr(current, "app", None)):
            layers.append(Layer(cls.__name__, _kind(cls)))
        else:
            layers.append(Layer(getattr(current, "__qualname__", cls.__name__), "app"))
            break
        current = getattr(current, "app", None)
    return layers


def cors_options(app: Any) -> dict[str, Any] | None:
    """The options of the outermost CORSMiddleware in ``app``'s stack, or None if it has none."""
    for layer in middleware_layers(app):
        if layer.kind == "cors":
            return dict(layer.options)
    return None
