"""Shared setup for the real-browser tests: skip with a one-line reason where a browser is missing."""

from __future__ import annotations

import importlib.util

import pytest

from tests.browser.firefox import INSTALL_HINT as FIREFOX_HINT
from tests.browser.firefox import firefox_path
from tests.browser.harness import chromium_path
from tests.browser.webkit import INSTALL_HINT as WEBKIT_HINT
from tests.browser.webkit import webkit_path

SUMMARIES: list[str] = []


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("Playwright is not installed: pip install -r requirements.txt")
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium is not installed: sudo apt-get install -y chromium (Debian/Ubuntu)")
    return path


@pytest.fixture(scope="session")
def firefox_executable() -> str:
    if importlib.util.find_spec("websockets") is None:
        pytest.skip("websockets is not installed: pip install -r requirements.txt")
    path = firefox_path()
    if path is None:
        pytest.skip(f"Firefox ESR is not installed: {FIREFOX_HINT} (Debian/Ubuntu)")
    return path


@pytest.fixture(scope="session")
def webkit_executable() -> str:
    if importlib.util.find_spec("websockets") is None:
        pytest.skip("websockets is not installed: pip install -r requirements.txt")
    path = webkit_path()
    if path is None:
        pytest.skip(f"WebKitGTK's MiniBrowser or Xvfb is not installed: {WEBKIT_HINT} (Debian/Ubuntu)")
    return path


def pytest_terminal_summary(terminalreporter) -> None:
    for line in SUMMARIES:
        terminalreporter.write_line(line)
