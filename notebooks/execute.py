"""Re-execute the course notebooks in place, so their stored outputs match the current lab.

    python notebooks/execute.py                  # every notebook under notebooks/
    python notebooks/execute.py notebooks/03-*.ipynb

Timing metadata is not recorded and execution counts are kept, so running it
twice leaves no diff. It prints each notebook's run time; the course's budget
is under 10 s per notebook on a 2-core machine.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def execute(path: Path) -> float:
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        record_timing=False,
        # One stream output per cell and stream, however the kernel happened to flush (under load
        # a print can arrive in several pieces): re-running leaves no diff.
        coalesce_streams=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    seconds = time.perf_counter() - started
    # Keep only what does not change from machine to machine.
    notebook.metadata["language_info"] = {"name": "python"}
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, path)
    return seconds


def main(argv: list[str]) -> int:
    paths = [Path(arg) for arg in argv] or sorted(p for p in HERE.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    total = 0.0
    for path in paths:
        seconds = execute(path)
        total += seconds
        print(f"{seconds:6.1f} s  {path.relative_to(HERE.parent) if path.is_absolute() else path}")
    print(f"{total:6.1f} s  in all ({len(paths)} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
