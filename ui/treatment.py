"""Treatment plan (ISO 27001 6.1.3 e-f, ISO 42001 6.1.3 g): timeline, "do once, satisfy both", approvals."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
import streamlit as st

from engine import access, charts, labels, plan
from ui import common, downloads

RANK_COLUMNS = ["rank", "action_id", "title", "owner", "status", "due_date", "effort", "n_27001", "n_42001",
                "satisfies_both", "n_controls_satisfied", "risk_reduction", "reduction_per_effort",
                "controls_per_effort", "score", "risk_ids", "controls_27001", "controls_42001",
                "controls_via_crosswalk"]
ACTION_EDITABLE = ["title", "owner", "due_date", "status", "effort"]
ACTION_SHOWN = ["action_id", "title", "owner", "due_date", "status", "effort", "overdue", "risk_ids",
                "controls_27001", "controls_42001", "version"]
APPROVAL_COLUMNS = ["risk_id", "title", "owner", "management_system", "current_level", "residual_level_after_plan",
                    "above_appetite_after_plan", "action_ids", "plan_approval_current", "plan_approved_by",
                    "plan_approved_at", "plan_approval_expires", "acceptance_current", "acceptance_approver",
                    "acceptance_expiry"]


def with_counts(actions: pl.DataFrame) -> pl.DataFrame:
    """Controls satisfied in each standard: listed by the action plus those reached through the crosswalk."""
    def n_in(prefix: str, listed: str, name: str) -> pl.Expr:
        via = pl.col("controls_via_crosswalk").list.eval(pl.element().str.starts_with(prefix)).list.sum()
        return (pl.col(listed).list.len() + via.fill_null(0)).alias(name)

    return actions.with_columns(n_in("iso27001-2022:", "controls_27001", "n_27001"),
                             n_in("iso42001-2023:", "controls_42001", "n_42001"))


def _save_action(action_id: str, version: int, changes: dict[str, Any]) -> None:
    plan.update_action(common.db_path(), action_id, expected_version=version, actor=common.principal(),
                       channel=common.CHANNEL, **changes)


def _actions_editor(actions: pl.DataFrame) -> None:
    common.versioned_editor(
        actions.select(ACTION_SHOWN).sort("action_id"), name="plan", id_col="action_id", editable=ACTION_EDITABLE,
        save=_save_action, noun="action", allowed=common.can("edit_plan", ()),
        column_config={
            "action_id": st.column_config.TextColumn("Action", pinned=True),
            "title": st.column_config.TextColumn(required=True, width="large", max_chars=300),
            "status": st.column_config.SelectboxColumn(options=list(plan.ACTION_STATUSES), required=True),
            "due_date": st.column_config.DateColumn("Due date"),
            "effort": st.column_config.NumberColumn("Effort (person-days)", step=0.5,
                                                    help="More than zero; the save says so otherwise."),
        })


def _risk_choices(residual: pl.DataFrame) -> dict[str, str]:
    """The open risks the principal sees, id -> "id title (level)", highest current level first."""
    if residual.is_empty():
        return {}
    return {r["risk_id"]: f"{r['risk_id']} {r['title']} ({r['current_level'] or 'not rated'})"
            for r in residual.iter_rows(named=True)}


def _create_form(residual: pl.DataFrame) -> None:
    """Add an action for risks and the controls it implements (either standard)."""
    risks, controls = _risk_choices(residual), common.annex_a_controls(common.stamp())
    with st.form("plan_new_form"):
        title = st.text_input("Title", key="plan_new_title", max_chars=300)
        c1, c2, c3 = st.columns(3)
        owner = c1.text_input("Owner", key="plan_new_owner")
        due = c2.date_input("Due date", value=None, key="plan_new_due")
        effort = c3.number_input("Effort (person-days)", min_value=0.0, value=None, step=0.5, key="plan_new_effort")
        description = st.text_area("Description", key="plan_new_description", height=70)
        chosen_risks = st.multiselect("Risks it treats", list(risks), format_func=lambda r: risks.get(r, r),
                                      key="plan_new_risks", placeholder="Type a risk id or words of its title")
        chosen_controls = st.multiselect("Controls it implements (either standard)", list(controls),
                                         format_func=lambda c: controls.get(c, c), key="plan_new_controls",
                                         placeholder="Type an id such as A.8.13 or words of the title")
        if st.form_submit_button("Add the action", type="primary"):
            with common.guard():
                aid = plan.add_action(common.db_path(), title=title, owner=owner or None, due_date=due,
                                      effort=effort or None, description=description or None, risk_ids=chosen_risks,
                                      controls=chosen_controls, actor=common.principal(), channel=common.CHANNEL)
                common.flash(f"Action {aid} added: {title}")
                for k in [k for k in st.session_state if str(k).startswith("plan_new_")]:
                    del st.session_state[k]
                st.rerun()


def _links(actions: pl.DataFrame, residual: pl.DataFrame) -> None:
    """Link and unlink an action's risks and controls (each change recorded in the history)."""
    titles = dict(zip(actions["action_id"].to_list(), actions["title"].to_list(), strict=True))
    aid = st.selectbox("Action", sorted(titles), format_func=lambda a: f"{a} {titles.get(a) or ''}",
                       key="plan_link_action")
    if aid is None:
        return
    row = actions.filter(pl.col("action_id") == aid).row(0, named=True)
    risks = {**{r: r for r in row["risk_ids"] or []}, **_risk_choices(residual)}
    controls = common.annex_a_controls(common.stamp())
    linked = [*(row["controls_27001"] or []), *(row["controls_42001"] or []), *(row.get("controls_other") or [])]
    db, kw = common.db_path(), {"actor": common.principal(), "channel": common.CHANNEL}
    st.markdown("**Risks**")
    common.link_panel(f"plan_link_{aid}_risk", "risk", list(row["risk_ids"] or []), risks,
                      lambda r: plan.link_risk(db, aid, r, **kw), lambda r: plan.unlink_risk(db, aid, r, **kw))
    st.markdown("**Controls**")
    common.link_panel(f"plan_link_{aid}_control", "control", linked, controls,
                      lambda c: plan.link_control(db, aid, c, **kw), lambda c: plan.unlink_control(db, aid, c, **kw))
    st.caption("To stop an action, set its status to cancelled in the table: it stays in the plan's history.")


