"""The lab's Pyodide mode, exercised on CPython with threads forbidden as they are in the browser.

The real thing runs in tests/browser/test_jupyterlite.py (the course in headless
Chromium); these tests cover the same code paths in a second.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading

import anyio.to_thread
import pytest
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

import cors_lab
from cors_lab import pyodide, runner


@pytest.fixture
def browser_mode(monkeypatch):
    """What Pyodide looks like to the lab: the platform flag set, and no thread can start."""
    monkeypatch.setattr(pyodide, "IN_BROWSER", True)
    monkeypatch.setattr(anyio.to_thread, "run_sync", anyio.to_thread.run_sync)  # restored afterwards
    monkeypatch.setattr(subprocess, "run", subprocess.run)
    assert pyodide.install() is True
    assert pyodide.install() is False  # idempotent

    def no_threads(self, *args, **kwargs):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_threads)
    fresh = runner._Runner()
    assert isinstance(fresh.loop, pyodide.InlineLoop)
    yield fresh
    fresh.close()


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["http://localhost:3000"], allow_methods=["*"])

    def user() -> str:  # a sync dependency: anyio's thread pool on CPython
        return "ada"

    @app.get("/me")
    def me(name: str = Depends(user)) -> dict[str, str]:  # a sync route
        return {"name": name}

    @app.put("/items/{item_id}")
    def put(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    return app


def test_sync_routes_and_dependencies_run_inline(browser_mode):
    app = _app()
    exchange = browser_mode.run(cors_lab.asend(app, "GET", "/me", headers={"Origin": "http://localhost:3000"}), None)
    assert exchange.response.status == 200
    assert exchange.response.body == b'{"name":"ada"}'
    assert exchange.response.header("access-control-allow-origin") == "http://localhost:3000"


def test_browser_fetch_with_preflight_runs_inline(browser_mode):
    result = browser_mode.run(cors_lab.Browser(origin="http://localhost:3000").afetch(_app(), "/items/1", method="PUT", json={}), None)
    assert not result.blocked and result.status == 200
    assert result.preflight is not None


def test_without_the_replacement_a_sync_route_fails(monkeypatch):
    # What Pyodide does to a sync route when nothing replaces anyio's thread pool.
    def no_threads(self, *args, **kwargs):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_threads)
    fresh = runner._Runner()  # a fresh loop: no worker thread of anyio's yet
    try:
        exchange = fresh.run(cors_lab.asend(_app(), "GET", "/me"), None)
    finally:
        fresh.close()
    assert exchange.response.status == 500
    assert "can't start new thread" in exchange.error.summary


def test_inline_loop_runs_timers_and_refuses_to_wait_for_ever():
    loop = pyodide.InlineLoop()
    try:
        assert loop.run_until_complete(asyncio.sleep(0.01, result="late")) == "late"
        with pytest.raises(RuntimeError, match="cannot happen here"):
            loop.run_until_complete(loop.create_future())
    finally:
        loop.close()


def test_run_sync_inside_a_running_loop_with_a_current_task():
    # A Jupyter kernel (and Pyodide's) runs each cell in a task of its loop.
    async def cell():
        return runner.run_sync(asyncio.sleep(0, result="inner")), asyncio.current_task() is not None

    assert asyncio.run(cell()) == ("inner", True)


def test_unavailable_is_one_line():
    message = str(pyodide.unavailable("start a subprocess"))
    assert "\n" not in message and message.startswith("the course in the browser (JupyterLite) cannot start a subprocess")


def test_a_reproduction_script_runs_in_process(browser_mode):
    # Notebook 09 runs a bug report's script "in a fresh Python"; Pyodide has no processes.
    api = cors_lab.demo_api(allow_origins=["http://localhost:3000"])
    result = cors_lab.Browser(origin="http://localhost:5173").fetch(api, "/items")
    bug = cors_lab.report(result, app_source="from cors_lab import demo_api\napp = demo_api(allow_origins=['http://localhost:3000'])\n")
    done = subprocess.run([sys.executable, "-c", bug.script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == bug.verdict
    failed = subprocess.run([sys.executable, "-c", "1/0"], capture_output=True)
    assert failed.returncode == 1 and b"ZeroDivisionError" in failed.stderr
    with pytest.raises(pyodide.NotInTheBrowser, match="cannot start a process"):
        subprocess.run(["pip", "install", "x"])


def test_the_version_matrix_runs_the_labs_own_release_in_process(monkeypatch, tmp_path):
    from cors_lab import versions

    monkeypatch.setattr(pyodide, "IN_BROWSER", True)
    monkeypatch.setattr(versions, "_DRIVERS", {})

    def no_processes(*args, **kwargs):
        raise OSError(138, "emscripten does not support processes.")

    monkeypatch.setattr(subprocess, "Popen", no_processes)
    scenario = versions.Scenario(versions.starlette_app(allow_origins=["http://localhost:3000"]), [versions.Fetch("/items")],
                                 origin="http://localhost:3000")
    current = versions._installed("starlette")
    matrix = versions.compare(scenario, starlette=[current, "0.14.2"], build=False, cache_dir=tmp_path)
    kinds = {run.label: run.source for run in matrix.runs}
    assert kinds == {f"starlette {current}": "live", "starlette 0.14.2": "unavailable"}


def test_course_files_are_read_from_the_site_when_the_kernel_has_no_drive(monkeypatch, tmp_path):
    # On a plain http:// page JupyterLite mounts no /drive: the kernel starts in its home folder.
    import types

    site = {
        "http://room:8000/api/contents/all.json": '{"content": [{"type": "directory", "path": "gallery"}, {"type": "notebook", "path": "00.ipynb"}]}',
        "http://room:8000/files/gallery/results/02.json": '{"fingerprint": "x"}',
    }

    class Request:
        def open(self, method, url, asynchronous):
            self.url = url

        def send(self, body):
            self.status = 200 if self.url in site else 404
            self.responseText = site.get(self.url, "not found")

    fake_js = types.SimpleNamespace(location=types.SimpleNamespace(href="http://room:8000/extensions/@jupyterlite/pyodide-kernel-extension/static/w.js"),
                                    XMLHttpRequest=types.SimpleNamespace(new=Request))
    monkeypatch.setitem(sys.modules, "js", fake_js)
    monkeypatch.chdir(tmp_path)
    assert pyodide.read_site_file("results/02.json") == '{"fingerprint": "x"}'
    assert pyodide.read_site_file("results/missing.json") is None
    assert pyodide.read_site_file("/etc/passwd") is None


def test_a_live_server_says_in_one_line_that_the_browser_cannot(monkeypatch):
    monkeypatch.setattr(pyodide, "IN_BROWSER", True)
    with pytest.raises(pyodide.NotInTheBrowser) as caught:
        cors_lab.Server.live(cors_lab.demo_api())
    assert caught.value._render_traceback_() == [
        "NotInTheBrowser: the course in the browser (JupyterLite) cannot start a live server (a browser tab has no sockets "
        "and no threads); run this cell in JupyterLab (a local install or hosted Jupyter, see WORKSHOP.md)"
    ]
