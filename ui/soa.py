"""Statement of Applicability (ISO 27001 6.1.3 d, ISO 42001 6.1.3 f): decide, snapshot, compare, export.

Excluding a control needs a reason code and a justification, resets its implementation status, and is
refused while open risks cite the control unless an explicit override gives its reason (the "Exclude a
control" form); approving a version with undecided rows or error findings needs a recorded confirmation.
The engine enforces each rule and the page shows its message. Every row is saved with the version the user saw (optimistic concurrency).
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from engine import labels, soa
from ui import common, downloads

APPLICABILITY = {"applicable": True, "not applicable": False, "undecided": None}
EDITABLE = ["applicability", "reasons", "exclusion_reason", "justification", "status", "implementation_notes",
            "owner"]
SHOWN = ["control", "framework", "ref", "title", "applicability", "reasons", "exclusion_reason", "justification",
         "status", "implementation_notes", "owner", "risk_ids", "implementing_actions", "counterparts", "ai_systems",
         "version"]


@st.cache_data(show_spinner=False, max_entries=4)
def _data(stamp: tuple[str, int, int]) -> dict[str, Any]:
    """The working copy, the open proposals, the approved versions and what approving now would need
    confirmed, read once per database state."""
    db = stamp[0]
    return {"rows": soa.soa_frame(db), "proposals": soa.proposals(db), "versions": soa.versions(db),
            "issues": soa.approval_check(db)}


def _filters(rows: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, Any]]:
    c = st.columns([2, 2, 2, 3])
    fws = sorted(rows["framework"].unique().to_list())
    standard = c[0].multiselect("Standard", fws, default=[], placeholder="Both", key="soa_fw",
                                format_func=labels.standard)
    applicability = c[1].multiselect("Applicability", list(APPLICABILITY), default=[], placeholder="All",
                                     key="soa_app", format_func=lambda a: labels.word("applicability", a))
    status = c[2].multiselect("Status", list(soa.STATUSES), default=[], placeholder="All", key="soa_status",
                              format_func=lambda s: soa.STATUSES.get(s, s))
    text = c[3].text_input("Search control or title", key="soa_search", placeholder="e.g. A.8.13 or backup")
    frame = rows
    if standard:
        frame = frame.filter(pl.col("framework").is_in(standard))
    if applicability:
        frame = frame.filter(pl.col("applicability").is_in(applicability))
    if status:
        frame = frame.filter(pl.col("status").is_in(status))
    if text:
        frame = frame.filter(pl.col("ref").str.contains(text, literal=True)
                             | pl.col("title").str.to_lowercase().str.contains(text.lower(), literal=True))
    return frame, {"fw": standard, "app": applicability, "status": status, "text": text}


def _save_row(control: str, version: int, changes: dict[str, Any]) -> None:
    """One SoA row through the engine; the applicability column is the engine's true / false / None."""
    framework, ref = control.split(":", 1)
    kwargs = dict(changes)
    if "applicability" in kwargs:
        kwargs["applicable"] = APPLICABILITY.get(kwargs.pop("applicability"))
    if "reasons" in kwargs:
        kwargs["reasons"] = list(kwargs["reasons"] or [])
    soa.set_row(common.db_path(), framework, ref, expected_version=version, actor=common.principal(),
                channel=common.CHANNEL, **kwargs)


def _decisions(rows: pl.DataFrame) -> None:
    shown, chosen = _filters(rows)
    st.caption(f"{shown.height} of {rows.height} controls shown. Edit cells, then save. Marking a control not "
               "applicable needs an exclusion reason and a justification.")
    shown = shown.with_columns((pl.col("framework") + ":" + pl.col("ref")).alias("control")).select(SHOWN)
    common.versioned_editor(
        shown, name="soa", id_col="control", editable=EDITABLE, save=_save_row, noun="SoA row", selection=chosen,
        allowed=common.can("edit_soa"),
        column_config={
            "control": None,
            "ref": st.column_config.TextColumn("Control", pinned=True),
            "title": st.column_config.TextColumn("Title", width="large"),
            "applicability": st.column_config.SelectboxColumn(options=list(APPLICABILITY), required=True),
            "reasons": st.column_config.MultiselectColumn(options=list(soa.REASONS)),
            "exclusion_reason": st.column_config.SelectboxColumn(options=list(soa.EXCLUSION_REASONS)),
            "justification": st.column_config.TextColumn(width="medium", max_chars=2000),
            "status": st.column_config.SelectboxColumn("Implementation status", options=list(soa.STATUSES),
                                                       required=True),
            "implementation_notes": st.column_config.TextColumn(max_chars=4000),
        })


