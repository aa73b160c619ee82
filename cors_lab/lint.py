"""``lint``: the configuration mistakes in CORSMiddleware options, found before any request is made.

Starlette validates nothing: an origin with a trailing slash, a host without a
scheme, or a regex with an unescaped dot is accepted and silently never
matches (or matches too much). Each check here is one of those silent failures,
verified against Starlette 1.10 (see ``../shared/reference/starlette-cors.md``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from cors_lab.fetch.headers import is_forbidden_request_header
from cors_lab.fetch.urls import InvalidURL, parse_url
from cors_lab.findings import Finding, FindingsReport

__all__ = ["CORS_OPTIONS", "lint"]

#: CORSMiddleware's options (Starlette 1.10) and their defaults.
CORS_OPTIONS: dict[str, Any] = {
    "allow_origins": (),
    "allow_methods": ("GET",),
    "allow_headers": (),
    "allow_credentials": False,
    "allow_origin_regex": None,
    "allow_private_network": False,
    "expose_headers": (),
    "max_age": 600,
}

# Origins a regex should never match; used to tell a broad regex from a precise one.
_ATTACKER_ORIGINS = ("https://evil.example", "http://evil.example", "https://attacker.github.io", "null")


def _origin_problems(entry: str, credentials: bool) -> list[Finding]:
    if entry == "*":
        return []
    if entry == "null":
        return [
            Finding(
                "null-origin",
                "critical" if credentials else "high",
                "the literal origin 'null' is allowed",
                "every sandboxed iframe, data: URL and file: page on any site sends Origin: null, so any attacker "
                "can read the responses" + (" with the user's cookies" if credentials else ""),
                "remove 'null' from allow_origins; serve the page from a real origin",
                value=entry,
            )
        ]
    if "://" not in entry:
        return [
            Finding(
                "missing-scheme",
                "medium",
                f"{entry!r} has no scheme",
                "browsers send the origin with its scheme (http:// or https://); this entry never matches, so the "
                "frontend is blocked",
                f"write 'http://{entry}' or 'https://{entry}'",
                value=entry,
            )
        ]
    try:
        url = parse_url(entry)
    except InvalidURL as exc:
        return [Finding("invalid-origin", "medium", f"{entry!r} is not an origin", f"it never matches ({exc})", "write scheme://host[:port]", value=entry)]
    canonical = url.origin.serialize()
    problems = []
    rest = entry.split("://", 1)[1]
    if entry == canonical + "/":
        problems.append(
            Finding(
                "trailing-slash",
                "medium",
                f"{entry!r} ends with a slash",
                "a browser's Origin never ends with '/', and CORSMiddleware compares strings exactly: this entry never "
                "matches, so the frontend is blocked",
                f"write {canonical!r}",
                value=entry,
            )
        )
    elif "/" in rest or "?" in rest or "#" in rest:
        problems.append(
            Finding(
                "origin-with-path",
                "medium",
                f"{entry!r} has a path",
                "an origin is only scheme://host[:port]; this entry never matches",
                f"write {canonical!r}",
                value=entry,
            )
        )
    elif entry != canonical:
        if entry.lower() != entry and entry.lower() == canonical:
            check, title = "uppercase-origin", f"{entry!r} has uppercase letters"
        elif re.search(r":(80|443)$", entry):
            check, title = "default-port", f"{entry!r} spells out the default port"
        else:
            check, title = "non-canonical-origin", f"{entry!r} is not how a browser writes this origin"
        problems.append(
            Finding(
                check,
                "medium",
                title,
                f"browsers send {canonical!r}, and CORSMiddleware compares strings exactly: this entry never matches",
                f"write {canonical!r}",
                value=entry,
            )
        )
    if url.scheme == "http" and url.host not in ("localhost", "127.0.0.1", "[::1]") and credentials:
        problems.append(
            Finding(
                "http-origin-trusted",
                "high",
                f"{entry!r} is plain http and may send credentialed requests",
                "anyone who can tamper with that http page on the network (public Wi-Fi, a proxy) can inject script "
                "that reads the API with the user's cookies",
                "allow only https:// origins in production",
                value=entry,
            )
        )
    return problems


def _regex_problems(pattern: str, credentials: bool) -> list[Finding]:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return [Finding("invalid-regex", "medium", f"allow_origin_regex {pattern!r} does not compile", str(exc), "fix the pattern")]
    problems = []
    matched = [origin for origin in _ATTACKER_ORIGINS if compiled.fullmatch(origin)]
    if matched:
        problems.append(
            Finding(
                "regex-matches-any-origin",
                "critical" if credentials else "low",
                f"allow_origin_regex {pattern!r} matches attacker origins such as {matched[0]!r}",
                "any site can read the responses" + (" with the user's cookies" if credentials else ""),
                "anchor the regex on your own domain, e.g. r'https://([a-z0-9-]+\\.)?example\\.com'",
                value=pattern,
            )
        )
    # An unescaped dot between two host labels matches any character: 'app.example.com' also matches 'appxexample.com'.
    if re.search(r"(?<!\\)\.(?=[A-Za-z0-9])", pattern.replace(".*", "").replace(".+", "")):
        problems.append(
            Finding(
                "unescaped-dot",
                "high",
                f"allow_origin_regex {pattern!r} has an unescaped '.'",
                "a '.' matches any character, so an attacker can register a look-alike domain "
                "(https://.*.example.org matches https://evil-example.org)",
                "escape the dots: r'\\.'",
                value=pattern,
            )
        )
    if re.search(r"\.\*\\?\.?(github\\?\.io|herokuapp\\?\.com|vercel\\?\.app|netlify\\?\.app|pages\\?\.dev)", pattern):
        problems.append(
            Finding(
                "public-suffix-wildcard",
                "high",
                f"allow_origin_regex {pattern!r} trusts every subdomain of a shared hosting domain",
                "anyone can publish a page on a subdomain of a shared host and read the API",
                "list your own subdomains explicitly",
                value=pattern,
            )
        )
    return problems


def lint(**cors_options: Any) -> FindingsReport:
    """Check CORSMiddleware options for the mistakes that fail silently.

    Takes the same keyword arguments as ``CORSMiddleware``. Returns a report
    whose ``findings`` each have a stable ``check`` id, a ``severity``, ``why``
    and ``fix``.

    >>> import cors_lab
    >>> cors_lab.lint(allow_origins=["http://localhost:3000/"]).checks
    ['trailing-slash']
    >>> cors_lab.lint(allow_origins=["*"], allow_credentials=True).checks
    ['wildcard-with-credentials']
    """
    unknown = sorted(set(cors_options) - set(CORS_OPTIONS))
    if unknown:
        raise TypeError(
            f"{', '.join(repr(u) for u in unknown)} {'is not a' if len(unknown) == 1 else 'are not'} CORSMiddleware "
            f"option{'s' if len(unknown) > 1 else ''}; the options are {', '.join(CORS_OPTIONS)}"
        )
    options = {**CORS_OPTIONS, **cors_options}
    credentials = bool(options["allow_credentials"])
    findings: list[Finding] = []
    for name in ("allow_origins", "allow_methods", "allow_headers", "expose_headers"):
        value = options[name]
        if isinstance(value, str):
            findings.append(
                Finding(
                    "string-not-list",
                    "high" if name == "allow_origins" else "medium",
                    f"{name} is a string, not a list",
                    "CORSMiddleware tests membership with 'in', which on a string is a substring test: "
                    + (
                        f"{value!r} lets in any origin that is a piece of it (and a '*' anywhere allows every origin)"
                        if name == "allow_origins"
                        else f"{value!r} is read character by character"
                    ),
                    f"pass a list: {name}={[v.strip() for v in value.split(',') if v.strip()]!r}",
                    value=value,
                )
            )
            options[name] = [v.strip() for v in value.split(",") if v.strip()]
        elif not isinstance(value, Collection):
            raise TypeError(f"{name} must be a list of strings, got {type(value).__name__} {value!r}")
    origins = list(options["allow_origins"])
    if "*" in origins and credentials:
        findings.append(
            Finding(
                "wildcard-with-credentials",
                "critical",
                "allow_origins=['*'] with allow_credentials=True",
                "Starlette then reflects every Origin with Access-Control-Allow-Credentials: true: any site can make "
                "credentialed requests and read the answers (browsers only refuse a literal '*')",
                "list the frontends' origins explicitly: allow_origins=['https://app.example.com']",
                value="*",
            )
        )
    for entry in origins:
        if not isinstance(entry, str):
            raise TypeError(f"allow_origins must contain strings, got {type(entry).__name__} {entry!r}")
        findings += _origin_problems(entry, credentials)
    regex = options["allow_origin_regex"]
    if regex:
        findings += _regex_problems(regex, credentials)
    for method in options["allow_methods"]:
        if method != "*" and method != method.upper() and method.upper() in ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"):
            findings.append(
                Finding(
                    "lowercase-method",
                    "medium",
                    f"allow_methods has {method!r}",
                    f"methods are compared case-sensitively, so this entry does not allow {method.upper()!r}, "
                    "the method browsers send",
                    f"write {method.upper()!r}",
                    value=method,
                )
            )
    for header in options["allow_headers"]:
        if header != "*" and is_forbidden_request_header(header, ""):
            findings.append(
                Finding(
                    "forbidden-header-listed",
                    "info",
                    f"allow_headers lists {header!r}",
                    "script can never set this header (the browser does), so listing it changes nothing",
                    f"remove {header!r}",
                    value=header,
                )
            )
    max_age = options["max_age"]
    if isinstance(max_age, int) and max_age < 0:
        findings.append(Finding("negative-max-age", "low", f"max_age={max_age}", "a negative max_age disables the preflight cache", "use 0 or a positive number", value=str(max_age)))
    elif isinstance(max_age, int) and max_age > 86400:
        findings.append(
            Finding(
                "long-max-age",
                "info",
                f"max_age={max_age}",
                "browsers cap the preflight cache (Chromium 7200 s, Firefox 86400 s, Safari 600 s); a longer value only "
                "delays the effect of a configuration change in browsers that honour it",
                "use 7200 or less",
                value=str(max_age),
            )
        )
    if options["allow_private_network"]:
        findings.append(
            Finding(
                "private-network-allowed",
                "info",
                "allow_private_network=True",
                "public websites may ask a browser to reach this server on a private network; Chromium 142+ uses a "
                "permission prompt instead, so this mostly matters for older browsers",
                "enable it only for servers that must be reachable from public sites",
            )
        )
    if credentials and "*" in options["allow_headers"]:
        findings.append(
            Finding(
                "wildcard-headers-with-credentials",
                "info",
                "allow_headers=['*'] with credentials",
                "Starlette echoes whatever headers are requested, so every header is allowed; list the ones the "
                "frontend sends (least privilege)",
                "allow_headers=['Authorization', 'Content-Type', ...]",
            )
        )
    return FindingsReport("CORSMiddleware options", findings)
