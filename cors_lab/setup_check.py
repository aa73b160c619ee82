"""``python -m cors_lab check``: is this machine ready for the course? One line per item, with the fix.

Checks the Python version, the pinned packages (from requirements.txt when the
lab runs from a checkout), that a notebook kernel starts, and that the lab
completes one in-process exchange.
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
FIX_INSTALL = "python -m pip install -r requirements.txt (from the course's folder)"


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
    return ok, f"Python {version}", "" if ok else "install Python 3.11 or newer (python.org), then recreate the virtual environment"


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
            results.append((False, f"{name} {installed} (the course is made with {wanted})", f"python -m pip install {name}=={wanted}"))
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
        return False, f"a notebook kernel did not start ({type(exc).__name__}: {exc})", "python -m ipykernel install --user"
    try:
        reply = client.execute_interactive("import cors_lab", timeout=30, output_hook=lambda msg: None)
        ok = reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    seconds = time.perf_counter() - started
    if not ok:
        return False, "a kernel started but cannot import cors_lab", "python -m pip install -e . (from the course's folder), then restart the kernel"
    return True, f"a notebook kernel starts and imports cors_lab ({seconds:.1f} s)", ""


def check_exchange() -> tuple[bool, str, str]:
    try:
        import cors_lab

        result = cors_lab.Browser(origin="http://localhost:3000").fetch(cors_lab.demo_api(allow_origins=["http://localhost:3000"]), "/items")
    except Exception as exc:  # any failure is the answer
        return False, f"the lab failed to run one request ({type(exc).__name__}: {exc})", FIX_INSTALL
    ok = not result.blocked and result.status == 200
    return ok, "the lab runs an in-process request" if ok else f"the lab's request came back {result!r}", "" if ok else FIX_INSTALL


def run_checks(*, json_output: bool = False, kernel: bool = True) -> int:
    """Run every check, print one line per item, and return 0 when all pass, 1 otherwise."""
    items: list[tuple[bool, str, str]] = [check_python(), *check_packages()]
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
