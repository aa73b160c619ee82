"""Run the lab's coroutines from synchronous code, in a script or inside Jupyter.

Every public call of the lab is synchronous, so a learner never writes
``await``. Under the hood the apps are ASGI coroutines, and two facts decide
how they are driven (measured with FastAPI 0.165 and Starlette 1.10):

- anyio runs sync routes (``def`` endpoints) in worker threads that belong to
  the event loop's *root task* and stop when it ends. Entering a loop anew for
  every call (``asyncio.run``, ``run_until_complete`` of each request) makes
  every request its own root task and starts fresh threads: about 2.2x the
  cost of the ASGI call itself. So each runner keeps one loop and one root
  task alive across calls, and the root task runs the jobs.
- A thread that already runs a loop (the Jupyter kernel's main thread) cannot
  run a second one, and patching asyncio to allow it (nest_asyncio) is not an
  option. Calls from such a thread go to one shared runner on a background
  thread: one thread hop per call, about 80 microseconds.

A thread without a running loop gets its own runner, driven in that thread with
``run_until_complete``: no hop at all. Runners are closed before the
interpreter waits for non-daemon threads (anyio's workers are such threads),
so a script exits promptly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")

# How long a job may ignore its cancellation after its timeout before the
# runner is declared stuck and replaced (a sync route blocked in a thread
# cannot be cancelled).
_GRACE = 1.0


class _Stuck(Exception):
    """A job outlived its timeout and its cancellation."""


class _Runner:
    """An event loop whose long-lived root task runs submitted jobs one at a time."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._jobs: asyncio.Queue[tuple[Coroutine[Any, Any, Any], Any, float | None]] = asyncio.Queue()
        self._root = self.loop.create_task(self._serve(), name="cors_lab runner root")
        self.broken = False

    async def _serve(self) -> None:
        while True:
            job, future, timeout = await self._jobs.get()
            if _done(future):
                job.close()
                continue
            try:
                async with asyncio.timeout(timeout):
                    result = await job
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # the runner itself is closing
                _settle(future, exception=RuntimeError("the job raised CancelledError"))
            except TimeoutError as exc:
                _settle(future, exception=exc if exc.args else TimeoutError())
            except BaseException as exc:  # handed back to the caller, raised there
                _settle(future, exception=exc)
            else:
                _settle(future, result=result)

    def submit(self, job: Coroutine[Any, Any, T], future: Any, timeout: float | None) -> None:
        self._jobs.put_nowait((job, future, timeout))

    def close(self) -> None:
        """Cancel the root task (which stops anyio's worker threads) and close the loop."""
        if self.loop.is_closed():
            return
        self._root.cancel()
        try:
            # A job stuck in a worker thread can delay the root task's end; don't wait for ever.
            self.loop.run_until_complete(asyncio.wait([self._root], timeout=_GRACE))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()


def _done(future: Any) -> bool:
    return future.done()


def _settle(future: Any, *, result: Any = None, exception: BaseException | None = None) -> None:
    if future.done():
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)


class _InThreadRunner(_Runner):
    """A runner driven by the thread that calls it (no running loop there)."""

    def run(self, job: Coroutine[Any, Any, T], timeout: float | None) -> T:
        future = self.loop.create_future()
        self.submit(job, future, timeout)
        expire = None
        if timeout is not None:
            expire = self.loop.call_later(timeout + _GRACE, _settle, future, None, _Stuck())
        try:
            return self.loop.run_until_complete(future)
        except _Stuck:
            self.broken = True
            raise TimeoutError() from None
        finally:
            if expire is not None:
                expire.cancel()


class _BackgroundRunner(_Runner):
    """A runner whose loop runs forever in a daemon thread of its own."""

    def __init__(self) -> None:
        super().__init__()
        self._thread = threading.Thread(target=self.loop.run_forever, name="cors_lab runner", daemon=True)
        self._thread.start()

    def run(self, job: Coroutine[Any, Any, T], timeout: float | None) -> T:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self.loop.call_soon_threadsafe(self.submit, job, future, timeout)
        try:
            return future.result(None if timeout is None else timeout + _GRACE)
        except concurrent.futures.TimeoutError:
            if not future.done():
                self.broken = True
                raise TimeoutError() from None
            return future.result()

    def close(self) -> None:
        if self.loop.is_closed():
            return
        done = threading.Event()

        def stop() -> None:
            self._root.cancel()
            self._root.add_done_callback(lambda _: self.loop.stop())
            done.set()

        self.loop.call_soon_threadsafe(stop)
        done.wait(1.0)
        self._thread.join(2.0)
        if not self._thread.is_alive():
            self.loop.close()


_local = threading.local()
_background: _BackgroundRunner | None = None
_lock = threading.Lock()
_all: list[_Runner] = []


def _register(runner: _Runner) -> None:
    with _lock:
        _all.append(runner)


def _close_all() -> None:
    with _lock:
        runners = list(_all)
        _all.clear()
    for runner in runners:
        try:
            runner.close()
        except Exception:  # pragma: no cover - best effort at interpreter exit
            pass


def _current_runner() -> _InThreadRunner | _BackgroundRunner:
    global _background
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        runner = getattr(_local, "runner", None)
        if runner is None or runner.broken or runner.loop.is_closed():
            runner = _InThreadRunner()
            _local.runner = runner
            _register(runner)
        return runner
    with _lock:
        if _background is None or _background.broken or _background.loop.is_closed():
            _background = _BackgroundRunner()
            _all.append(_background)
        return _background


def run_sync(job: Coroutine[Any, Any, T], *, timeout: float | None = None) -> T:
    """Run the coroutine ``job`` to completion from synchronous code and return its result.

    Works in a plain script and inside a running Jupyter kernel. ``timeout``
    (seconds) cancels the job and raises ``TimeoutError``.

    >>> import asyncio
    >>> run_sync(asyncio.sleep(0, result=42))
    42
    """
    return _current_runner().run(job, timeout)


def runner_loop() -> asyncio.AbstractEventLoop:
    """The event loop that :func:`run_sync` uses for calls from this thread."""
    return _current_runner().loop


try:
    # Runs before the interpreter joins non-daemon threads (anyio's workers).
    threading._register_atexit(_close_all)  # type: ignore[attr-defined]
except (AttributeError, RuntimeError):  # pragma: no cover - other interpreters
    import atexit

    atexit.register(_close_all)
