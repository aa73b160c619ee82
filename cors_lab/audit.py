"""``audit``: a security scan of a CORS setup, graded by what an attacker gains.

The probes are those of the common scanners (Corsy, CORScanner, nuclei's
``cors-misconfig``, corser) and of PortSwigger's CORS labs: a foreign origin,
``null``, look-alike domains built from the site's own name, ``http://``, any
subdomain, special characters, shared-hosting domains. Unlike those scanners
it sends each attacker origin on the preflight path too, and it grades by the
answer: an attacker origin reflected *with* ``Access-Control-Allow-Credentials:
true`` lets any page read the user's data (critical); without credentials it
reads only what is public anyway (low); ``*`` on a public API is informational.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
from dataclasses import dataclass
from typing import Any

from cors_lab.fetch.urls import InvalidURL, parse_origin, parse_page_origin, registrable_domain
from cors_lab.findings import Finding, FindingsReport, Severity
from cors_lab.lint import lint
from cors_lab.messages import Exchange
from cors_lab.server import Server
from cors_lab.stack import cors_options
from cors_lab.transport import DEFAULT_APP_ORIGIN, send

__all__ = ["AuditReport", "audit"]

ATTACKER = "cors-lab-attacker.example"


@dataclass(frozen=True)
class _Probe:
    check: str
    origin: str
    title: str
    why: str
    fix: str
    # Severity when the attacker origin is accepted with credentials, and without.
    with_credentials: Severity
    without_credentials: Severity


def _probes(site: str) -> list[_Probe]:
    parsed = parse_origin(site)
    scheme, host = parsed.scheme, parsed.host
    port = f":{parsed.port}" if parsed.port else ""
    registrable = registrable_domain(host) or host
    probes = [
        _Probe(
            "origin-reflection",
            f"https://{ATTACKER}",
            "any origin is accepted (the Origin header is reflected)",
            "every website can make requests to this API from its visitors' browsers and read the answers",
            "list the allowed origins explicitly; never echo the Origin header back unchecked "
            "(with Starlette: allow_origins=['https://app.example.com'], not ['*'] with allow_credentials=True, "
            "nor allow_origin_regex='.*')",
            "critical",
            "low",
        ),
        _Probe(
            "null-origin",
            "null",
            "the origin 'null' is accepted",
            "sandboxed iframes, data: URLs and file: pages on any site send Origin: null (PortSwigger's 'trusted null "
            "origin' lab)",
            "remove 'null' from the allowed origins",
            "critical",
            "low",
        ),
        _Probe(
            "prefix-match",
            f"{scheme}://{host}.{ATTACKER}{port}",
            f"an origin that starts with {host} is accepted",
            f"an attacker who owns {ATTACKER} creates {host}.{ATTACKER} and reads the API",
            "compare whole origins (exact match), not prefixes; anchor regexes with $ (Starlette uses fullmatch)",
            "critical",
            "low",
        ),
        _Probe(
            "suffix-match",
            f"{scheme}://corslab{registrable}{port}",
            f"an origin that ends with {registrable} is accepted",
            f"an attacker registers corslab{registrable} and reads the API",
            "compare whole origins; in a regex require a dot before the domain: r'https://([a-z0-9-]+\\.)?example\\.com'",
            "critical",
            "low",
        ),
        _Probe(
            "substring-match",
            f"{scheme}://{host[:-1]}{port}",
            f"an origin that is only a piece of {host} is accepted",
            "the allowlist is tested as a substring, typically because allow_origins was given a string instead of "
            "a list; an attacker registers a matching fragment",
            "pass allow_origins a list of exact origins",
            "critical",
            "low",
        ),
        _Probe(
            "unescaped-dot",
            f"{scheme}://{host.replace('.', 'x', 1)}{port}",
            "a look-alike domain with a letter in place of a dot is accepted",
            "the origin regex has an unescaped '.', which matches any character; an attacker registers the look-alike",
            "escape the dots in allow_origin_regex: r'\\.'",
            "critical",
            "low",
        ),
        _Probe(
            "any-subdomain",
            f"{scheme}://{ATTACKER.split('.')[0]}.{host}{port}",
            f"any subdomain of {host} is accepted",
            "one vulnerable or abandoned subdomain (XSS, takeover) is enough to read the API",
            "list the subdomains that need access",
            "high",
            "info",
        ),
        _Probe(
            "special-characters",
            f"{scheme}://{host}_.{ATTACKER}{port}",
            "an origin with an underscore after the site's name is accepted",
            "a matcher that stops at unusual characters accepts attacker domains some browsers allow",
            "compare whole origins exactly",
            "critical",
            "low",
        ),
        _Probe(
            "third-party-origin",
            f"https://{ATTACKER.split('.')[0]}.github.io",
            "a shared-hosting origin (github.io) is accepted",
            "anyone can publish a page on a github.io subdomain and read the API",
            "list only origins you control",
            "critical",
            "low",
        ),
    ]
    if scheme == "https":
        probes.append(
            _Probe(
                "http-origin-trusted",
                f"http://{host}{port}",
                "the site's plain-http origin is accepted",
                "a network attacker (public Wi-Fi) can inject script into the http page and read the API over CORS, "
                "defeating HTTPS (PortSwigger's 'trusted insecure protocols' lab)",
                "allow only https:// origins",
                "high",
                "info",
            )
        )
    return probes


@dataclass(frozen=True)
class AuditReport(FindingsReport):
    """The result of :func:`audit`: ``findings`` worst first, and every probe ``exchanges`` sent."""

    exchanges: tuple[Exchange, ...] = ()


def _acao(exchange: Exchange) -> str | None:
    return exchange.response.header("access-control-allow-origin")


def _accepts(exchange: Exchange, origin: str) -> bool:
    return _acao(exchange) == origin


def _credentialed(exchange: Exchange) -> bool:
    return exchange.response.header("access-control-allow-credentials") == "true"


def audit(
    target: Any,
    site: str = "https://app.example.com",
    *,
    path: str = "/",
    timeout: float = 5.0,
    progress: Callable[[int, int], None] | None = None,
) -> AuditReport:
    """Scan the CORS setup of an app (in-process), a :class:`Server`, or a live URL.

    ``site`` is the frontend that is supposed to have access; attacker origins
    are derived from it. ``path`` is the resource probed (pick one that
    returns user data). ``progress(done, total)`` is called after each request.

    >>> import cors_lab
    >>> report = cors_lab.audit(cors_lab.demo_api(allow_origins=["*"], allow_credentials=True), path="/items")
    >>> report.findings[0].check, report.findings[0].severity
    ('origin-reflection', 'critical')
    """
    try:
        site_origin = parse_page_origin(site)
    except InvalidURL:
        raise ValueError(f"site {site!r} is not an origin; expected e.g. 'https://app.example.com'") from None
    if site_origin.opaque:
        raise ValueError("site must be the origin of the frontend, not 'null'")
    site = site_origin.serialize()
    # A probe that comes out as the site itself (a host without dots, say) proves nothing.
    probes = [p for p in _probes(site) if p.origin != site]
    total = 2 * (len(probes) + 1) + 1
    done = 0
    exchanges: list[Exchange] = []

    def request(method: str, headers: dict[str, str]) -> Exchange:
        nonlocal done
        exchange = send(target, method, path, headers=headers, timeout=timeout)
        exchanges.append(exchange)
        done += 1
        if progress is not None:
            progress(done, total)
        return exchange

    def preflight(origin: str, extra: dict[str, str] | None = None) -> Exchange:
        headers = {"Origin": origin, "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "authorization"}
        return request("OPTIONS", {**headers, **(extra or {})})

    findings: list[Finding] = []
    notes: list[str] = []
    baseline = request("GET", {"Origin": site})
    baseline_preflight = preflight(site)
    if _acao(baseline) is None:
        notes.append(f"the site {site} itself gets no Access-Control-Allow-Origin on GET {path}")
    if _acao(baseline) == "*":
        findings.append(
            Finding(
                "wildcard-origin",
                "info",
                "responses carry Access-Control-Allow-Origin: *",
                "any site can read these responses, but browsers never send cookies for '*'; fine for public data, "
                "a problem only if the API trusts the network (an intranet service readable from the internet)",
                "keep '*' for public, anonymous data; use an explicit allowlist otherwise",
                evidence=baseline,
                value="*",
            )
        )
    for probe in probes:
        simple = request("GET", {"Origin": probe.origin})
        checked = preflight(probe.origin)
        accepted = [e for e in (simple, checked) if _accepts(e, probe.origin)]
        if not accepted:
            continue
        evidence = accepted[0]
        credentialed = any(_credentialed(e) for e in accepted)
        severity = probe.with_credentials if credentialed else probe.without_credentials
        why = probe.why + (
            ", with the user's cookies (Access-Control-Allow-Credentials: true)" if credentialed else " (without credentials: only what is public anyway)"
        )
        if _accepts(checked, probe.origin) and checked.response.status < 300:
            why += "; its preflights pass too, so it can also send DELETE with an Authorization header"
        findings.append(Finding(probe.check, severity, probe.title, why + ".", probe.fix, evidence=evidence, value=probe.origin))

    # Every look-alike probe passes when any origin is reflected: report the cause once.
    reflection = next((f for f in findings if f.check == "origin-reflection"), None)
    if reflection is not None:
        implied = {p.check for p in probes} - {"origin-reflection"}
        also = [f.value for f in findings if f.check in implied]
        findings = [f for f in findings if f.check not in implied]
        if also:
            findings[findings.index(reflection)] = dataclasses.replace(
                reflection, why=reflection.why + f" Every other probe origin was accepted too ({', '.join(str(a) for a in also)})."
            )

    # Responses that depend on Origin must say so, or a shared cache serves one origin's answer to another.
    vary = (baseline.response.header("vary") or "").lower()
    if _acao(baseline) not in (None, "*") and "origin" not in [v.strip() for v in vary.split(",")]:
        findings.append(
            Finding(
                "missing-vary-origin",
                "medium",
                "a response that depends on Origin has no Vary: Origin",
                "a CDN or browser cache can serve the answer made for one origin to another: some users see CORS "
                "errors, or a cached credentialed answer leaks",
                "add Vary: Origin to every response (Starlette >= 1.7 does)",
                evidence=baseline,
            )
        )
    max_age = baseline_preflight.response.header("access-control-max-age")
    if max_age is not None and max_age.strip().isdigit() and int(max_age) > 7200:
        findings.append(
            Finding(
                "long-max-age",
                "info",
                f"preflights are cacheable for {max_age} s",
                "browsers cap it (Chromium 7200 s, Firefox 86400 s, Safari 600 s); a long cache only delays a fix or "
                "a revocation for the users who have the old answer",
                "use max_age=600 to 7200",
                evidence=baseline_preflight,
                value=max_age,
            )
        )
    private = preflight(f"https://{ATTACKER}", {"Access-Control-Request-Private-Network": "true"})
    if private.response.header("access-control-allow-private-network") == "true":
        findings.append(
            Finding(
                "private-network-allowed",
                "low" if _accepts(private, f"https://{ATTACKER}") else "info",
                "the server lets public websites reach it on a private network",
                "with Private Network Access (older Chrome) a public page could then call this internal server from a "
                "visitor's machine; Chromium 142+ asks the user instead",
                "set allow_private_network=False unless public sites must reach this server",
                evidence=private,
            )
        )
    # In-process, the configuration itself can be read: add what lint finds that the probes cannot show.
    if not isinstance(target, str) and not (isinstance(target, Server) and target.live_network):
        app = target.app if isinstance(target, Server) else target
        options = cors_options(app)
        if options is None:
            notes.append("no CORSMiddleware found in the app's middleware stack")
        else:
            found = {f.check for f in findings}
            equivalent = {"wildcard-with-credentials": "origin-reflection", "regex-matches-any-origin": "origin-reflection", "string-not-list": "substring-match"}
            for finding in lint(**options).findings:
                if finding.check not in found and equivalent.get(finding.check) not in found:
                    findings.append(finding)
    return AuditReport(f"CORS audit of {_describe(target)}{path} for {site}", findings, notes, exchanges=tuple(exchanges))


def _describe(target: Any) -> str:
    if isinstance(target, str):
        return target.rstrip("/")
    if isinstance(target, Server):
        return target.origin
    return DEFAULT_APP_ORIGIN
