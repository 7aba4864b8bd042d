"""The crosswalk engine: typed mappings between frameworks, inverses, inference with paths, coverage, gaps.

Mappings follow NIST IR 8477 set-theory relationship mapping. One direction is authored (CSV files in
``mappings/crosswalks``); the inverse is derived; links across frameworks are inferred to a configurable
depth by set operations in DuckDB, composing relationships by set algebra and keeping the weakest
strength and the path, so every inferred link explains itself.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from . import catalog
from .config import CROSSWALK_DIR
from .errors import InputError, Problem

RELATIONSHIPS = ("equal", "subset_of", "superset_of", "intersects_with", "no_relationship")
RATIONALES = ("syntactic", "semantic", "functional")
REVIEW_STATUSES = ("draft", "reviewed", "approved")
COLUMNS = ("source", "target", "relationship", "strength", "rationale_type", "justification",
           "author", "date", "review_status")
INVERSE = {"equal": "equal", "subset_of": "superset_of", "superset_of": "subset_of",
           "intersects_with": "intersects_with", "no_relationship": "no_relationship"}
# Rank of a relationship as evidence of coverage: higher is closer.
RANK = {"equal": 5, "subset_of": 4, "superset_of": 3, "intersects_with": 2, "no_relationship": 1}
CROSSWALK_COLUMNS = ["source_framework", "source_ref", "target_framework", "target_ref", "relationship",
                     "strength", "rationale_type", "justification", "origin", "path"]


@dataclass(frozen=True)
class Mapping:
    source_framework: str
    source_ref: str
    target_framework: str
    target_ref: str
    relationship: str
    strength: int
    rationale_type: str
    justification: str
    author: str
    authored_on: date
    review_status: str
    origin_file: str
    line: int
    file: str = ""  # the path as given, for messages


def inverse(relationship: str) -> str:
    """The relationship of target to source, given that of source to target."""
    return INVERSE[relationship]


def compose(first: str, second: str) -> str:
    """Relationship of A to C given A `first` B and B `second` C (set algebra, conservative).

    equal is neutral; subset chains stay subset, superset chains stay superset; anything else,
    including any step through intersects_with, is at most intersects_with.
    """
    if "no_relationship" in (first, second):
        return "no_relationship"
    if first == "equal":
        return second
    if second == "equal":
        return first
    if first == second and first in ("subset_of", "superset_of"):
        return first
    return "intersects_with"


def crosswalk_files(directory: Path = CROSSWALK_DIR) -> list[Path]:
    return sorted(directory.glob("*.csv"))


def _split_id(value: str) -> tuple[str, str] | None:
    if ":" not in value:
        return None
    fw, ref = value.split(":", 1)
    return fw.strip(), ref.strip()


def parse_file(path: Path) -> tuple[list[Mapping], list[Problem]]:
    """Read one crosswalk file; return its records and every format problem (vocabulary, types)."""
    f = str(path)
    records: list[Mapping] = []
    problems: list[Problem] = []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(f, None, None, f"cannot read crosswalk: {exc}")]
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [Problem(f, 1, c, "missing column", expected=", ".join(COLUMNS)) for c in missing]
    for line, row in enumerate(reader, start=2):
        before = len(problems)
        src = _split_id(row["source"] or "")
        tgt = _split_id(row["target"] or "")
        rel = (row["relationship"] or "").strip()
        if src is None or not src[1]:
            problems.append(Problem(f, line, "source", "not a full id", row["source"],
                                    expected="framework:ref, e.g. iso27001-2022:A.5.1"))
        if tgt is None:
            problems.append(Problem(f, line, "target", "not a full id", row["target"],
                                    expected="framework:ref, or framework: for no_relationship"))
        if rel not in RELATIONSHIPS:
            problems.append(Problem(f, line, "relationship", "unknown relationship", rel,
                                    expected=" | ".join(RELATIONSHIPS)))
        try:
            strength = int((row["strength"] or "").strip())
        except ValueError:
            strength = -1
        if rel == "no_relationship":
            if strength != 0:
                problems.append(Problem(f, line, "strength", "no_relationship takes strength 0", row["strength"]))
            if tgt is not None and tgt[1]:
                problems.append(Problem(f, line, "target", "no_relationship names no target control",
                                        row["target"], expected=f"{tgt[0]}:"))
        else:
            if not 1 <= strength <= 10:
                problems.append(Problem(f, line, "strength", "strength out of range", row["strength"],
                                        expected="an integer from 1 to 10"))
            if tgt is not None and not tgt[1]:
                problems.append(Problem(f, line, "target", "missing target control", row["target"]))
        rt = (row["rationale_type"] or "").strip()
        if rt not in RATIONALES:
            problems.append(Problem(f, line, "rationale_type", "unknown rationale type", rt,
                                    expected=" | ".join(RATIONALES)))
        if not (row["justification"] or "").strip():
            problems.append(Problem(f, line, "justification", "missing justification"))
        if not (row["author"] or "").strip():
            problems.append(Problem(f, line, "author", "missing author"))
        status = (row["review_status"] or "").strip()
        if status not in REVIEW_STATUSES:
            problems.append(Problem(f, line, "review_status", "unknown review status", status,
                                    expected=" | ".join(REVIEW_STATUSES)))
        try:
            authored_on = date.fromisoformat((row["date"] or "").strip())
        except ValueError:
            problems.append(Problem(f, line, "date", "not a date", row["date"], expected="YYYY-MM-DD"))
            authored_on = date.min
        if len(problems) == before and src and tgt:
            records.append(Mapping(src[0], src[1], tgt[0], tgt[1], rel, strength, rt,
                                   row["justification"].strip(), row["author"].strip(), authored_on,
                                   status, path.name, line, f))
    return records, problems


def check_records(records: list[Mapping], known: set[tuple[str, str]], known_frameworks: set[str]) -> list[Problem]:
    """Cross-record checks: ids exist, no duplicates, no contradictions, no pair stored twice."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str, str, str], Mapping] = {}
    for m in records:
        f = m.file or m.origin_file
        if (m.source_framework, m.source_ref) not in known:
            problems.append(Problem(f, m.line, "source", "unknown control", f"{m.source_framework}:{m.source_ref}"))
        if m.target_ref and (m.target_framework, m.target_ref) not in known:
            problems.append(Problem(f, m.line, "target", "unknown control", f"{m.target_framework}:{m.target_ref}"))
        if not m.target_ref and m.target_framework not in known_frameworks:
            problems.append(Problem(f, m.line, "target", "unknown framework", m.target_framework))
        if m.source_framework == m.target_framework:
            problems.append(Problem(f, m.line, "target", "source and target are in the same framework",
                                    m.target_framework))
        key = (m.source_framework, m.source_ref, m.target_framework, m.target_ref)
        back = (m.target_framework, m.target_ref, m.source_framework, m.source_ref)
        if key in seen:
            first = seen[key]
            what = ("contradiction: the same pair is also " + first.relationship
                    if first.relationship != m.relationship else "duplicate pair")
            problems.append(Problem(f, m.line, "relationship", f"{what} (line {first.line})",
                                    m.relationship))
        elif m.target_ref and back in seen:
            first = seen[back]
            if inverse(first.relationship) != m.relationship:
                problems.append(Problem(f, m.line, "relationship",
                                        f"contradiction: line {first.line} of {first.origin_file} stores the "
                                        f"inverse pair as {first.relationship}", m.relationship))
            else:
                problems.append(Problem(f, m.line, "source", "pair already stored in the other direction "
                                        f"(line {first.line} of {first.origin_file}); store one direction",
                                        f"{m.source_framework}:{m.source_ref}"))
        else:
            seen[key] = m
    return problems