def _exclude_form(rows: pl.DataFrame) -> None:
    """Exclude one control with its reason code and justification; when open risks cite it, the risks are
    named and the exclusion needs an explicit override with its reason (recorded in the history)."""
    if not common.can("edit_soa"):
        return
    candidates = rows.filter(pl.col("applicability") != "not applicable").with_columns(
        (pl.col("framework") + ":" + pl.col("ref")).alias("control"))
    if candidates.is_empty():
        return
    cited = {r["control"]: list(r["risk_ids"] or []) for r in candidates.select("control", "risk_ids").iter_rows(
        named=True)}
    titles = dict(zip(candidates["control"].to_list(), candidates["title"].to_list(), strict=True))
    with st.expander("Exclude a control"):
        control = st.selectbox("Control", list(titles), index=None, key="soa_ex_control",
                               placeholder="Choose a control",
                               format_func=lambda c: common.control_label(c, titles[c]))
        reason = st.selectbox("Exclusion reason", list(soa.EXCLUSION_REASONS), index=None, key="soa_ex_reason",
                              format_func=lambda r: soa.EXCLUSION_REASONS.get(r, r))
        justification = st.text_input("Justification", key="soa_ex_just")
        risks = cited.get(control or "", [])
        override = ""
        if risks:
            st.warning(f"Open risks cite {common.control_label(str(control))}: {', '.join(risks)}. Excluding it needs an explicit "
                       "override with its reason, which is recorded in the history.")
            override = st.text_input("Override reason", key="soa_ex_override")
        if st.button("Exclude the control", key="soa_ex_submit", disabled=control is None):
            framework, ref = str(control).split(":", 1)
            with common.guard():
                soa.set_row(common.db_path(), framework, ref, applicable=False, exclusion_reason=reason,
                            justification=justification or None, override_reason=override or None,
                            actor=common.principal(), channel=common.CHANNEL)
                common.next_generation("soa_generation")
                common.flash(f"{common.control_label(str(control))} excluded; its implementation status is reset "
                             "to not started")
                st.rerun()


def _proposals(found: pl.DataFrame) -> None:
    st.caption("What the register and the crosswalk suggest. Nothing changes until you accept; a rejection "
               "needs a justification and holds while the proposal rests on the same basis.")
    if found.is_empty():
        st.success("No open proposal.")
        return
    shown = found.drop("row_version")
    config = {"basis": st.column_config.TextColumn(width="large"), "kind": st.column_config.TextColumn("Proposed because"),
              "current_applicable": st.column_config.CheckboxColumn("Applicable now"),
              "proposed_applicable": st.column_config.CheckboxColumn("Proposed applicable")}
    if not common.can("edit_soa"):
        common.table(shown.drop("proposal_id"), key="soa_proposals", column_config=config)
        st.caption("Read only: accepting or rejecting a proposal needs the role contributor for every unit.")
        return
    st.caption("Tick the proposals to accept or reject (the box left of each row; the header box ticks them all).")
    picked = common.ticked(shown, key="soa_proposal_table", id_col="proposal_id", column_config=config)
    st.caption(f"{len(picked)} of {found.height} proposal(s) ticked")
    justification = st.text_input("Justification (required to reject)", key="soa_proposal_just")
    c1, c2 = st.columns([1, 1])
    who = common.principal()
    if c1.button("Accept selected", disabled=not picked, key="soa_accept"):
        with common.guard():
            n = soa.accept_proposals(common.db_path(), proposal_ids=picked, actor=who, channel=common.CHANNEL)
            common.next_generation("soa_generation")
            common.flash(f"Accepted {n} proposal(s)")
            st.rerun()
    if c2.button("Reject selected", disabled=not picked, key="soa_reject"):
        with common.guard():
            for pid in picked:
                soa.reject_proposal(common.db_path(), pid, justification=justification, actor=who,
                                    channel=common.CHANNEL)
            common.flash(f"Rejected {len(picked)} proposal(s)")
            st.rerun()


