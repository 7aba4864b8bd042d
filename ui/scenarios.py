"""AI risk identification in the app: proposals per AI system with accept / not applicable, the system's
characteristics, the identification chart, AI use nobody registered, and the Overview's figures.

The AI systems page calls :func:`render_identification` and :func:`render_unregistered_use`; the Overview
calls :func:`render_overview`. Every read and write goes through ``engine.ai`` (no SQL here).
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from engine import ai, register
from engine.ai import charts as ai_charts
from ui import common

NOT_RECORDED = "not recorded"
FLAG_CHOICES = [NOT_RECORDED, "yes", "no"]
NEW_RISK = "(create a new risk from the scenario)"


@st.cache_data(show_spinner=False, max_entries=4)
def _data(stamp: tuple[str, int, int]) -> dict[str, Any]:
    """What the identification sections show for every system, read once per database state."""
    db = stamp[0]
    return {"coverage": ai.coverage(db), "usage": ai.list_usage(db)}


@st.cache_data(show_spinner=False, max_entries=4)
def _summary(stamp: tuple[str, int, int]) -> ai.Summary:
    return ai.summary(stamp[0])


@st.cache_data(show_spinner=False, max_entries=16)
def _system_data(stamp: tuple[str, int, int], ai_system_id: str) -> dict[str, pl.DataFrame]:
    """One system's characteristics, open proposals and decided scenarios, read once per database state."""
    db = stamp[0]
    return {"characteristics": ai.characteristics(db, ai_system_id), "proposals": ai.proposals(db, ai_system_id),
            "decided": ai.identification(db, ai_system_id).filter(pl.col("state") != "open")}


def _flag_text(value: object) -> str:
    return NOT_RECORDED if value is None else ("yes" if value else "no")


def _flag_value(text: str) -> bool | None:
    return None if text == NOT_RECORDED else text == "yes"


# -------------------------------------------------------------------------------------------- overview

def render_overview() -> None:
    """Two figures for the Overview: AI systems fully assessed, and AI use nobody registered."""
    summary = _summary(common.stamp())
    m = st.columns(3)
    m[0].metric("AI systems fully assessed", f"{summary.fully_assessed} / {summary.systems}",
                help="AI systems with no open risk scenario: every scenario that applies is identified as a risk "
                     "or recorded as not applicable (ISO/IEC 42001 6.1.2, v_ai_risk_identification).")
    m[1].metric("Open AI risk scenarios", summary.open_scenarios)
    m[2].metric("Unregistered AI use", summary.unregistered_use,
                help="Observed AI use (proxy, CASB or expense exports) that matches no AI system of the inventory.")


# ---------------------------------------------------------------------------------------- identification

def render_identification() -> None:
    """The identification chart, then one system's characteristics, proposals and decisions."""
    st.subheader("Risk identification")
    st.caption("Risk scenarios of the library (ISO/IEC 42001 6.1.2, Annex C) proposed for each AI system from "
               "its roles, life cycle stage and characteristics. Accept one as a register risk, or record it as "
               "not applicable with a reason; nothing reaches the register until you do.")
    data = _data(common.stamp())
    cov: pl.DataFrame = data["coverage"]
    if cov.is_empty():
        st.info("No AI system is recorded yet.")
        return
    m = st.columns(4)
    m[0].metric("Fully assessed", f"{int(cov['fully_assessed'].sum())} / {cov.height}")
    m[1].metric("Identified", int(cov["n_identified"].sum()))
    m[2].metric("Not applicable", int(cov["n_not_applicable"].sum()))
    m[3].metric("Open", int(cov["n_open"].sum()))
    st.plotly_chart(ai_charts.identification_by_system(cov), key="scen_chart")
    names = dict(cov.select("ai_system_id", "ai_system_name").iter_rows())
    first_open = next((i for i, (n,) in enumerate(cov.select("n_open").iter_rows()) if n), 0)
    sid = st.selectbox("AI system", list(names), index=first_open, key="scen_system",
                       format_func=lambda i: f"{i} {names[i]}")
    if sid is None:
        return
    one = _system_data(common.stamp(), sid)
    _characteristics(sid, one["characteristics"])
    _proposals(sid, one["proposals"])
    _decided(sid, one["decided"])


