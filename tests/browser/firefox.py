"""Real Firefox ESR for the agreement harness, driven over WebDriver BiDi.

No geckodriver exists for this platform (see the project's firefox reference),
but Firefox has a WebDriver BiDi server built in: ``--remote-debugging-port``
opens it, and a small client on the ``websockets`` package is all the harness
needs. One Firefox process serves a whole run; each scenario gets a fresh user
context (its own cookie jar, HTTP cache and CORS-preflight cache partition)
and a fresh tab in it, so nothing leaks from one scenario to the next.

What the runner records is the same :class:`Observation` the Chromium runner
records, with two differences that come from Firefox itself:

- ``error_kind`` is always None: Firefox exposes no CorsError names.
- ``console`` holds every script error and warning the page's web console
  gets, in order (Firefox prints two or three lines for some failures). They
  come from a console-service listener in the browser's chrome window, not
  from BiDi's ``log.entryAdded``: Firefox forwards only *errors* there, so its
  CORS warnings (``Access-Control-Allow-Headers: *`` covering Authorization)
  would be lost. Hence ``--remote-allow-system-access``.

Networking stays on loopback: ``network.dns.localDomains`` resolves the
scenario hosts (``app.test``, ``api.test``, ``other.test``) to the loopback
address; ``MOZ_DISABLE_NONLOCAL_CONNECTIONS=1`` (Firefox's test-harness switch)
makes it refuse any connection to another address; and the profile's
``user.js`` turns off updates, telemetry, studies, Safe Browsing and the other
background services that would otherwise try. Checked by tracing Firefox's
connect() calls over a whole run: every one went to 127.0.0.1 or to a local
Unix socket, and no DNS query was sent.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tests.browser.harness import RUN_JS, Observation, World, js_spec, observe, run_js_expression, steps_of

FIREFOX_PATHS = ("/usr/bin/firefox-esr", "/usr/bin/firefox")
INSTALL_HINT = "sudo apt-get install -y firefox-esr"

# Every preference is there to keep the run on loopback and quiet (most are what Mozilla's
# test harnesses set for the same purpose). None changes how Firefox handles CORS.
PREFS: dict[str, bool | int | str] = {
    "network.trr.mode": 5,  # no DNS over HTTPS
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "network.http.speculative-parallel-limit": 0,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    # Updates, telemetry, studies, remote settings.
    "app.update.disabledForTesting": True,
    "app.update.auto": False,
    "app.normandy.enabled": False,
    "app.shield.optoutstudies.enabled": False,
    "messaging-system.rsexperimentloader.enabled": False,
    "nimbus.rollouts.enabled": False,
    # With MOZ_DISABLE_NONLOCAL_CONNECTIONS=1 (see FirefoxRunner), release builds honour this dummy
    # server and skip Remote Settings entirely; otherwise they poll firefox.settings.services.mozilla.com.
    "services.settings.server": "data:,#remote-settings-dummy/v1",
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.unified": False,
    "toolkit.telemetry.archive.enabled": False,
    "toolkit.telemetry.server": "data:,",
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "browser.ping-centre.telemetry": False,
    "browser.newtabpage.activity-stream.telemetry": False,
    "browser.newtabpage.activity-stream.feeds.telemetry": False,
    "browser.newtabpage.enabled": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.shell.checkDefaultBrowser": False,
    "browser.search.update": False,
    "browser.region.network.url": "",
    "browser.region.update.enabled": False,
    "geo.provider.network.url": "",
    "dom.push.connection.enabled": False,
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.blocklist.enabled": False,
    "extensions.systemAddon.update.enabled": False,
    "media.gmp-manager.updateEnabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.blockedURIs.enabled": False,
    "browser.safebrowsing.provider.mozilla.updateURL": "",
    "security.OCSP.enabled": 0,
}

LAUNCH_TIMEOUT = 30.0
COMMAND_TIMEOUT = 30.0
#: How long to keep listening after a step, on top of the round-trip barrier (see ``run``).
GRACE = 0.01
SANDBOX_GRACE = 0.05

# Runs in the browser's chrome window. WebDriver BiDi's log.entryAdded forwards only
# error-level script messages, so Firefox's CORS *warnings* (the Authorization one)
# would be invisible; a console-service listener in the parent process sees every
# message the web console shows, errors and warnings, in the order they were logged.
CONSOLE_LISTENER_JS = r"""
(() => {
  if (!window.__corsLabConsole) {
    const lines = [];
    Services.console.registerListener({
      QueryInterface: ChromeUtils.generateQI(["nsIConsoleListener"]),
      observe(message) {
        // Only what a page's web console shows: script errors and warnings from content (messages
        // forwarded from a content process arrive here without their window id, so none is checked).
        if (!(message instanceof Ci.nsIScriptError) || message.isFromChromeContext) return;
        if (message.flags & Ci.nsIScriptError.infoFlag) return;
        const level = (message.flags & Ci.nsIScriptError.warningFlag) ? "warn" : "error";
        lines.push({level, text: message.errorMessage, category: message.category});
      },
    });
    window.__corsLabConsole = lines;
  }
  return "true";
})()
"""
TAKE_CONSOLE_JS = "JSON.stringify(window.__corsLabConsole.splice(0))"

_LISTENING = re.compile(r"WebDriver BiDi listening on (ws://\S+)")


def firefox_path() -> str | None:
    """The Firefox binary to drive (Debian's firefox-esr), or None when it is not installed."""
    for candidate in FIREFOX_PATHS:
        if os.path.exists(candidate):
            return candidate
    return shutil.which("firefox-esr") or shutil.which("firefox")


def user_js(prefs: dict[str, bool | int | str] = PREFS) -> str:
    """The text of a ``user.js`` that sets ``prefs``."""
    return "".join(f"user_pref({json.dumps(name)}, {json.dumps(value)});\n" for name, value in prefs.items())


def _version(executable: str) -> str | None:
    """``153.7.0esr`` from ``firefox-esr --version`` (BiDi's browserVersion drops the ``esr``)."""
    try:
        printed = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"Firefox (\S+)", printed)
    return found.group(1) if found else None


