"""Local Network Access: the address-space rules, and what each engine does with a public page's request to a private one.

The Chromium and Firefox expectations are what those browsers printed in the agreement runs
(tests/browser, scenarios ``lna-*``); these tests pin the model's side without a browser.
"""

from __future__ import annotations

import pytest

import cors_lab
from cors_lab.cli import main as cli_main
from cors_lab.fetch.local_network import (
    address_space_of_host,
    ip_address_space,
    is_local_network_request,
    is_potentially_trustworthy,
    permission_for,
)
from cors_lab.fetch.urls import parse_origin

OPEN_API = dict(allow_origins=["*"], allow_methods=["*"])


@pytest.mark.parametrize(
    ("address", "space"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("[::1]", "loopback"),
        ("0.0.0.0", "loopback"),
        ("0.1.2.3", "local"),
        ("10.0.0.7", "local"),
        ("172.16.0.1", "local"),
        ("172.31.255.255", "local"),
        ("172.32.0.1", "public"),
        ("192.168.1.20", "local"),
        ("169.254.169.254", "local"),
        ("100.64.0.1", "local"),
        ("100.128.0.1", "public"),
        ("[fd00::1]", "local"),
        ("[fe80::1]", "local"),
        ("[::ffff:192.168.0.1]", "local"),
        ("[::ffff:127.0.0.1]", "loopback"),
        ("8.8.8.8", "public"),
        ("[2606:4700::1111]", "public"),
    ],
)
def test_ip_address_space_follows_the_lna_table(address, space):
    assert ip_address_space(address) == space


def test_a_name_is_not_an_ip_address():
    with pytest.raises(ValueError, match="'api.example.com' is not an IP address"):
        ip_address_space("api.example.com")


@pytest.mark.parametrize(
    ("host", "space"),
    [("localhost", "loopback"), ("app.localhost", "loopback"), ("printer.local", "local"), ("10.1.1.1", "local"), ("api.example.com", None)],
)
def test_what_a_host_says_about_its_address_space(host, space):
    assert address_space_of_host(host) == space


@pytest.mark.parametrize(
    ("client", "target", "gated"),
    [
        ("public", "local", True),
        ("public", "loopback", True),
        ("public", "public", False),
        ("local", "loopback", False),  # the spec would gate it; Chromium 156 and Firefox 153 do not
        ("local", "local", False),
        ("loopback", "loopback", False),
        ("loopback", "public", False),
    ],
)
def test_only_a_public_page_reaching_a_more_private_space_is_gated(client, target, gated):
    assert is_local_network_request(target=target, client=client) is gated


def test_permissions_are_split_by_target():
    assert (permission_for("loopback"), permission_for("local")) == ("loopback-network", "local-network")


@pytest.mark.parametrize(
    ("origin", "trustworthy"),
    [("https://a.example", True), ("http://localhost:3000", True), ("http://127.0.0.1:8000", True), ("http://[::1]", True),
     ("http://a.example", False), ("http://192.168.1.2", False), ("null", False)],
)
def test_potentially_trustworthy_origins(origin, trustworthy):
    assert is_potentially_trustworthy(parse_origin(origin)) is trustworthy


# -- Chromium ------------------------------------------------------------------------------------


def test_a_secure_public_page_is_denied_the_loopback_network_and_nothing_is_sent():
    api = cors_lab.demo_api(**OPEN_API)
    for method, kwargs in (("GET", {}), ("PUT", {"json": {}})):
        result = cors_lab.Browser(origin="https://app.example").fetch(api, "/items", method=method, **kwargs)
        assert result.blocked and result.exchanges == [] and result.preflight is None
        assert result.error_kind == "LocalNetworkAccessPermissionDenied"
        assert result.console_messages == [
            "Access to fetch at 'http://localhost:8000/items' from origin 'https://app.example' has been blocked by "
            "CORS policy: Permission was denied for this request to access the `loopback` address space.",
            "Failed to load resource: net::ERR_FAILED",
        ]


