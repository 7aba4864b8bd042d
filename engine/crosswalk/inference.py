"""The link table: the mapping records in force, their inverses, and inferred links composed breadth first
across frameworks in DuckDB, keeping every path."""

from __future__ import annotations

from pathlib import Path

import duckdb

from engine.errors import InputError, Problem
from engine.store import query


def get_depth(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT value FROM settings WHERE key = 'crosswalk_depth'").fetchone()
    return int(row[0]) if row else 3


_REL_CODE = ("CASE {0} WHEN 'equal' THEN 5 WHEN 'subset_of' THEN 4 WHEN 'superset_of' THEN 3 "
             "WHEN 'intersects_with' THEN 2 ELSE 1 END")
"""A relationship as its rank (the order of :func:`compose`'s algebra): equal 5 .. intersects_with 2."""
_REL_NAME = ("CASE {0} WHEN 5 THEN 'equal' WHEN 4 THEN 'subset_of' WHEN 3 THEN 'superset_of' "
             "WHEN 2 THEN 'intersects_with' ELSE 'no_relationship' END")
"""A relationship rank back to its name."""


LINK_COLUMNS = ("source_framework, source_ref, target_framework, target_ref, relationship, strength, rationale_type, "
                "justification, origin, path, depth, n_paths, provenance, review_status, reviewer")
"""The columns of ``crosswalk_links`` in the order the inference writes them."""

_PROVENANCE_CODE = "CASE {0} WHEN 'shipped' THEN 1 WHEN 'tailored' THEN 2 ELSE 4 END"
"""A record's provenance as a bit, so a path's provenance is the OR of its hops' bits."""
_PROVENANCE_NAME = ("concat_ws('+', CASE WHEN {0} & 1 > 0 THEN 'shipped' END, CASE WHEN {0} & 2 > 0 THEN 'tailored' END, "
                    "CASE WHEN {0} & 4 > 0 THEN 'imported' END)")
"""The bits back to names, always in this order: 'shipped', 'shipped+imported', 'tailored+imported'..."""


def rebuild_links(con: duckdb.DuckDBPyConnection, depth: int | None = None) -> None:
    """Recompute ``crosswalk_links``: authored, inverse, and inferred links up to ``depth`` hops.

    The links are built from the mapping records in force (``engine/sql/queries/mappings_in_force.sql``):
    for each pair of controls the organisation's tailored record, else the shipped one, else an imported
    one; each link says which (``provenance``). Inference runs breadth first as set operations on integer
    node ids: each level joins the frontier with every authored or inverse link, composes relationships by
    the algebra of :func:`compose` (as a SQL CASE on relationship ranks), keeps the weakest strength and
    appends the hop to the path. A path never visits a framework twice (2013 -> 2022 -> 42001, not
    42001 -> 2022 -> 2013 -> 2022). For each (source, target) pair the shortest, then closest, then
    strongest path wins, and ``n_paths`` counts the alternatives of that length. Inference fills only the
    pairs that no record decides: an authored link, a ``no_relationship`` record for the pair, or one
    saying a control has no counterpart in the other framework at all always wins for its pair.
    """
    if depth is None:
        depth = get_depth(con)
    else:
        con.execute("INSERT OR REPLACE INTO settings VALUES ('crosswalk_depth', ?)", [str(depth)])
    con.execute("DELETE FROM crosswalk_links")
    con.execute("CREATE OR REPLACE TEMP TABLE _m AS " + query.load("mappings_in_force"), {"with_tailoring": True})
    _load_edges(con)
    _write_direct_links(con)
    if depth >= 2:
        levels = _infer_levels(con, depth)
        _write_inferred_links(con, levels)
        for t in levels:
            con.execute(f"DROP TABLE IF EXISTS {t}")
    _drop_temp(con)


def _load_edges(con: duckdb.DuckDBPyConnection) -> None:
    """``_nodes``: every control or clause a link names, with an integer id; ``_edges``: every link of the
    records in force (``_m``) in both directions (the inverse relationship for the way back), on node ids."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _nodes AS
        SELECT (row_number() OVER (ORDER BY fw, ref))::INTEGER AS id, fw, ref, fw || ':' || ref AS name
        FROM (SELECT source_framework AS fw, source_ref AS ref FROM _m WHERE relationship <> 'no_relationship'
              UNION SELECT target_framework, target_ref FROM _m WHERE relationship <> 'no_relationship')
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _edges AS
        WITH links AS (SELECT * FROM _m WHERE relationship <> 'no_relationship'),
        both_ways AS (
            SELECT source_framework AS sf, source_ref AS sr, target_framework AS tf, target_ref AS tr,
                   relationship AS rel, strength, rationale_type, justification, 'authored' AS origin,
                   provenance, review_status, reviewer FROM links
            UNION ALL
            SELECT target_framework, target_ref, source_framework, source_ref, inverse_relationship(relationship),
                   strength, rationale_type, justification, 'inverse', provenance, review_status, reviewer FROM links
        )
        SELECT a.id AS s, b.id AS t, b.fw AS tf, a.fw AS sf, a.name AS s_name, b.name AS t_name,
               b.fw AS t_fw, {_REL_CODE.format('rel')}::TINYINT AS rel, strength::TINYINT AS strength,
               (CASE rationale_type WHEN 'syntactic' THEN 1 WHEN 'semantic' THEN 2 ELSE 3 END)::TINYINT AS rt,
               ({_PROVENANCE_CODE.format('provenance')})::TINYINT AS pv,
               rel AS rel_text, rationale_type, justification, origin, provenance, review_status, reviewer
        FROM both_ways w
        JOIN _nodes a ON a.fw = w.sf AND a.ref = w.sr
        JOIN _nodes b ON b.fw = w.tf AND b.ref = w.tr
    """)


