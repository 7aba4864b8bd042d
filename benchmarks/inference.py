"""(b) Crosswalk inference to depth 3 across the real catalogs and 20 synthetic frameworks, loaded as
imported frameworks (imported_mappings), so inference reads the records in force: tailored over shipped
over imported, and fills every pair no record decides.

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
CREATE TEMP TABLE m AS
  WITH c AS (
    SELECT source_framework sf, source_ref sr, target_framework tf, target_ref tr, relationship, strength,
           rationale_type, justification, review_status, reviewer, 'tailored' pvn, 1 prec, updated_at st
    FROM crosswalk_tailoring WHERE status = 'active'
    UNION ALL
    SELECT source_framework, source_ref, target_framework, target_ref, relationship, strength, rationale_type,
           justification, review_status, reviewer, 'shipped', 2, NULL::TIMESTAMP FROM mappings
    UNION ALL
    SELECT source_framework, source_ref, target_framework, target_ref, relationship, strength, rationale_type,
           justification, review_status, reviewer, 'imported', 3, imported_at FROM imported_mappings)
  SELECT * FROM c
  QUALIFY row_number() OVER (PARTITION BY CASE WHEN tr = '' THEN sf || ':' || sr || '|' || tf || ':'
                                               WHEN sf || ':' || sr < tf || ':' || tr THEN sf || ':' || sr || '|' || tf || ':' || tr
                                               ELSE tf || ':' || tr || '|' || sf || ':' || sr END
                             ORDER BY prec, st DESC NULLS LAST) = 1;
CREATE TEMP TABLE l AS SELECT * FROM m WHERE relationship <> 'no_relationship';
CREATE TEMP TABLE n AS
  SELECT (row_number() OVER ())::INTEGER AS id, fw, ref, fw || ':' || ref AS name
  FROM (SELECT sf AS fw, sr AS ref FROM l UNION SELECT tf, tr FROM l);
CREATE TEMP TABLE e AS
  WITH b AS (
    SELECT sf, sr, tf, tr, relationship r, strength, rationale_type rt, justification j, 'authored' o, pvn,
           review_status rs, reviewer rv FROM l
    UNION ALL
    SELECT tf, tr, sf, sr, CASE relationship WHEN 'subset_of' THEN 'superset_of' WHEN 'superset_of' THEN 'subset_of'
           ELSE relationship END, strength, rationale_type, justification, 'inverse', pvn, review_status, reviewer FROM l)
  SELECT a.id s, c.id t, a.fw sf, c.fw tf, a.name sn, c.name tn, r,
         (CASE r WHEN 'equal' THEN 5 WHEN 'subset_of' THEN 4 WHEN 'superset_of' THEN 3 ELSE 2 END)::TINYINT rk,
         strength::TINYINT st, (CASE rt WHEN 'syntactic' THEN 1 WHEN 'semantic' THEN 2 ELSE 3 END)::TINYINT rtk,
         (CASE pvn WHEN 'shipped' THEN 1 WHEN 'tailored' THEN 2 ELSE 4 END)::TINYINT pv, rt, j, o, pvn, rs, rv
  FROM b JOIN n a ON a.fw = b.sf AND a.ref = b.sr JOIN n c ON c.fw = b.tf AND c.ref = b.tr;
INSERT INTO crosswalk_links (source_framework, source_ref, target_framework, target_ref, relationship, strength,
                             rationale_type, justification, origin, path, depth, n_paths, provenance, review_status,
                             reviewer)
  SELECT a.fw, a.ref, c.fw, c.ref, e.r, e.st, e.rt, e.j, e.o, e.sn || ' -' || e.r || '-> ' || e.tn, 1, 1, e.pvn, e.rs, e.rv
  FROM e JOIN n a ON a.id = e.s JOIN n c ON c.id = e.t;
INSERT INTO crosswalk_links (source_framework, source_ref, target_framework, target_ref, relationship, strength,
                             rationale_type, justification, origin, path, depth, n_paths, provenance, review_status,
                             reviewer)
  SELECT sf, sr, tf, NULLIF(tr, ''), relationship, strength, rationale_type, justification, 'authored',
         sf || ':' || sr || ' -no_relationship-> ' || tf || CASE WHEN tr = '' THEN '' ELSE ':' || tr END, 1, 1,
         pvn, review_status, reviewer
  FROM m WHERE relationship = 'no_relationship'
  UNION ALL
  SELECT tf, tr, sf, sr, relationship, strength, rationale_type, justification, 'inverse',
         tf || ':' || tr || ' -no_relationship-> ' || sf || ':' || sr, 1, 1, pvn, review_status, reviewer
  FROM m WHERE relationship = 'no_relationship' AND tr <> '';
CREATE TEMP TABLE refused AS
  SELECT sf, sr, tf, tr FROM m WHERE relationship = 'no_relationship'
  UNION SELECT tf, tr, sf, sr FROM m WHERE relationship = 'no_relationship' AND tr <> '';
CREATE TEMP TABLE f1 AS SELECT s, t, rk, st, rtk, pv, [sf, tf] fws, sn || ' -' || r || '-> ' || tn AS path, '' AS via, tn
  FROM e;
CREATE TEMP TABLE seen AS SELECT DISTINCT s, t FROM e;
CREATE TEMP TABLE f2 AS
  WITH x AS (
    SELECT f.s, e.t, CASE WHEN f.rk = 5 THEN e.rk WHEN e.rk = 5 THEN f.rk WHEN f.rk = e.rk AND f.rk IN (3, 4)
           THEN f.rk ELSE 2 END::TINYINT rk, least(f.st, e.st) st, greatest(f.rtk, e.rtk) rtk, (f.pv | e.pv)::TINYINT pv,
           list_append(f.fws, e.tf) fws, f.path || ' -' || e.r || '-> ' || e.tn path,
           CASE WHEN f.via = '' THEN f.tn ELSE f.via || ', ' || f.tn END via, e.tn
    FROM f1 f JOIN e ON e.s = f.t WHERE NOT list_contains(f.fws, e.tf))
  SELECT x.*, count(*) OVER (PARTITION BY x.s, x.t) np FROM x ANTI JOIN seen USING (s, t)
  QUALIFY row_number() OVER (PARTITION BY x.s, x.t ORDER BY x.rk DESC, x.st DESC, x.path) = 1;
INSERT INTO seen SELECT s, t FROM f2;
CREATE TEMP TABLE f3 AS
  WITH x AS (
    SELECT f.s, e.t, CASE WHEN f.rk = 5 THEN e.rk WHEN e.rk = 5 THEN f.rk WHEN f.rk = e.rk AND f.rk IN (3, 4)
           THEN f.rk ELSE 2 END::TINYINT rk, least(f.st, e.st) st, greatest(f.rtk, e.rtk) rtk, (f.pv | e.pv)::TINYINT pv,
           list_append(f.fws, e.tf) fws, f.path || ' -' || e.r || '-> ' || e.tn path,
           CASE WHEN f.via = '' THEN f.tn ELSE f.via || ', ' || f.tn END via, e.tn
    FROM f2 f JOIN e ON e.s = f.t WHERE NOT list_contains(f.fws, e.tf))
  SELECT x.*, count(*) OVER (PARTITION BY x.s, x.t) np FROM x ANTI JOIN seen USING (s, t)
  QUALIFY row_number() OVER (PARTITION BY x.s, x.t ORDER BY x.rk DESC, x.st DESC, x.path) = 1;
INSERT INTO crosswalk_links (source_framework, source_ref, target_framework, target_ref, relationship, strength,
                             rationale_type, justification, origin, path, depth, n_paths, provenance, review_status,
                             reviewer)
  SELECT a.fw, a.ref, c.fw, c.ref,
         CASE x.rk WHEN 5 THEN 'equal' WHEN 4 THEN 'subset_of' WHEN 3 THEN 'superset_of' ELSE 'intersects_with' END,
         x.st, CASE x.rtk WHEN 1 THEN 'syntactic' WHEN 2 THEN 'semantic' ELSE 'functional' END,
         'Inferred through ' || x.via || '; strength is the weakest link of the path', 'inferred', x.path, x.d, x.np,
         concat_ws('+', CASE WHEN x.pv & 1 > 0 THEN 'shipped' END, CASE WHEN x.pv & 2 > 0 THEN 'tailored' END,
                   CASE WHEN x.pv & 4 > 0 THEN 'imported' END), NULL, NULL
  FROM (SELECT *, 2 AS d FROM f2 UNION ALL SELECT *, 3 FROM f3) x
  JOIN n a ON a.id = x.s JOIN n c ON c.id = x.t
  WHERE NOT EXISTS (SELECT 1 FROM refused r WHERE r.sf = a.fw AND r.sr = a.ref AND r.tf = c.fw AND (r.tr = c.ref OR r.tr = ''))
    AND NOT EXISTS (SELECT 1 FROM refused r WHERE r.sf = c.fw AND r.sr = c.ref AND r.tf = a.fw AND r.tr = '');
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


_IN_FORCE_ROWS = """
    SELECT 1, source_framework, source_ref, target_framework, target_ref, relationship, strength, rationale_type,
           justification, 'tailored', epoch(updated_at) FROM crosswalk_tailoring WHERE status = 'active'
    UNION ALL
    SELECT 2, source_framework, source_ref, target_framework, target_ref, relationship, strength, rationale_type,
           justification, 'shipped', 0 FROM mappings
    UNION ALL
    SELECT 3, source_framework, source_ref, target_framework, target_ref, relationship, strength, rationale_type,
           justification, 'imported', epoch(imported_at) FROM imported_mappings
