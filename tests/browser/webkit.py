"""Real WebKit (WebKitGTK 2.50) for the agreement harness: MiniBrowser under Xvfb, read over the Web Inspector protocol.

WebKitGTK shares WebCore and the network process's CORS code with Safari
(``CrossOriginAccessControl``, ``NetworkCORSPreflightChecker``,
``NetworkLoadChecker``), so its CORS decisions and console strings are
WebKit's; it is not Safari (libsoup instead of CFNetwork, no Intelligent
Tracking Prevention). Debian's ``webkit2gtk-driver`` package brings the engine
and the stock ``MiniBrowser``; there is no headless mode, so the runner starts
its own Xvfb (``-displayfd``: the server picks a free display itself).

Why the Web Inspector protocol, not WebDriver: WebKitWebDriver starts
MiniBrowser in an ephemeral automation session, and WebKit prints no console
messages for those; Debian's driver has no BiDi and no log endpoint either.
The inspector sees what Safari's Web Inspector console shows, including the
``Failed to load resource: ...`` line of the network source. Each MiniBrowser
gets ``WEBKIT_INSPECTOR_HTTP_SERVER=127.0.0.1:<free port>``; the runner reads
the target list from that address, opens the target's WebSocket, and talks to
the page through ``Target.sendMessageToTarget`` (``Console.enable``,
``Runtime.evaluate``, ``Runtime.awaitPromise``), collecting every
``Console.messageAdded`` event, whatever its level. Every answer from the page
takes about 40 ms (WebKit's relay between the page and its inspector server
waits for a delayed TCP acknowledgement), so a step costs two round trips and
nothing more: the page-loaded check travels with the first one, and console
lines arrive on the same ordered channel before the answer that ends the step.

A fresh browser per scenario: one ``MiniBrowser --private`` process per
scenario (its own ephemeral session: cookies, HTTP cache and the preflight
cache, which WebKit keeps per session and URL, start empty), started while the
previous scenario runs so that its start-up (about 0.3 s, 0.45 s of CPU across
its three processes) overlaps it. That CPU is most of the suite's time.

Host names and the network: WebKitGTK has no host-resolver override, so
MiniBrowser gets a SOCKS5 proxy (``--proxy=socks5://...``): :class:`LoopbackProxy`,
a few lines of asyncio in this process. WebKit hands it the host name; for the
scenario hosts (``app.test``, ``api.test``, ``other.test``) it connects to the
same port on 127.0.0.1 and relays bytes unchanged (requests, headers and
connection reuse are WebKit's own), and it refuses any other host without
connecting anywhere. ``127.0.0.1`` and ``localhost`` bypass the proxy
(``--ignore-host``), so the ``closed`` origin really is refused by the kernel.
WebKit therefore resolves no name itself, and DNS prefetching is off as well.
Checked by tracing every process of a whole run (``strace -f``, connect,
sendto and sendmsg): every connection went to 127.0.0.1 or to a local Unix
socket, and no datagram (no DNS query) was sent anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import json
import os
import re
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tests.browser.harness import Observation, World, _free_port, js_spec, observe, run_js_expression, steps_of

MINIBROWSER_GLOB = "/usr/lib/*/webkit2gtk-4.*/MiniBrowser"
INSTALL_HINT = "sudo apt-get install -y --no-install-recommends webkit2gtk-driver xvfb xauth"

LAUNCH_TIMEOUT = 20.0
COMMAND_TIMEOUT = 20.0
#: How long to keep listening after a step's answer (a margin: see LATE_CHECK).
GRACE = 0.01
SANDBOX_GRACE = 0.03
#: Debugging aid: seconds to keep listening after the grace (no line arrived that late over the whole
#: catalogue with 0.2 s).
LATE_CHECK = float(os.environ.get("CORS_LAB_WEBKIT_LATE_CHECK", "0"))
#: Browsers started ahead of the scenario that needs them (start-up overlaps the running scenario;
#: with two the CPU stays busy through each step's round trips: 75 s instead of 84 s for the catalogue).
AHEAD = 2


def minibrowser_path() -> str | None:
    """Debian's MiniBrowser (package webkit2gtk-driver pulls in the engine), or None."""
    found = sorted(glob.glob(MINIBROWSER_GLOB))
    return found[-1] if found else None


def webkit_path() -> str | None:
    """The MiniBrowser to drive, or None when it or Xvfb is missing (then the WebKit tests skip)."""
    path = minibrowser_path()
    if path is None or shutil.which("Xvfb") is None:
        return None
    return path


