"""Property tests: the parsers never crash on arbitrary input, and origins survive a round trip."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import cors_lab
from cors_lab.engines import CHROMIUM, FIREFOX, SAFARI
from cors_lab.fetch.cors import check_access, cors_filtered_headers, preflight_verdict
from cors_lab.fetch.headers import (
    cors_unsafe_request_header_names,
    extract_header_list_values,
    is_cors_safelisted_request_header,
    parse_mime_type,
    parse_single_range_header_value,
)
from cors_lab.fetch.urls import InvalidURL, parse_url

latin1 = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=160)
anything = st.text(max_size=120)
header_names = st.sampled_from(
    ["Accept", "Accept-Language", "Content-Language", "Content-Type", "Range", "Authorization", "X-A", "DPR", "Save-Data"]
)

hosts = st.one_of(
    st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,10}){0,3}", fullmatch=True),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
)
urls = st.builds(
    lambda scheme, host, port, path: f"{scheme}://{host}" + (f":{port}" if port is not None else "") + path,
    st.sampled_from(["http", "https", "HTTP", "wss"]),
    hosts,
    st.one_of(st.none(), st.integers(min_value=0, max_value=65535)),
    st.from_regex(r"(/[a-z0-9._~-]{0,8}){0,3}(\?[a-z=&]{0,8})?", fullmatch=True),
)


@settings(max_examples=300)
@given(anything)
def test_url_parser_never_crashes(text):
    try:
        parse_url(text)
    except InvalidURL:
        pass


@settings(max_examples=300)
@given(urls)
def test_origin_serialization_round_trips(url):
    origin = cors_lab.origin_of(url)
    assert cors_lab.origin_of(origin) == origin
    assert cors_lab.same_origin(url, origin)
    assert origin == origin.lower() or origin == "null"
    assert not origin.endswith("/")


@settings(max_examples=300)
@given(latin1)
def test_mime_and_range_parsers_never_crash(text):
    mime = parse_mime_type(text)
    if mime is not None:
        assert "/" in mime.essence and mime.essence == mime.essence.lower()
    parsed = parse_single_range_header_value(text)
    if parsed is not None:
        start, end = parsed
        assert start is not None or end is not None
        assert start is None or end is None or start <= end


@settings(max_examples=300)
@given(st.lists(st.tuples(header_names, latin1), max_size=12))
def test_unsafe_names_are_sorted_lowercase_sets(headers):
    for engine in (CHROMIUM, FIREFOX):
        names = cors_unsafe_request_header_names(headers, extra_safelisted=engine.extra_safelisted)
        assert names == sorted(set(names)) and all(name == name.lower() for name in names)
        for name, value in headers:
            if not is_cors_safelisted_request_header(name, value, extra_safelisted=engine.extra_safelisted):
                assert name.lower() in names


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "Access-Control-Allow-Origin",
                    "Access-Control-Allow-Credentials",
                    "Access-Control-Allow-Methods",
                    "Access-Control-Allow-Headers",
                    "Access-Control-Expose-Headers",
                    "Access-Control-Max-Age",
                    "X-Other",
                ]
            ),
            latin1,
        ),
        max_size=8,
    ),
    st.integers(min_value=100, max_value=599),
    st.sampled_from(["omit", "same-origin", "include"]),
)
def test_checks_never_crash_and_agree_with_the_spec_on_success(headers, status, credentials):
    headers = tuple(headers)
    for engine in (CHROMIUM, FIREFOX, SAFARI):
        failure = check_access(headers, origin="http://localhost:3000", credentials_mode=credentials, rules=engine.access_rules)
        spec = check_access(headers, origin="http://localhost:3000", credentials_mode=credentials)
        # Engines differ in how they name a failure, never in whether there is one.
        assert (failure is None) == (spec is None)
        preflight_verdict(
            status=status,
            headers=headers,
            origin="http://localhost:3000",
            method="PUT",
            unsafe_header_names=["x-a", "authorization"],
            credentials_mode=credentials,
            rules=engine.access_rules,
        )
        engine.preflight_max_age(dict(headers).get("Access-Control-Max-Age"))
    cors_filtered_headers(headers, credentials_mode=credentials)
    extract_header_list_values(headers, "access-control-allow-methods")
