"""(app) Script-run time of every page of the Streamlit app on the demo organisation, under AppTest.

Each page must run in under a second. AppTest runs the real script (app.py and the page module) in
this process, so a run costs what a user's rerun costs on the server, without the browser. For each
page: the first run after switching to it with empty Streamlit caches (cold), then ``repeats`` reruns
(warm, caches filled); the table reports the cold time, the median and maximum of the warm runs.

    python -m benchmarks.app_pages            # builds the demo organisation in a temporary folder
    python -m benchmarks.app_pages --db FILE  # measures on a copy of FILE
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
PAGES = ["overview", "overlap", "gaps", "register", "ai_systems", "treatment", "soa", "imports", "sql", "quality",
         "history"]
LIMIT_SECONDS = 1.0


def build_demo(path: Path) -> Path:
    """The demo organisation, written by `riskmap demo`."""
    from engine.cli import main

    with contextlib.redirect_stdout(io.StringIO()):   # the demo's progress lines are not part of the table
        code = main(["demo", "--db", str(path)])
    if code != 0:
        raise SystemExit(f"riskmap demo --db {path} failed with exit code {code}")
    return path


def measure_pages(db: Path | str, repeats: int = 5, pages: list[str] | None = None) -> list[dict[str, Any]]:
    """Time the script run of each page on ``db`` (a DuckDB file or a ``postgresql://`` URL); one dict per
    page (seconds). A page that raises or shows an error is not a measurement: it stops the run."""
    import streamlit as st
    from streamlit import config, logger
    from streamlit.testing.v1 import AppTest

    # AppTest runs scripts without a server, and Streamlit warns about that on every run.
    config.set_option("logger.level", "error")
    logger.set_log_level(logging.ERROR)
    os.environ["RISKMAP_DB"] = str(db)
    os.environ.setdefault("RISKMAP_ACTOR", "benchmark")
    # Warm the interpreter (imports of plotly, polars, the engine) once: that is process start-up, not a page.
    AppTest.from_file(str(APP), default_timeout=60).run()
    rows = []
    for page in pages or PAGES:
        at = AppTest.from_file(str(APP), default_timeout=60).run()
        if page != "overview":
            at.switch_page(f"ui/{page}.py")
        st.cache_data.clear()
        st.cache_resource.clear()
        start = time.perf_counter()
        at.run()
        cold = time.perf_counter() - start
        if at.exception:
            raise RuntimeError(f"page {page} raised: {at.exception[0].value}")
        if at.error:
            raise RuntimeError(f"page {page} shows an error: {at.error[0].value}")
        warm = []
        for _ in range(repeats):
            start = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - start)
        rows.append({"page": page, "cold_s": cold, "median_s": statistics.median(warm), "max_s": max(warm),
                     "runs": repeats})
    return rows


def table(rows: list[dict[str, Any]], limit: float = LIMIT_SECONDS) -> str:
    """The results as an aligned text table; ``ok`` when both cold and warm runs are under ``limit``."""
    head = f"{'page':<12} {'cold (s)':>9} {'median (s)':>11} {'max (s)':>8}  under {limit:g} s"
    lines = [head, "-" * len(head)]
    for r in rows:
        ok = max(r["cold_s"], r["max_s"]) < limit
        lines.append(f"{r['page']:<12} {r['cold_s']:>9.3f} {r['median_s']:>11.3f} {r['max_s']:>8.3f}  "
                     f"{'yes' if ok else 'NO'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.app_pages", description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="measure on a copy of this database instead of a fresh demo")
    parser.add_argument("--repeats", type=int, default=5, help="warm reruns per page (default 5)")
    parser.add_argument("--page", action="append", choices=PAGES, help="only this page (repeatable)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="riskmap-bench-app-") as tmp:
        db = Path(tmp) / "demo.duckdb"
        if args.db:
            shutil.copyfile(args.db, db)
        else:
            build_demo(db)
        rows = measure_pages(db, args.repeats, args.page)
    print(table(rows))
    slow = [r["page"] for r in rows if max(r["cold_s"], r["max_s"]) >= LIMIT_SECONDS]
    if slow:
        print(f"slower than {LIMIT_SECONDS:g} s: {', '.join(slow)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
