"""``python -m cors_lab check``: one line per item, and a fix that can be pasted as it is."""

from __future__ import annotations

import subprocess
import sys
import threading

import anyio.to_thread

from cors_lab import pyodide, runner, setup_check


def test_a_wrong_version_names_this_interpreter_in_its_fix(monkeypatch):
    monkeypatch.setattr(setup_check, "_pins", lambda: {"fastapi": "0.0.1"})
    [(ok, item, fix)] = setup_check.check_packages()
    assert not ok and item.endswith("(the course is made with 0.0.1)")
    assert fix.startswith(sys.executable) and fix.endswith("-m pip install fastapi==0.0.1")


def test_a_missing_package(monkeypatch):
    monkeypatch.setattr(setup_check, "_pins", lambda: {"surely-not-installed-package": "1.0"})
    [(ok, item, fix)] = setup_check.check_packages()
    assert (ok, item) == (False, "surely-not-installed-package is not installed")
    assert "-m pip install -r requirements.txt" in fix


def test_in_the_browser_there_is_nothing_to_install(monkeypatch, capsys):
    monkeypatch.setattr(pyodide, "IN_BROWSER", True)
    monkeypatch.setattr(anyio.to_thread, "run_sync", anyio.to_thread.run_sync)
    monkeypatch.setattr(subprocess, "run", subprocess.run)
    monkeypatch.setattr(runner, "_local", threading.local())  # the browser-mode runner is not kept
    pyodide.install()
    monkeypatch.setattr(setup_check, "check_kernel", lambda: (_ for _ in ()).throw(AssertionError("no kernel check in the browser")))
    assert setup_check.run_checks() == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ok   in the browser (Pyodide, Python ") and out[0].endswith("nothing to install")
    assert out[-1] == "Ready for the course."


def test_same_file():
    assert setup_check._same_file(sys.executable, sys.executable)
    assert not setup_check._same_file(sys.executable, "/no/such/python")
