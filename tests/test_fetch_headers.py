"""Methods and request headers: safelists, forbidden names, MIME and Range parsing, preflight reasons."""

from __future__ import annotations

import pytest

import cors_lab
from cors_lab.engines import chromium_extra_safelisted
from cors_lab.fetch.headers import (
    cors_unsafe_request_header_names,
    extract_header_list_values,
    is_cors_safelisted_method,
    is_cors_safelisted_request_header,
    is_forbidden_method,
    is_forbidden_request_header,
    normalize_method,
    parse_mime_type,
    parse_single_range_header_value,
)


def test_safelisted_methods_are_byte_exact():
    assert [is_cors_safelisted_method(m) for m in ("GET", "HEAD", "POST", "get", "PUT")] == [True, True, True, False, False]


def test_normalize_only_the_six_methods():
    assert [normalize_method(m) for m in ("delete", "get", "Head", "options", "post", "put", "patch", "Foo")] == [
        "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "patch", "Foo"
    ]


@pytest.mark.parametrize("method", ["CONNECT", "trace", "Track"])
def test_forbidden_methods_any_case(method):
    assert is_forbidden_method(method)


@pytest.mark.parametrize(
    ("name", "value"),
    # web-platform-tests fetch/api/cors/resources/not-cors-safelisted.json (all need a preflight).
    [
        ("accept", '"'),
        ("accept", "0" * 129),
        ("accept-language", "\x01"),
        ("accept-language", "@"),
        ("authorization", "basics"),
        ("content-language", "\x01"),
        ("content-language", "@"),
        ("content-type", "text/html"),
        ("content-type", "text/plain; long=" + "0" * 112),
        ("last-event-id", '"'),
        ("last-event-id", "0" * 129),
        ("range", "bytes 0-"),
        ("test", "hi"),
    ],
)
def test_not_cors_safelisted_wpt(name, value):
    assert not is_cors_safelisted_request_header(name, value)


@pytest.mark.parametrize(
    ("value", "safelisted"),
    # web-platform-tests cors/cors-safelisted-request-header.any.js (Content-Type).
    [
        ("text /plain", False),
        ("text\t/\tplain", False),
        ("text/plain;", True),
        ("text/plain;garbage", True),
        ("text/plain;garbage\x01\x02", False),
        ("text/plain,", False),
        (",text/plain", False),
        ("text/plain,text/plain", False),
        ("text/plain,x/x", False),
        ("text/plain\x0b", False),
        ("text/plain\x0c", False),
        ("application/www-form-urlencoded", False),
        ("application/x-www-form-urlencoded;\x7f", False),
        ("multipart/form-data", True),
        ('multipart/form-data;"', False),
        ("Text/Plain;Charset=UTF-8", True),
        ("  text/plain  ", True),
    ],
)
def test_content_type_wpt(value, safelisted):
    assert is_cors_safelisted_request_header("Content-Type", value) is safelisted


@pytest.mark.parametrize(
    ("value", "safelisted"),
    # web-platform-tests cors/cors-safelisted-request-header.any.js (Range).
    [
        ("100-200", False),
        ("MB=100-200", False),
        ("bytes=100-200", True),
        ("bytes =100-200", False),
        ("bytes\t=100-200", False),
        ("bytes=  100-200", False),
        ("bytes=100 -200", False),
        ("bytes=100- 200", False),
        ("bytes=100-200hello", False),
        ("bytes=abc-def", False),
        ("bytes=100-200,300-400", False),
        ("bytes=-200", False),
        ("bytes=200-", True),
        ("bytes=200-100", False),
        ("bytes=1" + "0" * 60 + "-2" + "0" * 60, False),
        (",bytes=100-200", False),
    ],
)
def test_range_wpt(value, safelisted):
    assert is_cors_safelisted_request_header("Range", value) is safelisted


def test_range_parser_with_whitespace_allowed():
    assert parse_single_range_header_value("bytes = 1 - 2", allow_whitespace=True) == (1, 2)
    assert parse_single_range_header_value("bytes=-", allow_whitespace=False) is None


def test_mime_parser_parameters():
    mime = parse_mime_type('text/plain; charset="utf-8"; charset=latin1; bad param=1; x=')
    assert mime.essence == "text/plain"
    assert mime.parameters == (("charset", "utf-8"),)
    assert parse_mime_type("/plain") is None and parse_mime_type("text/") is None


def test_accept_and_language_rules():
    assert is_cors_safelisted_request_header("Accept", "application/json, text/*;q=0.5")
    assert not is_cors_safelisted_request_header("Accept", "text/<html>")
    assert is_cors_safelisted_request_header("Accept-Language", "en-US,en;q=0.9")
    assert not is_cors_safelisted_request_header("Content-Language", "en_US")


def test_unsafe_names_are_sorted_lowercased_and_unique():
    # Observed with Chromium 156 (browser-cors.md §1.3).
    headers = [("X-B", "1"), ("x-a", "2"), ("Content-Type", "application/json"), ("Accept", "text/html"), ("X-A", "3")]
    assert cors_unsafe_request_header_names(headers) == ["content-type", "x-a", "x-b"]