def _write_direct_links(con: duckdb.DuckDBPyConnection) -> None:
    """The depth-1 links: every link in force and its inverse; each ``no_relationship`` record as it was
    authored (a pair considered and rejected, read both ways, or a control with no counterpart in a
    framework, target NULL)."""
    con.execute(f"""
        INSERT INTO crosswalk_links ({LINK_COLUMNS})
        SELECT a.fw, a.ref, b.fw, b.ref, e.rel_text, e.strength, e.rationale_type, e.justification, e.origin,
               e.s_name || ' -' || e.rel_text || '-> ' || e.t_name, 1, 1, e.provenance, e.review_status, e.reviewer
        FROM _edges e JOIN _nodes a ON a.id = e.s JOIN _nodes b ON b.id = e.t
    """)
    con.execute(f"""
        INSERT INTO crosswalk_links ({LINK_COLUMNS})
        SELECT source_framework, source_ref, target_framework, NULLIF(target_ref, ''), relationship, strength,
               rationale_type, justification, 'authored', source_framework || ':' || source_ref
               || ' -no_relationship-> ' || target_framework || CASE WHEN target_ref = '' THEN '' ELSE ':' || target_ref END,
               1, 1, provenance, review_status, reviewer
        FROM _m WHERE relationship = 'no_relationship'
        UNION ALL
        SELECT target_framework, target_ref, source_framework, source_ref, relationship, strength, rationale_type,
               justification, 'inverse', target_framework || ':' || target_ref || ' -no_relationship-> '
               || source_framework || ':' || source_ref, 1, 1, provenance, review_status, reviewer
        FROM _m WHERE relationship = 'no_relationship' AND target_ref <> ''
    """)


def _infer_levels(con: duckdb.DuckDBPyConnection, depth: int) -> list[str]:
    """Walk breadth first from every edge, one temp table ``_level{n}`` per depth 2..``depth`` holding
    the best new path per (start, end) pair reached at that depth; returns the tables' names. Stops
    early when a level reaches nothing new."""
    # Frontier: the best path per (start, end) pair reached at the current depth.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _frontier AS
        SELECT s, t, rel, strength, rt, pv, [sf, tf] AS fws, s_name || ' -' || rel_text || '-> ' || t_name AS path,
               '' AS via, t_name
        FROM _edges
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE _reached AS SELECT DISTINCT s, t FROM _edges")
    levels = []
    for level in range(2, depth + 1):
        con.execute(_level_sql(level))
        levels.append(f"_level{level}")
        if level == depth or not _count(con, f"_level{level}"):
            break
        con.execute(f"INSERT INTO _reached SELECT s, t FROM _level{level}")
    return levels


