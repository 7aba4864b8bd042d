"""Risk register: one register for information-security and AI risks, filtered, sorted and edited in place.

Edits go through the engine's update function with the version of the row the user saw, so an edit
based on a row someone else has changed since is refused with a clear message (optimistic concurrency).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from engine import charts, register
from ui import common, downloads

QUERIES = {
    "risks": "SELECT * FROM v_risk_register ORDER BY id",
    "matrix": "SELECT * FROM risk_matrix_versions",
}
STATUSES = ["open", "treated", "accepted", "closed"]
TREATMENTS = ["modify", "retain", "avoid", "share"]
SYSTEMS = ["ISMS", "AIMS", "both"]
EDITABLE = ["title", "management_system", "owner", "status", "inherent_likelihood", "inherent_impact",
            "current_likelihood", "current_impact", "residual_likelihood", "residual_impact", "treatment",
            "treatment_notes", "next_review"]
SHOWN = ["id", "title", "management_system", "owner", "status", "level", "within_appetite",
         "inherent_likelihood", "inherent_impact", "inherent_level", "current_likelihood", "current_impact",
         "current_level", "residual_likelihood", "residual_impact", "residual_level", "treatment", "treatment_notes",
         "next_review", "acceptance_status", "ai_systems", "assets", "controls_27001", "controls_42001", "version"]
SORTS = {"id": "id", "score (current, else inherent)": "score", "inherent score": "inherent_score",
         "residual score": "residual_score", "title": "title", "owner": "owner", "next review": "next_review"}


def _filters(risks: pl.DataFrame, matrix: charts.MatrixSpec) -> tuple[pl.DataFrame, dict[str, Any]]:
    c = st.columns([2, 2, 2, 2, 3])
    systems = c[0].multiselect("Management system", SYSTEMS, default=[], placeholder="All", key="reg_ms")
    statuses = c[1].multiselect("Status", STATUSES, default=["open", "treated", "accepted"], key="reg_status")
    levels = c[2].multiselect("Level", matrix.level_names, default=[], placeholder="All", key="reg_level")
    owners = c[3].multiselect("Owner", sorted(risks["owner"].drop_nulls().unique().to_list()), default=[],
                              placeholder="All", key="reg_owner")
    text = c[4].text_input("Search title", key="reg_search")
    s1, s2, s3 = st.columns([2, 1, 4])
    sort = s1.selectbox("Sort by", list(SORTS), key="reg_sort") or "id"
    descending = s2.toggle("Descending", value=False, key="reg_desc")
    frame = risks
    if systems:
        frame = frame.filter(pl.col("management_system").is_in(systems))
    if statuses:
        frame = frame.filter(pl.col("status").is_in(statuses))
    if levels:
        frame = frame.filter(pl.col("level").is_in(levels))
    if owners:
        frame = frame.filter(pl.col("owner").is_in(owners))
    if text:
        frame = frame.filter(pl.col("title").str.to_lowercase().str.contains(text.lower(), literal=True))
    frame = frame.sort([SORTS[sort], "id"], descending=[descending, False], nulls_last=True)
    s3.caption(f"{frame.height} of {risks.height} risk(s)")
    chosen = {"ms": systems, "status": statuses, "level": levels, "owner": owners, "text": text, "sort": sort,
              "desc": descending}
    return frame, chosen


@st.cache_data(show_spinner=False, max_entries=4)
def _data(stamp: tuple[str, int, int], today: date) -> dict[str, pl.DataFrame]:
    """The register and the matrix, read once per database state and day (overdue reviews are dated)."""
    return common.load(QUERIES)


def _save(risk_id: str, version: int, changes: dict[str, Any]) -> None:
    register.update_risk(common.db_path(), risk_id, changes, version, actor=common.actor(), channel=common.CHANNEL)


def render() -> None:
    common.header("Risk register", "Information-security and AI risks on one matrix. Edit cells, then save: "
                  "each row is saved with the version you saw, so a row changed meanwhile is refused.")
    data = _data(common.stamp(), date.today())
    risks, matrix = data["risks"], common.matrix_from(data["matrix"])
    if risks.is_empty():
        st.info("The register is empty. Import a register on the Import page.")
        return
    shown, chosen = _filters(risks, matrix)
    score = {c: st.column_config.NumberColumn(c.replace("_", " "), min_value=1, max_value=matrix.size, step=1)
             for c in EDITABLE if c.endswith(("_likelihood", "_impact"))}
    common.versioned_editor(
        shown.select(SHOWN), name="register", id_col="id", editable=EDITABLE, save=_save, noun="risk",
        selection=chosen,
        column_config={
            "title": st.column_config.TextColumn("title", required=True, max_chars=300, width="large"),
            "management_system": st.column_config.SelectboxColumn("system", options=SYSTEMS, required=True),
            "status": st.column_config.SelectboxColumn("status", options=STATUSES, required=True),
            "treatment": st.column_config.SelectboxColumn("treatment", options=TREATMENTS),
            "next_review": st.column_config.DateColumn("next review"),
            "within_appetite": st.column_config.CheckboxColumn("within appetite"),
            **score,
        })

    st.plotly_chart(charts.inherent_vs_residual(shown, matrix), key="register_matrix")
    left, right = st.columns(2)
    with left:
        by_ai = shown.select("level", pl.col("ai_systems").alias("ai_system")).explode("ai_system").drop_nulls()
        st.plotly_chart(charts.risks_by(by_ai, "ai_system", "level", matrix, "Risks by AI system", top=15),
                        key="register_by_ai")
    with right:
        by_asset = shown.select("level", pl.col("assets").alias("asset")).explode("asset").drop_nulls()
        st.plotly_chart(charts.risks_by(by_asset, "asset", "level", matrix, "Risks by asset", top=15),
                        key="register_by_asset")
    with st.expander("Export the register"):
        downloads.prepared_download("risk_register", downloads.register_formats(), "register_export")


render()
