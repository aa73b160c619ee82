"""Send one request over the network with httpx2 and record the exchange as it crossed the wire.

The request carries exactly the header lines of the :class:`~cors_lab.messages.Request`
(httpx2 adds nothing when ``Host`` and ``Content-Length`` are already there),
redirects are not followed (one exchange is one request), proxies from the
environment are ignored, and the body is read raw, before any decompression.
"""

from __future__ import annotations

import httpx2

from cors_lab.messages import Exchange, Request, Response

__all__ = ["NetworkError", "asend_over_network", "send_over_network"]


class NetworkError(ConnectionError):
    """No HTTP response at all. ``net_error`` is the name Chromium gives it (``"ERR_CONNECTION_REFUSED"``)."""

    def __init__(self, message: str, net_error: str) -> None:
        super().__init__(message)
        self.net_error = net_error


def _to_httpx(request: Request) -> httpx2.Request:
    return httpx2.Request(request.method, request.url, headers=list(request.headers), content=request.body)


def _from_httpx(request: Request, response: httpx2.Response, body: bytes) -> Exchange:
    headers = tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in response.headers.raw)
    reason = response.reason_phrase
    if request.method.upper() == "HEAD":
        body = b""
    return Exchange(request=request, response=Response(response.status_code, reason, headers, body), via="network")


def _network_error(request: Request, exc: httpx2.HTTPError, timeout: float) -> Exception:
    if isinstance(exc, httpx2.TimeoutException):
        return TimeoutError(f"{request.method} {request.url}: no complete response within {timeout} s (timeout={timeout})")
    if isinstance(exc, httpx2.ConnectError):
        text = str(exc).lower()
        unresolved = "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text
        return NetworkError(
            f"{request.method} {request.url}: could not connect ({exc}); is a server listening at {request.origin}?",
            "ERR_NAME_NOT_RESOLVED" if unresolved else "ERR_CONNECTION_REFUSED",
        )
    return NetworkError(f"{request.method} {request.url}: the connection failed ({type(exc).__name__}: {exc})", "ERR_CONNECTION_FAILED")


def send_over_network(request: Request, *, timeout: float, client: httpx2.Client | None = None) -> Exchange:
    """Send ``request`` to a live server and return the exchange (synchronous; no event loop needed)."""
    owned = client is None
    http = client or httpx2.Client(trust_env=False, timeout=timeout)
    try:
        response = http.send(_to_httpx(request), stream=True, follow_redirects=False)
        try:
            body = b"".join(response.iter_raw())
        finally:
            response.close()
    except httpx2.HTTPError as exc:
        raise _network_error(request, exc, timeout) from None
    finally:
        if owned:
            http.close()
    return _from_httpx(request, response, body)


async def asend_over_network(request: Request, *, timeout: float) -> Exchange:
    """Async twin of :func:`send_over_network`."""
    async with httpx2.AsyncClient(trust_env=False, timeout=timeout) as http:
        try:
            response = await http.send(_to_httpx(request), stream=True, follow_redirects=False)
            try:
                body = b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()
        except httpx2.HTTPError as exc:
            raise _network_error(request, exc, timeout) from None
    return _from_httpx(request, response, body)
