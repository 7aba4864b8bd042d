"""History: every recorded change (who, when, through which channel, which record, old and new value),
filtered by record, person, channel and date range, and downloadable as CSV or Excel.

The changes come from the engine (``engine.store.history.changes`` over the view ``v_history``), with the
risks of business units the signed-in principal may not see left out, as on every other page.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
import streamlit as st

from engine import access, exports, labels
from engine.store import history
from ui import common

ANY = ""
SHOWN = ["changed_at", "actor_name", "channel", "entity", "entity_id", "action", "field", "old_value", "new_value",
         "batch_id"]


def _label(column: str, code: str) -> str:
    return "Any" if code == ANY else labels.word(column, code)


@st.cache_data(show_spinner=False, max_entries=4)
def _facets(stamp: tuple[str, int, int], scope: tuple[str, tuple[str, ...] | None],
            _who: access.Principal) -> dict[str, list[str]]:
    """The filters' choices, read once per database state and principal scope."""
    return history.facets(stamp[0], principal=_who)


@st.cache_data(show_spinner=False, max_entries=16)
def _changes(stamp: tuple[str, int, int], chosen: tuple[tuple[str, Any], ...],
             scope: tuple[str, tuple[str, ...] | None], _who: access.Principal) -> history.Changes:
    """The changes matching the filters, read once per database state, filters and principal scope."""
    return history.changes(stamp[0], **dict(chosen), principal=_who)


def _filters(facets: dict[str, list[str]]) -> dict[str, Any]:
    """The filter widgets; the choices as ``history.changes`` arguments."""
    c = st.columns([2, 2, 2, 2, 3])
    entity = c[0].selectbox("Record kind", [ANY, *facets["entity"]], key="hist_entity",
                            format_func=lambda e: _label("entity", e))
    entity_id = c[1].text_input("Record id", key="hist_id", placeholder="e.g. R-0001")
    person = c[2].selectbox("Person", [ANY, *facets["person"]], key="hist_person",
                            format_func=lambda p: "Anyone" if p == ANY else p)
    channel = c[3].selectbox("Channel", [ANY, *facets["channel"]], key="hist_channel",
                             format_func=lambda ch: _label("channel", ch))
    days = c[4].date_input("Changed between", value=(date.today() - timedelta(days=365), date.today()),
                           key="hist_days", format="YYYY-MM-DD", min_value=date(2000, 1, 1),
                           max_value=date.today() + timedelta(days=1))
    since, until = (tuple(days) + (None, None))[:2] if isinstance(days, (tuple, list)) else (days, days)
    return {"entity": entity or None, "entity_id": entity_id or None, "person": person or None,
            "channel": channel or None, "since": since, "until": until or since}


def readable(rows: pl.DataFrame) -> pl.DataFrame:
    """The changes in words: record kinds and channels by their labels, each old and new value as its
    field's words (a status's label, a list of reasons), fields by their headings."""
    values = [pl.struct("field", side).map_elements(lambda r, s=side: labels.value_text(r["field"] or "", r[s]),
                                                    return_dtype=pl.String).alias(side)
              for side in ("old_value", "new_value")]
    return labels.in_words(rows.select(SHOWN).with_columns(values))


def render() -> None:
    common.header("History", "Every recorded change: who made it, when, through which channel, and the old and "
                  "new value. The record write path keeps it; nothing is ever removed from it.")
    stamp, scope, who = common.stamp(), common.scope(), common.principal()
    chosen = tuple(_filters(_facets(stamp, scope, who)).items())
    with common.guard():
        got = _changes(stamp, chosen, scope, who)
        shown = readable(got.rows)
        more = f"; the newest {got.rows.height} shown" if got.matched > got.rows.height else ""
        st.caption(f"{got.matched} change(s) match{more}")
        common.table(shown, key="hist_table", column_config={
            "changed_at": st.column_config.DatetimeColumn("Changed at (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "actor_name": st.column_config.TextColumn("Person"),
            "old_value": st.column_config.TextColumn("Old value", width="medium"),
            "new_value": st.column_config.TextColumn("New value", width="large"),
            "batch_id": st.column_config.TextColumn("Batch or operation"),
        })
        c1, c2, _ = st.columns([1, 1, 4])
        c1.download_button("Download CSV", lambda: exports.table_bytes(shown, "csv", sheet="History"),
                           file_name="history.csv", mime="text/csv", key="hist_csv", on_click="ignore",
                           disabled=shown.is_empty())
        c2.download_button("Download Excel", lambda: exports.table_bytes(shown, "xlsx", sheet="History"),
                           file_name="history.xlsx", key="hist_xlsx", on_click="ignore", disabled=shown.is_empty(),
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


render()
