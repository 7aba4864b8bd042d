"""SQL for analysts: read-only queries on the documented views, results as a table and a CSV download."""

from __future__ import annotations

import polars as pl
import streamlit as st

from engine.exports.safe import safe_frame
from engine.store import query
from ui import common

_RESULT_KEY = "sql_result"


@st.cache_data(show_spinner=False, max_entries=4)
def _views(stamp: tuple[str, int, int]) -> pl.DataFrame:
    """The documented views with their purpose and columns, read once per database state."""
    return query.documented_views(stamp[0])


def _run(sql: str, max_rows: int) -> None:
    try:
        result = query.run_query(sql, common.db_path(), max_rows=max_rows)
    except Exception:
        st.session_state.pop(_RESULT_KEY, None)
        raise
    st.session_state[_RESULT_KEY] = (sql, result.frame, result.truncated, max_rows)


def render() -> None:
    common.header("SQL", "Read-only queries on the database (one SELECT; writes, files, the network and "
                  "settings are refused). The documented views below are the stable contract.")
    with st.expander("Documented views and their columns", expanded=True):
        st.dataframe(_views(common.stamp()), hide_index=True,
                     column_config={"columns": st.column_config.TextColumn("columns", width="large"),
                                    "purpose": st.column_config.TextColumn("purpose", width="large")})
    with st.form("sql_form"):
        sql = st.text_area("Query", query.EXAMPLE_QUERY, height=140, key="sql_text")
        max_rows = st.number_input("Row limit", min_value=1, max_value=query.DEFAULT_MAX_ROWS, value=10_000,
                                   step=1000, key="sql_max_rows")
        submitted = st.form_submit_button("Run", type="primary")
    if submitted or not st.session_state.get("sql_ran"):  # the example query's result on a first visit
        st.session_state["sql_ran"] = True
        with common.guard():
            _run(sql or "", int(max_rows))
    got = st.session_state.get(_RESULT_KEY)
    if not got:
        return
    ran_sql, frame, truncated, limit = got
    frame = common.list_text(frame)
    st.caption(f"{frame.height} row(s)" + (f", cut at the row limit of {limit}" if truncated else ""))
    st.dataframe(frame, hide_index=True)
    st.download_button("Download CSV", lambda: safe_frame(frame).write_csv().encode("utf-8"),
                       file_name="query.csv", mime="text/csv", key="sql_download", on_click="ignore")
    if ran_sql != sql:
        st.caption("The results are of the last query run, not of the text above.")


render()
