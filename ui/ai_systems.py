"""AI systems and impact assessments (ISO/IEC 42001 A.4-A.6, 6.1.4, 8.4): the inventory and what is overdue."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from engine import register
from engine.register import browse, vocab
from ui import common, scenarios

INVENTORY = ["id", "name", "purpose", "lifecycle_stage", "role", "autonomy", "human_oversight", "owner", "status",
             "n_risks", "risk_ids", "n_assessments", "last_assessed_on", "assessment_due", "assessment_overdue",
             "version"]


SYSTEM_EDITABLE = ["name", "purpose", "lifecycle_stage", "autonomy", "human_oversight", "owner"]
ASSESSMENT_EDITABLE = ["title", "affected_individuals", "affected_groups", "societal_impacts", "consequences",
                       "severity", "assessed_on", "assessor", "next_review_due", "status"]


def _save_system(ident: str, version: int, changes: dict[str, Any]) -> None:
    register.update_ai_system(common.db_path(), ident, changes, version, actor=common.principal(),
                              channel=common.CHANNEL)


def _save_assessment(ident: str, version: int, changes: dict[str, Any]) -> None:
    register.update_assessment(common.db_path(), ident, changes, version, actor=common.principal(),
                               channel=common.CHANNEL)


@st.cache_data(show_spinner=False, max_entries=4)
def _data(stamp: tuple[str, int, int], today: date) -> browse.AiInventory:
    """The inventory and the assessments, read once per database state and day (overdue is dated)."""
    return browse.ai_inventory(stamp[0], today=today)


def render() -> None:
    common.header("AI systems and impact assessments", "The AI system inventory (ISO/IEC 42001 A.4, A.6) and "
                  "the impact assessments on individuals, groups and society (6.1.4, 8.4, A.5).")
    data = _data(common.stamp(), date.today())
    systems, assessments = data.systems, data.assessments
    live, overdue, active, unassessed = data.live, data.overdue, data.active, data.unassessed
    if systems.is_empty():
        st.info("No AI system is recorded yet. Import an inventory on the Import page.")
        return

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
        st.dataframe(overdue.select("id", "ai_system_name", "title", "severity", "next_review_due", "assessor",
                                    "days_overdue"),
                     hide_index=True,
                     column_config={"next_review_due": st.column_config.DateColumn("next review due")})
    if not unassessed.is_empty():
        st.caption("Active AI systems without an impact assessment")
        st.dataframe(unassessed.select("id", "name", "lifecycle_stage", "owner", "n_risks"), hide_index=True)

    st.subheader("Inventory")
    stages = sorted(systems["lifecycle_stage"].drop_nulls().unique().to_list())
    chosen = st.multiselect("Life cycle stage", stages, default=[], placeholder="All stages", key="ai_stage")
    shown = systems.filter(pl.col("lifecycle_stage").is_in(chosen)) if chosen else systems
    common.versioned_editor(
        shown.select(INVENTORY), name="ai_system", id_col="id", editable=SYSTEM_EDITABLE, save=_save_system,
        noun="AI system", selection=chosen, allowed=common.can("edit_register"),
        column_config={
            "name": st.column_config.TextColumn("name", required=True),
            "purpose": st.column_config.TextColumn("purpose", width="large"),
            "lifecycle_stage": st.column_config.SelectboxColumn("life cycle stage",
                                                                options=vocab.choices(vocab.LIFECYCLE_STAGES)),
        })

    _assessments(systems, assessments)
    scenarios.render_identification()
    scenarios.render_unregistered_use()


def _assessments(systems: pl.DataFrame, assessments: pl.DataFrame) -> None:
    """The impact assessments of one AI system (or all), editable."""
    st.subheader("Impact assessments")
    pick = st.selectbox("AI system", ["(all)", *systems["id"].to_list()], key="ai_pick",
                        format_func=lambda i: i if i == "(all)" else
                        f"{i} {systems.filter(pl.col('id') == i)['name'].item()}")
    rows = assessments if pick in (None, "(all)") else assessments.filter(pl.col("ai_system_id") == pick)
    common.versioned_editor(
        rows, name="assessment", id_col="id", editable=ASSESSMENT_EDITABLE, save=_save_assessment,
        noun="assessment", selection=pick, allowed=common.can("edit_register"),
        column_config={
            **{c: st.column_config.TextColumn(c.replace("_", " "), width="medium")
               for c in ("affected_individuals", "affected_groups", "societal_impacts", "consequences")},
            "severity": st.column_config.SelectboxColumn("severity", options=vocab.choices(vocab.SEVERITIES)),
            "status": st.column_config.SelectboxColumn("status", options=vocab.choices(vocab.ASSESSMENT_STATUSES),
                                                       required=True),
            "assessed_on": st.column_config.DateColumn("assessed on"),
            "next_review_due": st.column_config.DateColumn("next review due"),
        })


render()
