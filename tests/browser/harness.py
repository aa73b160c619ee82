"""Run catalogue scenarios in real browsers and in the lab's model, and compare what each did.

The real side: uvicorn serves every origin on two loopback ports (chosen free
at start); the browser maps ``*.test`` to 127.0.0.1, so ``http://app.test:P``
(the page), ``http://api.test:Q`` and ``http://other.test:Q`` are distinct
sites, and ``http://app.test:Q`` is same-site but cross-origin. Each scenario
gets fresh apps and a fresh browser context (cookies and preflight cache start
empty). Chromium is driven by Playwright (below), Firefox ESR over WebDriver
BiDi (``firefox.py``), WebKitGTK's MiniBrowser under Xvfb over the Web
Inspector protocol (``webkit.py``; a fresh browser per scenario), checked
against the model's ``safari`` profile.

The model side: ``cors_lab.Browser(engine=...)`` with the same origins, each
served in-process by a fresh copy of the same app, so URLs, ports and console
messages are comparable byte for byte.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cors_lab
from tests.browser.apps import Dispatcher, build_app, fill

CATALOGUE = Path(__file__).with_name("scenarios.toml")
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def load_catalogue(path: Path = CATALOGUE) -> list[dict[str, Any]]:
    scenarios = tomllib.loads(path.read_text())["scenario"]
    seen: set[str] = set()
    for scenario in scenarios:
        if scenario["id"] in seen:
            raise ValueError(f"duplicate scenario id {scenario['id']!r}")
        seen.add(scenario["id"])
    return scenarios


def chromium_path() -> str | None:
    for candidate in CHROMIUM_PATHS:
        if os.path.exists(candidate):
            return candidate
    found = shutil.which("chromium")
    return found


def steps_of(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    if "steps" in scenario:
        return scenario["steps"]
    return [scenario["request"]]


# -- What each side observed, in one shape ---------------------------------------------------------


@dataclass
class Observation:
    """One step of a scenario as seen by one side (Chromium or the model)."""

    blocked: bool
    status: int
    type: str
    error_kind: str | None
    console: list[str]
    readable_headers: list[str]
    body: str | None
    requests: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _request_record(method: str, target: str, headers: list[tuple[str, str]], origin_key: str) -> dict[str, Any]:
    lowered = {}
    for name, value in headers:
        lowered.setdefault(name.lower(), value)
    return {
        "to": origin_key,
        "method": method,
        "target": target,
        "origin": lowered.get("origin"),
        "acrm": lowered.get("access-control-request-method"),
        "acrh": lowered.get("access-control-request-headers"),
        "cookie": lowered.get("cookie"),
    }


def observe(outcome: dict[str, Any], world: World, *, console: list[str], error_kind: str | None = None) -> Observation:
    """One step as a real browser did it: what script saw (``outcome``, from RUN_JS), the console
    lines, and every request the servers received since the last call (taken from ``world``'s log)."""
    requests = [
        _request_record(entry["method"], entry["target"], entry["headers"], world.key_of_host(entry["host"]))
        for entry in world.take_log()
    ]
    return Observation(
        blocked=outcome["blocked"],
        status=outcome["status"],
        type=outcome["type"],
        error_kind=error_kind,
        console=console,
        # uvicorn adds date and server on the wire; the in-process model has neither.
        readable_headers=sorted(set(outcome["headers"]) - {"date", "server"}),
        body=outcome["body"],
        requests=requests,
    )


COMPARED = ("blocked", "status", "type", "error_kind", "console", "readable_headers", "body", "requests")
#: The browsers the harness drives, by engine name.
BROWSERS = {"chromium": "Chromium", "firefox": "Firefox", "webkit": "WebKitGTK"}
#: The model's profile for each browser (WebKitGTK is checked against the "safari" profile: WebKit as in Safari).
MODEL_ENGINES = {"chromium": "chromium", "firefox": "firefox", "webkit": "safari"}


def compared_fields(engine: str) -> tuple[str, ...]:
    """What is compared for ``engine``: everything, but error_kind only where the browser names its errors.

    error_kind is Chromium's CorsError vocabulary (the model uses it for every
    engine); Firefox and WebKit expose no such names, so their real side records None.
    """
    return COMPARED if engine == "chromium" else tuple(name for name in COMPARED if name != "error_kind")


def compare(real: Observation, model: Observation, fields: tuple[str, ...] = COMPARED) -> list[str]:
    """The fields where the model disagrees with the browser, each as 'field: browser X, model Y'."""
    differences = []
    for name in fields:
        a, b = getattr(real, name), getattr(model, name)
        if a != b:
            differences.append(f"{name}: browser {a!r}, model {b!r}")
    return differences


# -- The page's JavaScript ------------------------------------------------------------------------

RUN_JS = r"""
async (spec) => {
  const makeBody = (b) => {
    if (!b) return undefined;
    if (b.kind === 'string') return b.data;
    if (b.kind === 'urlsearchparams') return new URLSearchParams(b.fields);
    if (b.kind === 'formdata') { const f = new FormData(); for (const [k, v] of Object.entries(b.fields)) f.append(k, v); return f; }
    if (b.kind === 'blob') return new Blob([b.data], {type: b.type || ''});
    if (b.kind === 'bytes') return new TextEncoder().encode(b.data);
    if (b.kind === 'stream') return new ReadableStream({start(c) { c.enqueue(new TextEncoder().encode(b.data || '')); c.close(); }});
    throw new Error('unknown body kind ' + b.kind);
  };
  const run = async (spec) => {
    if (spec.initiator === 'xhr') {
      return await new Promise((resolve) => {
        const xhr = new XMLHttpRequest();
        xhr.open(spec.method, spec.url);
        xhr.withCredentials = spec.credentials === 'include';
        for (const [k, v] of spec.headers) xhr.setRequestHeader(k, v);
        if (spec.upload_listener) xhr.upload.onprogress = () => {};
        xhr.onload = () => {
          const names = xhr.getAllResponseHeaders().trim().split(/\r\n/).filter(Boolean).map(l => l.split(':')[0].trim().toLowerCase());
          resolve({blocked: false, status: xhr.status, type: 'xhr', headers: names, body: xhr.responseText});
        };
        xhr.onerror = () => resolve({blocked: true, status: xhr.status, type: 'error', headers: [], body: null});
        const body = spec.json !== undefined ? JSON.stringify(spec.json) : makeBody(spec.body);
        xhr.send(body === undefined ? null : body);
      });
    }
    const init = {method: spec.method, headers: spec.headers, credentials: spec.credentials, mode: spec.mode, redirect: spec.redirect};
    if (spec.json !== undefined) { init.body = JSON.stringify(spec.json); }
    else if (spec.body) { init.body = makeBody(spec.body); if (spec.body.kind === 'stream') init.duplex = 'half'; }
    try {
      const r = await fetch(spec.url, init);
      const names = []; r.headers.forEach((v, k) => names.push(k));
      let body = null; try { body = await r.text(); } catch (e) { body = null; }
      return {blocked: false, status: r.status, type: r.type, headers: names, body};
    } catch (e) {
      return {blocked: true, status: 0, type: 'error', headers: [], body: null, error: String(e)};
    }
  };
  if (spec.setup_sandbox) {
    // An opaque origin: a sandboxed iframe without allow-same-origin will run the requests.
    return await new Promise((resolve) => {
      const frame = document.createElement('iframe');
      frame.sandbox = 'allow-scripts';
      frame.srcdoc = '<script>const makeBody = ' + makeBody.toString() + '; const run = ' + run.toString() +
        '; window.onmessage = async (e) => { parent.postMessage(await run(e.data), "*"); };<\/script>';
      frame.onload = () => { window.__sandbox = frame; resolve(true); };
      document.body.appendChild(frame);
    });
  }
  if (spec.sandboxed) {
    return await new Promise((resolve) => {
      window.onmessage = (e) => resolve(e.data);
      window.__sandbox.contentWindow.postMessage(spec, '*');
    });
  }
  return await run(spec);
}
"""


def run_js_expression(spec: dict[str, Any]) -> str:
    """RUN_JS applied to ``spec`` as one JavaScript expression, whose promise gives the outcome as JSON text
    (for browsers driven by evaluating a string; JSON is a valid JavaScript literal for the spec)."""
    return f"({RUN_JS})({json.dumps(spec)}).then((r) => JSON.stringify(r))"


def js_spec(request: dict[str, Any], origins: dict[str, str], sandboxed: bool) -> dict[str, Any]:
    request = fill(request, origins)
    spec = {
        "url": request["url"],
        "method": request.get("method", "GET"),
        "headers": [list(pair) for pair in request.get("headers", [])],
        "credentials": request.get("credentials", "same-origin"),
        "mode": request.get("mode", "cors"),
        "redirect": request.get("redirect", "follow"),
        "initiator": request.get("initiator", "fetch"),
        "upload_listener": request.get("upload_listener", False),
        "body": request.get("body"),
        "sandboxed": sandboxed,
    }
    if "json" in request:
        spec["json"] = request["json"]
        if not any(name.lower() == "content-type" for name, _ in spec["headers"]):
            spec["headers"].append(["Content-Type", "application/json"])
    return spec


def model_body(request: dict[str, Any]):
    body = request.get("body")
    if body is None:
        return None
    kind = body["kind"]
    if kind == "string":
        return body["data"]
    if kind == "urlsearchparams":
        return cors_lab.URLSearchParams(body["fields"])
    if kind == "formdata":
        return cors_lab.FormData(body["fields"])
    if kind == "blob":
        return cors_lab.Blob(body["data"], type=body.get("type", ""))
    if kind == "bytes":
        return body["data"].encode()
    if kind == "stream":
        return cors_lab.ReadableStream(body.get("data", ""))
    raise ValueError(f"unknown body kind {kind!r}")


# -- The world: live servers and origins ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


#: Scenario keys that name an app on one of the world's origins.
APP_KEYS = ("app", "api", "other", "site", "public_api", "lan")
#: Where a scenario's page can be (``page = ...``): its origin's key in ``World.origins``.
PAGES = {"app": "app", "null": "app", "public": "public_page", "public-secure": "public_secure_page", "local": "local_page"}


class World:
    """Live uvicorn servers on free loopback ports, and the scenario origins on them.

    Every name resolves to 127.0.0.1, so every origin is in the loopback address space, except
    on two ports the browsers are told to treat otherwise (Local Network Access): the
    *public* port (``--ip-address-space-overrides=127.0.0.1:PORT=public`` for Chromium,
    ``network.lna.address_space.public.override`` for Firefox) serves the public pages and a
    public API; the *local* port serves a page and an API in the local (private network) space.
    """

    def __init__(self) -> None:
        self.page_server = Dispatcher()
        self.api_server = Dispatcher()
        self.public_server = Dispatcher()
        self.local_server = Dispatcher()
        self._live = [
            cors_lab.Server.live(server, log_level="critical")
            for server in (self.page_server, self.api_server, self.public_server, self.local_server)
        ]

    def __enter__(self) -> World:
        for live in self._live:
            live.start()
        page_port, api_port, self.public_port, self.local_port = (live.port for live in self._live)
        self.origins = {
            "app": f"http://app.test:{page_port}",
            "api": f"http://api.test:{api_port}",
            "other": f"http://other.test:{api_port}",
            "site": f"http://app.test:{api_port}",
            # A port nothing listens on: requests there fail with no HTTP response at all.
            "closed": f"http://127.0.0.1:{_free_port()}",
            # Local Network Access: pages and APIs the browsers put in the public or local space.
            "public_page": f"http://app.test:{self.public_port}",  # not a secure context
            "public_secure_page": f"http://localhost:{self.public_port}",  # localhost: a secure context
            "public_api": f"http://api.test:{self.public_port}",
            "local_page": f"http://app.test:{self.local_port}",
            "lan": f"http://lan.test:{self.local_port}",
        }
        self.servers = {
            "app": self.page_server, "api": self.api_server, "other": self.api_server, "site": self.api_server,
            "public_api": self.public_server, "lan": self.local_server,
        }
        return self

    def page_origin(self, scenario: dict[str, Any]) -> str:
        """The origin of the document the scenario's page is loaded from (a null page's parent for ``page = "null"``)."""
        page = scenario.get("page", "app")
        if page not in PAGES:
            raise ValueError(f"scenario {scenario['id']!r}: page {page!r} is not one of {', '.join(PAGES)}")
        return self.origins[PAGES[page]]

    def address_spaces(self) -> dict[str, str]:
        """For the model: every scenario name is loopback (the browsers resolve it to 127.0.0.1), but the two special ports."""
        spaces = {host: "loopback" for host in ("app.test", "api.test", "other.test", "lan.test")}
        for key in ("public_page", "public_secure_page", "public_api"):
            spaces[self.origins[key]] = "public"
        for key in ("local_page", "lan"):
            spaces[self.origins[key]] = "local"
        return spaces

    @property
    def chromium_overrides(self) -> str:
        """Chromium's ``--ip-address-space-overrides`` value for the two special ports."""
        return f"127.0.0.1:{self.public_port}=public,127.0.0.1:{self.local_port}=local"

    def __exit__(self, *exc: object) -> None:
        for live in self._live:
            live.stop()

    def origins_for(self, scenario: dict[str, Any]) -> dict[str, str]:
        origins = dict(self.origins)
        origins["page"] = "null" if scenario.get("page") == "null" else self.page_origin(scenario)
        origins["app_port"] = origins["app"].rsplit(":", 1)[1]
        origins["api_port"] = origins["api"].rsplit(":", 1)[1]
        return origins

    def key_of_host(self, host: str) -> str:
        for key, origin in self.origins.items():
            if origin.split("://", 1)[1] == host:
                return key
        return host

    def install(self, scenario: dict[str, Any]) -> None:
        """Fresh apps for the scenario's origins on the live servers."""
        origins = self.origins_for(scenario)
        for server in (self.page_server, self.api_server, self.public_server, self.local_server):
            server.apps.clear()
        for key in APP_KEYS:
            if key in scenario:
                self.servers[key].apps[self.origins[key].split("://", 1)[1]] = build_app(scenario[key], origins)

    def take_log(self) -> list[dict[str, Any]]:
        servers = (self.page_server, self.api_server, self.public_server, self.local_server)
        entries = sorted((entry for server in servers for entry in server.log), key=lambda entry: entry["seq"])
        for server in servers:
            server.log.clear()
        return entries


# -- The model side ----------------------------------------------------------------------------


def run_model(scenario: dict[str, Any], world: World, engine: str = "chromium") -> list[Observation]:
    origins = world.origins_for(scenario)
    servers = [
        cors_lab.Server(build_app(scenario[key], origins), origin=world.origins[key])
        for key in APP_KEYS
        if key in scenario
    ]
    # The page's URL, not just its origin: Firefox names the document in some console lines.
    page = "null" if origins["page"] == "null" else f"{origins['page']}/__page"
    browser = cors_lab.Browser(
        origin=page,
        engine=MODEL_ENGINES.get(engine, engine),
        servers=servers,
        address_spaces=world.address_spaces(),
        local_network_permission=scenario.get("local_network_permission", "denied"),
    )
    observations = []
    for step in steps_of(scenario):
        if step.get("wait"):
            browser.advance(step["wait"])
        request = fill(step, origins)
        kwargs: dict[str, Any] = dict(
            method=request.get("method", "GET"),
            headers=[tuple(pair) for pair in request.get("headers", [])],
            credentials=request.get("credentials", "same-origin"),
            mode=request.get("mode", "cors"),
            redirect=request.get("redirect", "follow"),
            initiator=request.get("initiator", "fetch"),
            upload_listener=request.get("upload_listener", False),
        )
        if "json" in request:
            kwargs["json"] = request["json"]
        else:
            kwargs["body"] = model_body(request)
        result = browser.fetch(request["url"], **kwargs)
        requests = []
        for exchange in result.exchanges:
            sent = exchange.request
            origin = cors_lab.origin_of(sent.url)
            key = next((k for k, v in world.origins.items() if v == origin), origin)
            requests.append(_request_record(sent.method, sent.target, list(sent.headers), key))
        is_xhr = kwargs["initiator"] == "xhr"
        observations.append(
            Observation(
                blocked=result.blocked,
                status=result.status,
                type=("error" if result.blocked else "xhr") if is_xhr else result.type,
                error_kind=result.error_kind,
                console=list(result.console_messages),
                readable_headers=sorted(result.readable_headers),
                body=result.body if not result.blocked else None,
                requests=requests,
            )
        )
    return observations


# -- The Chromium side ---------------------------------------------------------------------------


class ChromiumRunner:
    """One headless Chromium (Debian's), driven by Playwright; a fresh context per scenario."""

    def __init__(self, executable: str, address_space_overrides: str = "") -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        args = ["--host-resolver-rules=MAP *.test 127.0.0.1", "--disable-quic"]
        if address_space_overrides:
            args.append(f"--ip-address-space-overrides={address_space_overrides}")
        self.browser = self._playwright.chromium.launch(executable_path=executable, args=args)
        self.version = self.browser.version

    def close(self) -> None:
        self.browser.close()
        self._playwright.stop()

    def run(self, scenario: dict[str, Any], world: World) -> list[Observation]:
        origins = world.origins_for(scenario)
        context = self.browser.new_context()
        try:
            page = context.new_page()
            console: list[str] = []
            issues: list[dict[str, Any]] = []
            page.on("console", lambda message: console.append(message.text) if message.type in ("error", "warning") else None)
            failures: list[str] = []
            cdp = context.new_cdp_session(page)
            cdp.on("Audits.issueAdded", lambda event: issues.append(event["issue"]))
            # Network.loadingFailed carries the CorsError for every frame, sandboxed iframes included.
            def record_failure(event: dict[str, Any]) -> None:
                if event.get("corsErrorStatus"):
                    failures.append(event["corsErrorStatus"]["corsError"])

            cdp.on("Network.loadingFailed", record_failure)
            cdp.send("Audits.enable")
            cdp.send("Network.enable")
            page_origin = world.page_origin(scenario)
            if scenario.get("local_network_permission") == "granted":
                # What a user's "Allow" gives. Chromium refuses to grant it to a page that is not a
                # secure context ("Permission can't be granted in current context"): nothing to do then.
                context_id = cdp.send("Target.getTargetInfo")["targetInfo"].get("browserContextId")
                with contextlib.suppress(Exception):
                    cdp.send(
                        "Browser.grantPermissions",
                        {"permissions": ["localNetwork", "loopbackNetwork"], "origin": page_origin, "browserContextId": context_id},
                    )
            page.goto(f"{page_origin}/__page")
            sandboxed = scenario.get("page") == "null"
            if sandboxed:
                # Sandboxed iframes run out of process (IsolateSandboxedIframes): attach to the frame's target too.
                page.evaluate(RUN_JS, {"setup_sandbox": True})
                frame_cdp = context.new_cdp_session(page.frames[1])
                frame_cdp.on("Network.loadingFailed", record_failure)
                frame_cdp.send("Network.enable")
            world.take_log()
            observations = []
            for step in steps_of(scenario):
                if step.get("wait"):
                    page.wait_for_timeout(step["wait"] * 1000)
                console.clear()
                issues.clear()
                failures.clear()
                outcome = page.evaluate(RUN_JS, js_spec(step, origins, sandboxed))
                # Console events from an out-of-process frame arrive a little later.
                page.wait_for_timeout(300 if sandboxed else 30)
                errors = failures or [
                    issue["details"]["corsIssueDetails"]["corsErrorStatus"]["corsError"]
                    for issue in issues
                    if issue.get("code") == "CorsIssue" and not issue["details"]["corsIssueDetails"].get("isWarning")
                ]
                error_kind = errors[0] if errors and outcome["blocked"] else None
                observations.append(observe(outcome, world, console=list(console), error_kind=error_kind))
            return observations
        finally:
            context.close()


# -- The agreement run -------------------------------------------------------------------------


@dataclass
class Row:
    id: str
    real: list[Observation]
    model: list[Observation]
    differences: list[str]
    note: str = ""
    #: Why the scenario was not run in this browser (the catalogue's ``firefox_skip`` or ``webkit_skip``), or "".
    skipped: str = ""

    @property
    def agree(self) -> bool:
        return not self.differences


@dataclass
class EngineRun:
    """One browser's pass over the catalogue: its rows, version and time taken."""

    engine: str
    version: str
    rows: list[Row]
    seconds: float

    @property
    def browser(self) -> str:
        return BROWSERS[self.engine]

    @property
    def summary(self) -> str:
        return summarize(self.rows, self.version, self.seconds, self.browser)


def make_runner(engine: str, executable: str, world: World):
    """A started runner for ``engine`` (``run(scenario, world)``, ``version``, ``close()``)."""
    if engine == "chromium":
        return ChromiumRunner(executable, world.chromium_overrides)
    if engine == "firefox":
        from tests.browser.firefox import FirefoxRunner  # firefox.py imports this module

        hosts = sorted({origin.split("://", 1)[1].rsplit(":", 1)[0] for origin in world.origins.values()})
        return FirefoxRunner(executable, hosts=hosts, public_ports=[world.public_port], local_ports=[world.local_port])
    if engine == "webkit":
        from tests.browser.webkit import WebKitRunner  # webkit.py imports this module

        hosts = sorted({origin.split("://", 1)[1].rsplit(":", 1)[0] for origin in world.origins.values()} - {"127.0.0.1"})
        return WebKitRunner(executable, page_url=f"{world.origins['app']}/__page", hosts=hosts)
    raise ValueError(f"no runner for engine {engine!r}")


def skip_reason(scenario: dict[str, Any], engine: str) -> str:
    """The catalogue's written reason not to run ``scenario`` in ``engine`` (``firefox_skip``, ``webkit_skip``), or ""."""
    return scenario.get(f"{engine}_skip", "") if engine != "chromium" else ""


def run_engine(engine: str, executable: str, scenarios: list[dict[str, Any]] | None = None) -> EngineRun:
    """Run every scenario in one real browser and in the model of its engine, and compare them."""
    scenarios = scenarios if scenarios is not None else load_catalogue()
    fields = compared_fields(engine)
    started = time.perf_counter()
    rows = []
    with World() as world:
        runner = make_runner(engine, executable, world)
        try:
            for scenario in scenarios:
                reason = skip_reason(scenario, engine)
                if reason:
                    rows.append(Row(scenario["id"], [], [], [], scenario.get("note", ""), skipped=reason))
                    continue
                world.install(scenario)
                real = runner.run(scenario, world)
                model = run_model(scenario, world, engine)
                differences = []
                for index, (a, b) in enumerate(zip(real, model)):
                    prefix = f"step {index + 1}: " if len(real) > 1 else ""
                    differences += [prefix + d for d in compare(a, b, fields)]
                rows.append(Row(scenario["id"], real, model, differences, scenario.get("note", "")))
            version = runner.version
        finally:
            runner.close()
    return EngineRun(engine, version, rows, time.perf_counter() - started)


def summarize(rows: list[Row], version: str, seconds: float, browser: str = "Chromium") -> str:
    ran = [row for row in rows if not row.skipped]
    agreeing = sum(row.agree for row in ran)
    skipped = len(rows) - len(ran)
    extra = f", {skipped} skipped for {browser}" if skipped else ""
    return f"{agreeing}/{len(ran)} scenarios agree ({browser} {version}) in {seconds:.1f} s{extra}"


_SHORT_HEADERS = {
    "CORS header \u2018Access-Control-Allow-Origin\u2019": "ACAO",
    "CORS header \u2018Access-Control-Allow-Credentials\u2019": "ACAC",
    "CORS header \u2018Access-Control-Allow-Methods\u2019": "ACAM",
    "header \u2018Access-Control-Allow-Headers\u2019": "ACAH",
    "CORS header \u2018Access-Control-Allow-Headers\u2019": "ACAH",
}


# WebKit's reasons, shortened for the table (the first console line of a blocked request).
_WEBKIT_SHORT = (
    (re.compile(r"^Origin \S+ is not allowed by Access-Control-Allow-Origin\. Status code: (\d+)"), r"origin not allowed (\1)"),
    (re.compile(r"^Preflight response is not successful\. Status code: (\d+)"), r"preflight status \1"),
    (re.compile(r"^Request header field (\S+) is not allowed by Access-Control-Allow-Headers\."), r"ACAH lacks \1"),
    (re.compile(r"^Method (\S+) is not allowed by Access-Control-Allow-Methods\."), r"ACAM lacks \1"),
    (re.compile(r"^Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true\."), "ACAO * with credentials"),
    (re.compile(r"^Credentials flag is true, but Access-Control-Allow-Credentials is not \"true\"\."), "ACAC not true"),
    (re.compile(r"^Access-Control-Allow-Origin cannot contain more than one origin\."), "ACAO several origins"),
    (re.compile(r"^Header Access-Control-Allow-(Methods|Headers) has an invalid value: .*"), r"invalid ACA-\1"),
    (re.compile(r"^Failed to load resource: "), ""),
)


def verdict(observation: Observation) -> str:
    if observation.blocked:
        if observation.error_kind:
            return f"blocked {observation.error_kind}"
        first = observation.console[0] if observation.console else ""
        if "(Reason: " not in first and any("(Reason: " in line for line in observation.console):
            first = next(line for line in observation.console if "(Reason: " in line)
        if "(Reason: " in first:
            # No error name (Firefox): the reason of the first console line says which check failed.
            reason = first.split("(Reason: ", 1)[1].split(")", 1)[0]
            for long, short in _SHORT_HEADERS.items():
                reason = reason.replace(long, short)
            return f"blocked {reason}".strip()
        # WebKit: the first console line is the reason itself.
        redirect = "Cross-Origin Resource Sharing policy: " in first and first.startswith("Cross-origin redirection to ")
        if redirect:
            first = first.split("Cross-Origin Resource Sharing policy: ", 1)[1]
        for pattern, short in _WEBKIT_SHORT:
            first = pattern.sub(short, first)
        return f"blocked {'redirect: ' if redirect else ''}{first}".strip()
    return f"{observation.status} {observation.type}"


def _cell(row: Row | None) -> str:
    """One engine's column: the browser's verdict per step, and whether the model agrees."""
    if row is None:
        return ""
    if row.skipped:
        return "skipped"
    shown = "; ".join(verdict(o) for o in row.real)
    return f"{shown[:34]:34} {'ok' if row.agree else 'NO'}"


def table_by_engine(runs: list[EngineRun]) -> str:
    """One line per scenario, one column per browser: what it did, and ``ok``/``NO`` for the model's agreement."""
    by_engine = [{row.id: row for row in run.rows} for run in runs]
    ids = list(dict.fromkeys(row.id for run in runs for row in run.rows))
    lines = [f"{'scenario':48} " + " ".join(f"{run.browser + ' ' + run.version:37.37}" for run in runs)]
    for scenario_id in ids:
        lines.append(f"{scenario_id:48} " + " ".join(f"{_cell(rows.get(scenario_id)):37}" for rows in by_engine))
    return "\n".join(lines)


def write_report(run: EngineRun, path: Path) -> None:
    """``run`` as JSON at ``path``: the summary, and both sides of every scenario."""
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = run.engine
    report = {
        "browser": f"{run.browser} {run.version}",
        "summary": run.summary,
        "seconds": round(run.seconds, 2),
        "compared": list(compared_fields(engine)),
        "scenarios": [
            {
                "id": row.id,
                "agree": row.agree,
                "differences": row.differences,
                "note": row.note,
                **({"skipped": row.skipped} if row.skipped else {}),
                engine: [o.as_dict() for o in row.real],
                "model": [o.as_dict() for o in row.model],
            }
            for row in run.rows
        ],
    }
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
