"""The driver ``cors_lab.versions`` runs inside an old Starlette/FastAPI environment.

It is a standalone script: it imports nothing from cors_lab (old releases could
not run the lab) and only the standard library besides the app it is given.
It reads one JSON command per line on stdin and answers one JSON line on the
real stdout; anything the app prints goes to stderr.

Commands:

- ``{"op": "versions"}``: the installed versions of Python, Starlette, FastAPI,
  Pydantic and AnyIO.
- ``{"op": "load", "source": ..., "call": name-or-null}``: run ``source`` in a
  fresh namespace; the app is ``namespace[call]()`` when ``call`` is given,
  else ``namespace["app"]``.
- ``{"op": "call", "scope": {...}, "body": base64}``: call the app with an
  ``http`` scope (header names and values are latin-1 strings) and answer the
  ASGI messages it sent, and the exception it raised, if any.
"""

import asyncio
import base64
import json
import platform
import sys
import traceback

APP = None
LOOP = None


def _version(name):
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return None
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _versions():
    found = {"python": platform.python_version()}
    for name in ("starlette", "fastapi", "pydantic", "anyio"):
        found[name] = _version(name)
    return found


def _summary(exc):
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def _load(source, call):
    global APP
    namespace = {"__name__": "cors_lab_scenario"}
    exec(compile(source, "<scenario>", "exec"), namespace)
    if call:
        APP = namespace[call]()
    elif "app" in namespace:
        APP = namespace["app"]
    else:
        raise NameError("the scenario's source defines no 'app'")
    return {"ok": True}


async def _call(scope, body):
    messages = []
    done = asyncio.Event()
    state = {"body_sent": False}

    async def receive():
        if not state["body_sent"]:
            state["body_sent"] = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        kind = message.get("type")
        if kind == "http.response.start":
            messages.append({
                "type": kind,
                "status": int(message["status"]),
                "headers": [[bytes(n).decode("latin-1"), bytes(v).decode("latin-1")] for n, v in message.get("headers") or ()],
            })
        elif kind == "http.response.body":
            more = bool(message.get("more_body", False))
            messages.append({
                "type": kind,
                "body": base64.b64encode(bytes(message.get("body", b""))).decode("ascii"),
                "more_body": more,
            })
            if not more:
                done.set()

    error = None
    try:
        await APP(scope, receive, send)
    except Exception as exc:  # the lab replays it, as a server would see it
        error = _summary(exc)
    done.set()
    return {"ok": True, "messages": messages, "error": error}


def _scope(raw):
    scope = dict(raw)
    scope["headers"] = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in raw["headers"]]
    scope["raw_path"] = raw["raw_path"].encode("latin-1")
    scope["query_string"] = raw["query_string"].encode("latin-1")
    scope["client"] = tuple(raw["client"]) if raw.get("client") else None
    scope["server"] = tuple(raw["server"]) if raw.get("server") else None
    return scope


def handle(command):
    global LOOP
    op = command.get("op")
    if op == "versions":
        return {"ok": True, "versions": _versions()}
    if op == "load":
        return _load(command["source"], command.get("call"))
    if op == "call":
        if APP is None:
            raise RuntimeError("no app loaded")
        body = base64.b64decode(command.get("body", ""))
        if LOOP is None:
            LOOP = asyncio.new_event_loop()
        return LOOP.run_until_complete(_call(_scope(command["scope"]), body))
    raise ValueError("unknown op %r" % (op,))


def main():
    out = sys.stdout
    sys.stdout = sys.stderr  # print() in the app must not corrupt the protocol
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = handle(json.loads(line))
        except BaseException as exc:  # report, never die: the lab shows the reason
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            reply = {"ok": False, "error": _summary(exc), "traceback": traceback.format_exc()}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