"""


def _records_in_force(rows: list[tuple]) -> list[tuple]:
    """One record per pair, in Python loops: tailored, else shipped, else the latest import."""
    best: dict[tuple, tuple] = {}
    for row in sorted(rows, key=lambda r: (r[0], -r[10])):
        _, sf, sr, tf, tr = row[:5]
        key = (f"{sf}:{sr}", f"{tf}:") if not tr else tuple(sorted((f"{sf}:{sr}", f"{tf}:{tr}")))
        best.setdefault(key, row)
    return [r[1:10] for r in best.values()]


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
    rows = _records_in_force(con.execute(_IN_FORCE_ROWS).fetchall())
    con.execute("DELETE FROM crosswalk_links")
    con.close()
    adj: dict[tuple[str, str], list[tuple[tuple[str, str], str, int, str]]] = defaultdict(list)
    links: list[dict] = []
    refused: set[tuple] = set()
    for sf, sr, tf, tr, rel, st, rt, j, pv in rows:
        if rel == "no_relationship":
            refused.add((sf, sr, tf, tr))
            links.append(dict(source_framework=sf, source_ref=sr, target_framework=tf, target_ref=tr or None,
                              relationship=rel, strength=st, rationale_type=rt, justification=j, origin="authored",
                              path=f"{sf}:{sr} -no_relationship-> {tf}" + (f":{tr}" if tr else ""), depth=1,
                              n_paths=1, provenance=pv))
            if tr:
                refused.add((tf, tr, sf, sr))
                links.append(dict(source_framework=tf, source_ref=tr, target_framework=sf, target_ref=sr,
                                  relationship=rel, strength=st, rationale_type=rt, justification=j, origin="inverse",
                                  path=f"{tf}:{tr} -no_relationship-> {sf}:{sr}", depth=1, n_paths=1, provenance=pv))
            continue
        inv = INV.get(rel, rel)
        adj[(sf, sr)].append(((tf, tr), rel, st, pv))
        adj[(tf, tr)].append(((sf, sr), inv, st, pv))
        for a, b, r, o in (((sf, sr), (tf, tr), rel, "authored"), ((tf, tr), (sf, sr), inv, "inverse")):
            links.append(dict(source_framework=a[0], source_ref=a[1], target_framework=b[0], target_ref=b[1],
                              relationship=r, strength=st, rationale_type=rt, justification=j, origin=o,
                              path=f"{a[0]}:{a[1]} -{r}-> {b[0]}:{b[1]}", depth=1, n_paths=1, provenance=pv))

    def decided(a: tuple[str, str], b: tuple[str, str]) -> bool:
        return ((a[0], a[1], b[0], b[1]) in refused or (a[0], a[1], b[0], "") in refused
                or (b[0], b[1], a[0], "") in refused)

    links += _search(adj, decided)
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


_ORDER = ("shipped", "tailored", "imported")


def _compose(x: str, y: str) -> str:
    if x == "equal":
        return y
    if y == "equal":
        return x
    if x == y and x in ("subset_of", "superset_of"):
        return x
    return "intersects_with"


def _search(adj: dict, decided) -> list[dict]:
    """Breadth first from every node to depth 3 in loops: the best new path per pair and level."""
    links: list[dict] = []
    for start in list(adj):
        reached = {start} | {t for t, _, _, _ in adj[start]}
        frontier = [(t, r, s, [start[0], t[0]], f"{start[0]}:{start[1]} -{r}-> {t[0]}:{t[1]}", [], {pv})
                    for t, r, s, pv in adj[start]]
        for depth in (2, 3):
            best: dict[tuple[str, str], list] = {}
            for node, rel, st, fws, trail, via, pvs in frontier:
                for nxt, r2, s2, pv2 in adj[node]:
                    if nxt[0] in fws or nxt in reached:
                        continue
                    cand = [nxt, _compose(rel, r2), min(st, s2), fws + [nxt[0]],
                            f"{trail} -{r2}-> {nxt[0]}:{nxt[1]}", via + [f"{node[0]}:{node[1]}"], 1, pvs | {pv2}]
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
            for nxt, rel, st, fws, trail, via, npaths, pvs in best.values():
                reached.add(nxt)
                frontier.append((nxt, rel, st, fws, trail, via, pvs))
                if not decided(start, nxt):
                    links.append(dict(source_framework=start[0], source_ref=start[1], target_framework=nxt[0],
                                      target_ref=nxt[1], relationship=rel, strength=st, rationale_type="semantic",
                                      justification="Inferred through " + ", ".join(via)
                                      + "; strength is the weakest link of the path",
                                      origin="inferred", path=trail, depth=depth, n_paths=npaths,
                                      provenance="+".join(p for p in _ORDER if p in pvs)))
    return links
