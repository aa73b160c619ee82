"""A small cookie jar: which cookies a browser stores and sends with a CORS request.

RFC 6265bis (https://httpwg.org/http-extensions/draft-ietf-httpbis-rfc6265bis.html)
and the Fetch Standard decide together:

- Fetch includes credentials (cookies) only when the credentials mode is
  ``include``, or ``same-origin`` and the request is same-origin.
- A ``Set-Cookie`` is stored only when credentials were included; this happens
  before the CORS check, so a blocked response can still set a cookie.
- ``SameSite=Lax`` and ``Strict`` cookies are not sent with (or set by)
  cross-*site* subresource requests such as ``fetch``. ``localhost:3000`` to
  ``localhost:8000`` is cross-origin but same-site, so they are sent there.
- A cookie without ``SameSite`` is ``Lax`` in Chromium and Firefox (observed with
  Firefox ESR 153), ``None`` in WebKit (observed with WebKitGTK 2.50); ``SameSite=None``
  needs ``Secure`` in Chromium (the rule the lab keeps for Firefox too); WebKitGTK accepts it without.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass, field

from cors_lab.fetch.urls import URL

__all__ = ["Cookie", "CookieJar", "parse_set_cookie"]


@dataclass(frozen=True)
class Cookie:
    """A stored cookie."""

    name: str
    value: str
    domain: str
    host_only: bool = True
    path: str = "/"
    secure: bool = False
    http_only: bool = False
    same_site: str = "lax"  # "strict", "lax" or "none"
    expires_at: float | None = None
    created_at: float = field(default=0.0, compare=False)


def _default_path(url: URL) -> str:
    if not url.path.startswith("/") or url.path.count("/") <= 1:
        return "/"
    return url.path.rsplit("/", 1)[0]


def _is_secure(url: URL) -> bool:
    # https, or a loopback host (Chromium and Firefox treat those as secure for cookies).
    return url.scheme in ("https", "wss") or url.host in ("localhost", "127.0.0.1", "[::1]") or url.host.endswith(".localhost")


def parse_set_cookie(
    header: str, *, url: URL, now: float, default_same_site: str, none_requires_secure: bool
) -> tuple[Cookie | None, str]:
    """Parse one ``Set-Cookie`` value received from ``url``: the cookie (or None if rejected) and why."""
    pair, *attributes = header.split(";")
    if "=" not in pair:
        return None, f"{header!r} has no name=value pair"
    name, value = (part.strip() for part in pair.split("=", 1))
    if not name:
        return None, f"{header!r} has an empty name"
    domain, host_only = url.host, True
    path = _default_path(url)
    secure = http_only = False
    same_site: str | None = None
    expires_at: float | None = None
    max_age_seen = False
    for attribute in attributes:
        key, _, val = attribute.strip().partition("=")
        key, val = key.strip().lower(), val.strip()
        if key == "domain" and val:
            wanted = val.lstrip(".").lower()
            if url.host != wanted and not url.host.endswith("." + wanted):
                return None, f"Domain={val} does not match the host {url.host}"
            domain, host_only = wanted, False
        elif key == "path" and val.startswith("/"):
            path = val
        elif key == "secure":
            secure = True
        elif key == "httponly":
            http_only = True
        elif key == "samesite":
            same_site = val.lower() if val.lower() in ("strict", "lax", "none") else None
        elif key == "max-age" and val.lstrip("-").isdigit():
            max_age_seen = True
            expires_at = now + int(val) if int(val) > 0 else now - 1
        elif key == "expires" and not max_age_seen:
            try:
                expires_at = email.utils.parsedate_to_datetime(val).timestamp()
            except (TypeError, ValueError):
                pass
    if secure and not _is_secure(url):
        return None, "Secure cookies can only be set over https"
    resolved = same_site or default_same_site
    if resolved == "none" and none_requires_secure and not secure and same_site == "none":
        return None, "SameSite=None cookies must also be Secure"
    cookie = Cookie(name, value, domain, host_only, path, secure, http_only, resolved, expires_at, created_at=now)
    return cookie, ""


class CookieJar:
    """The cookies a browser holds, with the sending rules Fetch and RFC 6265bis give."""

    def __init__(self) -> None:
        self._cookies: dict[tuple[str, str, str], Cookie] = {}

    def __iter__(self):
        return iter(list(self._cookies.values()))

    def __len__(self) -> int:
        return len(self._cookies)

    def clear(self) -> None:
        self._cookies.clear()

    def store(self, cookie: Cookie, *, now: float) -> None:
        key = (cookie.domain, cookie.path, cookie.name)
        if cookie.expires_at is not None and cookie.expires_at <= now:
            self._cookies.pop(key, None)  # an expiry in the past deletes the cookie
            return
        old = self._cookies.get(key)
        if old is not None:
            cookie = Cookie(**{**cookie.__dict__, "created_at": old.created_at})
        self._cookies[key] = cookie

    def cookies_for(self, url: URL, *, now: float, cross_site: bool) -> list[Cookie]:
        """The cookies sent to ``url``, in the order of the ``Cookie`` header (longer paths first)."""
        chosen = []
        for cookie in self._cookies.values():
            if cookie.expires_at is not None and cookie.expires_at <= now:
                continue
            if cookie.host_only and url.host != cookie.domain:
                continue
            if not cookie.host_only and url.host != cookie.domain and not url.host.endswith("." + cookie.domain):
                continue
            if not (url.path == cookie.path or url.path.startswith(cookie.path.rstrip("/") + "/")):
                continue
            if cookie.secure and not _is_secure(url):
                continue
            if cross_site and cookie.same_site != "none":
                continue
            chosen.append(cookie)
        return sorted(chosen, key=lambda c: (-len(c.path), c.created_at))

    def header_for(self, url: URL, *, now: float, cross_site: bool) -> str | None:
        """The ``Cookie`` header value for a request to ``url``, or None."""
        cookies = self.cookies_for(url, now=now, cross_site=cross_site)
        return "; ".join(f"{c.name}={c.value}" for c in cookies) if cookies else None
