"""The CORS check, the preflight response check, exposed headers, the preflight cache, cookies."""

from __future__ import annotations

import pytest

from cors_lab.engines import CHROMIUM, FIREFOX, SAFARI
from cors_lab.fetch.cache import PreflightCache
from cors_lab.fetch.cookies import CookieJar, parse_set_cookie
from cors_lab.fetch.cors import check_access, cors_check, cors_filtered_headers, exposed_header_names, preflight_verdict
from cors_lab.fetch.urls import parse_url

PAGE = "http://127.0.0.1:8001"


def acao(*values: str) -> tuple[tuple[str, str], ...]:
    return tuple(("Access-Control-Allow-Origin", v) for v in values)


@pytest.mark.parametrize(
    ("credentials", "headers", "shared"),
    # The table in https://fetch.spec.whatwg.org/#cors-protocol-and-credentials
    [
        ("omit", acao("*"), True),
        ("omit", acao("*") + (("Access-Control-Allow-Credentials", "true"),), True),
        ("omit", acao("https://rabbit.invalid/"), False),
        ("include", acao("*") + (("Access-Control-Allow-Credentials", "true"),), False),
        ("include", acao("https://rabbit.invalid") + (("Access-Control-Allow-Credentials", "true"),), True),
        ("include", acao("https://rabbit.invalid") + (("Access-Control-Allow-Credentials", "True"),), False),
    ],
)
def test_cors_check_credentials_table(credentials, headers, shared):
    assert cors_check(headers, origin="https://rabbit.invalid", credentials_mode=credentials) is shared


@pytest.mark.parametrize(
    ("values", "kind", "hint"),
    # cors/origin.htm spellings under Chromium's diagnosis (browser-cors.md §2.1, "Which error first").
    [
        ((), "MissingAllowOriginHeader", None),
        ((PAGE + "/",), "AllowOriginMismatch", PAGE + "/"),
        (("HTTP://127.0.0.1:8001",), "AllowOriginMismatch", "HTTP://127.0.0.1:8001"),
        (("http://127.0.0.1:8001:80",), "InvalidAllowOriginValue", "http://127.0.0.1:8001:80"),
        (("foo",), "InvalidAllowOriginValue", "foo"),
        (("null",), "AllowOriginMismatch", "null"),
        ((PAGE, PAGE), "MultipleAllowOriginValues", f"{PAGE}, {PAGE}"),
        ((f"{PAGE} https://x.test",), "MultipleAllowOriginValues", f"{PAGE} https://x.test"),
        (("   " + PAGE + "   ",), None, None),  # observed: HTTP parsing trims the value
    ],
)
def test_chromium_diagnosis_of_acao(values, kind, hint):
    failure = check_access(acao(*values), origin=PAGE, credentials_mode="omit", rules=CHROMIUM.access_rules)
    assert (failure.kind if failure else None) == kind
    if failure:
        assert failure.hint == hint


def test_engines_detect_multiple_values_differently():
    one_line = acao(f"{PAGE}, https://x.test")
    two_lines = acao(PAGE, "https://x.test")
    assert check_access(one_line, origin=PAGE, credentials_mode="omit", rules=CHROMIUM.access_rules).kind == "MultipleAllowOriginValues"
    # Firefox counts header lines: a single line with a comma is just a mismatch.
    assert check_access(one_line, origin=PAGE, credentials_mode="omit", rules=FIREFOX.access_rules).kind == "AllowOriginMismatch"
    assert check_access(two_lines, origin=PAGE, credentials_mode="omit", rules=FIREFOX.access_rules).kind == "MultipleAllowOriginValues"
    assert check_access(one_line, origin=PAGE, credentials_mode="omit", rules=SAFARI.access_rules).kind == "MultipleAllowOriginValues"


def test_credentials_hint_is_empty_when_header_absent():
    failure = check_access(acao(PAGE), origin=PAGE, credentials_mode="include", rules=CHROMIUM.access_rules)
    assert (failure.kind, failure.hint) == ("InvalidAllowCredentials", "")


def verdict(status=204, headers=(), method="PUT", names=(), credentials="omit", rules=CHROMIUM.access_rules, **kw):
    return preflight_verdict(
        status=status,
        headers=acao(PAGE) + tuple(headers),
        origin=PAGE,
        method=method,
        unsafe_header_names=list(names),
        credentials_mode=credentials,
        rules=rules,
        **kw,
    )