def _characteristics(sid: str, chars: pl.DataFrame) -> None:
    version = register.get_ai_system(common.db_path(), sid)["version"]
    unrecorded = chars.filter(~pl.col("recorded")).height
    with st.expander(f"Characteristics ({unrecorded} not recorded)", expanded=unrecorded > 0):
        st.caption("They decide which scenarios apply; a characteristic nobody recorded rules nothing out. The "
                   "vendor and domains match observed AI use to the system.")
        cols = st.columns(3)
        chosen = {}
        for i, (name, label, value) in enumerate(chars.select("characteristic", "label", "value").iter_rows()):
            chosen[name] = cols[i % 3].selectbox(label, FLAG_CHOICES, index=FLAG_CHOICES.index(_flag_text(value)),
                                                 key=f"scen_char_{sid}_{version}_{name}")
        changes: dict[str, Any] = {n: _flag_value(v) for n, v in chosen.items()
                                   if _flag_value(v) != chars.filter(pl.col("characteristic") == n)["value"].item()}
        keys = ai.matching_keys(common.db_path(), sid)
        left, right = st.columns(2)
        vendor = left.text_input("Vendor", value=keys["vendor"] or "", key=f"scen_vendor_{sid}_{version}",
                                 help="Observed AI use is matched to the system by its vendor, name or domains.")
        domains = right.text_input("Domains (comma-separated)", value=", ".join(keys["domains"]),
                                   key=f"scen_domains_{sid}_{version}")
        if vendor.strip() != (keys["vendor"] or ""):
            changes["vendor"] = vendor.strip() or None
        if [d.strip().lower() for d in domains.split(",") if d.strip()] != keys["domains"]:
            changes["domains"] = domains.strip() or None
        if not common.can("edit_register"):
            st.caption("Recording characteristics needs the role contributor.")
        elif st.button("Save characteristics", key="scen_char_save", disabled=not changes):
            with common.guard():
                ai.set_characteristics(common.db_path(), sid, changes, version, actor=common.principal(),
                                       channel=common.CHANNEL)
                common.flash(f"{sid}: {len(changes)} field(s) saved")
                st.rerun()


def _scenario_text(row: dict[str, Any]) -> None:
    st.markdown(common.md(row["description"]))
    lines = [("Cause", row["cause"]), ("Event", row["event"]), ("For the organisation", row["consequence_org"]),
             ("For individuals or society", row["consequence_individuals"]),
             ("Annex C sources", ", ".join(row["risk_sources"])), ("Objectives", ", ".join(row["objectives"])),
             ("Suggested controls", ", ".join(row["controls"])), ("References", ", ".join(row["refs"] or []))]
    st.markdown("  \n".join(f"**{k}:** {common.md(v)}" for k, v in lines if v))
    if row["unrecorded"]:
        st.caption(common.md("Proposed although these are not recorded: " + ", ".join(row["unrecorded"])))


def _proposals(sid: str, open_rows: pl.DataFrame) -> None:
    st.markdown(f"**Proposed scenarios: {open_rows.height} open**")
    if open_rows.is_empty():
        st.success("Every scenario that applies to this system is identified or ruled out.")
        return
    common.table(open_rows.select("scenario_id", "scenario_title", "theme", "affects_individuals", "unrecorded"),
                 key="scen_open", column_config={
                     "scenario_id": st.column_config.TextColumn("ID"),
                     "unrecorded": st.column_config.TextColumn("Characteristics not recorded")})
    titles = dict(open_rows.select("scenario_id", "scenario_title").iter_rows())
    pick = st.selectbox("Scenario", list(titles), key="scen_pick", format_func=lambda i: f"{i} {titles[i]}")
    if pick is None:
        return
    _scenario_text(open_rows.filter(pl.col("scenario_id") == pick).row(0, named=True))
    if not common.can("identify_ai_risk"):
        st.caption("Deciding which scenarios apply needs the role contributor.")
        return
    accept, reject = st.columns(2)
    with accept:
        _accept_controls(sid, pick)
    with reject:
        reason = st.text_area("Why it does not apply", key="scen_reason")
        if st.button("Record as not applicable", key="scen_reject"):
            with common.guard():
                ai.reject(common.db_path(), sid, pick, reason, actor=common.principal(), channel=common.CHANNEL)
                common.flash(f"{sid} {pick}: recorded as not applicable")
                st.rerun()


