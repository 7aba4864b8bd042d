"""(b) Crosswalk inference to depth 3 across the real catalogs and 20 synthetic frameworks.

engine:   engine.crosswalk.rebuild_links (set operations in DuckDB, a Python loop over depth levels only)
limit:    the same computation hand-written as one SQL script, executed in one call
baseline: the row-by-row way: read the mappings into Python, breadth-first search in loops, and write
          every link through the SQLModel ORM
"""

from __future__ import annotations

import shutil
import time
from collections import defaultdict
from pathlib import Path

import duckdb

from .harness import cached_database_is_current

RANK = {"equal": 5, "subset_of": 4, "superset_of": 3, "intersects_with": 2}
NAME = {v: k for k, v in RANK.items()}
INV = {"subset_of": "superset_of", "superset_of": "subset_of"}


def prepare(workdir: Path) -> Path:
    """A database with the real catalogs and crosswalks plus the synthetic frameworks (untimed, once)."""
    from engine.lifecycle import init_database

    from .generate import add_synthetic_frameworks

    path = workdir / "inference.duckdb"
    if cached_database_is_current(path):
        return path
    tmp = workdir / "inference.tmp.duckdb"
    tmp.unlink(missing_ok=True)
    init_database(tmp)
    con = duckdb.connect(str(tmp))
    add_synthetic_frameworks(con)
    con.close()
    tmp.rename(path)
    return path


def _copy(src: str, work: str) -> Path:
    dest = Path(work) / "run.duckdb"
    dest.unlink(missing_ok=True)
    shutil.copyfile(src, dest)
    return dest


def engine_run(db: str, work: str) -> tuple[float, str]:
    from engine import crosswalk, store

    path = _copy(db, work)
    t0 = time.perf_counter()
    with store.transaction(path) as con:
        crosswalk.rebuild_links(con, 3)
    elapsed = time.perf_counter() - t0
    with store.connect(path) as con:
        n = con.execute("SELECT count(*) FROM crosswalk_links WHERE origin = 'inferred'").fetchone()[0]
    return elapsed, f"{n} inferred links"


