"""The CORS-preflight cache: when a browser may skip a preflight.

https://fetch.spec.whatwg.org/#concept-cache

The spec keeps one entry per allowed method and one per allowed header name,
each with its own expiry, and merges a new preflight into what is there.
Chromium and WebKit keep one result per (origin, URL) and *replace* it with
each new preflight; a stale or insufficient entry is erased. The lab models
both (``replace`` below); time is whatever the caller says it is, so tests and
notebooks use a virtual clock instead of sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass

from cors_lab.fetch.headers import is_cors_non_wildcard_request_header_name, is_cors_safelisted_method

__all__ = ["CachedPreflight", "PreflightCache"]


@dataclass(frozen=True)
class CachedPreflight:
    """One cached preflight result for an (origin, URL, credentials) key.

    Fields:
        methods / header_names: what the preflight allowed (header names lowercased).
        credentials: whether the preflight was made for a credentialed request.
        stored_at / expires_at: times on the caller's clock, in seconds.
    """

    origin: str
    url: str
    credentials: bool
    methods: frozenset[str]
    header_names: frozenset[str]
    stored_at: float
    expires_at: float


class PreflightCache:
    """A preflight cache keyed by (request origin, URL).

    ``replace``: a new preflight replaces the whole entry (Chromium, WebKit)
    instead of merging method and header entries (the spec, Firefox).
    ``wildcard_covers_authorization``: whether a cached ``*`` header entry
    covers ``Authorization`` (Chromium's cache refuses, as the spec says,
    even though its network check allows it).
    ``wildcards``: a cached ``*`` method or header name stands for any (spec,
    Chromium); False: cached names are matched literally, so ``*`` covers
    nothing and the request is preflighted again (Firefox).
    ``credentials_exact``: an entry serves only requests with the same
    credentials flag (Firefox keys its cache by it) instead of a credentialed
    entry also serving uncredentialed requests (spec, Chromium).
    """

    def __init__(
        self,
        *,
        replace: bool,
        wildcard_covers_authorization: bool,
        max_url_length: int | None = None,
        wildcards: bool = True,
        credentials_exact: bool = False,
    ) -> None:
        self.replace = replace
        self.wildcard_covers_authorization = wildcard_covers_authorization
        self.max_url_length = max_url_length
        self.wildcards = wildcards
        self.credentials_exact = credentials_exact
        self._entries: dict[tuple[str, str], list[CachedPreflight]] = {}

    def entries(self, *, now: float) -> list[CachedPreflight]:
        """Live entries, oldest first."""
        return [e for group in self._entries.values() for e in group if e.expires_at > now]

    def clear(self) -> None:
        self._entries.clear()

    def _live(self, origin: str, url: str, now: float) -> list[CachedPreflight]:
        group = [e for e in self._entries.get((origin, url), []) if e.expires_at > now]
        if group:
            self._entries[(origin, url)] = group
        else:
            self._entries.pop((origin, url), None)
        return group

    def covers(
        self,
        *,
        origin: str,
        url: str,
        credentials: bool,
        method: str,
        unsafe_header_names: list[str],
        use_cors_preflight: bool,
        now: float,
    ) -> bool:
        """True if cached entries make the preflight unnecessary.

        https://fetch.spec.whatwg.org/#concept-http-fetch step 4.1: a method
        cache entry match (or a safelisted method without the use-CORS-preflight
        flag), and a header-name cache entry match for every unsafe name.
        """
        group = self._live(origin, url, now)
        # A credentialed request needs an entry made for credentials; an uncredentialed one takes either
        # (or, with credentials_exact, only an uncredentialed one).
        usable = [e for e in group if e.credentials == credentials or (e.credentials and not self.credentials_exact)]
        if not usable:
            return False
        wildcard = self.wildcards and not credentials
        method_ok = (is_cors_safelisted_method(method) and not use_cors_preflight) or any(
            method in e.methods or ("*" in e.methods and wildcard) for e in usable
        )
        if not method_ok:
            if self.replace:
                self._entries.pop((origin, url), None)  # insufficient: erased
            return False
        for name in unsafe_header_names:
            lowered = name.lower()
            found = any(
                lowered in e.header_names
                or (
                    "*" in e.header_names
                    and wildcard
                    and (self.wildcard_covers_authorization or not is_cors_non_wildcard_request_header_name(lowered))
                )
                for e in usable
            )
            if not found:
                if self.replace:
                    self._entries.pop((origin, url), None)
                return False
        return True

    def store(
        self,
        *,
        origin: str,
        url: str,
        credentials: bool,
        methods: tuple[str, ...],
        header_names: tuple[str, ...],
        max_age: float,
        now: float,
    ) -> None:
        """Record a successful preflight for ``max_age`` seconds (0 or less: not cached)."""
        if max_age <= 0 or (self.max_url_length is not None and len(url) >= self.max_url_length):
            if self.replace:
                self._entries.pop((origin, url), None)
            return
        entry = CachedPreflight(
            origin=origin,
            url=url,
            credentials=credentials,
            methods=frozenset(methods),
            header_names=frozenset(name.lower() for name in header_names),
            stored_at=now,
            expires_at=now + max_age,
        )
        if self.replace:
            self._entries[(origin, url)] = [entry]
        else:
            self._entries.setdefault((origin, url), []).append(entry)

    def forget(self, *, origin: str, url: str) -> None:
        """Drop the entries for (origin, URL): a failed preflight clears them (main fetch, step 7 of the preflight)."""
        self._entries.pop((origin, url), None)
