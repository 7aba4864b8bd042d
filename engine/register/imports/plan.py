"""Deciding what each parsed row is (step 2 of an import): a new risk, a merge, an update, or nothing.

A row's register key (Risk ID, else title) finds the risk it was imported as before; such a row is
an update when its normalised values differ from its last import, and is unchanged otherwise. A row
never seen before is recognised, when it can be, as the same risk as one stored or brought in by an
earlier file of the run (a merge, by the rules of ``matching``); otherwise it is a new risk.
Nothing is written here: the outcome is a :class:`Plan` the writers carry out.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import polars as pl

from .context import RunContext
from .decide import decide_merges
from .fields import LINK_FIELDS
from .parse import ParsedFile
from .reading import ROW

__all__ = ["Plan", "plan_run"]

_KEYS = ["_file", ROW]


@dataclass
class Plan:
    """Every row of the run sorted by what the import does with it."""

    known: pl.DataFrame              # rows imported before (with prev_* of their last import)
    creating: pl.DataFrame           # new rows that become new risks
    merging: pl.DataFrame            # new rows folded into a risk (kept, or kept_file/kept_row of this run)
    changed: pl.DataFrame            # known rows whose normalised values changed since the last import
    touched: list[int]               # files with anything to write, in file order
    unchanged: dict[int, int]        # per file: known rows whose values did not change
    missing: list[list[str]]         # per file: keys imported before that the file no longer has
    links: dict[str, pl.DataFrame]   # assets / ai_systems: _file, _row, id, obj
    created: dict[str, pl.DataFrame]  # assets / ai_systems the run creates: id, name, _file


def plan_run(con: duckdb.DuckDBPyConnection, parsed: list[ParsedFile], controls: pl.DataFrame,
             ctx: RunContext) -> Plan:
    """Sort every row of the run into new, merged, updated and unchanged.

    The normalised record of every row (JSON with its links) is built on the other core while the
    rows are matched against the register: it is compared with the last import and kept in the
    lineage."""
    links, created, objects = resolve_entities(parsed, ctx)
    with ThreadPoolExecutor(max_workers=1) as pool:
        normalised = pool.submit(_normalised_records, parsed, controls, links, ctx.matrix.version)
        known, fresh, missing = _known_and_fresh(con, parsed)
        decision = decide_merges(con, parsed, fresh, objects)  # which risk each new row is
        norm = normalised.result()
    known = known.join(norm, on=_KEYS, how="left", maintain_order="left")
    fresh = fresh.join(norm, on=_KEYS, how="left", maintain_order="left")
    fresh = fresh.join(decision, on=_KEYS, how="left", maintain_order="left")
    creating = fresh.filter(pl.col("merge").is_null()).drop(*[c for c in decision.columns if c not in _KEYS],
                                                            "risk_id")
    merging = fresh.filter(pl.col("merge").is_not_null())
    changed = known.filter(pl.col("normalised").ne_missing(pl.col("prev_norm")))
    moved = known.filter(pl.col("prev_raw").ne_missing(pl.col("raw")) | (pl.col("prev_row") != pl.col(ROW)))
    touched = set(creating["_file"].to_list()) | set(merging["_file"].to_list()) \
        | set(changed["_file"].to_list()) | set(moved["_file"].to_list())
    known_n = dict(known.group_by("_file").len().iter_rows())
    changed_n = dict(changed.group_by("_file").len().iter_rows())
    unchanged = {p.index: known_n.get(p.index, 0) - changed_n.get(p.index, 0) for p in parsed}
    return Plan(known, creating, merging, changed, sorted(touched), unchanged, missing, links, created)


def resolve_entities(parsed: list[ParsedFile], ctx: RunContext
                     ) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame], pl.DataFrame]:
    """The assets and AI systems every row names, for every file at once: (links per kind, entities
    the run creates per kind, and (_file, _row, obj) the lower-case names each row concerns).

    An Asset cell naming an AI system of the inventory (and no asset) links that AI system rather
    than creating a look-alike asset; its file then provides AI system links."""
    names = {fld: pl.concat([p.names[fld] for p in parsed]) for fld in ("assets", "ai_systems")}
    asset_keys = pl.concat([ctx.assets.frame["id"], ctx.assets.frame["name"]]).str.to_lowercase().implode()
    ai_keys = pl.concat([ctx.ai_systems.frame["id"], ctx.ai_systems.frame["name"]]).str.to_lowercase().implode()
    key = pl.col("name").str.to_lowercase()
    moved_names = names["assets"].filter(~key.is_in(asset_keys) & key.is_in(ai_keys))
    if not moved_names.is_empty():
        names["assets"] = names["assets"].join(moved_names, on=["_file", ROW, "name"], how="anti")
        names["ai_systems"] = pl.concat([names["ai_systems"], moved_names])
        for i in moved_names["_file"].unique().to_list():
            if "ai_systems" not in parsed[i].links_provided:
                parsed[i].links_provided.append("ai_systems")
    links: dict[str, pl.DataFrame] = {}
    created: dict[str, pl.DataFrame] = {}
    for fld, ents in (("assets", ctx.assets), ("ai_systems", ctx.ai_systems)):
        links[fld], created[fld] = ents.resolve(names[fld])
    objects = pl.concat([links["assets"].select("_file", ROW, "obj"), links["ai_systems"].select("_file", ROW, "obj")])
    return links, created, objects


def _link_lists(controls: pl.DataFrame, links: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Per (_file, _row): sorted controls (framework:ref:status), asset ids, AI system ids."""
    out = controls.group_by("_file", ROW).agg(
        (pl.col("framework") + ":" + pl.col("ref") + ":" + pl.col("status")).sort().alias("controls"))
    for fld in ("assets", "ai_systems"):
        out = out.join(links[fld].group_by("_file", ROW).agg(pl.col("id").sort().alias(fld)),
                       on=["_file", ROW], how="full", coalesce=True)
    return out