def _version(executable: str, env: dict[str, str]) -> str | None:
    """``2.50.6`` from ``MiniBrowser --version`` (``WebKitGTK 2.50.6``)."""
    try:
        printed = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=20, env=env, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"WebKitGTK (\S+)", printed)
    return found.group(1) if found else None


class WebKitError(RuntimeError):
    """MiniBrowser or Xvfb could not be started, or an inspector command failed."""


# -- The loopback proxy ---------------------------------------------------------------------------


class LoopbackProxy:
    """A SOCKS5 proxy that connects the scenario ``hosts`` to 127.0.0.1, on the port asked for, and nothing else.

    SOCKS works below HTTP: WebKit hands the proxy a host name and port
    (GLib's SOCKS5 client leaves name resolution to the proxy), the proxy opens
    the TCP connection to 127.0.0.1 on that port, and from then on relays bytes
    unchanged. Requests, headers and connection reuse are exactly what WebKit
    sends; only name resolution is replaced. Any other host gets SOCKS's
    "connection not allowed by ruleset" without a connection being tried.
    """

    def __init__(self, hosts: Iterable[str]) -> None:
        self.hosts = {host.lower() for host in hosts}
        self.refused: list[str] = []
        self._loop = asyncio.new_event_loop()
        # IPPROTO_TCP spelled out, so that asyncio sets TCP_NODELAY on the accepted connections
        # (it does only for sockets that say so): relayed bytes are not held back for an ACK.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        self.port = self._socket.getsockname()[1]
        self._tasks: set[asyncio.Task] = set()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="webkit-socks-proxy", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise WebKitError("the loopback proxy did not start")

    @property
    def uri(self) -> str:
        return f"socks5://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._stop = self._loop.create_future()

        async def main() -> None:
            server = await asyncio.start_server(self._handle, sock=self._socket)
            self._started.set()
            async with server:
                await self._stop
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        self._loop.run_until_complete(main())
        self._loop.close()

    def close(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(lambda: self._stop.done() or self._stop.set_result(None))
            self._thread.join(10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        upstream: asyncio.StreamWriter | None = None
        try:
            # Greeting: version 5 and the offered methods; "no authentication" is chosen.
            version, count = await reader.readexactly(2)
            await reader.readexactly(count)
            if version != 5:
                return
            writer.write(b"\x05\x00")
            # Request: version, command (1 = CONNECT), reserved, address type, address, port.
            _version, command, _reserved, kind = await reader.readexactly(4)
            if kind == 3:
                host = (await reader.readexactly((await reader.readexactly(1))[0])).decode("ascii", "replace")
            elif kind == 1:
                host = socket.inet_ntop(socket.AF_INET, await reader.readexactly(4))
            elif kind == 4:
                host = socket.inet_ntop(socket.AF_INET6, await reader.readexactly(16))
            else:
                return
            port = int.from_bytes(await reader.readexactly(2), "big")
            if command != 1 or host.lower() not in self.hosts:
                self.refused.append(f"{host}:{port}")
                writer.write(b"\x05\x02\x00\x01" + bytes(6))  # connection not allowed by ruleset
                await writer.drain()
                return
            try:
                upstream_reader, upstream = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                writer.write(b"\x05\x05\x00\x01" + bytes(6))  # connection refused
                await writer.drain()
                return
            writer.write(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + port.to_bytes(2, "big"))
            await writer.drain()
            await asyncio.gather(_pipe(reader, upstream), _pipe(upstream_reader, writer))
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            for stream in (upstream, writer):
                if stream is not None:
                    with contextlib.suppress(Exception):
                        stream.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy ``reader`` to ``writer`` until end of stream, then half-close ``writer``."""
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


# -- One MiniBrowser and its inspector connection ---------------------------------------------------

_SOCKET_PATH = re.compile(r"/socket/\d+/\d+/WebPage")
_NOT_READY = "__page_not_ready__"


class _Page:
    """One ``MiniBrowser --private`` process showing the page, and a Web Inspector connection to it."""

    def __init__(self, executable: str, url: str, env: dict[str, str], proxy_uri: str, log) -> None:
        self.url = url
        self.inspector_port = _free_port()
        self.process = subprocess.Popen(
            [
                executable,
                "--private",
                f"--proxy={proxy_uri}",
                # A string-array option: one host per occurrence.
                "--ignore-host=127.0.0.1",
                "--ignore-host=localhost",
                "--enable-dns-prefetching=false",
                url,
            ],
            env={**env, "WEBKIT_INSPECTOR_HTTP_SERVER": f"127.0.0.1:{self.inspector_port}"},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        self._stack = contextlib.ExitStack()
        self._ws = None
        self._target: str | None = None
        self._next_id = 0
        self._answers: dict[int, dict[str, Any]] = {}
        self.console: list[dict[str, Any]] = []
        self._last_message: dict[str, Any] | None = None

    # Connecting --------------------------------------------------------------------------------
    def connect(self) -> None:
        """Wait for the inspector's target list, open the page's socket and enable the console (``run_js`` waits for the page)."""
        from websockets.sync.client import connect

        deadline = time.monotonic() + LAUNCH_TIMEOUT
        path = None
        while path is None:
            if self.process.poll() is not None:
                raise WebKitError(f"MiniBrowser exited with status {self.process.returncode} before its inspector listened")
            if time.monotonic() > deadline:
                raise WebKitError(f"MiniBrowser's inspector did not list the page within {LAUNCH_TIMEOUT:g} s")
            with contextlib.suppress(OSError):
                listing = urllib.request.urlopen(f"http://127.0.0.1:{self.inspector_port}/", timeout=2).read().decode()
                found = _SOCKET_PATH.search(listing)
                path = found.group(0) if found else None
            if path is None:
                time.sleep(0.01)
        self._ws = self._stack.enter_context(connect(f"ws://127.0.0.1:{self.inspector_port}{path}", max_size=None, open_timeout=LAUNCH_TIMEOUT))
        while self._target is None:
            self._pump(max(0.01, deadline - time.monotonic()))
        # Not waited for: the answers come back in order with the first evaluate's (see ``run_js``).
        self._send("Console.enable")

    def run_js(self, expression: str) -> Any:
        """Run ``expression`` (a promise of a JSON string) once the page has loaded; return the parsed value.

        Each answer from the page takes about 40 ms to come back (WebKit's own relay between
        the page and the inspector server batches them), so the readiness check travels with
        the expression instead of costing a round trip of its own.
        """
        ready = f"location.href === {json.dumps(self.url)} && document.readyState === 'complete'"
        deadline = time.monotonic() + LAUNCH_TIMEOUT
        while True:
            try:
                value = self.evaluate(f"({ready}) ? ({expression}) : Promise.resolve({json.dumps(json.dumps(_NOT_READY))})", await_promise=True)
            except WebKitError as error:
                # The not-ready answer came from the document being replaced (about:blank by the page).
                if "injected script" not in str(error):
                    raise
                value = _NOT_READY
            if value != _NOT_READY:
                return value
            if time.monotonic() > deadline:
                raise WebKitError(f"the page {self.url} did not load within {LAUNCH_TIMEOUT:g} s")
            time.sleep(0.01)

    def close(self) -> None:
        """Close the inspector connection and ask MiniBrowser to quit (``reap`` waits for it)."""
        with contextlib.suppress(Exception):
            self._stack.close()
        if self.process.poll() is None:
            self.process.terminate()

    def reap(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the process to exit (killing it at the end of a longer wait)."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            if timeout < 5:
                return False
            self.process.kill()
            self.process.wait()
        return True

    # The protocol ----------------------------------------------------------------------------
    def _pump(self, timeout: float) -> None:
        """Read one message from the inspector and file it (raises TimeoutError when none arrives)."""
        assert self._ws is not None
        message = json.loads(self._ws.recv(timeout=timeout))
        method = message.get("method")
        if method == "Target.targetCreated":
            info = message["params"]["targetInfo"]
            if self._target is None or not info.get("isProvisional"):
                self._target = info["targetId"]
        elif method == "Target.didCommitProvisionalTarget":
            # A process swap: the page now lives in the new target; its console must be enabled there too.
            self._target = message["params"]["newTargetId"]
            self._send("Console.enable")
        elif method == "Target.dispatchMessageFromTarget":
            inner = json.loads(message["params"]["message"])
            if inner.get("method") == "Console.messageAdded":
                self.console.append(inner["params"]["message"])
                self._last_message = inner["params"]["message"]
            elif inner.get("method") == "Console.messageRepeatCountUpdated" and self._last_message is not None:
                # The console shows an identical message logged again as a repeat count on the
                # previous one; for the comparison it is one more line.
                self.console.append(self._last_message)
            elif "id" in inner:
                self._answers[inner["id"]] = inner

    def _send(self, method: str, params: dict[str, Any] | None = None) -> int:
        assert self._ws is not None and self._target is not None
        self._next_id += 1
        inner = {"id": self._next_id, "method": method, "params": params or {}}
        self._ws.send(
            json.dumps({"id": self._next_id, "method": "Target.sendMessageToTarget", "params": {"targetId": self._target, "message": json.dumps(inner)}})
        )
        return self._next_id

    def command(self, method: str, params: dict[str, Any] | None = None, timeout: float = COMMAND_TIMEOUT) -> dict[str, Any]:
        """Send one command to the page and return its result; raise :class:`WebKitError` on an error answer."""
        wanted = self._send(method, params)
        deadline = time.monotonic() + timeout
        while wanted not in self._answers:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WebKitError(f"{method}: no answer from WebKit within {timeout:g} s")
            with contextlib.suppress(TimeoutError):
                self._pump(remaining)
        answer = self._answers.pop(wanted)
        if "error" in answer:
            raise WebKitError(f"{method}: {answer['error'].get('message')}")
        return answer["result"]

    def evaluate(self, expression: str, *, await_promise: bool = False) -> Any:
        """Run ``expression`` (a JSON string, or a promise of one) in the page and return the parsed value."""
        answer = self.command("Runtime.evaluate", {"expression": expression, "returnByValue": not await_promise})
        if await_promise and not answer.get("wasThrown"):
            answer = self.command("Runtime.awaitPromise", {"promiseObjectId": answer["result"]["objectId"], "returnByValue": True})
        if answer.get("wasThrown"):
            raise WebKitError(f"script failed: {answer['result'].get('description')}")
        return json.loads(answer["result"]["value"])

    def drain(self, seconds: float) -> None:
        """File whatever the inspector sends during ``seconds``."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            with contextlib.suppress(TimeoutError):
                self._pump(remaining)


# -- The runner ---------------------------------------------------------------------------------


class WebKitRunner:
    """WebKitGTK's MiniBrowser under a private Xvfb; a fresh browser (private session) per scenario."""

    def __init__(self, executable: str, page_url: str, hosts: Iterable[str] = ("app.test", "api.test", "other.test")) -> None:
        self.executable = executable
        self.page_url = page_url
        self._home = Path(tempfile.mkdtemp(prefix="cors-lab-webkit-"))
        self._log = open(self._home / "minibrowser.log", "w+b")  # noqa: SIM115 - closed in close()
        self._xvfb: subprocess.Popen | None = None
        self.proxy: LoopbackProxy | None = None
        self._ahead: deque[_Page] = deque()
        self._closing: list[_Page] = []
        try:
            display = self._start_xvfb()
            runtime = self._home / "runtime"
            runtime.mkdir(mode=0o700)
            self._env = {
                **{k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")},
                "DISPLAY": display,
                "HOME": str(self._home),
                "XDG_CONFIG_HOME": str(self._home / "config"),
                "XDG_CACHE_HOME": str(self._home / "cache"),
                "XDG_DATA_HOME": str(self._home / "data"),
                "XDG_RUNTIME_DIR": str(runtime),
                # Start-up work nothing here needs (none of it touches networking or CORS): no
                # accelerated compositing under Xvfb, no GLX probe by GTK, no accessibility bus, no
                # GStreamer registry rescan, and no session bus (GApplication would spawn dbus-launch).
                "WEBKIT_DISABLE_COMPOSITING_MODE": "1",
                "GDK_GL": "disable",
                "NO_AT_BRIDGE": "1",
                "GST_REGISTRY_UPDATE": "no",
                "DBUS_SESSION_BUS_ADDRESS": "disabled:",
            }
            self.version = _version(executable, self._env) or "?"
            self.proxy = LoopbackProxy(hosts)
        except BaseException:
            self.close()
            raise

    def _start_xvfb(self) -> str:
        """Start Xvfb on a display it chooses itself (``-displayfd``), TCP off; return ``":N"``."""
        xvfb = shutil.which("Xvfb")
        if xvfb is None:
            raise WebKitError(f"Xvfb is not installed: {INSTALL_HINT}")
        read_end, write_end = os.pipe()
        try:
            self._xvfb = subprocess.Popen(
                [xvfb, "-displayfd", str(write_end), "-nolisten", "tcp", "-screen", "0", "1024x768x24"],
                pass_fds=(write_end,),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=self._log,
                )
            os.close(write_end)
            write_end = -1
            printed = b""
            deadline = time.monotonic() + LAUNCH_TIMEOUT
            while not printed.endswith(b"\n"):
                if time.monotonic() > deadline or self._xvfb.poll() is not None:
                    raise WebKitError("Xvfb did not start")
                if not select.select([read_end], [], [], 0.1)[0]:
                    continue
                chunk = os.read(read_end, 16)
                if not chunk:
                    raise WebKitError("Xvfb exited before choosing a display")
                printed += chunk
        finally:
            os.close(read_end)
            if write_end >= 0:
                os.close(write_end)
        return ":" + printed.decode().strip()

    def close(self) -> None:
        """Stop every browser, the proxy and Xvfb, and delete the temporary home."""
        while self._ahead:
            self._closing.append(self._ahead.popleft())
        for page in self._closing:
            page.close()
            page.reap(10)
        self._closing.clear()
        if self.proxy is not None:
            self.proxy.close()
            self.proxy = None
        if self._xvfb is not None:
            self._xvfb.terminate()
            try:
                self._xvfb.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._xvfb.kill()
                self._xvfb.wait()
            self._xvfb = None
        self._log.close()
        shutil.rmtree(self._home, ignore_errors=True)

    def _launch(self, url: str | None = None) -> _Page:
        assert self.proxy is not None and self._xvfb is not None
        if self._xvfb.poll() is not None:
            # The display went away (something outside the run stopped Xvfb): start another one.
            self._xvfb = None
            self._env["DISPLAY"] = self._start_xvfb()
        return _Page(self.executable, url or self.page_url, self._env, self.proxy.uri, self._log)

    def _next_page(self, url: str | None = None) -> _Page:
        """A ready browser showing ``url`` (default: the usual page) for the next scenario.

        Browsers for the usual page start ahead; a scenario whose page is elsewhere (another
        origin) gets one of its own, started now, and the ones started ahead wait.
        """
        url = url or self.page_url
        # Browsers of earlier scenarios that have quit by now.
        self._closing = [page for page in self._closing if not page.reap(0)]
        if url != self.page_url:
            page = self._launch(url)
        else:
            if not self._ahead:
                self._ahead.append(self._launch())
            page = self._ahead.popleft()
        while len(self._ahead) < AHEAD:
            self._ahead.append(self._launch())
        for attempt in (1, 2):
            try:
                page.connect()
                return page
            except WebKitError as error:
                died = page.process.poll() is not None
                page.close()
                page.reap(10)
                # A browser that died at start-up (its inspector port taken meanwhile, say) is
                # replaced once; anything else, or a second failure, ends the run with its log.
                if attempt == 2 or not died:
                    raise WebKitError(f"{error}\n{self._log_tail()}") from None
                page = self._launch(url)
            except BaseException:
                page.close()
                page.reap(10)
                raise
        raise AssertionError("unreachable")

    def _log_tail(self, size: int = 3000) -> str:
        """The end of MiniBrowser's and Xvfb's output (shared by every browser of the run)."""
        self._log.flush()
        try:
            text = (self._home / "minibrowser.log").read_bytes()[-size:].decode("utf-8", "replace")
        except OSError:
            return ""
        return f"MiniBrowser's output ended with:\n{text}"

    def run(self, scenario: dict[str, Any], world: World) -> list[Observation]:
        """Every step of ``scenario`` in a fresh MiniBrowser, as WebKit saw it."""
        origins = world.origins_for(scenario)
        # The document's origin: the usual page, or elsewhere (a public or local page for the Local
        # Network Access scenarios, which WebKit does not implement: it gates nothing).
        page = self._next_page(f"{world.page_origin(scenario)}/__page")
        try:
            sandboxed = scenario.get("page") == "null"
            if sandboxed:
                page.run_js(run_js_expression({"setup_sandbox": True}))
            world.take_log()
            observations = []
            for step in steps_of(scenario):
                if step.get("wait"):
                    time.sleep(step["wait"])
                page.console.clear()
                spec = js_spec(step, origins, sandboxed)
                outcome = page.run_js(run_js_expression(spec))
                # Console lines travel on the same ordered channel as the answer, so they are in by now;
                # the grace is a margin. LATE_CHECK listens longer: a line that arrives then shows up as
                # a difference from the model.
                page.drain((SANDBOX_GRACE if sandboxed else GRACE) + LATE_CHECK)
                # Every level: Web Inspector lists them all (only errors occur in the catalogue).
                console = [entry["text"] for entry in page.console]
                observations.append(observe(outcome, world, console=console))  # no CorsError names in WebKit
            return observations
        finally:
            page.close()
            self._closing.append(page)