class FirefoxError(RuntimeError):
    """Firefox could not be started, or a WebDriver BiDi command failed."""


class BiDi:
    """A minimal WebDriver BiDi client: one command at a time, on the caller's thread.

    The runner subscribes to no events, so every message is an answer; anything
    else that arrives while waiting is skipped.
    """

    def __init__(self, url: str) -> None:
        from websockets.sync.client import connect

        self._stack = contextlib.ExitStack()
        # No Origin header is sent (Firefox refuses WebSocket clients that send one); the
        # default max frame size is too small for large evaluate results.
        self._ws = self._stack.enter_context(connect(url, max_size=None, open_timeout=LAUNCH_TIMEOUT))
        self._next_id = 0

    def close(self) -> None:
        self._stack.close()

    def command(self, method: str, params: dict[str, Any] | None = None, timeout: float = COMMAND_TIMEOUT) -> dict[str, Any]:
        """Send one command and return its result; raise :class:`FirefoxError` on an error answer."""
        self._next_id += 1
        wanted = self._next_id
        self._ws.send(json.dumps({"id": wanted, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FirefoxError(f"{method}: no answer from Firefox within {timeout:g} s")
            message = json.loads(self._ws.recv(timeout=remaining))
            if message.get("id") == wanted:
                if message.get("type") == "error":
                    raise FirefoxError(f"{method}: {message.get('error')}: {message.get('message')}")
                return message["result"]


class FirefoxRunner:
    """One headless Firefox ESR with a fresh profile; a fresh user context and tab per scenario."""

    def __init__(
        self,
        executable: str,
        hosts: Iterable[str] = ("app.test", "api.test", "other.test"),
        *,
        public_ports: Iterable[int] = (),
        local_ports: Iterable[int] = (),
    ) -> None:
        self._profile = Path(tempfile.mkdtemp(prefix="cors-lab-firefox-"))
        # The scenario hosts resolve to loopback through network.dns.localDomains. (network.dns.forceResolve
        # would map every name, but it bypasses the DNS cache, and Firefox drops a cached preflight whose
        # host is not in the DNS cache: every preflight would be repeated.)
        prefs: dict[str, bool | int | str] = {**PREFS, "network.dns.localDomains": ",".join(hosts)}
        # Local Network Access: Firefox's testing prefs put loopback ports in another address space
        # ("private" is the local space), as Chromium's --ip-address-space-overrides does.
        if public_ports:
            prefs["network.lna.address_space.public.override"] = ",".join(f"127.0.0.1:{port}" for port in public_ports)
        if local_ports:
            prefs["network.lna.address_space.private.override"] = ",".join(f"127.0.0.1:{port}" for port in local_ports)
        (self._profile / "user.js").write_text(user_js(prefs))
        self._log = open(self._profile / "firefox.log", "w+b")  # noqa: SIM115 - closed in close()
        # Port 0: Firefox binds a free loopback port itself and prints it, so there is no race.
        # --remote-allow-system-access lets the client run script in the browser's chrome window,
        # where the console listener lives.
        self._process = subprocess.Popen(
            [executable, "--headless", "--remote-debugging-port=0", "--remote-allow-system-access",
             "--profile", str(self._profile), "--no-remote", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # MOZ_DISABLE_NONLOCAL_CONNECTIONS: Firefox's test-harness switch; it refuses any socket
            # connection to a non-loopback address (and prints a "FATAL ERROR" line if one is tried).
            env={**os.environ, "MOZ_CRASHREPORTER_DISABLE": "1", "MOZ_DISABLE_NONLOCAL_CONNECTIONS": "1"},
        )
        self.bidi: BiDi | None = None
        try:
            self.bidi = BiDi(self._wait_for_endpoint() + "/session")
            capabilities = self.bidi.command("session.new", {"capabilities": {}})["capabilities"]
            tree = self.bidi.command("browsingContext.getTree", {"moz:scope": "chrome", "maxDepth": 0})["contexts"]
            windows = [c for c in tree if c.get("url") == "chrome://browser/content/browser.xhtml"] or tree
            self._chrome = windows[0]["context"]
            self._evaluate(self._chrome, CONSOLE_LISTENER_JS, await_promise=False)
        except BaseException:
            self.close()
            raise
        self.version = _version(executable) or str(capabilities.get("browserVersion", "?"))

    def _wait_for_endpoint(self) -> str:
        """The ws:// address Firefox prints once its BiDi server listens."""
        deadline = time.monotonic() + LAUNCH_TIMEOUT
        while time.monotonic() < deadline:
            text = (self._profile / "firefox.log").read_text(errors="replace")
            found = _LISTENING.search(text)
            if found:
                return found.group(1)
            if self._process.poll() is not None:
                raise FirefoxError(f"Firefox exited with status {self._process.returncode} before listening:\n{text[-2000:]}")
            time.sleep(0.05)
        raise FirefoxError(f"Firefox did not open its WebDriver BiDi port within {LAUNCH_TIMEOUT:g} s")

    def close(self) -> None:
        """End the session, stop Firefox and delete the temporary profile."""
        if self.bidi is not None:
            with contextlib.suppress(Exception):
                self.bidi.command("browser.close", timeout=5)
            with contextlib.suppress(Exception):
                self.bidi.close()
            self.bidi = None
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def _evaluate(self, context: str, expression: str, *, await_promise: bool = True) -> Any:
        """Run ``expression`` (a JSON string, or a promise of one) in ``context`` and return the parsed value."""
        assert self.bidi is not None
        answer = self.bidi.command(
            "script.evaluate",
            {"expression": expression, "target": {"context": context}, "awaitPromise": await_promise, "resultOwnership": "none"},
        )
        if answer.get("type") == "exception":
            details = answer.get("exceptionDetails", {})
            raise FirefoxError(f"script failed: {details.get('text')}")
        return json.loads(answer["result"]["value"])

    def _take_console(self) -> list[dict[str, Any]]:
        """The console messages logged since the last call, oldest first."""
        return self._evaluate(self._chrome, TAKE_CONSOLE_JS, await_promise=False)

    def _call_run_js(self, context: str, spec: dict[str, Any]) -> Any:
        return self._evaluate(context, run_js_expression(spec))

    def _call_run_js_answering_prompts(self, context: str, spec: dict[str, Any], *, allow: bool) -> Any:
        """Like ``_call_run_js``, for a page whose requests may raise a Local Network Access prompt.

        The request waits for the user's answer, so the step is started without awaiting it, and
        every prompt that appears meanwhile ("local-network" or "loopback-network") gets the
        scenario's answer: Allow, or Block.
        """
        started = f"(window.__corsLabStep = null, ({RUN_JS})({json.dumps(spec)}).then((r) => {{ window.__corsLabStep = r; }}), '1')"
        self._evaluate(context, started, await_promise=False)
        action = "n.mainAction" if allow else "n.secondaryActions[0]"
        answer = (
            "JSON.stringify((() => { const ids = []; for (const b of gBrowser.browsers) {"
            " for (const n of PopupNotifications.getNotificationsForBrowser(b)) {"
            f" if (n.id === 'local-network' || n.id === 'loopback-network') {{ {action}.callback({{}}); n.remove(); ids.push(n.id); }} }} }}"
            " return ids; })())"
        )
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while time.monotonic() < deadline:
            self._evaluate(self._chrome, answer, await_promise=False)
            done = self._evaluate(context, "JSON.stringify(window.__corsLabStep)", await_promise=False)
            if done is not None:
                return done
            time.sleep(0.02)
        raise FirefoxError(f"the step did not finish within {COMMAND_TIMEOUT:g} s (an unanswered prompt?)")

    def run(self, scenario: dict[str, Any], world: World) -> list[Observation]:
        """Every step of ``scenario`` in a fresh user context, as Firefox saw it."""
        assert self.bidi is not None
        bidi = self.bidi
        origins = world.origins_for(scenario)
        user_context = bidi.command("browser.createUserContext")["userContext"]
        try:
            # A background tab: no focus switch, which makes creating it about a third faster.
            context = bidi.command("browsingContext.create", {"type": "tab", "userContext": user_context, "background": True})["context"]
            page_url = f"{world.page_origin(scenario)}/__page"
            bidi.command("browsingContext.navigate", {"context": context, "url": page_url, "wait": "complete"})
            prompts = scenario.get("page") in ("public", "public-secure")
            sandboxed = scenario.get("page") == "null"
            if sandboxed:
                self._call_run_js(context, {"setup_sandbox": True})
            world.take_log()
            observations = []
            for step in steps_of(scenario):
                if step.get("wait"):
                    time.sleep(step["wait"])
                self._take_console()  # whatever the page logged before this step
                spec = js_spec(step, origins, sandboxed)
                if prompts:
                    allow = scenario.get("local_network_permission") == "granted"
                    outcome = self._call_run_js_answering_prompts(context, spec, allow=allow)
                else:
                    outcome = self._call_run_js(context, spec)
                # A CORS line is sent to the page's process on another IPC channel than the one that
                # settles the promise, so it can land up to ~15 ms after the answer. One more round
                # trip to the page flushes it (no late line in 2 x 245 steps); the grace is a margin.
                self._evaluate(context, '"0"', await_promise=False)
                time.sleep(SANDBOX_GRACE if sandboxed else GRACE)
                console = [entry["text"] for entry in self._take_console() if entry["level"] in ("error", "warn")]
                observations.append(observe(outcome, world, console=console))  # no CorsError names in Firefox
            return observations
        finally:
            # Removing the user context closes its tab and drops its cookies and caches.
            bidi.command("browser.removeUserContext", {"userContext": user_context})
