"""``versions.compare``: one scenario against several Starlette (and FastAPI) releases.

Starlette's CORS answers changed over the years (the version history is in the
course's reference: the Cookie heuristic until 1.0, ``re.match`` until 0.13.1,
safelisted headers until 0.13.3, ``Vary`` until 1.7, ...). To show a reported
bug on the release the reporter had, each release gets its own virtual
environment, made on first use and cached::

    from cors_lab import versions

    scenario = versions.Scenario(
        app='''
    from starlette.applications import Starlette
    from starlette.middleware.cors import CORSMiddleware
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def items(request):
        return JSONResponse([])

    app = Starlette(routes=[Route("/items", items)])
    app = CORSMiddleware(app, allow_origins=["*"], allow_credentials=True)
    ''',
        requests=[versions.Fetch("/items", credentials="include")],
    )
    versions.compare(scenario, starlette=["0.52.1", "1.10.0"])

How it works, and why:

- Old releases cannot run the lab (it needs a recent Starlette), so nothing of
  cors_lab is imported there. A standalone driver (``_version_driver.py``)
  builds the app in the old environment and calls it with raw ASGI scopes; it
  answers the ``http.response.*`` messages as JSON.
- In this process a :class:`RemoteApp` stands in for that app: an ASGI app
  that forwards each request to the driver and replays its messages. The
  lab's :class:`~cors_lab.Browser` fetches from it exactly as from a local
  app, so preflights, cookies and the console message come from the same
  browser model the course uses.
- An environment is a ``python -m venv`` under the cache directory
  (``~/.cache/cors-lab/envs`` by default; ``CORS_LAB_ENVS`` or
  ``cache_dir=`` change it) with the pinned releases installed by pip from
  the package index. It is reused on every later call. A release the lab's
  own environment already has (Starlette 1.10.0 here) needs no new
  environment.
- When an environment cannot be made (no network, no such release, no
  release for this Python), the table says so for that version and still
  shows the others.
- ``stored=`` names a JSON file of recorded results: versions whose
  environment is not built are shown from it (``Matrix.note`` says which),
  so a notebook shows the same table with or without the environments.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import html
import importlib.metadata
import inspect
import json as jsonlib
import os
import platform
import queue
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cors_lab import pyodide as _pyodide
from cors_lab.browser import Browser
from cors_lab.fetch.cookies import Cookie
from cors_lab.fetch.urls import parse_url, same_site
from cors_lab.messages import Exchange, HeadersInput, Request, Response, normalize_headers, reason_phrase
from cors_lab.server import Server
from cors_lab.transport import DEFAULT_APP_ORIGIN, send

__all__ = [
    "CACHE_ENV_VAR",
    "RECORD_ENV_VAR",
    "Environment",
    "EnvironmentUnavailable",
    "Fetch",
    "Matrix",
    "Outcome",
    "RemoteApp",
    "Run",
    "Scenario",
    "Send",
    "cache_dir",
    "compare",
    "environment",
    "starlette_app",
]

#: The environment variable that moves the cache of environments.
CACHE_ENV_VAR = "CORS_LAB_ENVS"
#: Set to ``1`` to make every ``compare(..., stored=...)`` build, run live and re-record its stored results.
RECORD_ENV_VAR = "CORS_LAB_RECORD"

_DRIVER = Path(__file__).with_name("_version_driver.py")
_MARKER = "cors-lab-env.json"
_VERSION = re.compile(r"^[0-9][0-9A-Za-z.+!-]*$")
_MISSING: Any = object()


# -- Where environments live ------------------------------------------------------------------


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The directory that holds the environments: ``override``, else ``$CORS_LAB_ENVS``, else the user cache.

    The user cache is ``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux,
    ``~/Library/Caches`` on macOS and ``%LOCALAPPDATA%`` on Windows, each
    followed by ``cors-lab/envs``.
    """
    if override is not None:
        return Path(override).expanduser()
    from_env = os.environ.get(CACHE_ENV_VAR)
    if from_env:
        return Path(from_env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "cors-lab" / "envs"


class EnvironmentUnavailable(RuntimeError):
    """An environment for some pinned releases could not be made or started.

    ``kind`` is ``"network"`` (the package index could not be reached),
    ``"no-such-version"``, ``"python"`` (no release installs on this
    Python), ``"not-built"`` (building was not allowed) or ``"other"``.
    """

    def __init__(self, requirements: Sequence[str], kind: str, reason: str) -> None:
        self.requirements = tuple(requirements)
        self.kind = kind
        self.reason = reason
        super().__init__(f"{' '.join(requirements)}: {reason}")


def _installed(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _classify_pip_failure(output: str, requirements: Sequence[str]) -> tuple[str, str]:
    """``(kind, one-line reason)`` for a failed ``pip install``."""
    lowered = output.lower()
    network_signs = (
        "newconnectionerror", "failed to establish a new connection", "temporary failure in name resolution",
        "name or service not known", "network is unreachable", "connecttimeout", "read timed out",
        "proxyerror", "could not fetch url", "connection refused", "max retries exceeded",
    )
    if any(sign in lowered for sign in network_signs):
        return "network", "the package index could not be reached (no network?)"
    if "requires a different python" in lowered or "requires-python" in lowered:
        return "python", f"no release installs on Python {platform.python_version()}"
    match = re.search(r"could not find a version that satisfies the requirement (\S+) \(from versions: ([^)]*)\)", output, re.I)
    if match:
        wanted, available = match.group(1), match.group(2).strip()
        if available == "none":
            return "network", f"the package index has no release of {wanted} (or could not be reached)"
        shown = ", ".join(available.split(", ")[-6:])
        return "no-such-version", f"no such release: {wanted} (the index has ... {shown})"
    last = [line for line in output.strip().splitlines() if line.strip()]
    return "other", (last[-1].strip() if last else "pip failed without a message")


@dataclass(frozen=True)
class Environment:
    """A set of pinned releases (``("starlette==0.14.2",)``) and where they are installed.

    ``python`` is the interpreter to run the driver with: the lab's own
    interpreter when it already has exactly these releases (``current``),
    else the one inside ``path``.
    """

    requirements: tuple[str, ...]
    path: Path
    current: bool = False

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def label(self) -> str:
        """``"starlette 0.14.2"`` or ``"fastapi 0.65.2 + starlette 0.14.2"``."""
        return " + ".join(req.replace("==", " ") for req in self.requirements)

    @property
    def python(self) -> Path:
        if self.current:
            return Path(sys.executable)
        bindir = "Scripts" if sys.platform == "win32" else "bin"
        exe = "python.exe" if sys.platform == "win32" else "python"
        return self.path / bindir / exe

    @property
    def ready(self) -> bool:
        """True when the environment exists and finished installing (or is the lab's own)."""
        return self.current or ((self.path / _MARKER).is_file() and self.python.exists())

    def ensure(self, *, build: bool = True, timeout: float = 600.0) -> Environment:
        """Make the environment if it is missing (``build=True``); raise :class:`EnvironmentUnavailable` if it cannot be."""
        if self.ready:
            return self
        if _pyodide.IN_BROWSER:
            raise EnvironmentUnavailable(
                self.requirements, "not-built", "the course in the browser (JupyterLite) cannot install other releases"
            )
        if not build:
            raise EnvironmentUnavailable(
                self.requirements, "not-built", f"environment not built (it would be {self.path.name} in the cache)"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _lock(self.path.parent / f".{self.path.name}.lock"):
            if self.ready:  # another process built it while we waited
                return self
            _build(self, timeout=timeout)
        return self


class _lock:
    """An exclusive file lock (POSIX); elsewhere a no-op."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: Any = None

    def __enter__(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return
        self.handle = open(self.path, "w")
        fcntl.flock(self.handle, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


def _build(env: Environment, *, timeout: float) -> None:
    if env.path.exists():
        # A build that was interrupted: only remove what we made (it has our "building" note).
        if (env.path / "cors-lab-building").exists():
            shutil.rmtree(env.path)
        else:
            raise EnvironmentUnavailable(
                env.requirements, "other", f"{env.path} exists and was not made by cors_lab; remove it or choose another cache_dir"
            )
    have_pip = _installed("pip") is not None
    venv = [sys.executable, "-m", "venv", str(env.path)]
    if have_pip:
        venv.insert(3, "--without-pip")  # pip from this environment installs into it: faster than ensurepip
    made = subprocess.run(venv, capture_output=True, text=True, timeout=timeout)
    if made.returncode != 0:
        raise EnvironmentUnavailable(env.requirements, "other", f"python -m venv failed: {made.stderr.strip()[-300:]}")
    (env.path / "cors-lab-building").write_text("an interrupted build; cors_lab removes it on the next try\n")
    if have_pip:
        pip = [sys.executable, "-m", "pip", "--python", str(env.python)]
    else:  # pragma: no cover - a Python without pip
        pip = [str(env.python), "-m", "pip"]
    command = [*pip, "install", "--disable-pip-version-check", "--no-input", "--retries", "1", "--timeout", "20",
               *env.requirements]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        shutil.rmtree(env.path, ignore_errors=True)
        raise EnvironmentUnavailable(env.requirements, "network", f"pip did not finish within {timeout:g} s") from None
    if done.returncode != 0:
        shutil.rmtree(env.path, ignore_errors=True)
        kind, reason = _classify_pip_failure(done.stdout + "\n" + done.stderr, env.requirements)
        raise EnvironmentUnavailable(env.requirements, kind, reason)
    (env.path / "cors-lab-building").unlink()
    (env.path / _MARKER).write_text(jsonlib.dumps({"requirements": list(env.requirements)}, indent=1) + "\n")


def _pins(starlette: Sequence[str] | str | None, fastapi: Sequence[str] | str | None) -> list[tuple[str, ...]]:
    def as_list(value: Sequence[str] | str | None, name: str) -> list[str] | None:
        if value is None:
            return None
        values = [value] if isinstance(value, str) else list(value)
        for v in values:
            if not isinstance(v, str) or not _VERSION.match(v):
                raise ValueError(f"{name} versions must be release numbers such as '0.14.2', got {v!r}")
        return values

    s, f = as_list(starlette, "starlette"), as_list(fastapi, "fastapi")
    if s is None and f is None:
        raise ValueError("give the releases to compare: starlette=['0.14.2', '1.10.0'] and/or fastapi=[...]")
    if s is not None and f is not None:
        if len(f) == 1 and len(s) > 1:
            f = f * len(s)
        if len(s) != len(f):
            raise ValueError(
                f"starlette= and fastapi= pair up release by release; got {len(s)} Starlette and {len(f)} FastAPI releases"
            )
        return [(f"fastapi=={fv}", f"starlette=={sv}") for fv, sv in zip(f, s)]
    if s is not None:
        return [(f"starlette=={v}",) for v in s]
    return [(f"fastapi=={v}",) for v in f]  # type: ignore[union-attr]


def environment(
    *requirements: str, cache_dir: str | os.PathLike[str] | None = None
) -> Environment:
    """The :class:`Environment` for pinned requirements, e.g. ``environment("starlette==0.14.2")`` (not built yet)."""
    if not requirements:
        raise ValueError("give at least one pinned requirement, e.g. environment('starlette==0.14.2')")
    pins = tuple(sorted(requirements))
    for pin in pins:
        name, sep, version = pin.partition("==")
        if not sep or not name or not _VERSION.match(version):
            raise ValueError(f"requirement {pin!r} is not pinned; write it as 'name==version', e.g. 'starlette==0.14.2'")
    current = all(_installed(p.split("==")[0]) == p.split("==")[1] for p in pins)
    py = f"py{sys.version_info.major}.{sys.version_info.minor}"
    name = "-".join([py, *(p.replace("==", "-") for p in pins)])
    return Environment(requirements=pins, path=cache_dir_path(cache_dir) / name, current=current)


cache_dir_path = cache_dir  # the keyword argument of environment() shadows the function


# -- The driver: a process in an environment that answers ASGI calls -------------------------


class _Driver:
    """One ``_version_driver.py`` process, reused for every scenario run in its environment."""

    def __init__(self, env: Environment, *, timeout: float) -> None:
        self.env = env
        self.timeout = timeout
        # -I: no user site-packages, no PYTHON* variables: only what the environment has.
        self.process = subprocess.Popen(
            [str(env.python), "-I", str(_DRIVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, name=f"cors-lab driver {env.name}", daemon=True).start()
        self.versions: dict[str, str | None] = self.ask({"op": "versions"})["versions"]
        self.loaded: str | None = None

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        if not self.alive:
            raise EnvironmentUnavailable(self.env.requirements, "other", "the driver process exited")
        assert self.process.stdin is not None
        self.process.stdin.write(jsonlib.dumps(command) + "\n")
        self.process.stdin.flush()
        try:
            line = self._lines.get(timeout=self.timeout)
        except queue.Empty:
            self.close()
            raise TimeoutError(f"{self.env.label}: the app did not answer within {self.timeout:g} s") from None
        if line is None:
            raise EnvironmentUnavailable(self.env.requirements, "other", "the driver process exited")
        return jsonlib.loads(line)

    def load(self, source: str, call: str | None) -> None:
        key = hashlib.sha256(f"{call}\0{source}".encode()).hexdigest()
        if self.loaded == key:
            return
        reply = self.ask({"op": "load", "source": source, "call": call})
        if not reply.get("ok"):
            self.loaded = None
            raise ScenarioError(f"{self.env.label}: building the scenario's app failed: {reply.get('error')}")
        self.loaded = key

    def close(self) -> None:
        if self.process.poll() is None:
            if self.process.stdin is not None:
                self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class ScenarioError(RuntimeError):
    """The scenario's app could not be built in an environment (it raised, or imported something missing)."""


_DRIVERS: dict[Path, _Driver] = {}
_DRIVERS_LOCK = threading.Lock()


class _InProcessDriver:
    """The driver's commands answered in this interpreter, for the lab's own releases in Pyodide.

    The course in the browser (JupyterLite) cannot start a process, so the
    release the lab itself runs is driven here, with the same commands and
    replies as :class:`_Driver`; other releases show their stored results.
    """

    alive = True

    def __init__(self, env: Environment, *, timeout: float) -> None:
        from cors_lab import _version_driver

        self.env = env
        self.timeout = timeout
        self._module = _version_driver
        self.versions: dict[str, str | None] = _version_driver._versions()
        self.loaded: str | None = None

    def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        from cors_lab.runner import run_sync

        module = self._module
        try:
            if command.get("op") == "call" and module.APP is not None:
                # handle() would run its own loop, and this is called from inside the lab's.
                body = base64.b64decode(command.get("body", ""))
                return run_sync(module._call(module._scope(command["scope"]), body), timeout=self.timeout)
            return module.handle(command)
        except Exception as exc:  # as the process reports it
            return {"ok": False, "error": module._summary(exc), "traceback": traceback.format_exc()}

    load = _Driver.load

    def close(self) -> None:
        pass


def _driver_for(env: Environment, *, timeout: float) -> _Driver:
    with _DRIVERS_LOCK:
        driver = _DRIVERS.get(env.python)
        if driver is None or not driver.alive:
            kind = _InProcessDriver if env.current and _pyodide.IN_BROWSER else _Driver
            driver = _DRIVERS[env.python] = kind(env, timeout=timeout)  # type: ignore[assignment]
        driver.timeout = timeout
        return driver


@atexit.register
def _close_drivers() -> None:
    for driver in list(_DRIVERS.values()):
        driver.close()
    _DRIVERS.clear()


class RemoteApp:
    """An ASGI app in this process that forwards each request to the app built in another environment.

    The response is replayed message by message; if the remote app raised,
    this raises too (a ``RuntimeError`` naming the remote exception), so the
    lab answers with the 500 a server would send, exactly as for a local app.
    """

    def __init__(self, driver: _Driver) -> None:
        self._driver = driver

    @property
    def versions(self) -> dict[str, str | None]:
        return dict(self._driver.versions)

    def __repr__(self) -> str:
        return f"<RemoteApp in {self._driver.env.label}>"

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] == "lifespan":  # nothing to start: the driver has no lifespan
            message = await receive()
            await send({"type": f"{message['type']}.complete"})
            return
        if scope["type"] != "http":
            raise ValueError(f"RemoteApp handles only http scopes, got {scope['type']!r}")
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        wire_scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.1"},
            "http_version": scope.get("http_version", "1.1"),
            "method": scope["method"],
            "scheme": scope.get("scheme", "http"),
            "path": scope["path"],
            "raw_path": (scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
            "query_string": scope.get("query_string", b"").decode("latin-1"),
            "root_path": scope.get("root_path", ""),
            "headers": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in scope["headers"]],
            "client": list(scope["client"]) if scope.get("client") else None,
            "server": list(scope["server"]) if scope.get("server") else None,
            "extensions": {},
        }
        reply = self._driver.ask({"op": "call", "scope": wire_scope, "body": base64.b64encode(body).decode("ascii")})
        if not reply.get("ok"):
            raise RuntimeError(f"the driver failed: {reply.get('error')}")
        for message in reply["messages"]:
            if message["type"] == "http.response.start":
                headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in message["headers"]]
                await send({"type": "http.response.start", "status": message["status"], "headers": headers})
            else:
                await send({
                    "type": "http.response.body",
                    "body": base64.b64decode(message["body"]),
                    "more_body": message["more_body"],
                })
        if reply.get("error"):
            raise RuntimeError(f"(raised in {self._driver.env.label}) {reply['error']}")