class TestPreflightVerdict:
    """fetch/api/cors/cors-preflight.any.js, cors-preflight-star.any.js, cors-preflight-status.any.js."""

    @pytest.mark.parametrize("status", [200, 204, 206, 299])
    def test_ok_statuses(self, status):
        assert verdict(status, [("Access-Control-Allow-Methods", "PUT")]).failure is None

    @pytest.mark.parametrize("status", [300, 302, 400, 404, 500, 503])
    def test_not_ok_statuses(self, status):
        assert verdict(status, [("Access-Control-Allow-Methods", "PUT")]).failure.kind == "PreflightInvalidStatus"

    def test_cors_check_comes_before_status_in_chromium_and_after_in_webkit(self):
        no_acao = preflight_verdict(
            status=500, headers=(), origin=PAGE, method="PUT", unsafe_header_names=[], credentials_mode="omit", rules=CHROMIUM.access_rules
        )
        assert no_acao.failure.kind == "PreflightMissingAllowOriginHeader"
        webkit = preflight_verdict(
            status=500, headers=(), origin=PAGE, method="PUT", unsafe_header_names=[], credentials_mode="omit", rules=SAFARI.access_rules
        )
        assert webkit.failure.kind == "PreflightInvalidStatus"

    def test_methods_are_case_sensitive(self):
        assert verdict(headers=[("Access-Control-Allow-Methods", "put")]).failure.hint == "PUT"
        assert verdict(headers=[("Access-Control-Allow-Methods", "PATCH")], method="patch").failure.hint == "patch"
        assert verdict(headers=[("Access-Control-Allow-Methods", "patch")], method="patch").failure is None

    def test_star_methods_only_without_credentials(self):
        assert verdict(headers=[("Access-Control-Allow-Methods", "*")]).failure is None
        with_credentials = verdict(
            headers=[("Access-Control-Allow-Methods", "*"), ("Access-Control-Allow-Credentials", "true")], credentials="include"
        )
        assert with_credentials.failure.kind == "MethodDisallowedByPreflightResponse"

    def test_star_is_a_literal_token_with_credentials(self):
        literal = verdict(
            headers=[("Access-Control-Allow-Methods", "*"), ("Access-Control-Allow-Headers", "*"), ("Access-Control-Allow-Credentials", "true")],
            method="*",
            names=["*"],
            credentials="include",
        )
        assert literal.failure is None

    def test_unparsable_lists_are_network_errors(self):
        assert verdict(headers=[("Access-Control-Allow-Methods", "PUT DELETE")]).failure.kind == "InvalidAllowMethodsPreflightResponse"
        assert (
            verdict(headers=[("Access-Control-Allow-Methods", "PUT"), ("Access-Control-Allow-Headers", "a b")], names=["a"]).failure.kind
            == "InvalidAllowHeadersPreflightResponse"
        )

    def test_headers_case_insensitive_and_first_failure_in_request_order(self):
        ok = verdict(headers=[("Access-Control-Allow-Methods", "PUT"), ("Access-Control-Allow-Headers", "X-A")], names=["x-a"])
        assert ok.failure is None
        first = verdict(headers=[("Access-Control-Allow-Methods", "PUT")], names=["x-zeta", "x-alpha"])
        assert first.failure.hint == "x-zeta"

    def test_authorization_and_star(self):
        star = [("Access-Control-Allow-Methods", "PUT"), ("Access-Control-Allow-Headers", "*")]
        # The spec: '*' does not cover Authorization.
        assert verdict(headers=star, names=["authorization"]).failure.hint == "authorization"
        # Every engine lets it through anyway (browser-cors.md §4 item 2).
        allowed = verdict(headers=star, names=["authorization"], authorization_covered_by_wildcard=True)
        assert allowed.failure is None and allowed.authorization_by_wildcard

    def test_max_age_is_read(self):
        assert verdict(headers=[("Access-Control-Allow-Methods", "PUT"), ("Access-Control-Max-Age", "60")]).max_age == 60


@pytest.mark.parametrize(
    ("engine", "raw", "seconds"),
    [
        (CHROMIUM, None, 5),
        (CHROMIUM, "60", 60),
        (CHROMIUM, "86400", 7200),
        (CHROMIUM, "-1", 0),
        (CHROMIUM, "soon", 5),
        (FIREFOX, "86400", 86400),
        (FIREFOX, "100000", 86400),
        (FIREFOX, "soon", 0),
        (SAFARI, "3600", 600),
        (SAFARI, None, 5),
    ],
)
def test_max_age_caps(engine, raw, seconds):
    assert engine.preflight_max_age(raw) == seconds


