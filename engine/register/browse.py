"""Browsing the register a page at a time: filter and sort in SQL, read full rows only for one page.

The register view (``v_risk_register``) builds per-risk lists (controls, assets, AI systems, lineage)
for every risk, which costs seconds at enterprise scale. A page needs those lists for the rows it shows
only: ``register_page`` filters and sorts on the cheap per-risk columns (``risk_register_levels()``),
reads the full register rows of one page (``risk_register_rows(ids)``), and counts what the register
charts show over the whole filtered set in SQL. Every value is a query parameter; the sort key comes
from a fixed list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from engine import store
from engine.errors import RiskmapError

SORT_KEYS = ("id", "score", "inherent_score", "residual_score", "title", "owner", "next_review")
MAX_LIMIT = 5000

# The filtered register on the cheap columns; every filter is a parameter (an empty list: no filter;
# the casts give an empty Python list its element type).
_FILTERED = """
WITH f AS (
    SELECT id, title, owner, management_system, status, next_review, score, level,
           inherent_score, residual_score,
           inherent_likelihood, inherent_impact, residual_likelihood, residual_impact
    FROM risk_register_levels()
    WHERE (len($systems::VARCHAR[]) = 0 OR list_contains($systems::VARCHAR[], management_system))
      AND (len($statuses::VARCHAR[]) = 0 OR list_contains($statuses::VARCHAR[], status))
      AND (len($levels::VARCHAR[]) = 0 OR list_contains($levels::VARCHAR[], level))
      AND (len($owners::VARCHAR[]) = 0 OR list_contains($owners::VARCHAR[], owner))
      AND ($text = '' OR contains(lower(title), lower($text)))
)
"""

_CELLS = _FILTERED + """
SELECT 'inherent' AS stage, inherent_likelihood AS likelihood, inherent_impact AS impact, count(*) AS n
FROM f WHERE inherent_likelihood IS NOT NULL AND inherent_impact IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'residual' AS stage, residual_likelihood AS likelihood, residual_impact AS impact, count(*) AS n
FROM f WHERE residual_likelihood IS NOT NULL AND residual_impact IS NOT NULL GROUP BY ALL
ORDER BY stage, likelihood, impact
"""

_BY_AI_SYSTEM = _FILTERED + """
SELECT s.name AS ai_system, f.level, count(*) AS n
FROM f JOIN risk_ai_systems rs ON rs.risk_id = f.id JOIN ai_systems s ON s.id = rs.ai_system_id
GROUP BY ALL ORDER BY ai_system, level
"""

_BY_ASSET = _FILTERED + """
SELECT a.name AS asset, f.level, count(*) AS n
FROM f JOIN risk_assets ra ON ra.risk_id = f.id JOIN assets a ON a.id = ra.asset_id
GROUP BY ALL ORDER BY asset, level
"""

_COUNTS = _FILTERED + "SELECT (SELECT count(*) FROM risks) AS total, (SELECT count(*) FROM f) AS filtered"

_OWNERS = "SELECT DISTINCT owner FROM risks WHERE owner IS NOT NULL ORDER BY owner"

_ROWS = "SELECT * FROM risk_register_rows($ids::VARCHAR[])"


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


def register_page(db: str | Path | None = None, *, systems: Sequence[str] = (), statuses: Sequence[str] = (),
                  levels: Sequence[str] = (), owners: Sequence[str] = (), text: str = "", sort: str = "id",
                  descending: bool = False, offset: int = 0, limit: int = 200) -> RegisterPage:
    """One page of the register: the risks matching every given filter, sorted, ``limit`` rows from
    ``offset``.

    Filters left empty select everything: ``systems`` (management system), ``statuses``, ``levels``
    (the level the risk stands at: current, else inherent), ``owners``, and ``text``, found anywhere in
    the title whatever the case (as text: no pattern characters). ``sort`` is one of ``SORT_KEYS``
    (unscored or undated risks last, then by id); ties are broken by id.
    """
    if sort not in SORT_KEYS:
        raise RiskmapError(f"cannot sort the register by {sort!r}; sort by one of {', '.join(SORT_KEYS)}")
    if offset < 0 or not 1 <= limit <= MAX_LIMIT:
        raise RiskmapError(f"a page is 1 to {MAX_LIMIT} rows from an offset of 0 or more "
                           f"(got {limit} rows from {offset})")
    params: dict[str, Any] = {"systems": _texts(systems), "statuses": _texts(statuses), "levels": _texts(levels),
                              "owners": _texts(owners), "text": text or ""}
    direction = "DESC" if descending else "ASC"
    page_sql = (_FILTERED + f"SELECT id FROM f ORDER BY {sort} {direction} NULLS LAST, id "
                "LIMIT $limit OFFSET $offset")
    with store.connect(db) as con:
        ids = [r[0] for r in con.execute(page_sql, {**params, "limit": limit, "offset": offset}).fetchall()]
        total, filtered = con.execute(_COUNTS, params).fetchone() or (0, 0)
        owner_list = [r[0] for r in con.execute(_OWNERS).fetchall()]
        cells = con.execute(_CELLS, params).pl()
        by_ai = con.execute(_BY_AI_SYSTEM, params).pl()
        by_asset = con.execute(_BY_ASSET, params).pl()
        rows = con.execute(_ROWS, {"ids": ids}).pl()
    if ids:
        order = pl.DataFrame({"id": ids, "_pos": list(range(len(ids)))}, schema={"id": rows.schema["id"],
                                                                                  "_pos": pl.Int64})
        rows = rows.join(order, on="id", how="inner").sort("_pos").drop("_pos")
    return RegisterPage(rows=rows, total=int(total), filtered=int(filtered), owners=owner_list, cells=cells,
                        by_ai_system=by_ai, by_asset=by_asset)

