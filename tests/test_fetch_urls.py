"""Origins and sites: parsing, serialization, same origin, same site (URL Standard, HTML)."""

from __future__ import annotations

import pytest

import cors_lab
from cors_lab.fetch.urls import InvalidURL, parse_host, parse_url, registrable_domain


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        # Observed with Chromium 156, new URL(u).origin (browser-cors.md §1.12).
        ("http://EXAMPLE.COM:80/a", "http://example.com"),
        ("https://example.com:443/", "https://example.com"),
        ("https://example.com:8443/", "https://example.com:8443"),
        ("http://[0:0:0:0:0:0:0:1]:8080/", "http://[::1]:8080"),
        ("http://[2001:DB8::0:1]/", "http://[2001:db8::1]"),
        ("http://0x7f.1/", "http://127.0.0.1"),
        ("http://a.example:0080/", "http://a.example"),
        ("https://\u00c9L\u00c8VE.example/", "https://xn--lve-6lad.example"),
        ("http://example.com./", "http://example.com."),
        ("data:text/html,hi", "null"),
        ("blob:https://a.example/123", "https://a.example"),
        ("file:///etc/hostname", "null"),
        ("about:blank", "null"),
        ("http://localhost:3000/app?x=1#top", "http://localhost:3000"),
        ("ws://chat.example/socket", "ws://chat.example"),
    ],
)
def test_origin_of_serializes_like_a_browser(url, origin):
    assert cors_lab.origin_of(url) == origin


@pytest.mark.parametrize(
    ("host", "serialized"),
    [
        ("127.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("[::ffff:1.2.3.4]", "[::ffff:102:304]"),
        ("[1:0:0:2:0:0:0:3]", "[1:0:0:2::3]"),
        ("[1:0:2:3:4:5:6:7]", "[1:0:2:3:4:5:6:7]"),  # "::" never stands for a single zero piece
        ("Api.Example.COM", "api.example.com"),
    ],
)
def test_host_parser(host, serialized):
    assert parse_host(host) == serialized


@pytest.mark.parametrize(
    "bad",
    ["http://", "http://exa mple.com/", "http://[::1/", "http://a:99999/", "http://a:b/", "http://256.256.256.256/", "no-scheme"],
)
def test_invalid_urls_are_refused_with_a_reason(bad):
    with pytest.raises(InvalidURL) as info:
        parse_url(bad)
    assert repr(bad) in str(info.value) or bad.split("//")[-1] in str(info.value)


def test_relative_urls_resolve_against_a_base():
    assert str(parse_url("../b?x", "http://h/a/c/d")) == "http://h/a/b?x"
    assert str(parse_url("//other:81/p", "https://h/")) == "https://other:81/p"
    assert str(parse_url("?q", "http://h/p?old")) == "http://h/p?q"


def test_credentials_in_a_url_are_detected():
    url = parse_url("http://user:pass@api.example/x")
    assert url.includes_credentials and url.host == "api.example"
    assert not parse_url("http://api.example/x").includes_credentials


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://localhost:3000", "http://localhost:3000/page", True),
        ("http://localhost:3000", "http://localhost:8000", False),
        ("http://localhost:3000", "http://127.0.0.1:3000", False),
        ("http://example.com", "https://example.com", False),
        ("http://example.com", "http://example.com:80", True),
        ("null", "null", False),
    ],
)
def test_same_origin(a, b, same):
    assert cors_lab.same_origin(a, b) is same


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://localhost:3000", "http://localhost:8000", True),
        ("https://app.example.com", "https://api.example.com", True),
        ("http://app.example.com", "https://api.example.com", False),  # schemeful
        ("http://app.test", "http://api.test", False),
        ("https://a.github.io", "https://b.github.io", False),  # github.io is a public suffix
        ("https://a.example.co.uk", "https://b.example.co.uk", True),
        ("http://127.0.0.1:3000", "http://127.0.0.1:8000", True),
        ("http://127.0.0.1", "http://localhost", False),
    ],
)
def test_same_site(a, b, same):
    assert cors_lab.same_site(a, b) is same


def test_registrable_domain():
    assert registrable_domain("api.example.co.uk") == "example.co.uk"
    assert registrable_domain("localhost") is None
    assert registrable_domain("10.0.0.1") is None


def test_bad_origin_input_names_the_value():
    with pytest.raises(InvalidURL, match="'http://exa mple.com' is not an origin or URL"):
        cors_lab.origin_of("http://exa mple.com")
    # As in a browser: "localhost:" is a scheme there, and the origin is opaque.
    assert cors_lab.origin_of("localhost:3000") == "null"
    with pytest.raises(TypeError, match="origin must be a string"):
        cors_lab.same_origin(3000, "http://a")