def _level_sql(level: int) -> str:
    """One breadth-first step: extend the previous level's paths by one edge into a framework the
    path has not visited, compose the relationship, and keep the best path per new (start, end) pair."""
    previous = '_frontier' if level == 2 else f'_level{level - 1}'
    return f"""
            CREATE OR REPLACE TEMP TABLE _level{level} AS
            WITH step AS (
                SELECT f.s, e.t,
                       CASE WHEN f.rel = 5 THEN e.rel WHEN e.rel = 5 THEN f.rel
                            WHEN f.rel = e.rel AND f.rel IN (3, 4) THEN f.rel ELSE 2 END::TINYINT AS rel,
                       least(f.strength, e.strength) AS strength,
                       greatest(f.rt, e.rt) AS rt,
                       (f.pv | e.pv)::TINYINT AS pv,
                       list_append(f.fws, e.tf) AS fws,
                       f.path || ' -' || e.rel_text || '-> ' || e.t_name AS path,
                       CASE WHEN f.via = '' THEN f.t_name ELSE f.via || ', ' || f.t_name END AS via,
                       e.t_name
                FROM {previous} f JOIN _edges e ON e.s = f.t
                WHERE NOT list_contains(f.fws, e.tf)
            )
            SELECT s.*, count(*) OVER (PARTITION BY s.s, s.t) AS n_paths, {level} AS depth
            FROM step s ANTI JOIN _reached r ON r.s = s.s AND r.t = s.t
            QUALIFY row_number() OVER (PARTITION BY s.s, s.t ORDER BY s.rel DESC, s.strength DESC, s.path) = 1
        """


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def _write_inferred_links(con: duckdb.DuckDBPyConnection, levels: list[str]) -> None:
    """The inferred links of every level, except for the pairs a ``no_relationship`` record decides: the
    pair itself (either way round), or either end having no counterpart in the other's framework."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _refused AS
        SELECT source_framework AS sf, source_ref AS sr, target_framework AS tf, target_ref AS tr
        FROM _m WHERE relationship = 'no_relationship'
        UNION
        SELECT target_framework, target_ref, source_framework, source_ref
        FROM _m WHERE relationship = 'no_relationship' AND target_ref <> ''
    """)
    union = " UNION ALL ".join(f"SELECT s, t, rel, strength, rt, pv, path, via, n_paths, depth FROM {t}" for t in levels)
    con.execute(f"""
        INSERT INTO crosswalk_links ({LINK_COLUMNS})
        SELECT a.fw, a.ref, b.fw, b.ref, {_REL_NAME.format('n.rel')}, n.strength,
               CASE n.rt WHEN 1 THEN 'syntactic' WHEN 2 THEN 'semantic' ELSE 'functional' END,
               'Inferred through ' || n.via || '; strength is the weakest link of the path',
               'inferred', n.path, n.depth, n.n_paths, {_PROVENANCE_NAME.format('n.pv')}, NULL, NULL
        FROM ({union}) n JOIN _nodes a ON a.id = n.s JOIN _nodes b ON b.id = n.t
        WHERE NOT EXISTS (SELECT 1 FROM _refused r WHERE r.sf = a.fw AND r.sr = a.ref AND r.tf = b.fw
                                                      AND (r.tr = b.ref OR r.tr = ''))
          AND NOT EXISTS (SELECT 1 FROM _refused r WHERE r.sf = b.fw AND r.sr = b.ref AND r.tf = a.fw AND r.tr = '')
    """)


def _drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    for t in ("_m", "_nodes", "_edges", "_refused", "_frontier", "_reached"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def set_depth(db: str | Path | None, depth: int, *, actor: str = "riskmap", channel: str = "cli") -> None:
    """Change the inference depth (1 = no inference) and rebuild the links; the change is in the history."""
    from engine import store
    from engine.store import history

    if not 1 <= depth <= 6:
        raise InputError([Problem("settings", "crosswalk_depth", "value", "depth out of range", depth, "1 to 6")])
    with store.transaction(db) as con:
        old = get_depth(con)
        rebuild_links(con, depth)
        history.record(con, entity="setting", entity_id="crosswalk_depth", action="update", actor=actor,
                       channel=channel, field="value", old=old, new=depth)