def _accept_controls(sid: str, pick: str) -> None:
    db = common.db_path()
    matrix = register.get_matrix(db)
    titles = dict(ai.candidate_risks(db, sid).select("id", "title").iter_rows())
    existing = st.selectbox("Register risk", [NEW_RISK, *titles], key="scen_risk",
                            format_func=lambda r: r if r == NEW_RISK else f"{r} {titles[r]}",
                            help="Link a risk that already names this system instead, if it covers the scenario "
                                 "(any other risk can be linked from the command line).")
    new = existing == NEW_RISK
    left, right = st.columns(2)
    likelihood = left.selectbox("Likelihood", list(range(1, matrix.size + 1)), index=None, key="scen_likelihood",
                                format_func=lambda n: f"{n} {matrix.likelihood_labels[n - 1]}", disabled=not new)
    impact = right.selectbox("Impact", list(range(1, matrix.size + 1)), index=None, key="scen_impact",
                             format_func=lambda n: f"{n} {matrix.impact_labels[n - 1]}", disabled=not new)
    owner = st.text_input("Risk owner (default: the system's owner)", key="scen_owner", disabled=not new)
    if st.button("Accept as a register risk", key="scen_accept", type="primary"):
        with common.guard():
            if new:
                rid = ai.accept(db, sid, pick, likelihood=likelihood, impact=impact, owner=owner.strip() or None,
                                actor=common.principal(), channel=common.CHANNEL)
            else:
                rid = ai.accept(db, sid, pick, risk_id=existing, actor=common.principal(), channel=common.CHANNEL)
            common.flash(f"{sid} {pick}: identified as risk {rid}")
            st.rerun()


def _decided(sid: str, decided: pl.DataFrame) -> None:
    with st.expander(f"Decided scenarios ({decided.height})"):
        if decided.is_empty():
            st.caption("No decision yet.")
            return
        common.table(decided.select("scenario_id", "scenario_title", "state", "risk_id", "reason", "decided_by",
                                    "decided_at"), key="scen_decided",
                     column_config={"scenario_id": st.column_config.TextColumn("ID"),
                                    "state": st.column_config.TextColumn("Decision")})
        if not common.can("identify_ai_risk"):
            return
        pick = st.selectbox("Reopen a decision", decided["scenario_id"].to_list(), index=None, key="scen_reopen_pick")
        if st.button("Reopen", key="scen_reopen", disabled=pick is None):
            with common.guard():
                ai.reopen(common.db_path(), sid, str(pick), actor=common.principal(), channel=common.CHANNEL)
                common.flash(f"{sid} {pick}: reopened; it is proposed again")
                st.rerun()


# ------------------------------------------------------------------------------------- unregistered use

def render_unregistered_use() -> None:
    """Observed AI use, with what nobody registered: register it in the inventory, or dismiss it."""
    st.subheader("AI use nobody registered")
    st.caption("AI services seen in use by the web proxy, CASB or expense exports (`riskmap import ai-usage`), "
               "matched to the inventory by domain, name or vendor.")
    usage: pl.DataFrame = _data(common.stamp())["usage"]
    if usage.is_empty():
        st.info("No observed AI use is imported yet: `riskmap import ai-usage FILE`.")
        return
    st.plotly_chart(ai_charts.usage_by_tool(usage), key="usage_chart")
    open_rows = usage.filter(pl.col("unregistered"))
    if open_rows.is_empty():
        st.success("Every AI service seen in use is registered or dismissed with a reason.")
        return
    common.table(open_rows.select("id", "tool", "domain", "vendor", "department", "user_count", "first_seen",
                                  "last_seen", "source"), key="usage_open")
    labels = {r["id"]: f"{r['id']} {r['tool'] or r['domain'] or r['vendor']}" for r in open_rows.iter_rows(named=True)}
    if not common.can("edit_register"):
        st.caption("Registering or dismissing observed AI use needs the role contributor.")
        return
    pick = st.selectbox("Entry", list(labels), key="usage_pick", format_func=lambda i: labels[i])
    if pick is None:
        return
    st.caption("Registering adds it to the inventory as a third-party AI service in use (role user, in operation, "
               "with its vendor and domain); its risk scenarios are then proposed. Complete its purpose and "
               "characteristics above.")
    left, right = st.columns(2)
    with left:
        name = st.text_input("Name in the inventory (default: the tool's)", key="usage_name")
        owner = st.text_input("System owner", key="usage_owner")
        if st.button("Register in the inventory", key="usage_register", type="primary"):
            with common.guard():
                new_id = ai.register_usage(common.db_path(), pick, name=name.strip() or None,
                                           fields={"owner": owner.strip()} if owner.strip() else None,
                                           actor=common.principal(), channel=common.CHANNEL)
                common.flash(f"{pick} registered as {new_id}: its risk scenarios are now proposed")
                st.rerun()
    with right:
        reason = st.text_area("Why it needs no registration", key="usage_reason")
        if st.button("Dismiss", key="usage_dismiss"):
            with common.guard():
                ai.dismiss_usage(common.db_path(), pick, reason, actor=common.principal(), channel=common.CHANNEL)
                common.flash(f"{pick} dismissed")
                st.rerun()