def test_an_insecure_public_page_is_refused_without_a_prompt_even_when_granted():
    api = cors_lab.demo_api(**OPEN_API)
    browser = cors_lab.Browser(origin="http://app.example", local_network_permission="granted")
    result = browser.fetch(api, "/items")
    assert result.error_kind == "InsecureLocalNetwork" and result.exchanges == []
    assert result.console.endswith(
        "The request client is not a secure context and the resource is in more-private address space `loopback`."
    )


def test_a_granted_permission_lets_the_request_through():
    api = cors_lab.demo_api(**OPEN_API)
    result = cors_lab.Browser(origin="https://app.example", local_network_permission="granted").fetch(api, "/items/1", method="PUT", json={"name": "fig"})
    assert (result.blocked, result.status) == (False, 200)
    assert [e.request.method for e in result.exchanges] == ["OPTIONS", "PUT"]


def test_a_private_address_names_the_local_space_and_no_cors_is_refused_too():
    printer = cors_lab.Server(cors_lab.demo_api(**OPEN_API), origin="http://192.168.1.10:8000")
    result = cors_lab.Browser(origin="https://app.example", servers=[printer]).fetch("http://192.168.1.10:8000/items", mode="no-cors")
    # An https page's http request to a private IP literal is mixed content first.
    assert result.console.startswith("Mixed Content:")
    result = cors_lab.Browser(origin="http://app.example", servers=[printer]).fetch("http://192.168.1.10:8000/items", mode="no-cors")
    assert result.blocked and result.error_kind == "InsecureLocalNetwork"
    assert result.console.endswith("more-private address space `local`.")


def test_a_local_page_may_reach_loopback():
    api = cors_lab.demo_api(**OPEN_API)
    assert cors_lab.Browser(origin="http://192.168.1.5:3000").fetch(api, "/items").status == 200


def test_a_redirect_into_the_loopback_network_is_refused_at_that_hop():
    inner = cors_lab.Server(cors_lab.demo_api(**OPEN_API), origin="http://localhost:8000")

    async def moved(scope, receive, send):
        await send({"type": "http.response.start", "status": 307, "headers": [
            (b"location", b"http://localhost:8000/items"), (b"access-control-allow-origin", b"*")]})
        await send({"type": "http.response.body", "body": b""})

    public = cors_lab.Server(moved, origin="https://api.example.com")
    result = cors_lab.Browser(origin="https://app.example", servers=[public, inner]).fetch("https://api.example.com/items")
    assert [e.request.url for e in result.exchanges] == ["https://api.example.com/items"]
    assert result.console == (
        "Access to fetch at 'http://localhost:8000/items' (redirected from 'https://api.example.com/items') from origin "
        "'https://app.example' has been blocked by CORS policy: Permission was denied for this request to access the "
        "`loopback` address space."
    )


def test_address_spaces_say_where_names_resolve():
    api = cors_lab.demo_api(**OPEN_API)
    # The page's name resolves to this machine (an /etc/hosts entry, a tunnel): no longer public.
    assert cors_lab.Browser(origin="https://app.example", address_spaces={"app.example": "loopback"}).fetch(api, "/items").status == 200
    by_origin = cors_lab.Browser(origin="http://localhost:3000", address_spaces={"http://localhost:3000": "public"})
    assert by_origin.fetch(api, "/items").error_kind == "LocalNetworkAccessPermissionDenied"
    assert by_origin.address_space("http://localhost:3001") == "loopback"
    intranet = cors_lab.Server(cors_lab.demo_api(**OPEN_API), origin="https://wiki.corp.example")
    browser = cors_lab.Browser(origin="https://app.example", servers=[intranet], address_spaces={"wiki.corp.example": "local"})
    assert browser.fetch("https://wiki.corp.example/items").console.endswith("access the `local` address space.")


