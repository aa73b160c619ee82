"""lint and audit: one vulnerable and one safe configuration per check."""

from __future__ import annotations

import pytest
from fastapi.middleware.cors import CORSMiddleware

import cors_lab

SITE = "https://app.example.com"
SAFE = dict(allow_origins=[SITE], allow_credentials=True)


@pytest.mark.parametrize(
    ("check", "vulnerable"),
    [
        ("trailing-slash", dict(allow_origins=["http://localhost:3000/"])),
        ("origin-with-path", dict(allow_origins=["https://app.example.com/app"])),
        ("missing-scheme", dict(allow_origins=["localhost:3000"])),
        ("uppercase-origin", dict(allow_origins=["https://App.Example.com"])),
        ("default-port", dict(allow_origins=["https://app.example.com:443"])),
        ("wildcard-with-credentials", dict(allow_origins=["*"], allow_credentials=True)),
        ("null-origin", dict(allow_origins=["null"])),
        ("string-not-list", dict(allow_origins="https://app.example.com,https://admin.example.com")),
        ("unescaped-dot", dict(allow_origin_regex=r"https://.*.example.com")),
        ("regex-matches-any-origin", dict(allow_origin_regex=".*", allow_credentials=True)),
        ("public-suffix-wildcard", dict(allow_origin_regex=r"https://.*\.github\.io")),
        ("http-origin-trusted", dict(allow_origins=["http://app.example.com"], allow_credentials=True)),
        ("lowercase-method", dict(allow_origins=[SITE], allow_methods=["get", "put"])),
        ("forbidden-header-listed", dict(allow_origins=[SITE], allow_headers=["Cookie"])),
        ("long-max-age", dict(allow_origins=[SITE], max_age=100000)),
        ("negative-max-age", dict(allow_origins=[SITE], max_age=-1)),
        ("private-network-allowed", dict(allow_origins=[SITE], allow_private_network=True)),
    ],
)
def test_lint_finds_each_mistake_and_not_in_a_safe_config(check, vulnerable):
    assert check in cors_lab.lint(**vulnerable).checks
    assert cors_lab.lint(**SAFE).findings == []


def test_lint_severities_follow_the_attackers_gain():
    assert cors_lab.lint(allow_origins=["null"], allow_credentials=True).findings[0].severity == "critical"
    assert cors_lab.lint(allow_origins=["null"]).findings[0].severity == "high"
    assert cors_lab.lint(allow_origin_regex=".*").findings[0].severity == "low"


def test_lint_refuses_unknown_options_with_the_list_of_real_ones():
    with pytest.raises(TypeError, match="'allow_origin' is not a CORSMiddleware option; the options are allow_origins"):
        cors_lab.lint(allow_origin=["https://a.example"])
    with pytest.raises(TypeError, match="allow_origins must contain strings"):
        cors_lab.lint(allow_origins=[3])


AUDIT_CASES = [
    # (check, CORSMiddleware options of a vulnerable app, expected severity)
    ("origin-reflection", dict(allow_origins=["*"], allow_credentials=True), "critical"),
    ("origin-reflection", dict(allow_origin_regex=".*"), "low"),
    ("null-origin", dict(allow_origins=[SITE, "null"], allow_credentials=True), "critical"),
    ("suffix-match", dict(allow_origin_regex=r"https://.*example\.com", allow_credentials=True), "critical"),
    ("prefix-match", dict(allow_origin_regex=r"https://app\.example\.com.*", allow_credentials=True), "critical"),
    ("substring-match", dict(allow_origins="https://app.example.com,https://admin.example.com", allow_credentials=True), "critical"),
    ("unescaped-dot", dict(allow_origin_regex=r"https://app.example\.com", allow_credentials=True), "critical"),
    ("any-subdomain", dict(allow_origin_regex=r"https://([a-z0-9.-]+\.)?app\.example\.com", allow_credentials=True), "high"),
    ("special-characters", dict(allow_origin_regex=r"https://app\.example\.com[^/]*", allow_credentials=True), "critical"),
    ("third-party-origin", dict(allow_origins=[SITE, "https://cors-lab-attacker.github.io"], allow_credentials=True), "critical"),
    ("http-origin-trusted", dict(allow_origins=[SITE, "http://app.example.com"], allow_credentials=True), "high"),
    ("wildcard-origin", dict(allow_origins=["*"]), "info"),
    ("private-network-allowed", dict(allow_origins=[SITE], allow_private_network=True), "info"),
    ("long-max-age", dict(allow_origins=[SITE], max_age=86400), "info"),
]


@pytest.mark.parametrize(("check", "options", "severity"), AUDIT_CASES)
def test_audit_finds_each_vulnerability_with_evidence(check, options, severity):
    report = cors_lab.audit(cors_lab.demo_api(**options), site=SITE, path="/items")
    finding = next(f for f in report.findings if f.check == check)
    assert finding.severity == severity
    assert finding.why and finding.fix
    assert finding.evidence is not None and finding.evidence.request.url == "http://localhost:8000/items"


def test_audit_of_a_safe_app_finds_nothing():
    report = cors_lab.audit(cors_lab.demo_api(**SAFE), site=SITE, path="/items")
    assert report.findings == [] and not report
    assert report.exchanges  # the probes were really sent


def test_audit_probes_the_preflight_path_too():
    report = cors_lab.audit(cors_lab.demo_api(allow_origins=["*"], allow_credentials=True, allow_methods=["*"], allow_headers=["*"]), site=SITE, path="/items")
    reflection = report.findings[0]
    assert "its preflights pass too" in reflection.why
    assert any(e.request.method == "OPTIONS" for e in report.exchanges)


def test_audit_missing_vary_on_a_hand_written_cors_layer():
    async def app(scope, receive, send):
        origin = dict(scope["headers"]).get(b"origin", b"")
        await send({"type": "http.response.start", "status": 200, "headers": [(b"access-control-allow-origin", origin)]})
        await send({"type": "http.response.body", "body": b"{}"})

    assert "missing-vary-origin" in cors_lab.audit(app, site=SITE).checks
    assert "missing-vary-origin" not in cors_lab.audit(cors_lab.demo_api(**SAFE), site=SITE, path="/items").checks


def test_audit_reads_a_wrapped_app_and_a_live_server():
    wrapped = CORSMiddleware(cors_lab.demo_api(), allow_origins=[SITE + "/"])
    assert "trailing-slash" in cors_lab.audit(wrapped, site=SITE, path="/items").checks
    with cors_lab.Server.live(cors_lab.demo_api(allow_origins=["*"], allow_credentials=True)) as live:
        report = cors_lab.audit(live.origin, site=SITE, path="/items")
    assert report.findings[0].check == "origin-reflection"
    assert report.findings[0].evidence.via == "network"


def test_audit_reports_progress_and_refuses_a_bad_site():
    seen = []
    cors_lab.audit(cors_lab.demo_api(), site=SITE, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1][0] == seen[-1][1] == len(seen)
    with pytest.raises(ValueError, match="site 'app.example.com' is not an origin"):
        cors_lab.audit(cors_lab.demo_api(), site="app.example.com")


def test_report_renders_as_text_html_and_json():
    report = cors_lab.audit(cors_lab.demo_api(allow_origins=["*"], allow_credentials=True), site=SITE, path="/items")
    assert "[critical] origin-reflection" in str(report)
    assert "<table" in report._repr_html_()
    data = report.as_dict()
    assert data["findings"][0]["check"] == "origin-reflection" and "> GET /items HTTP/1.1" in data["findings"][0]["evidence"]