def _mine(residual: pl.DataFrame, operation: str) -> pl.DataFrame:
    """The risks the principal may approve the plan for or accept: their own (as risk owner), or any of
    their units as an approver. The engine checks each again when it is recorded."""
    who = common.principal()
    if residual.is_empty():
        return residual
    rows = [r for r in residual.iter_rows(named=True)
            if access.allowed(who, operation, [r["business_unit"]], owner=r["owner"])]
    return residual.filter(pl.col("risk_id").is_in([r["risk_id"] for r in rows]))


def _approvals(residual: pl.DataFrame) -> None:
    st.caption("Each risk owner approves the plan for their risks, or accepts a residual risk "
               "(ISO 27001 6.1.3 f, ISO 42001 6.1.3 g); an approver may do so for the risks of their units. "
               "The approval records who gave it. It lapses when the risk's actions change or it expires.")
    common.table(residual.select([c for c in APPROVAL_COLUMNS if c in residual.columns]), key="plan_approvals",
                 column_config={"plan_approval_current": st.column_config.CheckboxColumn("Plan approved"),
                                "acceptance_current": st.column_config.CheckboxColumn("Residual accepted"),
                                "above_appetite_after_plan": st.column_config.CheckboxColumn(
                                    "Above appetite after plan"),
                                "plan_approval_expires": st.column_config.DateColumn("Plan approval expires"),
                                "acceptance_approver": st.column_config.TextColumn("Accepted by")})
    who = common.principal()
    approvable = _mine(residual, "approve_plan")
    acceptable = _mine(residual, "accept_residual")
    if approvable.is_empty() and acceptable.is_empty():
        st.caption(common.md(f"You ({who.name}) own no open risk here and hold no approver role for these "
                             f"risks: there is nothing for you to approve."))
        return
    left, right = st.columns(2)
    with left, st.form("plan_approve_form"):
        st.markdown("**Approve the plan**")
        waiting = approvable.filter(~pl.col("plan_approval_current") & (pl.col("action_ids").list.len() > 0))
        risks = st.multiselect("Risks (empty: every risk you own that has actions)", waiting["risk_id"].to_list(),
                               key="plan_approve_risks")
        expires = st.date_input("Expires on", value=None, min_value=date.today() + timedelta(days=1),
                                key="plan_approve_expiry")
        note = st.text_input("Note", key="plan_approve_note")
        if st.form_submit_button("Record approval", disabled=waiting.is_empty()):
            with common.guard():
                ids = plan.approve_plan(common.db_path(), risk_ids=risks or None, expires_on=expires,
                                        note=note or None, actor=who, channel=common.CHANNEL)
                common.flash(f"Plan approved by {who.name} for {', '.join(ids)}")
                st.rerun()
    with right, st.form("plan_accept_form"):
        st.markdown("**Accept a residual risk**")
        risk_id = st.selectbox("Risk", acceptable["risk_id"].to_list(), key="plan_accept_risk")
        expiry = st.date_input("Expires on", value=date.today() + timedelta(days=365),
                               min_value=date.today() + timedelta(days=1), key="plan_accept_expiry")
        why = st.text_area("Justification", key="plan_accept_why", height=80)
        if st.form_submit_button("Record acceptance", disabled=acceptable.is_empty()) and risk_id:
            with common.guard():
                plan.accept_residual(common.db_path(), risk_id, expires_on=expiry, justification=why or "",
                                     actor=who, channel=common.CHANNEL)
                common.flash(f"Residual risk of {risk_id} accepted by {who.name} until {expiry}")
                st.rerun()


