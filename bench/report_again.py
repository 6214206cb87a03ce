"""The weekly report again on a filled warehouse, two checkouts back to back: CPU s, peak RSS, same files?

    python bench/report_again.py once --warehouse URL --out DIR [--repo CHECKOUT] [--profile FILE]
    python bench/report_again.py compare DIR_A DIR_B

``once`` runs ``write_report`` in a child process of ``CHECKOUT``'s own interpreter
(``CHECKOUT/.venv/bin/python``; default: this checkout) as a first report (the ``report_run`` /
``report_file`` rows deleted first, so every run starts from the same state) at a fixed as-of
and a fixed clock, so two checkouts' files can be compared byte for byte. It prints the child's
CPU seconds (user + sys, imports included) and its peak RSS (the kernel's ``ru_maxrss``), and
the seconds of the work alone. ``--profile`` writes cProfile's statistics of the work.

``compare``: discrepancies.json, customers.json, report.md and report.html byte for byte, and
report.xlsx read with openpyxl (sheets, dimensions, freeze panes, filters, column widths, and
every cell's value, type, number format, fill, font and alignment) and part by part.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

FIXED_NOW = datetime(2026, 11, 20, 4, tzinfo=UTC)  # the clock every run sees (sources' freshness)


def child(args) -> None:
    """The report itself, in the interpreter of the checkout under test (its editable install:
    ``quality`` is that checkout's); prints its figures as a JSON line."""
    import resource
    import time

    from sqlalchemy import text

    import quality.report as report
    from hub_core.warehouse import open_warehouse

    if args.spill_after:  # items to a temporary file past this many (as a 100k-customer world's are)
        import quality.report.items as items

        items.SPILL_AFTER = int(args.spill_after)
    engine = open_warehouse(args.warehouse)
    with engine.begin() as conn:  # a first report every time: same window, same files
        conn.execute(text("DELETE FROM report_file"))
        conn.execute(text("DELETE FROM report_run"))
    report.gather = partial(report.gather, now=FIXED_NOW)
    kwargs = {"as_of": datetime.fromisoformat(args.as_of),
              "since": datetime.fromisoformat(args.since) if args.since else None}
    start, cpu = time.perf_counter(), time.process_time()
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        files = profiler.runcall(report.write_report, engine, Path(args.out), **kwargs)
        profiler.dump_stats(args.profile)
    else:
        files = report.write_report(engine, Path(args.out), **kwargs)
    work, work_cpu = time.perf_counter() - start, time.process_time() - cpu
    use = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"items": files.discrepancies, "work_s": round(work, 2), "work_cpu_s": round(work_cpu, 2),
                      "cpu_s": round(use.ru_utime + use.ru_stime, 2), "peak_rss_mb": round(use.ru_maxrss / 1024, 1)}))
    engine.dispose()



def once(args) -> None:
    """One report in a child process of the chosen checkout."""
    repo = Path(args.repo).resolve()
    python = repo / ".venv" / "bin" / "python"
    argv = [str(python), __file__, "child", "--warehouse", args.warehouse, "--out", str(Path(args.out).resolve()),
            "--as-of", args.as_of] + (["--since", args.since] if args.since else []) + (
            ["--profile", args.profile] if args.profile else []) + (
            ["--spill-after", args.spill_after] if args.spill_after else [])
    got = subprocess.run(argv, cwd=repo, capture_output=True, text=True)
    if got.returncode:
        sys.exit(got.stderr)
    print(json.dumps({"repo": str(repo)} | json.loads(got.stdout.strip().splitlines()[-1])), flush=True)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _cells(path: Path) -> dict:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    book = {"sheets": wb.sheetnames}
    for ws in wb.worksheets:
        book[ws.title] = {
            "dimension": ws.dimensions, "freeze": ws.freeze_panes, "filter": ws.auto_filter.ref,
            "widths": {k: (d.width, d.customWidth) for k, d in sorted(ws.column_dimensions.items())},
            "cells": [[(c.value, type(c.value).__name__, c.data_type, c.number_format, c.fill.fill_type,
                        c.fill.fgColor.rgb, c.font.b, c.font.color.rgb if c.font.color else None,
                        c.alignment.vertical) for c in row] for row in ws.iter_rows()]}
    return book


def compare(a: Path, b: Path) -> bool:
    """Whether two report directories hold the same files (see the module's docstring)."""
    same = True
    for name in ("discrepancies.json", "customers.json", "report.md", "report.html"):
        equal = (a / name).read_bytes() == (b / name).read_bytes()
        same &= equal
        print(f"{name:<20} {'same bytes' if equal else 'DIFFERENT'} {_sha(a / name)} {_sha(b / name)}")
    with zipfile.ZipFile(a / "report.xlsx") as za, zipfile.ZipFile(b / "report.xlsx") as zb:
        parts = sorted(za.namelist()) == sorted(zb.namelist()) and all(
            za.read(n) == zb.read(n) for n in za.namelist())
    cells = _cells(a / "report.xlsx") == _cells(b / "report.xlsx")
    same &= cells
    print(f"{'report.xlsx':<20} cells {'same' if cells else 'DIFFERENT'}, parts {'same bytes' if parts else 'differ'}")
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("once")
    inner = sub.add_parser("child")
    one.add_argument("--warehouse", required=True)
    one.add_argument("--out", required=True)
    one.add_argument("--repo", default=str(HERE))
    one.add_argument("--as-of", default="2026-11-20T03:00:00+00:00", help="default: bench/rules.py's T + 2 h")
    one.add_argument("--since", help="the window's start (default: one week back, every item new); "
                     "an hour back makes every item persisting, as in bench/run.py's incremental run")
    one.add_argument("--profile")
    one.add_argument("--spill-after", help="keep at most this many items in memory (default: the report's own)")
    for name in ("--warehouse", "--out", "--as-of", "--since", "--profile", "--spill-after"):
        inner.add_argument(name, required=name in ("--warehouse", "--out", "--as-of"))
    two = sub.add_parser("compare")
    two.add_argument("a", type=Path)
    two.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "once":
        once(args)
    elif args.command == "child":
        child(args)
    else:
        sys.exit(0 if compare(args.a, args.b) else 1)


if __name__ == "__main__":
    main()
