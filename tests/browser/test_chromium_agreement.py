"""Every scenario of the catalogue, in real Chromium and in cors_lab.Browser(engine="chromium"): they must agree.

A disagreement is a model bug, a harness bug, or a scenario to drop with a
written reason; never an expected failure. The full table and the JSON report
come from ``python -m tests.browser.agreement``; this test runs the same thing.
"""

from __future__ import annotations

from pathlib import Path

from tests.browser import conftest
from tests.browser.harness import APP_KEYS, load_catalogue, run_engine, write_report

REPORT = Path(__file__).with_name("reports") / "chromium.json"


def test_catalogue_is_large_and_well_formed():
    scenarios = load_catalogue()
    assert len(scenarios) >= 120
    for scenario in scenarios:
        assert ("request" in scenario) != ("steps" in scenario), scenario["id"]
        assert any(key in scenario for key in APP_KEYS), scenario["id"]
        assert "expect" not in scenario, "the catalogue never states outcomes: Chromium does"


def test_model_agrees_with_chromium_on_every_scenario(chromium_executable):
    run = run_engine("chromium", chromium_executable)
    write_report(run, REPORT)
    conftest.SUMMARIES.append(run.summary)
    disagreements = [f"{row.id}:\n  " + "\n  ".join(row.differences) for row in run.rows if not row.agree]
    assert not disagreements, run.summary + "\n" + "\n".join(disagreements)
