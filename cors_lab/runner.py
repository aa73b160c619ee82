"""Run the lab's coroutines from synchronous code: in a script, inside Jupyter, and in Pyodide.

Every public call of the lab is synchronous, so a learner never writes
``await``. Under the hood the apps are ASGI coroutines. Three facts decide how
they are driven (measured with FastAPI 0.165 and Starlette 1.10):

1. anyio runs sync routes (``def`` endpoints) in worker threads that belong to
   the event loop's *root task* and stop when it ends. Entering a loop anew for
   every call (``asyncio.run``, or ``run_until_complete`` of each request) makes
   every request its own root task and starts fresh threads: about 2.2x the
   cost of the ASGI call itself. So each thread keeps one private loop whose
   long-lived root task runs the jobs, and the loop is driven with
   ``run_until_complete`` of a plain future, which anyio never takes for a root
   (the root task introduces itself to anyio instead).
2. A Jupyter kernel's thread already runs a loop, and asyncio refuses to run a
   second one while a loop is marked as running in the thread. The usual ways
   out cost a thread hop per call (a loop in a background thread, about 80 to
   150 microseconds) or patch asyncio (nest_asyncio: archived, broken on Python
   3.14 and uvloop). The kernel's loop cannot make progress during a sync call
   anyway (the call blocks its thread), so the runner sets the thread's
   *running loop* mark aside for the duration of the call, runs its own loop,
   and puts the mark back: no thread, no patch, the same speed as a script.
3. Pyodide (JupyterLite) has no threads at all, so the same in-thread design is
   the only one that works there too, with two changes made by
   :mod:`cors_lab.pyodide` when ``sys.platform == "emscripten"``: the private
   loop is an :class:`~cors_lab.pyodide.InlineLoop` (Pyodide's own ``WebLoop``
   cannot block in ``run_until_complete``), and anyio's thread pool, which runs
   sync routes and dependencies, is replaced by inline calls.

Runners are closed before the interpreter waits for non-daemon threads
(anyio's workers are such threads), so scripts exit promptly.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from cors_lab import pyodide as _pyodide

__all__ = ["run_sync"]

T = TypeVar("T")

# How long a job may ignore its cancellation after its timeout before the
# runner is declared stuck and replaced (a sync route blocked in a worker
# thread cannot be cancelled).
_GRACE = 1.0


class _Stuck(Exception):
    """A job outlived its timeout and its cancellation."""


class _Runner:
    """A private event loop whose long-lived root task runs jobs one at a time.

    The root task waits on a one-slot future for the next job, runs it, and
    settles the caller's future. A job's timeout is one timer: when it fires
    the root task is cancelled (the job sees ``CancelledError``, the caller
    ``TimeoutError``); if the job is still running after a grace period it is
    stuck, and the runner is marked broken and replaced.
    """

    def __init__(self) -> None:
        self.loop = _pyodide.new_event_loop()
        self._slot: asyncio.Future[tuple[Coroutine[Any, Any, Any], asyncio.Future[Any]]] = self.loop.create_future()
        self._timed_out = False
        self._root = self.loop.create_task(self._serve(), name="cors_lab runner root")
        self.broken = False

    async def _serve(self) -> None:
        _adopt_as_anyio_root()
        while True:
            job, future = await self._slot
            self._slot = self.loop.create_future()
            try:
                result = await job
            except asyncio.CancelledError:
                if not self._timed_out:
                    raise  # the runner itself is closing
                _settle(future, exception=TimeoutError())
            except BaseException as exc:  # handed back to the caller, raised there
                _settle(future, exception=exc)
            else:
                _settle(future, result=result)
            finally:
                if self._timed_out:
                    self._timed_out = False
                    while self._root.cancelling():
                        self._root.uncancel()

    def run(self, job: Coroutine[Any, Any, T], timeout: float | None) -> T:
        future: asyncio.Future[T] = self.loop.create_future()
        self._slot.set_result((job, future))
        timer = None if timeout is None else self.loop.call_later(timeout, self._expire, future)
        try:
            return self.loop.run_until_complete(future)
        except _Stuck:
            self.broken = True
            raise TimeoutError() from None
        finally:
            if timer is not None:
                timer.cancel()

    def _expire(self, future: asyncio.Future[Any]) -> None:
        if future.done():
            return
        self._timed_out = True
        self._root.cancel()
        self.loop.call_later(_GRACE, _settle, future, None, _Stuck())

    def close(self) -> None:
        """Cancel the root task (which stops anyio's worker threads) and close the loop."""
        if self.loop.is_closed() or self.loop.is_running():
            return
        self._root.cancel()
        try:
            # A job stuck in a worker thread can delay the root task's end; don't wait for ever.
            self.loop.run_until_complete(asyncio.wait([self._root], timeout=_GRACE))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()


def _adopt_as_anyio_root() -> None:
    """Tell anyio that the current task (the runner's root) is the loop's root task.

    anyio looks the root up on every call into its thread pool (every sync
    route) and remembers it only when the loop was entered with
    ``run_until_complete`` of that very task, which the runner avoids (see the
    module docstring). Left to search, it scans every task on each call: about
    10 us per request. anyio keeps the root in a private run variable; if a
    later anyio moves it, the search still gives the same answer, only slower.
    """
    try:
        from anyio._backends._asyncio import _root_task

        _root_task.set(asyncio.current_task())
    except Exception:  # pragma: no cover - another anyio: it searches, finding the same root
        return


def _settle(future: asyncio.Future[Any], result: Any = None, exception: BaseException | None = None) -> None:
    if future.done():
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)