def _known_controls() -> tuple[set[tuple[str, str]], set[str]]:
    index = catalog.reference_index()
    known = {(fw, r["ref"]) for fw, rows in index.items() for r in rows}
    return known, set(index)


def validate_files(paths: list[Path]) -> list[Problem]:
    """Every problem in the given crosswalk files, format and cross-record."""
    known, fws = _known_controls()
    records: list[Mapping] = []
    problems: list[Problem] = []
    for p in paths:
        recs, probs = parse_file(p)
        records.extend(recs)
        problems.extend(probs)
    problems.extend(check_records(records, known, fws))
    return problems


def load_crosswalk_files(directory: Path = CROSSWALK_DIR) -> list[Mapping]:
    """Read and check every bundled crosswalk; raise InputError listing every problem."""
    paths = crosswalk_files(directory)
    problems = validate_files(paths)
    if problems:
        raise InputError(problems, "the crosswalks have problems")
    records: list[Mapping] = []
    for p in paths:
        records.extend(parse_file(p)[0])
    return records


def validate_against_catalog(con: duckdb.DuckDBPyConnection, records: list[Mapping]) -> None:
    """Every mapped id must exist in the loaded catalogs (custom frameworks included)."""
    known = {(fw, ref) for fw, ref in con.execute("SELECT framework, ref FROM controls").fetchall()}
    fws = {r[0] for r in con.execute("SELECT framework FROM frameworks").fetchall()}
    problems = [p for p in check_records(records, known, fws) if "unknown" in p.message]
    if problems:
        raise InputError(problems, "the crosswalks name controls that are not in the catalogs")