def _versions(versions: pl.DataFrame, issues: dict[str, list[str]]) -> None:
    st.caption("Approved versions are frozen; compare any two, or a version with the working copy.")
    who = common.principal()
    if common.can("approve_soa"):
        with st.form("soa_snapshot_form"):
            st.markdown(common.md(f"Approve the working copy as {who.name}"))
            note = st.text_input("Note", key="soa_note")
            confirmation = None
            if issues["undecided"] or issues["errors"]:
                st.warning(f"{len(issues['undecided'])} row(s) are undecided and {len(issues['errors'])} "
                           "error-level audit finding(s) are open. Approving anyway needs your confirmation "
                           "and its reason; both are kept with the version.")
                confirmation = st.text_input("Confirmation: why approve it as it stands", key="soa_confirm")
            if st.form_submit_button("Approve the working copy as a new version"):
                with common.guard():
                    n = soa.snapshot(common.db_path(), actor=who, channel=common.CHANNEL, note=note or None,
                                     confirmation=confirmation or None)
                    common.flash(f"SoA version {n} approved by {who.name}")
                    st.rerun()
    if versions.is_empty():
        st.info("No approved version yet.")
        return
    common.table(versions, key="soa_versions", column_config={
        "n_rows": st.column_config.NumberColumn("Rows"), "n_applicable": st.column_config.NumberColumn("Applicable"),
        "n_undecided": st.column_config.NumberColumn("Undecided when approved"),
        "n_error_findings": st.column_config.NumberColumn("Error findings when approved"),
        "created_by": None, "created_by_name": st.column_config.TextColumn("Recorded by"),
        "confirmation": st.column_config.TextColumn("Confirmation given", width="large")})
    sides = ["current", *[str(v) for v in versions["version"].to_list()]]
    c1, c2 = st.columns(2)
    v1 = c1.selectbox("From version", sides[1:], index=len(sides) - 2, key="soa_diff_from",
                      format_func=lambda s: f"version {s}")
    v2 = c2.selectbox("To", sides, index=0, key="soa_diff_to",
                      format_func=lambda s: "working copy" if s == "current" else f"version {s}")
    with common.guard():
        changes = soa.diff(common.db_path(), v1 or sides[1], v2 or "current")
        st.caption(f"{changes.height} change(s)")
        common.table(changes, key="soa_diff")


def render() -> None:
    common.header("Statement of Applicability", "Every Annex A control of both standards: applicable or not "
                  "and why, how far it is implemented, its risks, actions and counterparts.")
    data = _data(common.stamp())
    rows = data["rows"]
    decided = rows.filter(pl.col("applicability") != "undecided")
    m = st.columns(4)
    m[0].metric("Controls", rows.height)
    m[1].metric("Decided", f"{decided.height} / {rows.height}")
    m[2].metric("Applicable", rows.filter(pl.col("applicability") == "applicable").height)
    m[3].metric("Implemented", rows.filter((pl.col("status") == "implemented")
                                           & (pl.col("applicability") != "not applicable")).height,
                help="Controls whose status is implemented, excluded controls not counted.")
    decisions, proposals, versions, export = st.tabs(["Decisions", "Proposals", "Versions and diff", "Export"])
    with decisions:
        _decisions(rows)
        _exclude_form(rows)
    with proposals:
        _proposals(data["proposals"])
    with versions:
        _versions(data["versions"], data["issues"])
    with export:
        downloads.soa_downloads(data["versions"])


render()
