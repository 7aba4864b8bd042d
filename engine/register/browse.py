"""Browsing the register a page at a time (filter and sort in SQL, read full rows only for one page), and
the AI system inventory with its impact assessments as the app shows them.

The register view (``v_risk_register``) builds per-risk lists (controls, assets, AI systems, lineage)
for every risk, which costs seconds at enterprise scale. A page needs those lists for the rows it shows
only: ``register_page`` filters and sorts on the cheap per-risk columns (the table macros
``risk_register_levels()`` and ``risk_register_filtered(...)`` of ``v_risk_register.sql``), reads the
full register rows of one page (``risk_register_rows(ids)``), and counts what the register charts show
over the whole filtered set in SQL (``engine/sql/queries/register_*.sql``). Every value is a query
parameter; the sort key comes from a fixed list. Given a ``principal``, every read shows the risks of the
business units it may see only (:func:`engine.access.scope`; the views apply ``unit_visible``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from engine import access, store
from engine.errors import RiskmapError
from engine.store import query

__all__ = ["MAX_LIMIT", "SORT_KEYS", "AiInventory", "RegisterPage", "ai_inventory", "open_risks", "register_page",
           "risk_owners"]

SORT_KEYS = ("id", "score", "inherent_score", "residual_score", "title", "owner", "next_review")
MAX_LIMIT = 5000

_FILTERS = "$systems::VARCHAR[], $statuses::VARCHAR[], $levels::VARCHAR[], $owners::VARCHAR[], $text"
"""The arguments of ``risk_register_filtered`` as query parameters (the casts give an empty Python list
its element type)."""

_COUNTS = ("SELECT (SELECT count(*) FROM risk_register_levels()) AS total, "
           "(SELECT count(*) FROM register_filtered) AS filtered")

_FILTERED = f"CREATE OR REPLACE TEMP TABLE register_filtered AS SELECT * FROM risk_register_filtered({_FILTERS})"
"""The filtered register of one page request, computed once in the session for the page, the counts and
the charts (each would otherwise compute the whole register again: on PostgreSQL, read it again)."""

_OWNERS = "SELECT DISTINCT owner FROM risk_register_levels() WHERE owner IS NOT NULL ORDER BY owner"

_ROWS = "SELECT * FROM risk_register_rows($ids::VARCHAR[])"

_OPEN = ("SELECT id, management_system, status, level, score, NOT within_appetite(score, appetite) AS above_appetite "
         "FROM risk_register_levels() WHERE risk_open(status) ORDER BY id")


@dataclass(frozen=True)
class RegisterPage:
    """One page of the filtered, sorted register, and what the register charts show.

    ``rows``: the register rows (``v_risk_register`` columns) of the page, in the sort order;
    ``total``: risks in the register; ``filtered``: risks matching the filters (every page);
    ``owners``: every owner in the register (the choices of the owner filter);
    ``cells``: risks per matrix cell over the filtered risks (``stage`` inherent | residual,
    ``likelihood``, ``impact``, ``n``); ``by_ai_system`` (``ai_system``, ``level``, ``n``) and
    ``by_asset`` (``asset``, ``level``, ``n``): filtered risks per linked AI system / asset and level.
    """

    rows: pl.DataFrame
    total: int
    filtered: int
    owners: list[str]
    cells: pl.DataFrame
    by_ai_system: pl.DataFrame
    by_asset: pl.DataFrame


def _texts(values: Sequence[str] | None) -> list[str]:
    return [str(v) for v in (values or ())]


Who = access.Principal | str | None


def risk_owners(db: str | Path | None = None, *, principal: Who = None) -> list[str]:
    """Every risk owner in the register, in order (the choices of the register's owner filter)."""
    with store.connect(db) as con:
        access.scope(con, principal)
        return [r[0] for r in con.execute(_OWNERS).fetchall()]


def open_risks(db: str | Path | None = None, *, principal: Who = None) -> pl.DataFrame:
    """Every open risk (``risk_open``) as it stands: id, management_system, status, level and score (the
    current score, else the inherent one, on the risk's matrix version) and whether it is above the
    appetite of that version (``above_appetite``, NULL when unscored). Cheap at any size: no lists."""
    with store.connect(db) as con:
        access.scope(con, principal)
        return con.execute(_OPEN).pl()


def register_page(db: str | Path | None = None, *, systems: Sequence[str] = (), statuses: Sequence[str] = (),
                  levels: Sequence[str] = (), owners: Sequence[str] = (), text: str = "", sort: str = "id",
                  descending: bool = False, offset: int = 0, limit: int = 200,
                  today: date | None = None, principal: Who = None) -> RegisterPage:
    """One page of the register: the risks matching every given filter, sorted, ``limit`` rows from
    ``offset``.

    Filters left empty select everything: ``systems`` (management system), ``statuses``, ``levels``
    (the level the risk stands at: current, else inherent), ``owners``, and ``text``, found whatever the
    case anywhere in the title, the risk's id or a source register's own id of the risk (``RR-001``; as
    text: no pattern characters). ``sort`` is one of ``SORT_KEYS``
    (unscored or undated risks last, then by id); ties are broken by id. Dated flags (``review_overdue``,
    ``acceptance_status``) compare with ``today`` (default: the current date). ``principal``: only the
    risks of the business units it may see count, on every page and in every chart.
    """
    if sort not in SORT_KEYS:
        raise RiskmapError(f"cannot sort the register by {sort!r}; sort by one of {', '.join(SORT_KEYS)}")
    if offset < 0 or not 1 <= limit <= MAX_LIMIT:
        raise RiskmapError(f"a page is 1 to {MAX_LIMIT} rows from an offset of 0 or more "
                           f"(got {limit} rows from {offset})")
    params: dict[str, Any] = {"systems": _texts(systems), "statuses": _texts(statuses), "levels": _texts(levels),
                              "owners": _texts(owners), "text": text or ""}
    direction = "DESC" if descending else "ASC"
    page_sql = (f"SELECT id FROM register_filtered ORDER BY {sort} {direction} NULLS LAST, id "
                "LIMIT $limit OFFSET $offset")
    with store.connect(db) as con:
        access.scope(con, principal)
        store.set_today(con, today)
        con.execute(_FILTERED, params)
        try:
            ids = [r[0] for r in con.execute(page_sql, {"limit": limit, "offset": offset}).fetchall()]
            total, filtered = con.execute(_COUNTS).fetchone() or (0, 0)
            owner_list = [r[0] for r in con.execute(_OWNERS).fetchall()]
            cells = con.execute(query.load("register_cells")).pl()
            by_ai = con.execute(query.load("register_by_ai_system")).pl()
            by_asset = con.execute(query.load("register_by_asset")).pl()
            rows = con.execute(_ROWS, {"ids": ids}).pl()
        finally:
            con.execute("DROP TABLE IF EXISTS register_filtered")
    if ids:
        order = pl.DataFrame({"id": ids, "_pos": list(range(len(ids)))}, schema={"id": rows.schema["id"],
                                                                                  "_pos": pl.Int64})
        rows = rows.join(order, on="id", how="inner").sort("_pos").drop("_pos")
    return RegisterPage(rows=rows, total=int(total), filtered=int(filtered), owners=owner_list, cells=cells,
                        by_ai_system=by_ai, by_asset=by_asset)



@dataclass(frozen=True)
class AiInventory:
    """The AI system inventory and its impact assessments (ISO 42001 A.4-A.6, 6.1.4, 8.4), as of a date.

    ``systems``: ``v_ai_systems`` by id; ``assessments``: ``v_impact_assessments``, next review first;
    ``live``: the live assessments (neither superseded nor withdrawn); ``overdue``: live assessments past
    their review date, with ``days_overdue``; ``active``: systems not retired; ``unassessed``: active
    systems without any assessment (``engine/sql/queries/impact_assessments.sql``).
    """

    systems: pl.DataFrame
    assessments: pl.DataFrame
    live: pl.DataFrame
    overdue: pl.DataFrame
    active: pl.DataFrame
    unassessed: pl.DataFrame


def ai_inventory(db: str | Path | None = None, *, today: date | None = None) -> AiInventory:
    """The AI system inventory and its impact assessments, with what is overdue as of ``today`` (default:
    the current date)."""
    with store.connect(db) as con:
        store.set_today(con, today)
        systems = con.execute("SELECT * FROM v_ai_systems ORDER BY id").pl()
        frame = con.execute(query.load("impact_assessments")).pl()
    active = systems.filter(pl.col("status").fill_null("active") != "retired")
    return AiInventory(systems=systems, assessments=frame.drop("live", "days_overdue"),
                       live=frame.filter(pl.col("live")).drop("live", "days_overdue"),
                       overdue=frame.filter(pl.col("live") & pl.col("review_overdue")).drop("live"),
                       active=active, unassessed=active.filter(pl.col("n_assessments") == 0))
