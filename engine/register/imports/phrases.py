"""Control cells written in words: kept on the risk, and turned into suggestions a person decides.

A register whose controls column says "MFA, email filtering, awareness training" loses nothing: the
cells as written become the risk's ``controls_text`` (a column of ``v_risk_register``), and each
phrase gets the Annex A controls :func:`engine.register.suggest.propose` finds for it. Those are
stored as *suggestions* (``control_suggestions``, ``v_control_suggestions``) with their score and the
phrase they came from; a control is linked only when a person accepts one
(:func:`engine.register.suggestions.accept_suggestions`). A control the row already names by
reference is not suggested again, and neither is one a person has decided on before.
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from engine.register import records
from engine.register.suggest import PROPOSAL_SCHEMA, propose

from .fields import RECORD_FIELDS
from .parse import ParsedFile
from .reading import ROW

__all__ = ["attach_controls_text", "row_proposals", "write_suggestions"]

_KEYS = ["_file", ROW]


def attach_controls_text(parsed: list[ParsedFile], phrases: pl.DataFrame, had_text: set[str]) -> None:
    """Give the files whose control cells hold phrases the ``controls_text`` field: their rows' control
    cells as written when they hold a phrase (each cell named by its column when the file has several),
    else empty. A register that had such text before (``had_text``: source names) gets the field even
    when it has no phrase any more, so a re-import clears it; any other file is left as it was, so a
    register written only in references reads exactly as before."""
    with_words = {f: part.select(ROW).unique() for (f,), part in phrases.partition_by("_file", as_dict=True).items()}
    for p in parsed:
        cells = p.control_cells
        rows = with_words.get(p.index)
        if cells.is_empty() or (rows is None and p.spec.source not in had_text):
            continue
        if rows is None:
            p.frame = p.frame.with_columns(pl.lit(None, pl.String).alias("controls_text"))
        else:
            cells = cells.filter(pl.col("text").is_not_null()).join(rows, on=ROW, how="semi")
            text = (pl.col("column") + ": " + pl.col("text")) if cells["column"].n_unique() > 1 else pl.col("text")
            per_row = cells.group_by(ROW, maintain_order=True).agg(text.str.join("; ").alias("controls_text"))
            p.frame = p.frame.join(per_row, on=ROW, how="left", maintain_order="left")
        p.provided = [f for f in RECORD_FIELDS if f in p.frame.columns]


def row_proposals(phrases: pl.DataFrame, controls: pl.DataFrame, titles: pl.DataFrame) -> pl.DataFrame:
    """The controls proposed for every row's phrases: (_file, _row, phrase, link_status, framework,
    ref, score, method, reason), without the controls the row already names by reference; link_status
    is the status of the column the phrase came from (existing before planned)."""
    if phrases.is_empty():
        return pl.DataFrame(schema={"_file": pl.Int32, ROW: pl.Int32, "link_status": pl.String, **PROPOSAL_SCHEMA})
    found = propose(phrases["phrase"].unique(maintain_order=True).to_list(), titles)
    out = (phrases.sort(*_KEYS, "status").select(*_KEYS, "phrase", pl.col("status").alias("link_status"))
           .unique([*_KEYS, "phrase"], keep="first", maintain_order=True).join(found, on="phrase")
           .join(controls.select(*_KEYS, "framework", "ref"), on=[*_KEYS, "framework", "ref"], how="anti"))
    return out.sort(*_KEYS, pl.col("score"), descending=[False, False, True], maintain_order=True)


def write_suggestions(con: duckdb.DuckDBPyConnection, proposals: pl.DataFrame, risk_of_row: pl.DataFrame,
                      batches: pl.DataFrame, when: Any, actor: str, channel: str) -> pl.DataFrame:
    """Store the run's proposals as suggestions of the risks their rows became (``risk_of_row``:
    _file, _row, risk_id), each with a history row; returns those written (id, _file, _row, ...).

    A suggestion already made for the risk (whatever a person decided on it) or a control the risk
    already has is not suggested again."""
    if proposals.is_empty():
        return proposals.with_columns(pl.lit(None, pl.String).alias("id"), pl.lit(None, pl.String).alias("risk_id"))
    rows = proposals.join(risk_of_row, on=_KEYS).unique(["risk_id", "phrase", "framework", "ref"],
                                                        keep="first", maintain_order=True)
    con.register("_sg", rows.select("risk_id", "phrase", "framework", "ref"))
    try:
        seen = con.execute(
            "SELECT s.risk_id, s.phrase, s.framework, s.ref FROM control_suggestions s "
            "JOIN _sg USING (risk_id, phrase, framework, ref) UNION "
            "SELECT _sg.risk_id, _sg.phrase, rc.framework, rc.ref FROM risk_controls rc "
            "JOIN _sg ON _sg.risk_id = rc.risk_id AND _sg.framework = rc.framework AND _sg.ref = rc.ref").pl()
    finally:
        con.unregister("_sg")
    rows = rows.join(seen, on=["risk_id", "phrase", "framework", "ref"], how="anti")
    if rows.is_empty():
        return rows.with_columns(pl.lit(None, pl.String).alias("id"))
    rows = rows.with_columns(pl.Series("id", records.next_ids(con, "control_suggestions", "S", rows.height,
                                                              width=5), dtype=pl.String)) \
        .join(batches, on="_file", how="left", maintain_order="left")
    con.register("_new_sg", rows.select("id", "risk_id", "phrase", "framework", "ref", "score", "method", "reason",
                                        "link_status", "_batch"))
    try:
        con.execute("INSERT INTO control_suggestions (id, risk_id, phrase, framework, ref, score, method, reason, "
                    "link_status, status, batch_id, created_at) SELECT id, risk_id, phrase, framework, ref, score, "
                    "method, reason, link_status, 'proposed', _batch, ? FROM _new_sg", [when])
    finally:
        con.unregister("_new_sg")
    records.record_history(con, rows.select(
        pl.lit("control_suggestion").alias("entity"), "id", pl.lit("create").alias("action"),
        pl.lit("proposed").alias("field"),
        (pl.col("risk_id") + ": " + pl.col("framework") + ":" + pl.col("ref") + " for '" + pl.col("phrase")
         + "' (" + pl.col("score").round(2).cast(pl.String) + ")").alias("new_value"), "_batch"),
        actor=actor, channel=channel, batch_id=None)
    return rows