# -- Scenarios --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Fetch:
    """A request made by the page's script, through the lab's browser model (``Browser.fetch``'s arguments).

    ``origin`` is the page's origin (default: the scenario's); ``cookies``
    are cookies the browser already holds for the API (``{"session": "abc"}``),
    sent when the credentials mode lets them be.
    """

    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | bytes | None = None
    json: Any = _MISSING
    credentials: str = "same-origin"
    mode: str = "cors"
    origin: str | None = None
    cookies: tuple[tuple[str, str], ...] = ()

    def __init__(self, path: str, *, method: str = "GET", headers: HeadersInput = None, body: str | bytes | None = None,
                 json: Any = _MISSING, credentials: str = "same-origin", mode: str = "cors", origin: str | None = None,
                 cookies: dict[str, str] | Iterable[tuple[str, str]] | None = None) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "headers", normalize_headers(headers))
        object.__setattr__(self, "body", body)
        object.__setattr__(self, "json", json)
        object.__setattr__(self, "credentials", credentials)
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "origin", origin)
        pairs = cookies.items() if isinstance(cookies, dict) else (cookies or ())
        object.__setattr__(self, "cookies", tuple((str(n), str(v)) for n, v in pairs))

    def label(self, default_origin: str) -> str:
        parts = [f"fetch {self.method} {self.path}"]
        if self.origin and self.origin != default_origin:
            parts.append(f"from {self.origin}")
        if self.credentials != "same-origin":
            parts.append(f"credentials={self.credentials}")
        if self.mode != "cors":
            parts.append(f"mode={self.mode}")
        if self.headers:
            parts.append("headers: " + ", ".join(n for n, _ in self.headers))
        if self.json is not _MISSING:
            parts.append("JSON body")
        elif self.body is not None:
            parts.append("body")
        if self.cookies:
            parts.append("with cookie " + ", ".join(n for n, _ in self.cookies))
        return ", ".join(parts[:1]) + (" (" + "; ".join(parts[1:]) + ")" if len(parts) > 1 else "")

    def key(self) -> dict[str, Any]:
        return {
            "kind": "fetch", "path": self.path, "method": self.method, "headers": [list(h) for h in self.headers],
            "body": _jsonable_body(self.body), "json": None if self.json is _MISSING else jsonlib.dumps(self.json, sort_keys=True),
            "credentials": self.credentials, "mode": self.mode, "origin": self.origin, "cookies": [list(c) for c in self.cookies],
        }


