"""The ``cors-lab`` command: fetch, doctor, audit and explain from a terminal.

A TARGET is an import string (``module:app``, as uvicorn takes it) or the URL
of a live server. Output is for humans by default and JSON with ``--json``.
Exit codes: 0 when nothing is blocked or found, 1 when something is, 2 for
a usage or input error (always one line, never a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any

from cors_lab.engines import ENGINES
from cors_lab.findings import SEVERITIES

__all__ = ["main"]

EXAMPLES = """\
examples:
  cors-lab fetch main:app /items --origin http://localhost:3000
  cors-lab fetch main:app /items/1 -X PUT -H 'Content-Type: application/json' --data '{"name": "fig"}'
  cors-lab fetch http://127.0.0.1:8000 /items --origin http://localhost:3000 --engine firefox
  cors-lab doctor main:app --frontend http://localhost:5173
  cors-lab audit main:app --site https://app.example.com --path /me
  cors-lab audit https://api.example.com --site https://app.example.com --json
  cors-lab explain "Access to fetch at 'http://localhost:8000/items' from origin ..."
  pbpaste | cors-lab explain -
  cors-lab check
"""


class CLIError(Exception):
    """A one-line error for the user."""


def load_target(target: str, app_dir: str = ".") -> Any:
    """An app from ``module:attr``, or the URL string itself."""
    if target.startswith(("http://", "https://")):
        return target.rstrip("/")
    if "://" in target:
        raise CLIError(f"target {target!r}: only http:// and https:// URLs are supported")
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise CLIError(f"target {target!r} is neither a URL nor an import string like 'main:app'")
    if attribute.isdigit():
        raise CLIError(f"target {target!r} looks like a host and port; write the URL: 'http://{target}'")
    path = os.path.abspath(app_dir)
    if path not in sys.path:
        sys.path.insert(0, path)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise CLIError(
            f"cannot import {module_name!r} ({exc.msg}); run from your project's directory or pass --app-dir"
        ) from None
    except Exception as exc:  # the user's module failed while importing
        raise CLIError(f"importing {module_name!r} raised {type(exc).__name__}: {exc}") from None
    try:
        app: Any = module
        for part in attribute.split("."):
            app = getattr(app, part)
    except AttributeError:
        raise CLIError(f"module {module_name!r} has no attribute {attribute!r}") from None
    from cors_lab.asgi import is_asgi_app

    if not is_asgi_app(app):
        raise CLIError(f"{target!r} is a {type(app).__name__}, not an ASGI app (a FastAPI() or Starlette() instance)")
    return app


def _headers(values: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep:
            raise CLIError(f"header {value!r} must look like 'Name: value'")
        pairs.append((name.strip(), rest.strip()))
    return pairs


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def cmd_fetch(args: argparse.Namespace) -> int:
    import cors_lab

    target = load_target(args.target, args.app_dir)
    spaces = {}
    for item in args.address_space:
        host, sep, space = item.partition("=")
        if not sep or not host.strip():
            raise CLIError(f"--address-space {item!r} must look like 'HOST=SPACE', e.g. 'app.example=public'")
        spaces[host.strip()] = space.strip()
    browser = cors_lab.Browser(
        origin=args.origin, engine=args.engine, timeout=args.timeout, address_spaces=spaces,
        local_network_permission="granted" if args.grant_local_network else "denied",
    )
    kwargs: dict[str, Any] = {
        "method": args.method,
        "headers": _headers(args.header),
        "credentials": args.credentials,
        "mode": args.mode,
        "initiator": "xhr" if args.xhr else "fetch",
    }
    if args.data is not None:
        kwargs["body"] = args.data
    path = args.path
    if isinstance(target, str):
        result = browser.fetch(target + (path if path.startswith("/") else "/" + path), **kwargs)
    else:
        result = browser.fetch(target, path, **kwargs)
    if result.net_error and not result.exchanges:
        raise CLIError(f"{result.method} {result.url}: no answer ({result.net_error}); is a server listening there?")
    if args.json:
        _print_json(
            {
                "blocked": result.blocked,
                "status": result.status,
                "type": result.type,
                "error_kind": result.error_kind,
                "console": result.console,
                "console_messages": result.console_messages,
                "preflight_reasons": result.preflight_reasons,
                "readable_headers": result.readable_headers,
                "body": result.body,
                "exchanges": [str(e) for e in result.exchanges],
                "explain": result.explain(),
            }
        )
    else:
        print(result)
        print()
        print(result.explain())
    return 1 if result.blocked else 0


def cmd_doctor(args: argparse.Namespace) -> int:
    import cors_lab

    target = load_target(args.target, args.app_dir)
    if isinstance(target, str):
        raise CLIError("doctor needs the app itself (an import string like 'main:app'); for a live URL use 'cors-lab fetch'")
    report = cors_lab.doctor(target, frontend=args.frontend, engine=args.engine)
    _print_json(report.as_dict()) if args.json else print(report)
    return 0 if report.ok else 1


def cmd_audit(args: argparse.Namespace) -> int:
    import cors_lab

    target = load_target(args.target, args.app_dir)
    show = not args.no_progress and sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show:
            print(f"\raudit: probe {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    report = cors_lab.audit(target, site=args.site, path=args.path, timeout=args.timeout, progress=progress)
    _print_json(report.as_dict()) if args.json else print(report)
    return 1 if report.at_least(args.fail_on) else 0


def cmd_explain(args: argparse.Namespace) -> int:
    import cors_lab

    text = " ".join(args.message) if args.message and args.message != ["-"] else sys.stdin.read()
    if not text.strip():
        raise CLIError("give the console message as an argument, or pipe it in with '-'")
    explanation = cors_lab.explain(text)
    if args.json:
        _print_json(
            {
                "engine": explanation.engine,
                "error_kind": explanation.error_kind,
                "check": explanation.check,
                "url": explanation.url,
                "origin": explanation.origin,
                "hint": explanation.hint,
                "preflight": explanation.preflight,
                "causes": [cause.__dict__ for cause in explanation.causes],
            }
        )
    else:
        print(explanation)
    return 0 if explanation.error_kind else 1


def cmd_check(args: argparse.Namespace) -> int:
    from cors_lab.setup_check import run_checks

    return run_checks(json_output=args.json)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cors-lab",
        description="See, model and debug CORS with FastAPI: what a browser does with a request to your app.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def common(p: argparse.ArgumentParser, *, target: bool = True) -> None:
        if target:
            p.add_argument("target", help="an import string like 'main:app', or the URL of a live server")
            p.add_argument("--app-dir", default=".", help="directory to import the app from (default: current)")
            p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each response (default 5)")
        p.add_argument("--json", action="store_true", help="print JSON instead of text")

    fetch = sub.add_parser("fetch", help="one request as a browser makes it: preflight, checks, console message", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    common(fetch)
    fetch.add_argument("path", nargs="?", default="/", help="the path to request (default /)")
    fetch.add_argument("--origin", default="http://localhost:3000", help="the page's origin (default http://localhost:3000)")
    fetch.add_argument("-X", "--method", default="GET")
    fetch.add_argument("-H", "--header", action="append", default=[], help="'Name: value' (repeatable)")
    fetch.add_argument("--data", help="a request body (a string, as fetch() sends it)")
    fetch.add_argument("--credentials", default="same-origin", choices=["omit", "same-origin", "include"])
    fetch.add_argument("--mode", default="cors", choices=["cors", "no-cors", "same-origin"])
    fetch.add_argument("--engine", default="chromium", choices=list(ENGINES))
    fetch.add_argument("--xhr", action="store_true", help="XMLHttpRequest instead of fetch()")
    fetch.add_argument(
        "--address-space", action="append", default=[], metavar="HOST=SPACE",
        help="where a name resolves for Local Network Access: public, local or loopback (repeatable)",
    )
    fetch.add_argument(
        "--grant-local-network", action="store_true",
        help="the user allows the Local Network Access prompt (default: denied, as headless Chromium does)",
    )
    fetch.set_defaults(run=cmd_fetch)

    doc = sub.add_parser("doctor", help="a frontend's typical requests against your app, and the fixes", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    common(doc)
    doc.add_argument("--frontend", default="http://localhost:3000", help="the frontend's origin")
    doc.add_argument("--engine", default="chromium", choices=list(ENGINES))
    doc.set_defaults(run=cmd_doctor)

    aud = sub.add_parser("audit", help="a security scan of the CORS setup", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    common(aud)
    aud.add_argument("--site", default="https://app.example.com", help="the frontend that should have access")
    aud.add_argument("--path", default="/", help="the resource to probe (pick one with user data)")
    aud.add_argument("--fail-on", default="low", choices=list(SEVERITIES), help="exit 1 for findings this bad or worse (default low)")
    aud.add_argument("--no-progress", action="store_true")
    aud.set_defaults(run=cmd_audit)

    exp = sub.add_parser("explain", help="what a pasted console message means, and its likely causes", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    exp.add_argument("message", nargs="*", help="the console message ('-' or nothing: read standard input)")
    common(exp, target=False)
    exp.set_defaults(run=cmd_explain)

    chk = sub.add_parser("check", help="check this machine's setup for the course")
    common(chk, target=False)
    chk.set_defaults(run=cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except CLIError as exc:
        print(f"cors-lab: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, ConnectionError, TimeoutError, OSError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"cors-lab {args.command}: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cors-lab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