_local = threading.local()
_lock = threading.Lock()
_all: list[_Runner] = []


def _runner_for_this_thread() -> _Runner:
    # Usually one runner per thread; a second one only when a job itself makes
    # a sync call (its runner's loop is then running and cannot be re-entered).
    runners: list[_Runner] | None = getattr(_local, "runners", None)
    if runners is None:
        runners = _local.runners = []
    for runner in runners:
        if not runner.loop.is_running() and not runner.broken:
            return runner
    runner = _Runner()
    runners.append(runner)
    with _lock:
        _all.append(runner)
    return runner


def _close_all() -> None:
    with _lock:
        runners = list(_all)
        _all.clear()
    for runner in runners:
        try:
            runner.close()
        except Exception:  # pragma: no cover - best effort at interpreter exit
            pass


def run_sync(job: Coroutine[Any, Any, T], *, timeout: float | None = None) -> T:
    """Run the coroutine ``job`` to completion from synchronous code and return its result.

    Works in a plain script, inside a running Jupyter kernel, and in Pyodide.
    After ``timeout`` seconds the job is cancelled and ``TimeoutError`` raised.

    >>> import asyncio
    >>> run_sync(asyncio.sleep(0, result=42))
    42
    """
    runner = _runner_for_this_thread()
    outer = asyncio._get_running_loop()
    if outer is None:
        return runner.run(job, timeout)
    # A loop runs in this thread (a Jupyter kernel); it is blocked by this call
    # anyway. Set its running mark aside while the private loop runs, and its
    # current task too: from Python 3.14 (Pyodide's, for one) the current task
    # is kept per thread, and asyncio refuses to enter the private loop's task
    # while the kernel's cell task is marked as running.
    outer_task = _swap_current_task(outer, None)
    asyncio._set_running_loop(None)
    try:
        return runner.run(job, timeout)
    finally:
        asyncio._set_running_loop(outer)
        _swap_current_task(outer, outer_task)


def _swap_current_task(loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any] | None) -> asyncio.Task[Any] | None:
    swap = getattr(asyncio.tasks, "_swap_current_task", None)  # Python 3.12+
    return swap(loop, task) if swap is not None else None


if _pyodide.IN_BROWSER:
    _pyodide.install()

try:
    # Runs before the interpreter joins non-daemon threads (anyio's workers).
    threading._register_atexit(_close_all)  # type: ignore[attr-defined]
except (AttributeError, RuntimeError):  # pragma: no cover - other interpreters
    import atexit

    atexit.register(_close_all)