@dataclass(frozen=True, kw_only=True)
class Send:
    """A raw request (``cors_lab.send``): exactly these headers, no browser. Its verdict column stays empty."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: str | bytes | None = None

    def __init__(self, method: str, path: str, *, headers: HeadersInput = None, body: str | bytes | None = None) -> None:
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "headers", normalize_headers(headers))
        object.__setattr__(self, "body", body)

    def label(self, default_origin: str) -> str:
        shown = ", ".join(f"{n}: {v}" for n, v in self.headers)
        return f"send {self.method} {self.path}" + (f" ({shown})" if shown else "")

    def key(self) -> dict[str, Any]:
        return {"kind": "send", "method": self.method, "path": self.path, "headers": [list(h) for h in self.headers],
                "body": _jsonable_body(self.body)}


def _jsonable_body(body: str | bytes | None) -> Any:
    if body is None or isinstance(body, str):
        return body
    return {"base64": base64.b64encode(body).decode("ascii")}


@dataclass(frozen=True)
class Scenario:
    """An app and the requests to make to it, runnable in any environment.

    ``app`` is Python source that defines ``app`` (imports included), or a
    self-contained function that builds and returns the app (its source is
    sent to the environment, so it may use only its own imports and
    arguments-free code). ``requests`` are :class:`Fetch` and :class:`Send`
    items, made in order by one browser per page origin.
    """

    app: str | Callable[[], Any]
    requests: tuple[Fetch | Send, ...]
    origin: str = "http://localhost:3000"
    api_origin: str = DEFAULT_APP_ORIGIN
    title: str | None = None

    def __init__(self, app: str | Callable[[], Any], requests: Iterable[Fetch | Send], *,
                 origin: str = "http://localhost:3000", api_origin: str = DEFAULT_APP_ORIGIN, title: str | None = None) -> None:
        requests = tuple(requests)
        if not requests:
            raise ValueError("a scenario needs at least one request: versions.Fetch('/items') or versions.Send('GET', '/items')")
        for item in requests:
            if not isinstance(item, (Fetch, Send)):
                raise TypeError(f"requests must be versions.Fetch or versions.Send items, got {type(item).__name__} {item!r}")
        if not (isinstance(app, str) or callable(app)):
            raise TypeError(f"app must be Python source defining 'app', or a function returning the app; got {type(app).__name__}")
        object.__setattr__(self, "app", app)
        object.__setattr__(self, "requests", requests)
        object.__setattr__(self, "origin", origin)
        object.__setattr__(self, "api_origin", api_origin)
        object.__setattr__(self, "title", title)

    def source(self) -> tuple[str, str | None]:
        """``(source text, name of the function to call or None)`` as the driver receives it."""
        if isinstance(self.app, str):
            return textwrap.dedent(self.app), None
        try:
            text = textwrap.dedent(inspect.getsource(self.app))
        except (OSError, TypeError) as exc:
            raise ScenarioError(
                f"cannot read the source of {self.app!r} ({exc}); give the app as source text instead"
            ) from None
        return text, self.app.__name__

    def fingerprint(self) -> str:
        """A short hash of the app source and the requests: stored results are only used for the same scenario."""
        source, call = self.source()
        data = jsonlib.dumps(
            {"source": source, "call": call, "requests": [r.key() for r in self.requests], "origin": self.origin,
             "api_origin": self.api_origin},
            sort_keys=True,
        )
        return hashlib.sha256(data.encode()).hexdigest()[:16]


_STARLETTE_APP = """\
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route