LIMIT_SQL = """
DELETE FROM crosswalk_links;
CREATE TEMP TABLE m AS SELECT * FROM mappings WHERE relationship <> 'no_relationship';
CREATE TEMP TABLE n AS
  SELECT (row_number() OVER ())::INTEGER AS id, fw, ref, fw || ':' || ref AS name
  FROM (SELECT source_framework AS fw, source_ref AS ref FROM m UNION SELECT target_framework, target_ref FROM m);
CREATE TEMP TABLE e AS
  WITH b AS (
    SELECT source_framework sf, source_ref sr, target_framework tf, target_ref tr, relationship r, strength,
           rationale_type rt, justification j, 'authored' o FROM m
    UNION ALL
    SELECT target_framework, target_ref, source_framework, source_ref,
           CASE relationship WHEN 'subset_of' THEN 'superset_of' WHEN 'superset_of' THEN 'subset_of'
           ELSE relationship END, strength, rationale_type, justification, 'inverse' FROM m)
  SELECT a.id s, c.id t, a.fw sf, c.fw tf, a.name sn, c.name tn, r,
         (CASE r WHEN 'equal' THEN 5 WHEN 'subset_of' THEN 4 WHEN 'superset_of' THEN 3 ELSE 2 END)::TINYINT rk,
         strength::TINYINT st, (CASE rt WHEN 'syntactic' THEN 1 WHEN 'semantic' THEN 2 ELSE 3 END)::TINYINT rtk,
         rt, j, o
  FROM b JOIN n a ON a.fw = b.sf AND a.ref = b.sr JOIN n c ON c.fw = b.tf AND c.ref = b.tr;
INSERT INTO crosswalk_links
  SELECT a.fw, a.ref, c.fw, c.ref, e.r, e.st, e.rt, e.j, e.o, e.sn || ' -' || e.r || '-> ' || e.tn, 1, 1
  FROM e JOIN n a ON a.id = e.s JOIN n c ON c.id = e.t;
INSERT INTO crosswalk_links
  SELECT source_framework, source_ref, target_framework, NULL, relationship, strength, rationale_type,
         justification, 'authored', source_framework || ':' || source_ref || ' -no_relationship-> ' || target_framework, 1, 1
  FROM mappings WHERE relationship = 'no_relationship';
CREATE TEMP TABLE df AS SELECT DISTINCT sf, tf FROM e;
CREATE TEMP TABLE f1 AS SELECT s, t, rk, st, rtk, [sf, tf] fws, sn || ' -' || r || '-> ' || tn AS path, '' AS via, tn FROM e;
CREATE TEMP TABLE seen AS SELECT DISTINCT s, t FROM e;
CREATE TEMP TABLE f2 AS
  WITH x AS (
    SELECT f.s, e.t, CASE WHEN f.rk = 5 THEN e.rk WHEN e.rk = 5 THEN f.rk WHEN f.rk = e.rk AND f.rk IN (3, 4)
           THEN f.rk ELSE 2 END::TINYINT rk, least(f.st, e.st) st, greatest(f.rtk, e.rtk) rtk,
           list_append(f.fws, e.tf) fws, f.path || ' -' || e.r || '-> ' || e.tn path,
           CASE WHEN f.via = '' THEN f.tn ELSE f.via || ', ' || f.tn END via, e.tn
    FROM f1 f JOIN e ON e.s = f.t WHERE NOT list_contains(f.fws, e.tf))
  SELECT x.*, count(*) OVER (PARTITION BY x.s, x.t) np FROM x ANTI JOIN seen USING (s, t)
  QUALIFY row_number() OVER (PARTITION BY x.s, x.t ORDER BY x.rk DESC, x.st DESC, x.path) = 1;
INSERT INTO seen SELECT s, t FROM f2;
CREATE TEMP TABLE f3 AS
  WITH x AS (
    SELECT f.s, e.t, CASE WHEN f.rk = 5 THEN e.rk WHEN e.rk = 5 THEN f.rk WHEN f.rk = e.rk AND f.rk IN (3, 4)
           THEN f.rk ELSE 2 END::TINYINT rk, least(f.st, e.st) st, greatest(f.rtk, e.rtk) rtk,
           list_append(f.fws, e.tf) fws, f.path || ' -' || e.r || '-> ' || e.tn path,
           CASE WHEN f.via = '' THEN f.tn ELSE f.via || ', ' || f.tn END via, e.tn
    FROM f2 f JOIN e ON e.s = f.t WHERE NOT list_contains(f.fws, e.tf))
  SELECT x.*, count(*) OVER (PARTITION BY x.s, x.t) np FROM x ANTI JOIN seen USING (s, t)
  QUALIFY row_number() OVER (PARTITION BY x.s, x.t ORDER BY x.rk DESC, x.st DESC, x.path) = 1;
INSERT INTO crosswalk_links
  SELECT a.fw, a.ref, c.fw, c.ref,
         CASE x.rk WHEN 5 THEN 'equal' WHEN 4 THEN 'subset_of' WHEN 3 THEN 'superset_of' ELSE 'intersects_with' END,
         x.st, CASE x.rtk WHEN 1 THEN 'syntactic' WHEN 2 THEN 'semantic' ELSE 'functional' END,
         'Inferred through ' || x.via || '; strength is the weakest link of the path', 'inferred', x.path, x.d, x.np
  FROM (SELECT *, 2 AS d FROM f2 UNION ALL SELECT *, 3 FROM f3) x
  JOIN n a ON a.id = x.s JOIN n c ON c.id = x.t
  WHERE NOT EXISTS (SELECT 1 FROM df WHERE df.sf = a.fw AND df.tf = c.fw);
"""


def limit_run(db: str, work: str) -> tuple[float, str]:
    path = _copy(db, work)
    con = duckdb.connect(str(path))
    con.execute("SET enable_progress_bar = false")
    try:
        t0 = time.perf_counter()
        con.execute("BEGIN")
        con.execute(LIMIT_SQL)
        con.execute("COMMIT")
        elapsed = time.perf_counter() - t0
        n = con.execute("SELECT count(*) FROM crosswalk_links WHERE origin = 'inferred'").fetchone()[0]
    finally:
        con.close()
    return elapsed, f"{n} inferred links"