def mappings_frame(records: list[Mapping]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source_framework": [m.source_framework for m in records],
            "source_ref": [m.source_ref for m in records],
            "target_framework": [m.target_framework for m in records],
            "target_ref": [m.target_ref for m in records],
            "relationship": [m.relationship for m in records],
            "strength": [m.strength for m in records],
            "rationale_type": [m.rationale_type for m in records],
            "justification": [m.justification for m in records],
            "author": [m.author for m in records],
            "authored_on": [m.authored_on for m in records],
            "review_status": [m.review_status for m in records],
            "origin_file": [m.origin_file for m in records],
        },
        schema={"source_framework": pl.String, "source_ref": pl.String, "target_framework": pl.String,
                "target_ref": pl.String, "relationship": pl.String, "strength": pl.Int32,
                "rationale_type": pl.String, "justification": pl.String, "author": pl.String,
                "authored_on": pl.Date, "review_status": pl.String, "origin_file": pl.String},
    )


def sync_mappings(con: duckdb.DuckDBPyConnection, records: list[Mapping], *, depth: int | None = None) -> int:
    """Bring ``mappings`` in line with the files and rebuild the links if anything changed.

    Returns the number of mapping rows that changed (0 when the database already agrees).
    """
    frame = mappings_frame(records)  # noqa: F841  (read by DuckDB below)
    cols = ", ".join(frame.columns)
    added = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM frame EXCEPT SELECT {cols} FROM mappings)").fetchone()[0]
    removed = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM mappings EXCEPT SELECT {cols} FROM frame)").fetchone()[0]
    empty = con.execute("SELECT count(*) = 0 FROM crosswalk_links").fetchone()[0]
    if added or removed:
        con.execute("DELETE FROM mappings")
        con.execute(f"INSERT INTO mappings ({cols}) SELECT {cols} FROM frame")
    if added or removed or (empty and records) or depth is not None:
        rebuild_links(con, depth)
    return added + removed


