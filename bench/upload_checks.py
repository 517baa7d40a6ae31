"""Benchmark: how fast, and in how little memory, hostile uploads are refused before anything loads them.

Run with ``.venv/bin/python bench/upload_checks.py``. No database is needed. Each case runs in a fresh process,
which makes its file (a zip bomb from ``tests/hostile_files.py``), resets its peak resident set, and then times the
check an upload goes through: ``returns.excel._open_workbook`` for a workbook (the streaming inspection that runs
before openpyxl would load it), ``returns.evidence.check_evidence_file`` for an evidence file. Printed for each:
the file's size, what it unpacks to, the time to refuse it, the growth of the peak resident set (VmHWM) during the
check, Python's peak allocations (tracemalloc) and the first words of the message.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

CASES = {
    "workbook, 300 MB of cells": ("workbook", lambda h: h.cells_bomb(300), 300),
    "workbook, 1 GB of white space": ("workbook", lambda h: h.blank_bomb(1024), 1024),
    "workbook, 1 GB of cells, header saying 2 kB": ("workbook", lambda h: h.lying(h.cells_bomb(1024), 2000), 1024),
    "workbook, 15 MB of cells (under the size limit)": ("workbook", lambda h: h.cells_bomb(15), 15),
    "evidence .docx, 1 GB of text": ("evidence", lambda h: None, 1024),
    "evidence .docx, 90 MB of text (under the limit)": ("evidence", lambda h: None, 90),
    "evidence .docx, 1 GB of text, header saying 5 kB": ("evidence", lambda h: 5000, 1024),
}


def peak_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run_one(name: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assurance.settings")
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from returns.evidence import check_evidence_file
    from returns.excel import WorkbookProblems, _open_workbook
    from tests import hostile_files as hostile

    kind, make, megabytes = CASES[name]
    if kind == "workbook":
        data = hostile.with_member(hostile.xlsx(), make(hostile))
    else:
        data = hostile.docx_bomb(megabytes, declared=make(hostile))
    Path("/proc/self/clear_refs").write_text("5")  # the peak resident set starts again from here
    before = peak_kb()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        if kind == "workbook":
            _open_workbook(data)
            message = "accepted"
        else:
            check_evidence_file(SimpleUploadedFile("policy.docx", data))
            message = "accepted"
    except WorkbookProblems as refused:
        message = refused.problems[0]
    except Exception as refused:  # ValidationError
        message = " ".join(getattr(refused, "messages", [str(refused)]))
    elapsed = time.perf_counter() - started
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    grown = peak_kb() - before
    print(
        f"{name:<50} {len(data) / 1024:>8.0f} kB -> {megabytes:>5} MB   {elapsed * 1000:>7.1f} ms   "
        f"peak RSS +{grown / 1024:>5.1f} MB   Python peak {python_peak / 1024 / 1024:>5.1f} MB   {message[:60]}…"
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        run_one(sys.argv[2])
        return
    print(f"{'case':<50} {'file':>11} -> unzipped   {'time':>10}   memory")
    for name in CASES:
        subprocess.run([sys.executable, __file__, "--one", name], check=True, cwd=REPO_ROOT)


if __name__ == "__main__":
    main()
