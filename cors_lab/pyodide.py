"""What the lab changes when it runs in Pyodide (JupyterLite, the course in the browser).

Pyodide has no threads and no sockets. Two things in the course need threads:

1. anyio's thread pool. FastAPI and Starlette run every sync (``def``) route,
   dependency, exception handler and background task with
   ``anyio.to_thread.run_sync``, which starts a worker thread: in Pyodide that
   fails with ``RuntimeError: can't start new thread``. :func:`install`
   replaces ``anyio.to_thread.run_sync`` with a coroutine that calls the
   function inline (in a copy of the caller's context, as the thread would).
   Starlette and FastAPI look the function up on the module at each call, so
   routes defined before or after ``import cors_lab`` are all covered.
2. The lab's sync facade (:mod:`cors_lab.runner`) drives a private event loop
   with ``run_until_complete``. Pyodide's own loop (``WebLoop``) cannot block:
   without stack switching its ``run_until_complete`` raises. :class:`InlineLoop`
   is an asyncio loop with no I/O at all, just ready callbacks and timers,
   which is all an in-process ASGI call needs; the runner uses it in Pyodide.

Nothing here is used outside Pyodide unless asked for (the tests exercise it on
CPython too). The notebooks are the same in JupyterLab and JupyterLite: the lab
adapts, the learner's cells don't.

A third thing needs a process: running a bug report's reproduction script "in
a fresh Python" (notebook 09 and its check) with ``subprocess.run([sys.executable,
"-c", script])``. Pyodide cannot start a process, so :func:`install` makes that one
form of ``subprocess.run`` run the script in this interpreter, in a namespace of
its own, with its output captured and its exit status kept; every other command
fails with the one-line error of :func:`unavailable`. It is not a fresh
interpreter (modules already imported stay imported), which is enough for a
script that only imports and calls.

A sync route that blocks runs inline too, so it blocks the page's kernel; the
course's routes don't block. Things that need a real server (a live uvicorn
server, the Starlette version matrix's environments, a browser driven by
Playwright) say so in one line: see :func:`unavailable`.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import os
import subprocess
import sys
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

__all__ = ["IN_BROWSER", "InlineLoop", "install", "read_site_file", "run_inline", "unavailable"]

T = TypeVar("T")

#: True when the lab runs in Pyodide (JupyterLite), where there are no threads or sockets.
IN_BROWSER = sys.platform == "emscripten"

BROWSER_NOTE = "the course in the browser (JupyterLite) cannot {what}; run this cell in JupyterLab (a local install or hosted Jupyter, see WORKSHOP.md)"


class NotInTheBrowser(RuntimeError):
    """Something the in-browser course cannot do (a live server, a subprocess, a thread).

    In a notebook it shows as its one line, without a traceback.
    """

    def _render_traceback_(self) -> list[str]:  # IPython's hook for how an exception is shown
        return [f"{type(self).__name__}: {self}"]


def unavailable(what: str) -> NotInTheBrowser:
    """The one-line error for something the browser cannot do.

    >>> print(unavailable("start a live server"))
    the course in the browser (JupyterLite) cannot start a live server; run this cell in JupyterLab (a local install or hosted Jupyter, see WORKSHOP.md)
    """
    return NotInTheBrowser(BROWSER_NOTE.format(what=what))


async def run_inline(
    func: Callable[..., T],
    *args: Any,
    abandon_on_cancel: bool = False,
    cancellable: bool | None = None,
    limiter: Any = None,
) -> T:
    """``anyio.to_thread.run_sync`` without a thread: call ``func(*args)`` here and now.

    Same signature as anyio's; the options about threads have nothing to act on.

    >>> asyncio.run(run_inline(divmod, 7, 2))
    (3, 1)
    """
    return contextvars.copy_context().run(func, *args)


def install() -> bool:
    """Replace anyio's thread pool with inline calls; returns True when it was replaced now.

    Idempotent. Called by :mod:`cors_lab.runner` at import when the lab runs in Pyodide.
    """
    import anyio.to_thread

    if anyio.to_thread.run_sync is run_inline:
        return False
    anyio.to_thread.run_sync = run_inline  # type: ignore[assignment]
    if not getattr(subprocess.run, "_cors_lab_in_process", False):
        subprocess.run = _run_in_process  # type: ignore[assignment]
    # A module that imported the function by name before the lab was imported.
    telemetry = sys.modules.get("fastapi.telemetry._runtime")
    if telemetry is not None and getattr(telemetry, "run_sync", None) is not None:
        telemetry.run_sync = run_inline  # type: ignore[attr-defined]
    return True


def _run_in_process(args: Any, *popenargs: Any, capture_output: bool = False, text: bool | None = None,
                    check: bool = False, **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """``subprocess.run([sys.executable, "-c", code], ...)`` without a process: the code runs here.

    Output is captured when asked (``capture_output=True``), as text or bytes;
    the exit status is 0, the ``SystemExit`` code, or 1 with the traceback on
    stderr. Any other command raises the one-line :func:`unavailable` error.

    >>> done = _run_in_process([sys.executable, "-c", "print('hi'); raise SystemExit(3)"], capture_output=True, text=True)
    >>> done.returncode, done.stdout
    (3, 'hi\\n')
    """
    argv = list(args) if isinstance(args, (list, tuple)) else None
    if not (argv and len(argv) == 3 and argv[0] == sys.executable and argv[1] == "-c" and isinstance(argv[2], str)):
        raise unavailable(f"start a process ({args!r})")
    out, err = io.StringIO(), io.StringIO()
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    status: Any = 0
    saved_argv = sys.argv
    sys.argv = ["-c"]
    try:
        with redirect_stdout(out if capture_output else sys.stdout), redirect_stderr(err if capture_output else sys.stderr):
            try:
                exec(compile(argv[2], "<string>", "exec"), namespace)
            except SystemExit as exc:
                status = exc.code
                if status is not None and not isinstance(status, int):
                    print(status, file=sys.stderr)
                    status = 1
            except BaseException:
                traceback.print_exc()
                status = 1
    finally:
        sys.argv = saved_argv
    returncode = 0 if status is None else status
    stdout: Any = out.getvalue() if capture_output else None
    stderr: Any = err.getvalue() if capture_output else None
    if capture_output and not (text or kwargs.get("encoding") or kwargs.get("universal_newlines")):
        stdout, stderr = stdout.encode(), stderr.encode()
    done = subprocess.CompletedProcess(argv, returncode, stdout, stderr)
    if check:
        done.check_returncode()
    return done


_run_in_process._cors_lab_in_process = True  # type: ignore[attr-defined]


DRIVE = "/drive"  # where JupyterLite mounts the site's files in the kernel


def read_site_file(path: str | os.PathLike[str]) -> str | None:
    """The text of one of the course's files, read from the site when the kernel cannot see it.

    JupyterLite shows the site's files to the kernel under ``/drive`` (and starts
    it in the notebook's folder there) through a service worker, which browsers
    allow only on ``https://`` pages and ``localhost``. On a plain ``http://``
    address (a laptop serving a room) there is no drive: the kernel starts in
    its home folder and does not know the notebook's. The kernel runs in a web
    worker, where a synchronous request is allowed, so a relative path is looked
    for on the site, under its top folder and each of its folders (the caller
    checks the content is the one it wants). None when it cannot be had.
    """
    absolute = os.path.abspath(path)
    if absolute.startswith(DRIVE + "/"):
        candidates = [absolute[len(DRIVE) + 1:]]
    elif not os.path.isabs(path) and not os.getcwd().startswith(DRIVE):
        relative = Path(path).as_posix()
        candidates = [relative] + [f"{folder}/{relative}" for folder in _site_folders()]
    else:
        return None
    root = _site_root()
    for candidate in candidates:
        text = _get(f"{root}/files/{quote(candidate)}") if root else None
        if text is not None:
            return text
    return None


def _site_root() -> str | None:
    try:
        import js  # type: ignore[import-not-found]  # Pyodide's bridge to the worker's JavaScript
    except ImportError:
        return None
    worker = str(js.location.href)  # .../extensions/@jupyterlite/pyodide-kernel-extension/static/...worker.js
    return worker.split("/extensions/", 1)[0] if "/extensions/" in worker else None


def _get(url: str) -> str | None:
    """A synchronous GET (allowed in a web worker); None unless it answers 200."""
    try:
        import js  # type: ignore[import-not-found]

        request = js.XMLHttpRequest.new()
        request.open("GET", url, False)
        request.send(None)
        return str(request.responseText) if request.status == 200 else None
    except Exception:  # no network, not in a worker
        return None


def _site_folders() -> list[str]:
    import json

    root = _site_root()
    listing = _get(f"{root}/api/contents/all.json") if root else None
    try:
        return sorted(item["path"] for item in json.loads(listing or "{}").get("content", []) if item.get("type") == "directory")
    except (ValueError, AttributeError, TypeError):
        return []


class _NoIO:
    """The selector of a loop that has nothing to select: it only waits for the next timer."""

    def select(self, timeout: float | None) -> list[Any]:
        if timeout is None:
            # No ready callback, no timer, no I/O that could ever wake the loop.
            raise RuntimeError("the lab's job is waiting for something that cannot happen here (I/O or a thread)")
        if timeout > 0:
            time.sleep(timeout)
        return []

    def close(self) -> None:
        pass


class InlineLoop(asyncio.BaseEventLoop):
    """An asyncio event loop with no I/O: ready callbacks and timers, run in the calling thread.

    Enough for in-process ASGI calls, which never touch a socket. Unlike
    Pyodide's ``WebLoop``, its ``run_until_complete`` blocks until the future
    is done, so a sync call can return the result.

    >>> loop = InlineLoop()
    >>> loop.run_until_complete(asyncio.sleep(0.01, result="done"))
    'done'
    >>> loop.close()
    """

    def __init__(self) -> None:
        super().__init__()
        self._selector = _NoIO()

    def _process_events(self, event_list: list[Any]) -> None:
        pass

    def _write_to_self(self) -> None:
        # call_soon_threadsafe's wake-up: there is no other thread to wake us.
        pass


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The loop the runner uses: :class:`InlineLoop` in Pyodide, asyncio's default elsewhere."""
    return InlineLoop() if IN_BROWSER else asyncio.new_event_loop()