def get_depth(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT value FROM settings WHERE key = 'crosswalk_depth'").fetchone()
    return int(row[0]) if row else 3


def rebuild_links(con: duckdb.DuckDBPyConnection, depth: int | None = None, *, source_table: str = "mappings") -> None:
    """Recompute ``crosswalk_links``: authored, inverse, and inferred links up to ``depth`` hops.

    Inference runs breadth first as set operations on integer node ids: each level joins the frontier
    with every authored or inverse link, composes relationships by the algebra of :func:`compose` (as a
    SQL CASE on relationship ranks), keeps the weakest strength and appends the hop to the path. A path
    never visits a framework twice (2013 -> 2022 -> 42001, not 42001 -> 2022 -> 2013 -> 2022). For each
    (source, target) pair the shortest, then closest, then strongest path wins, and ``n_paths`` counts
    the alternatives of that length. Links are only inferred between frameworks that have no authored
    mapping between them: where reviewers mapped two frameworks directly, their word stands.
    """
    if depth is None:
        depth = get_depth(con)
    else:
        con.execute("INSERT OR REPLACE INTO settings VALUES ('crosswalk_depth', ?)", [str(depth)])
    con.execute("DELETE FROM crosswalk_links")
    rel_code = ("CASE {0} WHEN 'equal' THEN 5 WHEN 'subset_of' THEN 4 WHEN 'superset_of' THEN 3 "
                "WHEN 'intersects_with' THEN 2 ELSE 1 END")
    rel_name = ("CASE {0} WHEN 5 THEN 'equal' WHEN 4 THEN 'subset_of' WHEN 3 THEN 'superset_of' "
                "WHEN 2 THEN 'intersects_with' ELSE 'no_relationship' END")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _m AS
        SELECT * FROM {source_table} WHERE relationship <> 'no_relationship'
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _nodes AS
        SELECT (row_number() OVER (ORDER BY fw, ref))::INTEGER AS id, fw, ref, fw || ':' || ref AS name
        FROM (SELECT source_framework AS fw, source_ref AS ref FROM _m
              UNION SELECT target_framework, target_ref FROM _m)
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _edges AS
        WITH both_ways AS (
            SELECT source_framework AS sf, source_ref AS sr, target_framework AS tf, target_ref AS tr,
                   relationship AS rel, strength, rationale_type, justification, 'authored' AS origin FROM _m
            UNION ALL
            SELECT target_framework, target_ref, source_framework, source_ref,
                   CASE relationship WHEN 'subset_of' THEN 'superset_of'
                                     WHEN 'superset_of' THEN 'subset_of' ELSE relationship END,
                   strength, rationale_type, justification, 'inverse' FROM _m
        )
        SELECT a.id AS s, b.id AS t, b.fw AS tf, a.fw AS sf, a.name AS s_name, b.name AS t_name,
               b.fw AS t_fw, {rel_code.format('rel')}::TINYINT AS rel, strength::TINYINT AS strength,
               (CASE rationale_type WHEN 'syntactic' THEN 1 WHEN 'semantic' THEN 2 ELSE 3 END)::TINYINT AS rt,
               rel AS rel_text, rationale_type, justification, origin
        FROM both_ways w
        JOIN _nodes a ON a.fw = w.sf AND a.ref = w.sr
        JOIN _nodes b ON b.fw = w.tf AND b.ref = w.tr
    """)
    con.execute("""
        INSERT INTO crosswalk_links
        SELECT a.fw, a.ref, b.fw, b.ref, e.rel_text, e.strength, e.rationale_type, e.justification, e.origin,
               e.s_name || ' -' || e.rel_text || '-> ' || e.t_name, 1, 1
        FROM _edges e JOIN _nodes a ON a.id = e.s JOIN _nodes b ON b.id = e.t
    """)
    con.execute(f"""
        INSERT INTO crosswalk_links
        SELECT source_framework, source_ref, target_framework, NULL, relationship, strength, rationale_type,
               justification, 'authored', source_framework || ':' || source_ref || ' -no_relationship-> '
               || target_framework, 1, 1
        FROM {source_table} WHERE relationship = 'no_relationship'
    """)
    if depth < 2:
        _drop_temp(con)
        return
    con.execute("CREATE OR REPLACE TEMP TABLE _direct_fw AS SELECT DISTINCT sf, tf FROM _edges")
    # Frontier: the best path per (start, end) pair reached at the current depth.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _frontier AS
        SELECT s, t, rel, strength, rt, [sf, tf] AS fws, s_name || ' -' || rel_text || '-> ' || t_name AS path,
               '' AS via, t_name
        FROM _edges
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE _reached AS SELECT DISTINCT s, t FROM _edges")
    levels = []
    for level in range(2, depth + 1):
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _level{level} AS
            WITH step AS (
                SELECT f.s, e.t,
                       CASE WHEN f.rel = 5 THEN e.rel WHEN e.rel = 5 THEN f.rel
                            WHEN f.rel = e.rel AND f.rel IN (3, 4) THEN f.rel ELSE 2 END::TINYINT AS rel,
                       least(f.strength, e.strength) AS strength,
                       greatest(f.rt, e.rt) AS rt,
                       list_append(f.fws, e.tf) AS fws,
                       f.path || ' -' || e.rel_text || '-> ' || e.t_name AS path,
                       CASE WHEN f.via = '' THEN f.t_name ELSE f.via || ', ' || f.t_name END AS via,
                       e.t_name
                FROM {'_frontier' if level == 2 else f'_level{level - 1}'} f JOIN _edges e ON e.s = f.t
                WHERE NOT list_contains(f.fws, e.tf)
            )
            SELECT s.*, count(*) OVER (PARTITION BY s.s, s.t) AS n_paths, {level} AS depth
            FROM step s ANTI JOIN _reached r ON r.s = s.s AND r.t = s.t
            QUALIFY row_number() OVER (PARTITION BY s.s, s.t ORDER BY s.rel DESC, s.strength DESC, s.path) = 1
        """)
        levels.append(f"_level{level}")
        if level == depth or not con.execute(f"SELECT count(*) FROM _level{level}").fetchone()[0]:
            break
        con.execute(f"INSERT INTO _reached SELECT s, t FROM _level{level}")
    union = " UNION ALL ".join(f"SELECT s, t, rel, strength, rt, path, via, n_paths, depth FROM {t}" for t in levels)
    con.execute(f"""
        INSERT INTO crosswalk_links
        SELECT a.fw, a.ref, b.fw, b.ref, {rel_name.format('n.rel')}, n.strength,
               CASE n.rt WHEN 1 THEN 'syntactic' WHEN 2 THEN 'semantic' ELSE 'functional' END,
               'Inferred through ' || n.via || '; strength is the weakest link of the path',
               'inferred', n.path, n.depth, n.n_paths
        FROM ({union}) n JOIN _nodes a ON a.id = n.s JOIN _nodes b ON b.id = n.t
        WHERE NOT EXISTS (SELECT 1 FROM _direct_fw d WHERE d.sf = a.fw AND d.tf = b.fw)
    """)
    for t in levels:
        con.execute(f"DROP TABLE IF EXISTS {t}")
    _drop_temp(con)


def _drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    for t in ("_m", "_nodes", "_edges", "_direct_fw", "_frontier", "_reached", "_next"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def set_depth(db: str | Path | None, depth: int, *, actor: str = "riskmap", channel: str = "cli") -> None:
    """Change the inference depth (1 = no inference) and rebuild the links; the change is in the history."""
    from . import history, store

    if not 1 <= depth <= 6:
        raise InputError([Problem("settings", "crosswalk_depth", "value", "depth out of range", depth, "1 to 6")])
    with store.transaction(db) as con:
        old = get_depth(con)
        rebuild_links(con, depth)
        history.record(con, entity="setting", entity_id="crosswalk_depth", action="update", actor=actor,
                       channel=channel, field="value", old=old, new=depth)