def baseline_run(db: str, work: str, max_rows: int = 0) -> tuple[float, str]:
    """Row by row: Python loops for the search, one ORM object per link.

    With ``max_rows`` > 0 only that many links are written through the ORM and the write time is
    scaled up linearly to the full count (said in the note), to keep the run short.
    """
    from sqlmodel import Session

    from .orm import CrosswalkLink, engine_for

    path = _copy(db, work)
    t0 = time.perf_counter()
    con = duckdb.connect(str(path))
    rows = con.execute("SELECT source_framework, source_ref, target_framework, target_ref, relationship, strength, "
                       "rationale_type, justification FROM mappings").fetchall()
    con.execute("DELETE FROM crosswalk_links")
    con.close()
    adj: dict[tuple[str, str], list[tuple[tuple[str, str], str, int]]] = defaultdict(list)
    links: list[dict] = []
    direct_fw = set()
    for sf, sr, tf, tr, rel, st, rt, j in rows:
        if rel == "no_relationship":
            links.append(dict(source_framework=sf, source_ref=sr, target_framework=tf, target_ref=None,
                              relationship=rel, strength=st, rationale_type=rt, justification=j, origin="authored",
                              path=f"{sf}:{sr} -no_relationship-> {tf}", depth=1, n_paths=1))
            continue
        inv = INV.get(rel, rel)
        adj[(sf, sr)].append(((tf, tr), rel, st))
        adj[(tf, tr)].append(((sf, sr), inv, st))
        direct_fw.add((sf, tf))
        direct_fw.add((tf, sf))
        for a, b, r, o in (((sf, sr), (tf, tr), rel, "authored"), ((tf, tr), (sf, sr), inv, "inverse")):
            links.append(dict(source_framework=a[0], source_ref=a[1], target_framework=b[0], target_ref=b[1],
                              relationship=r, strength=st, rationale_type=rt, justification=j, origin=o,
                              path=f"{a[0]}:{a[1]} -{r}-> {b[0]}:{b[1]}", depth=1, n_paths=1))

    def compose(x: str, y: str) -> str:
        if x == "equal":
            return y
        if y == "equal":
            return x
        if x == y and x in ("subset_of", "superset_of"):
            return x
        return "intersects_with"

    for start in list(adj):
        reached = {start} | {t for t, _, _ in adj[start]}
        frontier = [(t, r, s, [start[0], t[0]], f"{start[0]}:{start[1]} -{r}-> {t[0]}:{t[1]}", [])
                    for t, r, s in adj[start]]
        for depth in (2, 3):
            best: dict[tuple[str, str], list] = {}
            for node, rel, st, fws, trail, via in frontier:
                for nxt, r2, s2 in adj[node]:
                    if nxt[0] in fws or nxt in reached:
                        continue
                    cand = [nxt, compose(rel, r2), min(st, s2), fws + [nxt[0]],
                            f"{trail} -{r2}-> {nxt[0]}:{nxt[1]}", via + [f"{node[0]}:{node[1]}"], 1]
                    cur = best.get(nxt)
                    if cur is None:
                        best[nxt] = cand
                    else:
                        cand[6] = cur[6] + 1
                        if (RANK[cand[1]], cand[2], ) > (RANK[cur[1]], cur[2]) or (
                                (RANK[cand[1]], cand[2]) == (RANK[cur[1]], cur[2]) and cand[4] < cur[4]):
                            best[nxt] = cand
                        else:
                            cur[6] += 1
            frontier = []
            for nxt, rel, st, fws, trail, via, npaths in best.values():
                reached.add(nxt)
                frontier.append((nxt, rel, st, fws, trail, via))
                if (start[0], nxt[0]) not in direct_fw:
                    links.append(dict(source_framework=start[0], source_ref=start[1], target_framework=nxt[0],
                                      target_ref=nxt[1], relationship=rel, strength=st, rationale_type="semantic",
                                      justification="Inferred through " + ", ".join(via)
                                      + "; strength is the weakest link of the path",
                                      origin="inferred", path=trail, depth=depth, n_paths=npaths))
    compute = time.perf_counter() - t0
    eng = engine_for(str(path))
    todo = links[:max_rows] if max_rows else links
    t1 = time.perf_counter()
    with Session(eng) as session:
        for link in todo:
            session.add(CrosswalkLink(**link))
        session.commit()
    write = time.perf_counter() - t1
    eng.dispose()
    note = f"{sum(1 for x in links if x['origin'] == 'inferred')} inferred links"
    if max_rows and len(links) > max_rows:
        write = write * len(links) / max_rows
        note += f"; ORM write time extrapolated from {max_rows} of {len(links)} rows"
    return compute + write, note
