"""AI systems and impact assessments (ISO/IEC 42001 A.4-A.6, 6.1.4, 8.4): the inventory and what is overdue."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from ui import common

QUERIES = {
    "systems": "SELECT * FROM v_ai_systems ORDER BY id",
    "assessments": "SELECT * FROM v_impact_assessments ORDER BY next_review_due NULLS LAST, id",
}
INVENTORY = ["id", "name", "purpose", "lifecycle_stage", "role", "autonomy", "human_oversight", "owner", "status",
             "n_risks", "risk_ids", "n_assessments", "last_assessed_on", "assessment_due", "assessment_overdue"]


def render() -> None:
    common.header("AI systems and impact assessments", "The AI system inventory (ISO/IEC 42001 A.4, A.6) and "
                  "the impact assessments on individuals, groups and society (6.1.4, 8.4, A.5).")
    data = common.load(QUERIES)
    systems, assessments = data["systems"], data["assessments"]
    today = date.today()
    if systems.is_empty():
        st.info("No AI system is recorded yet. Import an inventory on the Import page.")
        return
    live = assessments.filter(~pl.col("status").fill_null("").is_in(["superseded", "withdrawn"]))
    overdue = live.filter(pl.col("review_overdue"))
    active = systems.filter(pl.col("status").fill_null("active") != "retired")
    unassessed = active.filter(pl.col("n_assessments") == 0)

    m = st.columns(4)
    m[0].metric("AI systems", systems.height, f"{active.height} active", delta_color="off", delta_arrow="off")
    m[1].metric("Impact assessments", live.height)
    m[2].metric("Reviews overdue", overdue.height)
    m[3].metric("Active systems never assessed", unassessed.height)

    st.subheader("Overdue")
    if overdue.is_empty() and unassessed.is_empty():
        st.success("No assessment review is overdue and every active AI system has an assessment.")
    if not overdue.is_empty():
        st.caption("Impact assessments past their review date")
        st.dataframe(overdue.select("id", "ai_system_name", "title", "severity", "next_review_due", "assessor")
                     .with_columns((pl.lit(today) - pl.col("next_review_due")).dt.total_days().alias("days_overdue")),
                     hide_index=True)
    if not unassessed.is_empty():
        st.caption("Active AI systems without an impact assessment")
        st.dataframe(unassessed.select("id", "name", "lifecycle_stage", "owner", "n_risks"), hide_index=True)

    st.subheader("Inventory")
    stages = sorted(systems["lifecycle_stage"].drop_nulls().unique().to_list())
    chosen = st.multiselect("Life cycle stage", stages, default=[], placeholder="All stages", key="ai_stage")
    shown = systems.filter(pl.col("lifecycle_stage").is_in(chosen)) if chosen else systems
    st.dataframe(common.list_text(shown.select(INVENTORY)), hide_index=True,
                 column_config={"purpose": st.column_config.TextColumn("purpose", width="large")})

    st.subheader("Impact assessments")
    pick = st.selectbox("AI system", ["(all)", *systems["id"].to_list()], key="ai_pick",
                        format_func=lambda i: i if i == "(all)" else
                        f"{i} {systems.filter(pl.col('id') == i)['name'].item()}")
    rows = assessments if pick in (None, "(all)") else assessments.filter(pl.col("ai_system_id") == pick)
    st.dataframe(rows, hide_index=True,
                 column_config={c: st.column_config.TextColumn(c, width="medium")
                                for c in ("affected_individuals", "affected_groups", "societal_impacts",
                                          "consequences")})


render()
