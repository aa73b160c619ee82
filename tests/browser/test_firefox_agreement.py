"""Every scenario of the catalogue, in real Firefox ESR and in cors_lab.Browser(engine="firefox"): they must agree.

Everything the Chromium test compares is compared, except error_kind: Firefox
names no CorsError, so only the model carries one. A disagreement is a model
bug, a harness bug, or a scenario to skip for Firefox with a written reason
(``firefox_skip``); never an expected failure. The full table and the JSON
report come from ``python -m tests.browser.agreement``; this test runs the
same thing for Firefox.
"""

from __future__ import annotations

from pathlib import Path

from tests.browser import conftest
from tests.browser.harness import load_catalogue, run_engine, write_report

REPORT = Path(__file__).with_name("reports") / "firefox.json"


def test_firefox_skips_are_rare_and_explained():
    scenarios = load_catalogue()
    skipped = [scenario for scenario in scenarios if "firefox_skip" in scenario]
    assert len(skipped) <= len(scenarios) // 20, "skipping Firefox is for scenarios it cannot run at all"
    for scenario in skipped:
        reason = scenario["firefox_skip"]
        assert isinstance(reason, str) and len(reason.split()) >= 5, f"{scenario['id']}: say why in a sentence"


def test_model_agrees_with_firefox_on_every_scenario(firefox_executable):
    run = run_engine("firefox", firefox_executable)
    write_report(run, REPORT)
    conftest.SUMMARIES.append(run.summary)
    disagreements = [f"{row.id}:\n  " + "\n  ".join(row.differences) for row in run.rows if not row.agree]
    assert not disagreements, run.summary + "\n" + "\n".join(disagreements)