async def items(request):
    return JSONResponse([{{"id": 1, "name": "apple"}}])


async def login(request):
    response = JSONResponse({{"user": "ada"}})
    response.set_cookie("session", "ada-1", httponly=True)
    return response


async def me(request):
    if "session" not in request.cookies:
        return JSONResponse({{"detail": "not logged in"}}, status_code=401)
    return JSONResponse({{"user": "ada"}})


routes = [
    Route("/items", items, methods=["GET", "POST", "PUT", "DELETE"]),
    Route("/login", login, methods=["POST"]),
    Route("/me", me),
]
app = CORSMiddleware(Starlette(routes=routes), {options})
"""


def starlette_app(**cors_options: Any) -> str:
    """Source of the smallest app that runs on every Starlette release since 0.13, with ``CORSMiddleware(**cors_options)``.

    Routes: ``/items`` (GET, POST, PUT, DELETE), ``POST /login`` (sets a
    ``session`` cookie) and ``GET /me`` (401 without it). FastAPI's
    ``CORSMiddleware`` is this same class, so a Starlette-only app shows
    what a FastAPI app of the same release did, with one environment less
    to build.

    >>> "allow_origins=['*']" in starlette_app(allow_origins=["*"])
    True
    """
    options = ", ".join(f"{name}={_source_literal(value)}" for name, value in cors_options.items())
    return _STARLETTE_APP.format(options=options)


def _source_literal(value: Any) -> str:
    # A regex reads best as a raw string: r"https://.*\.example\.org", not 'https://.*\\.example\\.org'.
    if isinstance(value, str) and "\\" in value and not value.endswith("\\") and not set(value) & {'"', "\n", "\r"}:
        return f'r"{value}"'
    return repr(value)


# -- Results ----------------------------------------------------------------------------------

_CORS_RESPONSE_HEADERS = re.compile(r"^(access-control-|vary$)", re.I)


@dataclass(frozen=True)
class Outcome:
    """One request of a scenario against one release: what crossed the wire and what the browser decided.

    ``status`` is each exchange's ``METHOD status`` (``"OPTIONS 200 · PUT 200"``),
    with a short error body; ``cors_headers`` the ``Access-Control-*`` and
    ``Vary`` lines of the last response; ``verdict`` the browser's decision
    (``""`` for a raw :class:`Send`); ``console`` its console message.
    """

    request: str
    status: str
    cors_headers: tuple[tuple[str, str], ...]
    verdict: str
    console: str | None
    exchanges: tuple[Exchange, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def from_exchanges(cls, request: str, exchanges: Sequence[Exchange], *, verdict: str, console: str | None) -> Outcome:
        parts = []
        for exchange in exchanges:
            part = f"{exchange.request.method} {exchange.response.status}"
            response = exchange.response
            if response.status >= 400 and (response.header("content-type") or "").startswith("text/plain") and len(response.body) <= 60:
                part += f' "{response.text}"'
            parts.append(part)
        last = exchanges[-1].response.headers if exchanges else ()
        cors = tuple((n.lower(), v) for n, v in last if _CORS_RESPONSE_HEADERS.match(n))
        return cls(request, " · ".join(parts) or "nothing sent", cors, verdict, console, tuple(exchanges))

    def to_json(self) -> dict[str, Any]:
        return {
            "request": self.request, "status": self.status, "cors_headers": [list(h) for h in self.cors_headers],
            "verdict": self.verdict, "console": self.console, "exchanges": [_exchange_to_json(e) for e in self.exchanges],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        return cls(
            data["request"], data["status"], tuple(tuple(h) for h in data["cors_headers"]), data["verdict"], data["console"],
            tuple(_exchange_from_json(e) for e in data.get("exchanges", ())),
        )


def _exchange_to_json(exchange: Exchange) -> dict[str, Any]:
    req, res = exchange.request, exchange.response
    return {
        "request": {"method": req.method, "url": req.url, "headers": [list(h) for h in req.headers],
                    "body": req.body.decode("latin-1")},
        "response": {"status": res.status, "headers": [list(h) for h in res.headers], "body": res.body.decode("latin-1")},
        "error": exchange.error.summary if exchange.error is not None else None,
    }


def _exchange_from_json(data: dict[str, Any]) -> Exchange:
    from cors_lab.messages import AppError

    req, res = data["request"], data["response"]
    request = Request(req["method"], req["url"], tuple(tuple(h) for h in req["headers"]), req["body"].encode("latin-1"))
    response = Response(res["status"], reason_phrase(res["status"]), tuple(tuple(h) for h in res["headers"]),
                        res["body"].encode("latin-1"))
    error = AppError.protocol(data["error"]) if data.get("error") else None
    return Exchange(request=request, response=response, error=error)


@dataclass(frozen=True)
class Run:
    """One release's column: its label, the versions actually installed, where the results come from, and the outcomes.

    ``source`` is ``"live"`` (run now), ``"stored"`` (read from the
    ``stored=`` file) or ``"unavailable"`` (``error`` says why).
    """

    label: str
    requirements: tuple[str, ...]
    source: str
    outcomes: tuple[Outcome, ...] = ()
    installed: dict[str, str | None] = field(default_factory=dict)
    error: str | None = None

    @property
    def available(self) -> bool:
        return self.source != "unavailable"

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "requirements": list(self.requirements), "installed": self.installed,
                "outcomes": [o.to_json() for o in self.outcomes]}


@dataclass(frozen=True)
class Matrix:
    """The outcomes of one scenario on several releases, with what changed from one release to the next.

    ``str(matrix)`` is a text table; in Jupyter it renders as an HTML table
    with the changed cells marked. ``matrix.note`` says which columns were
    run live and which were read from stored results.
    """

    scenario: Scenario
    runs: tuple[Run, ...]
    engine: str = "chromium"
    stored_path: str | None = None
    stale: tuple[str, ...] = ()

    def outcome(self, label_or_version: str, index: int = 0) -> Outcome:
        """The outcome of request ``index`` on the release named ``label_or_version`` (``"1.10.0"`` works)."""
        for run in self.runs:
            if label_or_version == run.label or run.label.endswith(" " + label_or_version):
                if not run.available:
                    raise LookupError(f"{run.label} is unavailable: {run.error}")
                return run.outcomes[index]
        raise KeyError(f"no release {label_or_version!r} in this matrix; it has {', '.join(r.label for r in self.runs)}")

    @property
    def available(self) -> tuple[Run, ...]:
        return tuple(run for run in self.runs if run.available)

    def changes(self, index: int) -> list[tuple[str, list[str]]]:
        """For request ``index``: each available release and what differs from the previous one (``"status"``, ``"headers"``, ``"verdict"``)."""
        rows: list[tuple[str, list[str]]] = []
        previous: Outcome | None = None
        for run in self.available:
            outcome = run.outcomes[index]
            changed: list[str] = []
            if previous is not None:
                if outcome.status != previous.status:
                    changed.append("status")
                if outcome.cors_headers != previous.cors_headers:
                    changed.append("headers")
                if outcome.verdict != previous.verdict:
                    changed.append("verdict")
            rows.append((run.label, changed))
            previous = outcome
        return rows

    @property
    def note(self) -> str:
        """One line: which releases ran live, which came from stored results, which are unavailable."""
        live = [r.label for r in self.runs if r.source == "live"]
        stored = [r.label for r in self.runs if r.source == "stored"]
        missing = [r.label for r in self.runs if r.source == "unavailable"]
        parts = []
        if live:
            parts.append("run live: " + ", ".join(live))
        if stored:
            parts.append(f"stored results (environment not built): {', '.join(stored)}, from {self.stored_path}")
        if missing:
            parts.append("unavailable: " + ", ".join(missing))
        if self.stale:
            parts.append("live results differ from the stored ones for " + ", ".join(self.stale) + " (record=True updates them)")
        return "; ".join(parts)

    def _consoles(self) -> list[str]:
        seen: list[str] = []
        for run in self.available:
            for outcome in run.outcomes:
                if outcome.console and outcome.console not in seen:
                    seen.append(outcome.console)
        return seen

    def __str__(self) -> str:
        consoles = self._consoles()
        lines: list[str] = []
        if self.scenario.title:
            lines += [self.scenario.title, ""]
        for index, request in enumerate(self.scenario.requests):
            lines.append(request.label(self.scenario.origin))
            changes = dict(self.changes(index))
            rows = [("release", "status", "CORS headers", "browser", "changed")]
            for run in self.runs:
                if not run.available:
                    rows.append((run.label, "unavailable (below)", "", "", ""))
                    continue
                outcome = run.outcomes[index]
                verdict = outcome.verdict
                if outcome.console:
                    verdict += f" [{consoles.index(outcome.console) + 1}]"
                headers = "\n".join(f"{n}: {v}" for n, v in outcome.cors_headers) or "(none)"
                rows.append((run.label, outcome.status, headers, verdict or "-", ", ".join(changes.get(run.label, []))))
            lines += _text_table(rows)
            lines.append("")
        for number, console in enumerate(consoles, 1):
            lines.append(f"[{number}] {console}")
        for run in self.runs:
            if not run.available:
                lines.append(f"{run.label} unavailable: {run.error}")
        return "\n".join(lines).rstrip()

    def __repr__(self) -> str:
        return f"<Matrix {len(self.scenario.requests)} request(s) x {', '.join(r.label for r in self.runs)}>"

    def _repr_html_(self) -> str:
        consoles = self._consoles()
        cell = "border: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top;"
        mark = "background: #fff3c4;"
        out = ['<div class="cors-lab-versions" style="font-size: 12px;">']
        if self.scenario.title:
            out.append(f"<div><b>{html.escape(self.scenario.title)}</b></div>")
        for index, request in enumerate(self.scenario.requests):
            changes = dict(self.changes(index))
            out.append(f"<div style=\"margin-top: 6px;\"><code>{html.escape(request.label(self.scenario.origin))}</code></div>")
            out.append('<table style="border-collapse: collapse; margin: 2px 0 8px 0;">')
            out.append("<tr>" + "".join(f'<th style="{cell}">{h}</th>' for h in ("release", "status", "CORS headers", "browser")) + "</tr>")
            for run in self.runs:
                if not run.available:
                    out.append(
                        f'<tr><td style="{cell}">{html.escape(run.label)}</td>'
                        f'<td style="{cell} color: #b00020;" colspan="3">unavailable: {html.escape(run.error or "")}</td></tr>'
                    )
                    continue
                outcome = run.outcomes[index]
                changed = changes.get(run.label, [])
                headers = "<br>".join(html.escape(f"{n}: {v}") for n, v in outcome.cors_headers) or "(none)"
                verdict = html.escape(outcome.verdict or "-")
                if outcome.console:
                    verdict += f" <sup>[{consoles.index(outcome.console) + 1}]</sup>"
                cells = [
                    (html.escape(run.label), False),
                    (html.escape(outcome.status), "status" in changed),
                    (f"<code>{headers}</code>", "headers" in changed),
                    (verdict, "verdict" in changed),
                ]
                out.append("<tr>" + "".join(f'<td style="{cell}{mark if m else ""}">{c}</td>' for c, m in cells) + "</tr>")
            out.append("</table>")
        if consoles:
            items = "".join(f"<li>{html.escape(c)}</li>" for c in consoles)
            out.append(f'<ol style="margin: 2px 0; padding-left: 22px;">{items}</ol>')
        out.append('<div style="color: #666;">highlighted: changed from the release above</div></div>')
        return "".join(out)

    def to_json(self) -> dict[str, Any]:
        """What ``record=True`` stores: the scenario's fingerprint and every available release's outcomes."""
        return {
            "fingerprint": self.scenario.fingerprint(),
            "engine": self.engine,
            "runs": {run.label: run.to_json() for run in self.runs if run.available},
        }


def _text_table(rows: list[tuple[str, ...]]) -> list[str]:
    split = [[cell.split("\n") for cell in row] for row in rows]
    widths = [max(len(line) for row in split for line in row[i]) for i in range(len(rows[0]))]
    lines = []
    for row in split:
        height = max(len(cell) for cell in row)
        for k in range(height):
            parts = [(cell[k] if k < len(cell) else "").ljust(widths[i]) for i, cell in enumerate(row)]
            lines.append("  " + "  ".join(parts).rstrip())
    return lines


# -- compare ----------------------------------------------------------------------------------


def _run_scenario(app: Any, scenario: Scenario, *, engine: str) -> tuple[Outcome, ...]:
    server = Server(app, origin=scenario.api_origin)
    browsers: dict[str, Browser] = {}
    outcomes = []
    for item in scenario.requests:
        if isinstance(item, Send):
            exchange = send(server, item.method, item.path, headers=item.headers, body=item.body, timeout=30)
            outcomes.append(Outcome.from_exchanges(item.label(scenario.origin), [exchange], verdict="", console=None))
            continue
        page = item.origin or scenario.origin
        browser = browsers.get(page)
        if browser is None:
            browser = browsers[page] = Browser(origin=page, engine=engine, servers=[server], timeout=30)
        if item.cookies:
            api = parse_url(scenario.api_origin)
            for name, value in item.cookies:
                # Held from an earlier visit; SameSite=None so the jar sends it cross-site too.
                cross = not same_site(browser.page_origin, api.origin)
                browser.cookies.store(
                    Cookie(name, value, domain=api.host, secure=cross, same_site="none" if cross else "lax"), now=browser.now
                )
        kwargs: dict[str, Any] = {}
        if item.json is not _MISSING:
            kwargs["json"] = item.json
        result = browser.fetch(
            server, item.path, method=item.method, headers=item.headers, body=item.body, credentials=item.credentials,
            mode=item.mode, **kwargs,
        )
        if result.blocked:
            verdict = f"blocked ({result.error_kind})" if result.error_kind else "blocked"
        elif result.type == "opaque":
            verdict = "opaque (status 0)"
        else:
            verdict = f"allowed (script reads {result.status})"
        outcomes.append(Outcome.from_exchanges(item.label(scenario.origin), result.exchanges, verdict=verdict, console=result.console))
    return tuple(outcomes)


def _load_stored(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        text = _pyodide.read_site_file(path) if _pyodide.IN_BROWSER else None
        return jsonlib.loads(text) if text is not None else None
    return jsonlib.loads(path.read_text(encoding="utf-8"))


def compare(
    scenario: Scenario | str | Callable[[], Any],
    requests: Iterable[Fetch | Send] | None = None,
    *,
    starlette: Sequence[str] | str | None = None,
    fastapi: Sequence[str] | str | None = None,
    engine: str = "chromium",
    build: bool = True,
    stored: str | os.PathLike[str] | None = None,
    record: bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    timeout: float = 30.0,
) -> Matrix:
    """Run ``scenario`` on each release and return the :class:`Matrix` of outcomes.

    ``starlette=["0.14.2", "1.10.0"]`` pins Starlette alone (the scenario's
    app then uses only Starlette); ``fastapi=[...]`` pins FastAPI (pip picks
    its Starlette); both together pair up release by release. ``scenario`` is
    a :class:`Scenario`, or an app (source or function) with ``requests``.

    Environments are built on first use unless ``build=False``. With
    ``stored="results.json"``, releases whose environment is not available
    are shown from that file, if it holds results for this very scenario;
    ``record=True`` writes the live results into it (``record=None``, the
    default, records when the environment variable ``CORS_LAB_RECORD`` is
    ``1``, and then also builds: that is how the gallery's stored results are
    re-made). ``cache_dir`` (or ``$CORS_LAB_ENVS``) moves the environments.

    A release whose environment cannot be made is kept in the table as
    "unavailable", with the reason; the others are still run.
    """
    if not isinstance(scenario, Scenario):
        if requests is None:
            raise TypeError("give a versions.Scenario, or an app and requests=[versions.Fetch(...), ...]")
        scenario = Scenario(scenario, requests)
    elif requests is not None:
        raise TypeError("requests= is only for an app given without a Scenario; the Scenario already has its requests")
    pins = _pins(starlette, fastapi)
    if record is None:
        record = stored is not None and os.environ.get(RECORD_ENV_VAR) == "1"
        build = build or record
    source, call = scenario.source()
    stored_path = Path(stored) if stored is not None else None
    stored_data = _load_stored(stored_path) if stored_path is not None else None
    if stored_data is not None and stored_data.get("fingerprint") != scenario.fingerprint():
        stored_data = None  # results of another scenario: never shown as this one's
    runs: list[Run] = []
    stale: list[str] = []
    for requirement in pins:
        env = environment(*requirement, cache_dir=cache_dir)
        label = env.label
        try:
            env.ensure(build=build)
            driver = _driver_for(env, timeout=timeout)
            driver.load(source, call)
            outcomes = _run_scenario(RemoteApp(driver), scenario, engine=engine)
            run = Run(label, requirement, "live", outcomes, dict(driver.versions))
            if stored_data is not None and label in stored_data.get("runs", {}):
                if stored_data["runs"][label]["outcomes"] != [o.to_json() for o in outcomes]:
                    stale.append(label)
        except (EnvironmentUnavailable, ScenarioError, TimeoutError) as exc:
            kept = (stored_data or {}).get("runs", {}).get(label)
            not_built = isinstance(exc, EnvironmentUnavailable) and exc.kind == "not-built"
            if kept is not None and not_built:
                run = Run(label, requirement, "stored", tuple(Outcome.from_json(o) for o in kept["outcomes"]),
                          dict(kept.get("installed", {})))
            else:
                reason = exc.reason if isinstance(exc, EnvironmentUnavailable) else str(exc)
                run = Run(label, requirement, "unavailable", error=reason)
        runs.append(run)
    matrix = Matrix(scenario, tuple(runs), engine=engine, stored_path=str(stored) if stored is not None else None,
                    stale=tuple(stale))
    if record:
        if stored_path is None:
            raise ValueError("record=True needs stored='path/to/results.json'")
        _record(matrix, stored_path, stored_data)
    return matrix


def _record(matrix: Matrix, path: Path, previous: dict[str, Any] | None) -> None:
    data = matrix.to_json()
    # Keep stored releases this run could not reach, so recording on a machine without one loses nothing.
    if previous is not None:
        for label, run in previous.get("runs", {}).items():
            if label not in data["runs"]:
                data["runs"][label] = run
    data["runs"] = {run.label: data["runs"][run.label] for run in matrix.runs if run.label in data["runs"]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(jsonlib.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
