"""Print the agreement table: every catalogue scenario in real Chromium and in the model.

    python -m tests.browser.agreement                 # the whole catalogue
    python -m tests.browser.agreement fastapi-        # scenarios whose id starts with this
    python -m tests.browser.agreement --json report.json

It writes a JSON report (default tests/browser/reports/chromium.json) and ends
with the summary line ``N/M scenarios agree (Chromium ...)``. The same run is
the pytest test tests/browser/test_chromium_agreement.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tests.browser.harness import chromium_path, load_catalogue, run_agreement, summarize, table, write_report


def main() -> int:
    parser = argparse.ArgumentParser(description="Compare the model with real Chromium, scenario by scenario.")
    parser.add_argument("prefix", nargs="?", default="", help="only scenarios whose id starts with this")
    parser.add_argument("--json", default=str(Path(__file__).with_name("reports") / "chromium.json"), help="where to write the JSON report")
    parser.add_argument("--diffs", action="store_true", help="print every difference")
    args = parser.parse_args()
    executable = chromium_path()
    if executable is None:
        print("chromium is not installed: sudo apt-get install -y chromium")
        return 2
    scenarios = [s for s in load_catalogue() if s["id"].startswith(args.prefix)]
    rows, version, seconds = run_agreement(executable, scenarios)
    print(table(rows))
    for row in rows:
        if not row.agree:
            print(f"\n{row.id}:")
            for difference in row.differences:
                print(f"  {difference}")
    write_report(rows, version, seconds, Path(args.json))
    print()
    print(summarize(rows, version, seconds))
    return 0 if all(row.agree for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
