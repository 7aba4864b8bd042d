"""`make bench`: the enterprise benchmark, engine against the raw-SQL limit and the row-by-row baseline,
and the same import, SoA export and app pages on a PostgreSQL store against their budgets.

    python -m benchmarks.run [--runs 5] [--baseline-runs 3] [--baseline-files 5] [--skip-baseline]
                             [--skip-postgres | --postgres-only]

BENCH_RISKS sets the number of risks (default 100,000). Every measurement is the median of --runs runs,
each in a fresh process, with min and max; peak memory is the largest resident set of any engine run.
Results are printed as a table and written to benchmarks/results.json with the machine's description.
The PostgreSQL figures (benchmarks/postgres_bench.py) run on a throw-away server; they are skipped, and
said to be, when PostgreSQL is not installed. ``--postgres-only`` measures only them and puts them into
the results.json of an earlier run with the same number of risks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from . import imports_bench, inference, postgres_bench, register_bench
from .generate import bench_risks
from .harness import Measurement, machine, measure, run_once

ROOT = Path(__file__).resolve().parent
WORK = ROOT / "work"
RESULTS = ROOT / "results.json"
TARGETS = {
    "a": "under 3 s, and at least 10x faster than the baseline",
    "b": "within 1.5x of the raw-SQL limit",
    "c": "within 1.5x of the raw-SQL limit",
    "d": "under 1.5 s per page",
    "e": "under 2 GiB",
    "f": "under 2 s",
    "g": "under 2 s",
}
PAGE_SECONDS = 1.5


def app_pages_run(db: str, out: str, repeats: int) -> tuple[float, str]:
    """(d) Every page's script run under AppTest on the enterprise database (one process): a file or a
    PostgreSQL URL."""
    from .app_pages import measure_pages

    rows = measure_pages(db, repeats)
    Path(out).write_text(json.dumps(rows))
    return max(max(r["cold_s"], r["max_s"]) for r in rows), "per-page times in the (d) table"


def _previous_baselines(n: int) -> dict[str, Measurement]:
    """Baseline measurements of the last run with the same number of risks, by measure name."""
    if not RESULTS.exists():
        return {}
    old = json.loads(RESULTS.read_text())
    if old.get("risks") != n:
        return {}
    out = {}
    for row in old.get("measurements", []):
        b = row.get("baseline")
        if b:
            out[row["measure"]] = Measurement(b["name"], "baseline", list(b["runs"]), b["peak_rss_mb"],
                                              b.get("note", "") + " (measured in an earlier run)")
    return out


def _ratio(a: Measurement, b: Measurement | None) -> float | None:
    return round(b.median / a.median, 2) if b and a.median else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--baseline-runs", type=int, default=3)
    ap.add_argument("--baseline-files", type=int, default=5,
                    help="register files the row-by-row import baseline reads (time scaled by rows to all 50)")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--reuse-baseline", action="store_true",
                    help="take the baseline measurements from the last results.json (same risk count) instead "
                         "of running them again")
    ap.add_argument("--note", default="", help="a remark kept in results.json (e.g. what tree was measured)")
    pg = ap.add_mutually_exclusive_group()
    pg.add_argument("--skip-postgres", action="store_true", help="leave out the PostgreSQL figures")
    pg.add_argument("--postgres-only", action="store_true",
                    help="measure only the PostgreSQL figures and put them into the last results.json "
                         "(same risk count)")
    args = ap.parse_args(argv)
    if args.postgres_only:
        return postgres_only(args)
    previous = _previous_baselines(bench_risks()) if args.reuse_baseline else {}
    n = bench_risks()
    WORK.mkdir(parents=True, exist_ok=True)
    work = str(WORK)
    t_start = time.time()
    print(f"riskmap benchmark: {n} risks, {args.runs} runs per measurement", flush=True)

    print("preparing: registers, inventories, synthetic frameworks ...", flush=True)
    ent, inv_db = register_bench.prepare(WORK, n)
    inf_db = inference.prepare(WORK)
    os.sync()  # the files just written go to disk now, not while the first runs are timed
    reg = str(ent.root)
    results: list[Measurement] = []

    def step(label: str, variant: str, target: str, runs: int, **kw: Any) -> Measurement:
        if variant == "baseline" and label in previous:
            m = previous[label]
            print(f"  {label} [baseline] reused from the last run: median {m.median:.3f} s", flush=True)
            results.append(m)
            return m
        print(f"  {label} [{variant}] x{runs} ...", end=" ", flush=True)
        m = measure(label, variant, target, runs, **kw)
        print(f"median {m.median:.3f} s (min {min(m.runs):.3f}, max {max(m.runs):.3f}); {m.note}", flush=True)
        results.append(m)
        return m

    a = step("(a) import 50 registers", "engine", "benchmarks.register_bench:engine_run", args.runs,
             db=str(inv_db), reg_dir=reg, work=work)
    a_lim = step("(a) import 50 registers", "limit", "benchmarks.register_bench:limit_run", args.runs,
                 db=str(inv_db), reg_dir=reg, work=work)
    skip = args.skip_baseline
    a_base = None if skip else step(
        "(a) import 50 registers", "baseline", "benchmarks.register_bench:baseline_run", args.baseline_runs,
        db=str(inv_db), reg_dir=reg, work=work, max_files=args.baseline_files)
    # The register the engine built is the enterprise database for (c) and (d).
    enterprise = WORK / f"enterprise-{n}.duckdb"
    shutil.copyfile(WORK / "a-engine.duckdb", enterprise)

    b = step("(b) inference depth 3", "engine", "benchmarks.inference:engine_run", args.runs,
             db=str(inf_db), work=work)
    b_lim = step("(b) inference depth 3", "limit", "benchmarks.inference:limit_run", args.runs,
                 db=str(inf_db), work=work)
    b_base = None if skip else step(
        "(b) inference depth 3", "baseline", "benchmarks.inference:baseline_run", args.baseline_runs,
        db=str(inf_db), work=work, max_rows=20_000)

    c = step("(c) SoA to Excel", "engine", "benchmarks.soa_bench:engine_run", args.runs, db=str(enterprise), work=work)
    c_lim = step("(c) SoA to Excel", "limit", "benchmarks.soa_bench:limit_run", args.runs,
                 db=str(enterprise), work=work)
    c_base = None if skip else step(
        "(c) SoA to Excel", "baseline", "benchmarks.soa_bench:baseline_run", args.baseline_runs,
        db=str(enterprise), work=work)

    soa_file, plan_file = imports_bench.write_files(enterprise, WORK)
    f = step("(f) SoA import, 131 rows", "engine", "benchmarks.imports_bench:soa_engine_run", args.runs,
             db=str(enterprise), work=work, file=str(soa_file))
    f_lim = step("(f) SoA import, 131 rows", "limit", "benchmarks.imports_bench:soa_limit_run", args.runs,
                 db=str(enterprise), work=work, file=str(soa_file))
    g = step(f"(g) action plan import, {imports_bench.N_ACTIONS:,} actions", "engine",
             "benchmarks.imports_bench:actions_engine_run", args.runs, db=str(enterprise), work=work,
             file=str(plan_file))
    g_lim = step(f"(g) action plan import, {imports_bench.N_ACTIONS:,} actions", "limit",
                 "benchmarks.imports_bench:actions_limit_run", args.runs, db=str(enterprise), work=work,
                 file=str(plan_file))

    print(f"  (d) app pages [engine] x{args.runs} reruns per page ...", flush=True)
    pages_json = WORK / "pages.json"
    app_db = WORK / "app.duckdb"
    shutil.copyfile(enterprise, app_db)
    d_max, _, d_peak = (lambda r: (r[0], r[2], r[1]))(run_once("benchmarks.run:app_pages_run", db=str(app_db),
                                                                out=str(pages_json), repeats=args.runs))
    pages = json.loads(pages_json.read_text())
    on_server = None if args.skip_postgres else postgres_part(args, ent, step)
    peak = max([m.peak_rss_mb for m in (a, b, c, f, g)] + [d_peak] + ([on_server["peak_rss_mb"]] if on_server else []))

    rows = []
    for key, eng, lim, base in (("a", a, a_lim, a_base), ("b", b, b_lim, b_base), ("c", c, c_lim, c_base),
                                ("f", f, f_lim, None), ("g", g, g_lim, None)):
        rows.append({
            "measure": eng.name, "engine": eng.as_dict(), "limit": lim.as_dict(),
            "baseline": base.as_dict() if base else None,
            "engine_vs_limit": _ratio(lim, eng), "baseline_vs_engine": _ratio(eng, base),
            "target": TARGETS[key],
        })
    verdict = {
        "a_under_3s": a.median < 3.0,
        "a_10x_baseline": bool(a_base and a_base.median >= 10 * a.median),
        "b_within_1.5x_limit": b.median <= 1.5 * b_lim.median,
        "c_within_1.5x_limit": c.median <= 1.5 * c_lim.median,
        "d_pages_under_1.5s": d_max < 1.5,
        "e_peak_under_2GiB": peak < 2048,
        "f_under_2s": f.median < 2.0,
        "g_under_2s": g.median < 2.0,
    }
    report = {
        "machine": machine(), "risks": n, "runs": args.runs, "baseline_runs": args.baseline_runs,
        "measurements": rows, "pages": pages, "peak_rss_mb": peak, "targets_met": verdict,
        "postgres": on_server, "seconds_total": round(time.time() - t_start, 1),
    }
    if args.note:
        report["note"] = args.note
    RESULTS.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print()
    print(render(report))
    print(f"\nwritten to {RESULTS.relative_to(ROOT.parent)}")
    return 0


Step = Any
"""``step(label, variant, target, runs, **kwargs) -> Measurement`` of :func:`main`."""


def postgres_part(args: argparse.Namespace, ent: Any, step: Step) -> dict[str, Any] | None:
    """(a), (c) and (d) on a throw-away PostgreSQL server; None (said) when PostgreSQL is not installed."""
    missing = postgres_bench.available()
    if missing:
        print(f"  PostgreSQL figures skipped: {missing}", flush=True)
        return None
    print("  PostgreSQL: starting a throw-away server, preparing the inventories ...", flush=True)
    server, cluster = postgres_bench.start()
    try:
        postgres_bench.prepare(cluster, ent.assets_file, ent.ai_systems_file)
        at = {"port": cluster.port, "psql": cluster.psql}
        a = step("(a) import 50 registers", "postgres", "benchmarks.postgres_bench:import_run", args.runs,
                 reg_dir=str(ent.root), **at)
        postgres_bench.keep_enterprise(cluster)
        c = step("(c) SoA to Excel", "postgres", "benchmarks.postgres_bench:soa_run", args.runs, work=str(WORK), **at)
        print(f"  (d) app pages [postgres] x{args.runs} reruns per page ...", flush=True)
        pages_json = WORK / "pages-postgres.json"
        app_db = cluster.copy(postgres_bench.ENTERPRISE, "bench_app")
        pages, d_max, d_peak, pages_error = [], float("inf"), 0.0, None
        try:
            d_max, d_peak, _ = run_once("benchmarks.run:app_pages_run", db=app_db, out=str(pages_json),
                                        repeats=args.runs)
            pages = json.loads(pages_json.read_text())
        except RuntimeError as exc:  # a page that fails is reported, not timed
            pages_error = str(exc).strip().splitlines()[-1]
            print(f"  (d) app pages [postgres] not measured: {pages_error}", flush=True)
        version = cluster.version()
    finally:
        server.stop()
    return {
        "server": f"PostgreSQL {version}",
        "measurements": [{"measure": m.name, "engine": m.as_dict(), "target": postgres_bench.TARGETS[k]}
                         for k, m in (("a", a), ("c", c))],
        "pages": pages, "pages_error": pages_error, "peak_rss_mb": max(a.peak_rss_mb, c.peak_rss_mb, d_peak),
        "targets_met": {"a_under_10s": a.median < 10.0, "c_under_1s": c.median < 1.0,
                        "d_pages_under_1.5s": d_max < PAGE_SECONDS},
    }


def postgres_only(args: argparse.Namespace) -> int:
    """``--postgres-only``: the PostgreSQL figures alone, put into the results of the last full run."""
    n = bench_risks()
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if old.get("risks") != n:
        print(f"--postgres-only needs a results.json of a full run with {n} risks; run `make bench` first",
              file=sys.stderr)
        return 2
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"riskmap benchmark, PostgreSQL only: {n} risks, {args.runs} runs per measurement", flush=True)
    ent, inv_db = register_bench.prepare(WORK, n)

    def step(label: str, variant: str, target: str, runs: int, **kw: Any) -> Measurement:
        print(f"  {label} [{variant}] x{runs} ...", end=" ", flush=True)
        m = measure(label, variant, target, runs, **kw)
        print(f"median {m.median:.3f} s (min {min(m.runs):.3f}, max {max(m.runs):.3f}); {m.note}", flush=True)
        return m

    on_server = postgres_part(args, ent, step)
    if on_server is None:
        return 1
    # the pages on the file again, in this run, so the two columns of the pages table compare like with like
    print(f"  (d) app pages [file, for comparison] x{args.runs} reruns per page ...", flush=True)
    run_once("benchmarks.register_bench:engine_run", db=str(inv_db), reg_dir=str(ent.root), work=str(WORK))
    app_db, pages_json = WORK / "app.duckdb", WORK / "pages-file.json"
    shutil.copyfile(WORK / "a-engine.duckdb", app_db)
    run_once("benchmarks.run:app_pages_run", db=str(app_db), out=str(pages_json), repeats=args.runs)
    on_server["file_pages"] = json.loads(pages_json.read_text())
    old["postgres"] = on_server
    old["peak_rss_mb"] = max(old.get("peak_rss_mb", 0), on_server["peak_rss_mb"])
    old["postgres_measured_apart"] = args.note or f"with --postgres-only at {machine().get('git_commit')}"
    RESULTS.write_text(json.dumps(old, indent=2, default=str) + "\n")
    print()
    print(render(old))
    print(f"\nwritten to {RESULTS.relative_to(ROOT.parent)}")
    return 0


def render(report: dict[str, Any]) -> str:
    """The results as Markdown tables (also used in the README)."""
    out = [f"{report['risks']:,} risks; median of {report['runs']} runs (baseline: {report['baseline_runs']}); "
           f"{report['machine'].get('cpus')} CPUs, {report['machine'].get('cpu_model', '')}", "",
           "| measure | engine median (min-max) | raw-SQL limit | engine / limit | row-by-row baseline | "
           "baseline / engine | target |", "|---|---|---|---|---|---|---|"]
    if report.get("note"):
        out[1:1] = ["", report["note"]]
    for r in report["measurements"]:
        e, lim, b = r["engine"], r["limit"], r["baseline"]
        base = f"{b['median']:.1f} s" if b else "skipped"
        base_ratio = f"{r['baseline_vs_engine']}x" if b else "-"
        out.append(f"| {r['measure']} | {e['median']:.3f} s ({e['min']:.3f}-{e['max']:.3f}) | {lim['median']:.3f} s | "
                   f"{r['engine_vs_limit']}x | {base} | {base_ratio} | {r['target']} |")
    out += ["", "| page (d) | first run | median rerun | max rerun |", "|---|---|---|---|"]
    for p in report["pages"]:
        out.append(f"| {p['page']} | {p['cold_s']:.3f} s | {p['median_s']:.3f} s | {p['max_s']:.3f} s |")
    out += ["", f"(e) peak memory of any engine run: {report['peak_rss_mb']:.0f} MiB", "",
            "targets met: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in report["targets_met"].items())]
    notes = [f"- {r['measure']} baseline: {r['baseline']['note']}" for r in report["measurements"]
             if r["baseline"] and r["baseline"].get("note")]
    if notes:
        out += ["", *notes]
    if report.get("postgres"):
        pg = report["postgres"]
        out += ["", *render_postgres(pg, pg.get("file_pages") or report["pages"])]
    return "\n".join(out)


def render_postgres(pg: dict[str, Any], file_pages: list[dict[str, Any]]) -> list[str]:
    """The PostgreSQL figures as Markdown tables, each beside the DuckDB file's."""
    out = [f"On PostgreSQL ({pg['server']}, a throw-away server on this machine):", "",
           "| measure | PostgreSQL median (min-max) | budget |", "|---|---|---|"]
    for r in pg["measurements"]:
        e = r["engine"]
        out.append(f"| {r['measure']} | {e['median']:.3f} s ({e['min']:.3f}-{e['max']:.3f}) | {r['target']} |")
    on_file = {p["page"]: p for p in file_pages}
    where = "first run on the file (same run)" if pg.get("file_pages") else "first run on the file (table above)"
    out += ["", f"| page (d) | first run on PostgreSQL | median rerun | max rerun | {where} |",
            "|---|---|---|---|---|"]
    for p in pg["pages"]:
        f = on_file.get(p["page"])
        out.append(f"| {p['page']} | {p['cold_s']:.3f} s | {p['median_s']:.3f} s | {p['max_s']:.3f} s | "
                   + (f"{f['cold_s']:.3f} s |" if f else "- |"))
    if pg.get("pages_error"):
        out += [f"| (pages not measured: {pg['pages_error']}) | | | | |"]
    out += ["", "PostgreSQL budgets met: " + ", ".join(f"{k} {'yes' if v else 'NO'}"
                                                      for k, v in pg["targets_met"].items())]
    return out


if __name__ == "__main__":
    sys.exit(main())
