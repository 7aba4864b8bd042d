"""AI systems and impact assessments (ISO/IEC 42001 A.4-A.6, 6.1.4, 8.4): the inventory and what is overdue."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from engine import labels, register
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
    if common.can("edit_register"):
        _create_forms(systems)
    if systems.is_empty():
        st.info("No AI system is recorded yet. Add one above or import an inventory on the Import page.")
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
        common.table(overdue.select("id", "ai_system_name", "title", "severity", "next_review_due", "assessor",
                                    "days_overdue"), key="ai_overdue",
                     column_config={"ai_system_name": st.column_config.TextColumn("AI system")})
    if not unassessed.is_empty():
        st.caption("Active AI systems without an impact assessment")
        common.table(unassessed.select("id", "name", "lifecycle_stage", "owner", "n_risks"), key="ai_unassessed")

    st.subheader("Inventory")
    stages = sorted(systems["lifecycle_stage"].drop_nulls().unique().to_list())
    chosen = st.multiselect("Life cycle stage", stages, default=[], placeholder="All stages", key="ai_stage",
                            format_func=lambda v: labels.word("lifecycle_stage", v))
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


def _created(what: str, ident: str, prefix: str) -> None:
    common.flash(f"{what} {ident} added")
    for k in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[k]
    st.rerun()


def _create_forms(systems: pl.DataFrame) -> None:
    """Add an AI system, an asset or an impact assessment; retire an AI system or an asset (its status
    becomes retired, kept with its links and history)."""
    db, kw = common.db_path(), {"actor": common.principal(), "channel": common.CHANNEL}
    new_system, new_asset, new_assessment, retire = st.tabs(
        ["Add an AI system", "Add an asset", "Add an impact assessment", "Retire an AI system or asset"])
    with new_system, st.form("ai_new_system_form"):
        name = st.text_input("Name", key="ai_new_name")
        purpose = st.text_area("Purpose", key="ai_new_purpose", height=70)
        c1, c2, c3 = st.columns(3)
        stage = c1.selectbox("Life cycle stage", [None, *vocab.choices(vocab.LIFECYCLE_STAGES)], key="ai_new_stage",
                             format_func=lambda v: "Not recorded" if v is None else labels.word("lifecycle_stage", v))
        owner = c2.text_input("Owner", key="ai_new_owner")
        vendor = c3.text_input("Vendor (a third-party system)", key="ai_new_vendor")
        if st.form_submit_button("Add the AI system", type="primary"):
            with common.guard():
                ident = register.create_ai_system(db, {"name": name, "purpose": purpose or None,
                                                       "lifecycle_stage": stage, "owner": owner or None,
                                                       "vendor": vendor or None}, **kw)
                _created("AI system", ident, "ai_new_")
    with new_asset, st.form("asset_new_form"):
        name = st.text_input("Name", key="asset_new_name")
        c1, c2, c3 = st.columns(3)
        kind = c1.text_input("Type (information, software, service...)", key="asset_new_type")
        owner = c2.text_input("Owner", key="asset_new_owner")
        unit = c3.text_input("Business unit", key="asset_new_unit")
        classification = c1.text_input("Classification", key="asset_new_class")
        location = c2.text_input("Location", key="asset_new_location")
        description = st.text_area("Description", key="asset_new_description", height=70)
        if st.form_submit_button("Add the asset", type="primary"):
            with common.guard():
                ident = register.create_asset(db, {"name": name, "asset_type": kind or None, "owner": owner or None,
                                                   "business_unit": unit or None, "description": description or None,
                                                   "classification": classification or None,
                                                   "location": location or None}, **kw)
                _created("Asset", ident, "asset_new_")
    with new_assessment:
        _assessment_form(systems, db, kw)
    with retire:
        _retire_form(systems, db, kw)


def _assessment_form(systems: pl.DataFrame, db: Any, kw: dict[str, Any]) -> None:
    if systems.is_empty():
        st.caption("Add an AI system first: an impact assessment is of one AI system.")
        return
    names = dict(zip(systems["id"].to_list(), systems["name"].to_list(), strict=True))
    with st.form("ia_new_form"):
        system = st.selectbox("AI system", list(names), format_func=lambda i: f"{i} {names.get(i) or ''}",
                              key="ia_new_system")
        title = st.text_input("Title", key="ia_new_title")
        c1, c2, c3 = st.columns(3)
        severity = c1.selectbox("Severity", [None, *vocab.choices(vocab.SEVERITIES)], key="ia_new_severity",
                                format_func=lambda v: "Not rated" if v is None else labels.word("severity", v))
        assessor = c2.text_input("Assessor", key="ia_new_assessor")
        assessed = c3.date_input("Assessed on", value=date.today(), key="ia_new_on")
        review = c3.date_input("Next review due", value=None, key="ia_new_due")
        individuals = c1.text_area("Affected individuals", key="ia_new_individuals", height=70)
        groups = c2.text_area("Affected groups", key="ia_new_groups", height=70)
        consequences = st.text_area("Consequences", key="ia_new_consequences", height=70)
        if st.form_submit_button("Add the assessment", type="primary"):
            with common.guard():
                ident = register.create_assessment(db, {
                    "ai_system_id": system, "title": title, "severity": severity, "assessor": assessor or None,
                    "assessed_on": assessed, "next_review_due": review, "affected_individuals": individuals or None,
                    "affected_groups": groups or None, "consequences": consequences or None}, **kw)
                _created("Impact assessment", ident, "ia_new_")


def _retire_form(systems: pl.DataFrame, db: Any, kw: dict[str, Any]) -> None:
    """Retire rather than delete: the record stays, with its links and history, marked retired."""
    assets, ai = common.inventories(common.stamp())
    choices = {**{f"ai_system:{i}": f"AI system {label}" for i, label in ai.items() if "(retired)" not in label},
               **{f"asset:{i}": f"Asset {label}" for i, label in assets.items() if "(retired)" not in label}}
    with st.form("retire_form"):
        target = st.selectbox("Record", list(choices), format_func=lambda c: choices.get(c, c), key="retire_target",
                              index=None, placeholder="Choose an AI system or an asset")
        st.caption("It stays in the inventory marked retired, with its links and history; nothing is removed.")
        if st.form_submit_button("Retire") and target:
            kind, _, ident = target.partition(":")
            update = register.update_ai_system if kind == "ai_system" else register.update_asset
            with common.guard():
                update(db, ident, {"status": "retired"}, None, **kw)
                common.flash(f"{choices[target]} retired")
                st.rerun()


def _assessments(systems: pl.DataFrame, assessments: pl.DataFrame) -> None:
    """The impact assessments of one AI system (or all), editable."""
    st.subheader("Impact assessments")
    pick = st.selectbox("AI system", ["(all)", *systems["id"].to_list()], key="ai_pick",
                        format_func=lambda i: "All AI systems" if i == "(all)" else
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