class TestExposedHeaders:
    """fetch/api/cors/cors-filtering.sub.any.js, cors-expose-star.sub.any.js."""

    headers = (("X-Secret", "s"), ("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("Cache-Control", "no-cache"))

    def test_safelisted_only_by_default(self):
        assert sorted(cors_filtered_headers(self.headers, credentials_mode="omit")) == ["cache-control", "content-type"]

    def test_listed_names(self):
        headers = self.headers + (("Access-Control-Expose-Headers", "X-Secret, Set-Cookie"),)
        assert sorted(cors_filtered_headers(headers, credentials_mode="omit")) == ["cache-control", "content-type", "x-secret"]

    def test_star_without_and_with_credentials(self):
        headers = self.headers + (("Access-Control-Expose-Headers", "*"),)
        assert exposed_header_names(headers, credentials_mode="omit") == "*"
        assert "x-secret" in cors_filtered_headers(headers, credentials_mode="omit")
        assert "set-cookie" not in cors_filtered_headers(headers, credentials_mode="omit")
        assert "x-secret" not in cors_filtered_headers(headers, credentials_mode="include")

    def test_parse_failure_exposes_nothing(self):
        headers = (("BB-8", "droid"), ("Access-Control-Expose-Headers", "bb-8, no no"))
        assert exposed_header_names(headers, credentials_mode="omit") == frozenset()


class TestPreflightCache:
    def test_entries_expire_on_the_callers_clock(self):
        cache = PreflightCache(replace=True, wildcard_covers_authorization=False)
        cache.store(origin=PAGE, url="http://a/x", credentials=False, methods=("PUT",), header_names=("x-a",), max_age=5, now=0)
        ask = dict(origin=PAGE, url="http://a/x", credentials=False, method="PUT", unsafe_header_names=["x-a"], use_cors_preflight=False)
        assert cache.covers(now=4.9, **ask)
        assert not cache.covers(now=5.0, **ask)

    def test_replace_versus_merge(self):
        for replace, put_still_cached in ((True, False), (False, True)):
            cache = PreflightCache(replace=replace, wildcard_covers_authorization=False)
            cache.store(origin=PAGE, url="u", credentials=False, methods=("PUT",), header_names=(), max_age=60, now=0)
            cache.store(origin=PAGE, url="u", credentials=False, methods=("DELETE",), header_names=(), max_age=60, now=1)
            put = cache.covers(origin=PAGE, url="u", credentials=False, method="PUT", unsafe_header_names=[], use_cors_preflight=False, now=2)
            assert put is put_still_cached

    def test_authorization_not_covered_by_cached_star(self):
        cache = PreflightCache(replace=True, wildcard_covers_authorization=False)
        cache.store(origin=PAGE, url="u", credentials=False, methods=(), header_names=("*",), max_age=60, now=0)
        ask = dict(origin=PAGE, url="u", credentials=False, method="GET", use_cors_preflight=False, now=1)
        assert cache.covers(unsafe_header_names=["x-z"], **ask)
        assert not cache.covers(unsafe_header_names=["authorization"], **ask)

    def test_uncredentialed_entry_does_not_serve_credentialed_requests(self):
        cache = PreflightCache(replace=True, wildcard_covers_authorization=False)
        cache.store(origin=PAGE, url="u", credentials=False, methods=("PUT",), header_names=(), max_age=60, now=0)
        assert not cache.covers(origin=PAGE, url="u", credentials=True, method="PUT", unsafe_header_names=[], use_cors_preflight=False, now=1)

    def test_max_age_zero_is_not_cached(self):
        cache = PreflightCache(replace=False, wildcard_covers_authorization=False)
        cache.store(origin=PAGE, url="u", credentials=False, methods=("PUT",), header_names=(), max_age=0, now=0)
        assert cache.entries(now=0) == []


class TestCookies:
    url = parse_url("http://localhost:8000/login")

    def parse(self, header, default="lax"):
        return parse_set_cookie(header, url=self.url, now=0, default_same_site=default, none_requires_secure=True)

    def test_defaults(self):
        cookie, _ = self.parse("session=abc; HttpOnly; Path=/")
        assert (cookie.same_site, cookie.http_only, cookie.domain, cookie.host_only) == ("lax", True, "localhost", True)
        assert self.parse("a=1", default="none")[0].same_site == "none"

    def test_same_site_none_needs_secure(self):
        cookie, why = self.parse("a=1; SameSite=None")
        assert cookie is None and "Secure" in why
        assert self.parse("a=1; SameSite=None; Secure")[0] is not None  # localhost counts as secure

    def test_jar_sends_by_path_and_site(self):
        jar = CookieJar()
        jar.store(self.parse("a=1; Path=/")[0], now=0)
        jar.store(self.parse("b=2; Path=/login")[0], now=0)
        assert jar.header_for(parse_url("http://localhost:8000/login/x"), now=1, cross_site=False) == "b=2; a=1"
        assert jar.header_for(parse_url("http://localhost:8000/other"), now=1, cross_site=False) == "a=1"
        assert jar.header_for(parse_url("http://localhost:8000/other"), now=1, cross_site=True) is None

    def test_expiry_and_deletion(self):
        jar = CookieJar()
        jar.store(self.parse("a=1; Max-Age=10")[0], now=0)
        assert jar.header_for(self.url, now=5, cross_site=False) == "a=1"
        assert jar.header_for(self.url, now=11, cross_site=False) is None
        jar.store(self.parse("a=1")[0], now=0)
        jar.store(parse_set_cookie("a=; Max-Age=0", url=self.url, now=1, default_same_site="lax", none_requires_secure=True)[0], now=1)
        assert len(jar) == 0
