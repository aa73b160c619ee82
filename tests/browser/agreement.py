"""Print the agreement table: every catalogue scenario in real Chromium, Firefox and WebKit, and in the model.

    python -m tests.browser.agreement                    # the whole catalogue, every installed browser
    python -m tests.browser.agreement fastapi-           # scenarios whose id starts with this
    python -m tests.browser.agreement --engine webkit    # one browser only
    python -m tests.browser.agreement --parallel         # the browsers side by side, one thread each

The browsers run one after the other, each with its own live servers. (Side by
side they took about as long on a 2-core machine, 129 s against 117-133 s: both
are CPU-bound, and each one's own time then counts the other's load.) WebKit is
WebKitGTK's MiniBrowser, checked against the model's ``safari`` profile. The
command writes a JSON report per browser (default
tests/browser/reports/<engine>.json: chromium, firefox, webkit) and ends with
one summary line per browser, ``N/M scenarios agree (WebKitGTK 2.50.6) in X s``.
The same runs are the pytest tests tests/browser/test_chromium_agreement.py,
tests/browser/test_firefox_agreement.py and tests/browser/test_webkit_agreement.py.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.browser.firefox import INSTALL_HINT as FIREFOX_HINT
from tests.browser.firefox import FirefoxError, firefox_path
from tests.browser.harness import (
    BROWSERS,
    EngineRun,
    chromium_path,
    load_catalogue,
    run_engine,
    table_by_engine,
    write_report,
)
from tests.browser.webkit import INSTALL_HINT as WEBKIT_HINT
from tests.browser.webkit import WebKitError, webkit_path

REPORTS = Path(__file__).with_name("reports")
INSTALL_HINTS = {"chromium": "sudo apt-get install -y chromium", "firefox": FIREFOX_HINT, "webkit": WEBKIT_HINT}
LOCATORS = {"chromium": chromium_path, "firefox": firefox_path, "webkit": webkit_path}


def run_all(executables: dict[str, str], scenarios: list[dict[str, Any]], *, parallel: bool = False) -> list[EngineRun]:
    """Run the scenarios in each browser, one after the other, or side by side (a thread each) when ``parallel``."""
    if not parallel:
        return [run_engine(engine, path, scenarios) for engine, path in executables.items()]
    results: dict[str, EngineRun] = {}
    errors: dict[str, BaseException] = {}

    def work(engine: str, path: str) -> None:
        try:
            results[engine] = run_engine(engine, path, scenarios)
        except BaseException as exc:  # re-raised below, on the caller's thread
            errors[engine] = exc

    threads = [threading.Thread(target=work, args=item, name=f"agreement-{item[0]}") for item in executables.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for exc in errors.values():
        raise exc
    return [results[engine] for engine in executables]


def main() -> int:
    parser = argparse.ArgumentParser(description="Compare the model with real Chromium, Firefox and WebKit, scenario by scenario.")
    parser.add_argument("prefix", nargs="?", default="", help="only scenarios whose id starts with this")
    parser.add_argument("--engine", choices=sorted(BROWSERS), action="append", help="only this browser (repeatable)")
    parser.add_argument("--reports", default=str(REPORTS), help="directory for the JSON reports (<engine>.json)")
    parser.add_argument("--diffs", action="store_true", help="accepted for compatibility: every difference is always printed")
    parser.add_argument("--parallel", action="store_true", help="run the browsers side by side, one thread each")
    args = parser.parse_args()
    wanted = args.engine or list(BROWSERS)
    executables: dict[str, str] = {}
    for engine in wanted:
        path = LOCATORS[engine]()
        if path is None:
            print(f"{BROWSERS[engine]} is not installed, skipped: {INSTALL_HINTS[engine]}")
        else:
            executables[engine] = path
    if not executables:
        return 2
    scenarios = [s for s in load_catalogue() if s["id"].startswith(args.prefix)]
    started = time.perf_counter()
    try:
        runs = run_all(executables, scenarios, parallel=args.parallel)
    except FirefoxError as exc:
        print(f"Firefox could not be driven: {exc}")
        return 2
    except WebKitError as exc:
        print(f"WebKit could not be driven: {exc}")
        return 2
    total = time.perf_counter() - started
    print(table_by_engine(runs))
    for run in runs:
        for row in run.rows:
            if row.differences:
                print(f"\n{run.browser}: {row.id}:")
                for difference in row.differences:
                    print(f"  {difference}")
        write_report(run, Path(args.reports) / f"{run.engine}.json")
    print()
    for run in runs:
        print(run.summary)
    if len(runs) > 1:
        print(f"all browsers in {total:.1f} s")
    return 0 if all(row.agree for run in runs for row in run.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