@st.cache_data(show_spinner=False, max_entries=4)
def _data(stamp: tuple[str, int, int], today: date, scope: tuple[str, tuple[str, ...] | None],
          _who: access.Principal) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ranked plan and each risk (the principal may see) after it, read once per database state and day."""
    return (plan.ranking(stamp[0], include_closed=True, today=today, principal=_who),
            plan.residual_after_plan(stamp[0], today=today, principal=_who))


def render() -> None:
    common.header("Treatment plan", "Actions chosen so that one piece of work satisfies controls in both "
                  "standards, with the risk owners' approval of the plan for their risks.")
    actions, residual = _data(common.stamp(), date.today(), common.scope(), common.principal())
    if common.can("edit_plan", ()):
        with st.expander("Add an action", expanded=actions.is_empty()):
            _create_form(residual)
    if actions.is_empty():
        st.info("No treatment action is recorded yet.")
        return
    actions = with_counts(actions)
    open_plan = actions.filter(pl.col("status").is_in(["planned", "in_progress"]))
    m = st.columns(5)
    m[0].metric("Actions", actions.height, f"{open_plan.height} open", delta_color="off", delta_arrow="off")
    m[1].metric("Done", actions.filter(pl.col("status") == "done").height)
    m[2].metric("Overdue", int(actions["overdue"].fill_null(False).sum()))
    m[3].metric("Open actions satisfying both", int(open_plan["satisfies_both"].fill_null(False).sum()))
    waiting = residual.filter(~pl.col("plan_approval_current") & (pl.col("action_ids").list.len() > 0)) \
        if not residual.is_empty() else residual
    m[4].metric("Risks awaiting plan approval", waiting.height)

    timeline, ranking, approvals = st.tabs(["Timeline and actions", "Do once, satisfy both", "Approvals"])
    with timeline:
        statuses = sorted(actions["status"].unique().to_list())
        chosen = st.multiselect("Status", statuses, default=[s for s in statuses if s != "cancelled"],
                                key="plan_status", format_func=lambda v: labels.word("status", v))
        st.plotly_chart(charts.treatment_gantt(actions.filter(pl.col("status").is_in(chosen or [])),
                                               "Actions by due date", today=date.today()), key="plan_gantt")
        _actions_editor(actions)
        if common.can("edit_plan", ()):
            with st.expander("Links of an action: the risks it treats, the controls it implements"):
                _links(actions, residual)
    with ranking:
        st.caption("Open actions ranked by risk reduction and by controls satisfied in the two standards, each "
                   "per person-day of effort; controls reached through an equal or containing crosswalk link "
                   "count too.")
        ranked = open_plan.sort("rank", nulls_last=True)
        st.plotly_chart(charts.do_once_ranking(ranked, title="Do once, satisfy both (top 15)"), key="plan_rank")
        common.table(ranked.select([c for c in RANK_COLUMNS if c in ranked.columns]), key="plan_ranking",
                     column_config={"title": st.column_config.TextColumn(width="large"),
                                    "n_27001": st.column_config.NumberColumn("ISO/IEC 27001 controls satisfied"),
                                    "n_42001": st.column_config.NumberColumn("ISO/IEC 42001 controls satisfied"),
                                    "score": st.column_config.NumberColumn("Ranking score", format="%.2f"),
                                    "reduction_per_effort": st.column_config.NumberColumn(format="%.2f"),
                                    "controls_per_effort": st.column_config.NumberColumn(format="%.2f")})
    with approvals:
        _approvals(residual)
    with st.expander("Export the plan"):
        downloads.prepared_download("treatment_plan", downloads.plan_formats(), "plan_export")


render()