def _normalised_records(parsed: list[ParsedFile], controls: pl.DataFrame, links: dict[str, pl.DataFrame],
                        matrix_version: int | None) -> pl.DataFrame:
    """(_file, _row, normalised): each row's normalised values and links as JSON, as its lineage keeps them."""
    lists = _link_lists(controls, links)
    lists_of = {f: part.drop("_file") for (f,), part in lists.partition_by("_file", as_dict=True).items()}
    no_lists = lists.drop("_file").clear()
    out = []
    for p in parsed:
        rec = p.frame.select(ROW, *p.provided).join(lists_of.get(p.index, no_lists), on=ROW, how="left",
                                                    maintain_order="left")
        rec = rec.with_columns([pl.col(f).fill_null(pl.lit([], pl.List(pl.String))) for f in LINK_FIELDS]
                               ).with_columns(pl.lit(matrix_version).alias("_matrix_version"))
        out.append(rec.select(pl.lit(p.index, pl.Int32).alias("_file"), ROW,
                              pl.struct([*p.provided, *p.links_provided, "_matrix_version"])
                              .struct.json_encode().alias("normalised")))
    return pl.concat(out)


def _known_and_fresh(con: duckdb.DuckDBPyConnection, parsed: list[ParsedFile]
                     ) -> tuple[pl.DataFrame, pl.DataFrame, list[list[str]]]:
    """Every row with what it was at its register's last import: (rows imported before, new rows, and
    per file the keys imported before that the file no longer has)."""
    recs = []
    for p in parsed:
        rec = p.frame.select(ROW, "source_key", "title", *[f for f in p.provided if f != "title"]).with_columns(
            pl.lit(p.index, pl.Int32).alias("_file"), pl.lit(p.spec.source).alias("source"))
        recs.append(rec.join(p.raw, on=ROW, how="left", maintain_order="left"))
    rec = pl.concat(recs, how="diagonal_relaxed")
    prev = con.execute(
        "SELECT source, source_key, risk_id, batch_id AS prev_batch, source_row AS prev_row, "
        "CAST(normalised AS VARCHAR) AS prev_norm, CAST(raw AS VARCHAR) AS prev_raw "
        "FROM risk_sources WHERE source IN (SELECT unnest(?))", [[p.spec.source for p in parsed]]).pl()
    rec = rec.join(prev, on=["source", "source_key"], how="left", maintain_order="left")
    had_of = {s: part["source_key"] for (s,), part in prev.partition_by("source", as_dict=True).items()}
    missing = []
    for p in parsed:
        had = had_of.get(p.spec.source, pl.Series("source_key", [], pl.String)).drop_nulls()
        missing.append(sorted(set(had.to_list()) - set(p.frame["source_key"].drop_nulls().to_list())))
    return rec.filter(pl.col("risk_id").is_not_null()), rec.filter(pl.col("risk_id").is_null()), missing
