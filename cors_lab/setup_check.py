"""``python -m cors_lab check``: is this machine ready for the course? One line per item, with the fix.

Checks the Python version, the pinned packages (from requirements.txt when the
lab runs from a checkout), that a notebook kernel starts and runs this very
environment's Python (the usual trap: Jupyter from one install, the course's
packages in another), and that the lab completes one in-process exchange.
Every fix names the interpreter to use, so it can be pasted as it is.

In the browser (JupyterLite) there is nothing to install: the check says so and
runs the exchange.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

__all__ = ["run_checks"]

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"


def _python() -> str:
    """This interpreter, as a command to paste (quoted when its path has spaces)."""
    exe = sys.executable or "python"
    return f'"{exe}"' if " " in exe else exe


FIX_INSTALL = f"{_python()} -m pip install -r requirements.txt (from the course's folder)"


def _pins() -> dict[str, str]:
    if not REQUIREMENTS.exists():
        return {}
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line.strip())
        if match:
            pins[match.group(1)] = match.group(2)
    return pins


def check_python() -> tuple[bool, str, str]:
    version = ".".join(map(str, sys.version_info[:3]))
    ok = sys.version_info >= (3, 11)
    fix = ("install Python 3.11 or newer (python.org; on Windows `py -3.12`), then make the environment again: "
           "python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.txt")
    return ok, f"Python {version} ({sys.executable})", "" if ok else fix


def check_packages() -> list[tuple[bool, str, str]]:
    results = []
    pins = _pins() or {name: "" for name in ("fastapi", "starlette", "httpx2", "uvicorn", "jupyterlab", "ipykernel")}
    for name, wanted in pins.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            results.append((False, f"{name} is not installed", FIX_INSTALL))
            continue
        if wanted and installed != wanted:
            results.append((False, f"{name} {installed} (the course is made with {wanted})", f"{_python()} -m pip install {name}=={wanted}"))
        else:
            results.append((True, f"{name} {installed}", ""))
    return results


def check_kernel() -> tuple[bool, str, str]:
    try:
        from jupyter_client.manager import start_new_kernel
    except ImportError:
        return False, "jupyter_client is not installed", FIX_INSTALL
    started = time.perf_counter()
    try:
        manager, client = start_new_kernel(kernel_name="python3", startup_timeout=60, stderr=subprocess.DEVNULL)
    except Exception as exc:  # any failure to start is the answer
        return False, f"a notebook kernel did not start ({type(exc).__name__}: {exc})", f"{_python()} -m ipykernel install --user"
    seen: list[str] = []

    def collect(message: dict) -> None:
        if message.get("msg_type") == "stream":
            seen.append(message["content"]["text"])

    try:
        reply = client.execute_interactive("import sys; print(sys.executable)", timeout=30, output_hook=collect)
        kernel_python = "".join(seen).strip() if reply["content"]["status"] == "ok" else ""
        reply = client.execute_interactive("import cors_lab", timeout=30, output_hook=lambda msg: None)
        ok = reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    seconds = time.perf_counter() - started
    if kernel_python and not _same_file(kernel_python, sys.executable):
        return (False, f"the notebook kernel 'python3' runs {kernel_python}, not this environment's Python",
                f"{_python()} -m ipykernel install --user (the 'python3' kernel then runs this environment), and restart JupyterLab")
    if not ok:
        return False, "a kernel started but cannot import cors_lab", f"{_python()} -m pip install -e . (from the course's folder), then restart the kernel"
    return True, f"a notebook kernel starts and imports cors_lab ({seconds:.1f} s)", ""


def _same_file(a: str, b: str) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve() or Path(a).samefile(b)
    except OSError:
        return False


def check_exchange() -> tuple[bool, str, str]:
    try:
        import cors_lab

        result = cors_lab.Browser(origin="http://localhost:3000").fetch(cors_lab.demo_api(allow_origins=["http://localhost:3000"]), "/items")
    except Exception as exc:  # any failure is the answer
        return False, f"the lab failed to run one request ({type(exc).__name__}: {exc})", FIX_INSTALL
    ok = not result.blocked and result.status == 200
    return ok, "the lab runs an in-process request" if ok else f"the lab's request came back {result!r}", "" if ok else FIX_INSTALL


def check_browser() -> list[tuple[bool, str, str]]:
    """In JupyterLite: the versions the page loaded; nothing to install."""
    import platform

    found = [(True, f"in the browser (Pyodide, Python {platform.python_version()}): nothing to install", "")]
    for name in ("fastapi", "starlette", "pydantic"):
        try:
            found.append((True, f"{name} {metadata.version(name)}", ""))
        except metadata.PackageNotFoundError:
            found.append((False, f"{name} is not in the site", "rebuild the site: python lite/build.py"))
    return found


def run_checks(*, json_output: bool = False, kernel: bool = True) -> int:
    """Run every check, print one line per item, and return 0 when all pass, 1 otherwise."""
    from cors_lab.pyodide import IN_BROWSER

    if IN_BROWSER:
        items: list[tuple[bool, str, str]] = check_browser()
        kernel = False  # this is the kernel, and no process can start
    else:
        items = [check_python(), *check_packages()]
    steps: list[Callable[[], tuple[bool, str, str]]] = [check_exchange] + ([check_kernel] if kernel else [])
    items += [step() for step in steps]
    if json_output:
        print(json.dumps([{"ok": ok, "item": item, "fix": fix} for ok, item, fix in items], indent=2))
    else:
        for ok, item, fix in items:
            print(f"{'ok ' if ok else 'FIX'}  {item}" + (f"\n     -> {fix}" if fix else ""))
        failures = sum(not ok for ok, _, _ in items)
        print("Ready for the course." if not failures else f"{failures} item(s) to fix, see above.")
    return 0 if all(ok for ok, _, _ in items) else 1