def test_over_1024_bytes_of_safelisted_values_makes_them_all_unsafe():
    value = "1" * 128
    headers = [("Accept", "a" * 128), ("Accept-Language", "a" * 128), ("Content-Language", "a" * 128)]
    headers += [(name, value) for name in ("DPR", "Downlink", "RTT", "Viewport-Width", "Width")] + [("Intervention", "a" * 128)]
    names = cors_unsafe_request_header_names(headers, extra_safelisted=chromium_extra_safelisted)
    assert names == ["accept", "accept-language", "content-language", "downlink", "dpr", "intervention", "rtt", "viewport-width", "width"]
    assert cors_unsafe_request_header_names(headers[:3], extra_safelisted=chromium_extra_safelisted) == []


def test_chromium_extra_safelisted_client_hints():
    extra = chromium_extra_safelisted
    assert extra("save-data", "on") and not extra("save-data", "off")
    assert extra("dpr", "2.5") and not extra("dpr", "two")
    assert extra("ect", "4g") and not extra("ect", "5g")
    assert not is_cors_safelisted_request_header("DPR", "2")  # not in the spec


@pytest.mark.parametrize(
    ("name", "value", "forbidden"),
    [
        ("Cookie", "a=1", True),
        ("Origin", "http://evil.test", True),
        ("Sec-Fetch-Mode", "cors", True),
        ("Proxy-Authorization", "x", True),
        ("Content-Length", "3", True),
        ("X-HTTP-Method-Override", "PUT, trace", True),
        ("X-HTTP-Method-Override", "PUT", False),
        ("Authorization", "Bearer x", False),
        ("X-Custom", "1", False),
    ],
)
def test_forbidden_request_headers(name, value, forbidden):
    assert is_forbidden_request_header(name, value) is forbidden


def test_extract_header_list_values():
    headers = (("Access-Control-Allow-Headers", "x-a, ,X-B"), ("access-control-allow-headers", "x-c"))
    assert extract_header_list_values(headers, "access-control-allow-headers") == ["x-a", "X-B", "x-c"]
    assert not extract_header_list_values((("Access-Control-Allow-Headers", "x-a x-b"),), "access-control-allow-headers")
    assert extract_header_list_values((), "access-control-allow-headers") is None


class TestNeedsPreflight:
    def test_simple_requests(self):
        assert cors_lab.needs_preflight("GET") == []
        assert cors_lab.needs_preflight("POST", {"Content-Type": "text/plain"}) == []
        assert cors_lab.needs_preflight("post", body="hello") == []  # a string body is text/plain
        assert cors_lab.needs_preflight("GET", {"Cookie": "a=1", "Origin": "x"}) == []  # dropped by the browser

    def test_reasons_name_each_cause(self):
        reasons = cors_lab.needs_preflight("PUT", {"Authorization": "Bearer x", "X-Trace": "1"})
        assert reasons[0].startswith("the method PUT is not CORS-safelisted")
        assert any("Authorization" in r and "not one of the safelisted names" in r for r in reasons)
        assert any("X-Trace" in r for r in reasons)

    def test_patch_stays_lowercase(self):
        assert cors_lab.needs_preflight("patch")[0].startswith("the method patch is not CORS-safelisted")
        assert cors_lab.needs_preflight("get") == []

    def test_bodies(self):
        assert "application/json" in cors_lab.needs_preflight("POST", body=cors_lab.Blob("{}", type="application/json"))[0]
        assert cors_lab.needs_preflight("POST", body=cors_lab.FormData({"a": "1"})) == []
        assert cors_lab.needs_preflight("POST", body=cors_lab.ReadableStream("x")) == [
            "the body is a ReadableStream, which always needs a preflight"
        ]

    def test_firefox_sends_a_stream_as_its_string_form_like_browser_fetch(self):
        # Firefox has no streaming uploads: the stream becomes "[object ReadableStream]", text/plain.
        assert cors_lab.needs_preflight("POST", body=cors_lab.ReadableStream("x"), engine="firefox") == []
        result = cors_lab.Browser(engine="firefox").fetch(cors_lab.demo_api(allow_origins=["*"]), "/items", method="POST", body=cors_lab.ReadableStream("x"))
        assert result.preflight is None and result.exchanges[0].request.body == b"[object ReadableStream]"

    def test_engines_differ_on_client_hints(self):
        assert cors_lab.needs_preflight("GET", {"DPR": "2"}, engine="chromium") == []
        assert cors_lab.needs_preflight("GET", {"DPR": "2"}, engine="firefox") != []

    def test_128_byte_reason(self):
        assert "129 bytes long" in cors_lab.needs_preflight("GET", {"Accept": "a" * 129})[0]

    def test_only_cors_mode_preflights(self):
        assert cors_lab.needs_preflight("GET", {"X-A": "1"}, mode="no-cors") == []

    def test_bad_input(self):
        with pytest.raises(TypeError, match="'TRACE' HTTP method is unsupported"):
            cors_lab.needs_preflight("TRACE")
        with pytest.raises(ValueError, match="is not an HTTP token"):
            cors_lab.needs_preflight("GE T")
        with pytest.raises(ValueError, match="CR, LF or NUL"):
            cors_lab.needs_preflight("GET", {"X-A": "a\nb"})