def test_an_opaque_page_counts_as_loopback_like_a_file_page():
    api = cors_lab.demo_api(**OPEN_API)
    assert cors_lab.Browser(origin="null").fetch(api, "/items").status == 200
    assert cors_lab.Browser(origin="null", address_spaces={"null": "public"}).fetch(api, "/items").error_kind == "InsecureLocalNetwork"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"address_spaces": {"app.example": "lan"}}, ValueError, "address_spaces\\['app.example'\\] is 'lan'; expected one of 'public', 'local', 'loopback'"),
        ({"address_spaces": [("app.example", "public")]}, TypeError, "address_spaces must be a dict"),
        ({"address_spaces": {"": "public"}}, ValueError, "keys must be hosts or origins"),
        ({"address_spaces": {"http://": "public"}}, ValueError, "is not an origin"),
        ({"local_network_permission": "yes"}, ValueError, "local_network_permission 'yes' is not one of 'denied', 'granted'"),
    ],
)
def test_bad_options_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        cors_lab.Browser(origin="https://app.example", **kwargs)


# -- Firefox and Safari ------------------------------------------------------------------------------


def test_firefox_words_a_blocked_prompt_as_a_network_failure():
    api = cors_lab.demo_api(**OPEN_API)
    line = (
        "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at "
        "http://localhost:8000/items. (Reason: CORS request did not succeed). Status code: (null)."
    )
    # Firefox asks an insecure page too: no refusal without a prompt.
    browser = cors_lab.Browser(origin="http://app.example", engine="firefox")
    get = browser.fetch(api, "/items")
    assert (get.error_kind, get.console_messages, get.script_error) == (
        "LocalNetworkAccessPermissionDenied", [line], "TypeError: NetworkError when attempting to fetch resource.")
    assert browser.fetch(api, "/items", method="PUT", json={}).console_messages == [line, line]
    assert browser.fetch(api, "/items", mode="no-cors").console_messages == []
    granted = cors_lab.Browser(origin="http://app.example", engine="firefox", local_network_permission="granted")
    assert granted.fetch(api, "/items").status == 200


def test_safari_has_no_local_network_checks():
    api = cors_lab.demo_api(**OPEN_API)
    assert cors_lab.Browser(origin="https://app.example", engine="safari").fetch(api, "/items").status == 200


# -- Around the model ---------------------------------------------------------------------------------


def test_explain_says_no_header_fixes_it():
    api = cors_lab.demo_api(**OPEN_API)
    text = cors_lab.Browser(origin="https://app.example").fetch(api, "/items").explain()
    assert "Nothing reached the server" in text and "No server header fixes this" in text and "'loopback-network'" in text
    causes = cors_lab.explain(
        "Access to fetch at 'http://localhost:8000/items' from origin 'https://app.example' has been blocked by CORS policy: "
        "Permission was denied for this request to access the `loopback` address space."
    )
    assert causes.error_kind == "LocalNetworkAccessPermissionDenied" and causes.hint == "loopback"


def test_a_report_rebuilds_the_same_browser():
    api = cors_lab.demo_api(allow_origins=["https://app.example"])
    browser = cors_lab.Browser(origin="https://app.example", local_network_permission="granted", address_spaces={"app.example": "public"})
    bug = cors_lab.report(browser.fetch(api, "/items", method="PUT", json={}), app_source="from cors_lab import demo_api\napp = demo_api(allow_origins=['https://app.example'])\n")
    assert "local_network_permission='granted'" in bug.script and "address_spaces={'app.example': 'public'}" in bug.script
    assert bug.verdict == "verdict: blocked PreflightInvalidStatus"


def test_the_cli_takes_address_spaces_and_the_permission(tmp_path, capsys):
    (tmp_path / "lnaapp.py").write_text("import cors_lab\napp = cors_lab.demo_api(allow_origins=['*'])\n")
    common = ["fetch", "lnaapp:app", "/items", "--app-dir", str(tmp_path), "--origin", "https://app.example", "--json"]
    assert cli_main(common) == 1
    assert '"error_kind": "LocalNetworkAccessPermissionDenied"' in capsys.readouterr().out
    assert cli_main([*common, "--grant-local-network"]) == 0
    assert cli_main([*common, "--address-space", "app.example=loopback"]) == 0
    capsys.readouterr()
    assert cli_main([*common, "--address-space", "app.example"]) == 2
    assert capsys.readouterr().err.strip() == "cors-lab: --address-space 'app.example' must look like 'HOST=SPACE', e.g. 'app.example=public'"
