"""Every scenario of the catalogue, in real WebKit (WebKitGTK) and in cors_lab.Browser(engine="safari"): they must agree.

The model's ``safari`` profile is WebKit as shipped in Safari; WebKitGTK runs the
same WebCore CORS code (see ``webkit.py`` for what differs and how it is driven).
Everything the Chromium test compares is compared, except error_kind: WebKit
names no CorsError, so only the model carries one. A disagreement is a model
bug, a harness bug, or a scenario to skip for WebKit with a written reason
(``webkit_skip``); never an expected failure. The full table and the JSON report
come from ``python -m tests.browser.agreement``; this test runs the same thing
for WebKit.
"""

from __future__ import annotations

from pathlib import Path

from tests.browser import conftest
from tests.browser.harness import load_catalogue, run_engine, write_report

REPORT = Path(__file__).with_name("reports") / "webkit.json"


def test_webkit_skips_are_rare_and_explained():
    scenarios = load_catalogue()
    skipped = [scenario for scenario in scenarios if "webkit_skip" in scenario]
    assert len(skipped) <= len(scenarios) // 20, "skipping WebKit is for scenarios it cannot run at all"
    for scenario in skipped:
        reason = scenario["webkit_skip"]
        assert isinstance(reason, str) and len(reason.split()) >= 5, f"{scenario['id']}: say why in a sentence"


def test_model_agrees_with_webkit_on_every_scenario(webkit_executable):
    run = run_engine("webkit", webkit_executable)
    write_report(run, REPORT)
    conftest.SUMMARIES.append(run.summary)
    disagreements = [f"{row.id}:\n  " + "\n  ".join(row.differences) for row in run.rows if not row.agree]
    assert not disagreements, run.summary + "\n" + "\n".join(disagreements)
