"""The course in the browser: the JupyterLite site runs notebooks 00 and 03 in headless Chromium.

Builds the site with ``lite/build.py`` (a no-op when nothing changed; the first
build downloads the pinned tools, Pyodide and wheels from PyPI and npm), serves
it on a free loopback port, opens each notebook in Debian's Chromium through
Playwright, waits for the Pyodide kernel, runs every cell, and compares the
outputs with the ones stored in the notebook (after the same sanitizing nbval
applies). It also checks that the page asked no host but the one serving it.

Prints one summary line: the kernel's cold start, the bytes a first visit
downloads, and each notebook's run time.
"""

from __future__ import annotations

import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import SUMMARIES

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "build" / "jupyterlite"
NOTEBOOKS = ["00-start-here.ipynb", "03-fastapi-corsmiddleware.ipynb"]
SANITIZE = ROOT / "notebooks" / "nbval-sanitize.cfg"


def _sanitizers() -> list[tuple[re.Pattern[str], str]]:
    lines = [line.strip() for line in SANITIZE.read_text().splitlines()]
    pairs = []
    for i, line in enumerate(lines):
        if line.startswith("regex:") and i + 1 < len(lines) and lines[i + 1].startswith("replace:"):
            pairs.append((re.compile(line[len("regex:"):].strip()), lines[i + 1][len("replace:"):].strip()))
    return pairs


def _outputs(cell: dict, sanitizers: list[tuple[re.Pattern[str], str]]) -> list[tuple[str, str]]:
    """A code cell's outputs as (kind, text) pairs: streams, every MIME type of results, error names."""
    found = []
    for output in cell.get("outputs", []):
        kind = output["output_type"]
        if kind == "stream":
            pairs = [(f"stream:{output['name']}", output["text"])]
        elif kind == "error":
            pairs = [("error", output["ename"])]
        else:
            pairs = [(f"{kind}:{mime}", value) for mime, value in sorted(output.get("data", {}).items())]
        for name, value in pairs:
            text = "".join(value) if isinstance(value, list) else value if isinstance(value, str) else json.dumps(value)
            for pattern, replacement in sanitizers:
                text = pattern.sub(replacement, text)
            found.append((name, text))
    return found


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript",
                      ".wasm": "application/wasm", ".whl": "application/zip"}
    served: list[int]

    def copyfile(self, source, outputfile) -> None:
        before = source.tell()
        shutil.copyfileobj(source, outputfile)
        self.served.append(source.tell() - before)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Path:
    cache = ROOT / "build" / "lite-cache"
    if shutil.which("npm") is None and not any(cache.glob("pyodide-*/pyodide.mjs")):
        pytest.skip("npm is not installed: the JupyterLite build fetches Pyodide from npm once (sudo apt-get install -y npm)")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "lite" / "build.py")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    SUMMARIES.append(f"JupyterLite site: {done.stdout.strip().splitlines()[-1].removeprefix('lite: ')} "
                     f"({time.perf_counter() - started:.1f} s with the check)")
    return SITE


@pytest.fixture(scope="module")
def served(site):
    served: list[int] = []
    handler = type("Handler", (_CountingHandler,), {"served": served})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, name="jupyterlite site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


KERNEL_IDLE = """() => {
    const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = widget && widget.sessionContext && widget.sessionContext.session && widget.sessionContext.session.kernel;
    return !!kernel && kernel.status === 'idle';
}"""
ALL_RAN = """() => {
    const widget = window.jupyterapp.shell.currentWidget;
    const cells = widget.content.model.toJSON().cells.filter(c => c.cell_type === 'code');
    return widget.sessionContext.session.kernel.status === 'idle' && cells.every(c => c.execution_count !== null);
}"""


def test_course_runs_in_the_browser(chromium_executable, served):
    from playwright.sync_api import sync_playwright

    base, bytes_served = served
    sanitizers = _sanitizers()
    hosts: set[str] = set()
    timings: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable)
        try:
            page = browser.new_context().new_page()
            page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
            for index, name in enumerate(NOTEBOOKS):
                started = time.perf_counter()
                page.goto(f"{base}/lab/index.html?path={name}")
                page.wait_for_function(KERNEL_IDLE, timeout=120_000, polling=200)
                ready = time.perf_counter() - started
                if index == 0:
                    cold_bytes = sum(bytes_served)
                page.evaluate("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
                ran_from = time.perf_counter()
                page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
                try:
                    page.wait_for_function(ALL_RAN, timeout=120_000, polling=250)
                except Exception:  # report which cells did not run, below
                    pass
                ran = time.perf_counter() - ran_from
                fresh = page.evaluate("window.jupyterapp.shell.currentWidget.content.model.toJSON()")
                stored = json.loads((ROOT / "notebooks" / name).read_text())
                stored_cells = [c for c in stored["cells"] if c["cell_type"] == "code"]
                fresh_cells = [c for c in fresh["cells"] if c["cell_type"] == "code"]
                assert len(stored_cells) == len(fresh_cells), f"{name}: the site's copy has other cells"
                for number, (old, new) in enumerate(zip(stored_cells, fresh_cells), start=1):
                    if new.get("execution_count") is None:
                        problems.append(f"{name}, code cell {number}: did not run")
                    elif _outputs(old, sanitizers) != _outputs(new, sanitizers):
                        problems.append(f"{name}, code cell {number}: outputs differ\n  stored: {_outputs(old, sanitizers)}\n"
                                        f"  in the browser: {_outputs(new, sanitizers)}")
                # Else JupyterLab restores this notebook next time, and starts its kernel too.
                page.evaluate("async () => { await window.jupyterapp.commands.execute('application:close-all');"
                              " await window.jupyterapp.serviceManager.sessions.shutdownAll(); }")
                timings.append(f"{name.split('-')[0]}: kernel ready {ready:.1f} s{' (cold)' if index == 0 else ''}, ran in {ran:.1f} s")
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
    assert hosts == {urlsplit(base).netloc}, f"the page asked other hosts: {sorted(hosts - {urlsplit(base).netloc})}"
    SUMMARIES.append(f"JupyterLite in Chromium: {'; '.join(timings)}; first visit downloaded {cold_bytes / 1e6:.1f} MB "
                     f"(uncompressed), {sum(bytes_served) / 1e6:.1f} MB in all")
