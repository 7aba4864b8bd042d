"""Gap analysis: with these controls of one standard in place, what remains for the other?"""

from __future__ import annotations

import polars as pl
import streamlit as st

from engine import charts, labels
from engine.config import ISO27001, ISO42001
from engine.crosswalk import coverage
from engine.exports.safe import safe_frame
from ui import common

DIRECTIONS = {
    "27001 → 42001": (ISO27001, ISO42001),
    "42001 → 27001": (ISO42001, ISO27001),
}
SOURCES = ("Statement of Applicability", "All Annex A controls", "Choose controls")
ORDERS = {"effort, then risk": ["remaining_effort", "max_risk_score", "n_risks"],
          "risk, then effort": ["max_risk_score", "n_risks", "remaining_effort"]}


@st.cache_data(show_spinner=False, max_entries=8)
def _annex_a(stamp: tuple[str, int, int], framework: str) -> pl.DataFrame:
    """The Annex A controls of ``framework`` (ref, title...), the choices of the control picker."""
    return coverage.controls_frame(stamp[0], framework=framework, kinds=("annex_a_control",))


@st.cache_data(show_spinner=False, max_entries=32)
def _implemented_from_soa(stamp: tuple[str, int, int], framework: str) -> list[str]:
    """What the SoA says is implemented (the same function `riskmap gaps` calls)."""
    return coverage.implemented_from_soa(stamp[0], framework)


@st.cache_data(show_spinner=False, max_entries=32)
def _gaps(stamp: tuple[str, int, int], source: str, target: str, implemented: tuple[str, ...] | None,
          clauses: bool) -> coverage.GapReport:
    """The gap report with the open risks citing each target control, per database state and choice."""
    return coverage.gaps(stamp[0], source, target, None if implemented is None else list(implemented),
                         include_clauses=clauses, implemented_label="the chosen controls", with_risks=True)


def render() -> None:
    common.header("Gap analysis", "Choose what is implemented of one standard and see what remains for the "
                  "other, most work first. Full: an implemented control equals or contains it; partial: one "
                  "only overlaps it.")
    c1, c2, c3 = st.columns([2, 3, 2])
    direction = c1.radio("Implemented → to reach", list(DIRECTIONS), key="gap_direction") or "27001 → 42001"
    source, target = DIRECTIONS[direction]
    chosen_source = c2.radio("Take what is implemented from", SOURCES, key="gap_source",
                             help="The SoA rows whose status is implemented, every Annex A control, "
                                  "or a list you pick.") or SOURCES[0]
    clauses = c3.checkbox("Include clauses 4-10", key="gap_clauses")
    order = c3.radio("Order by", list(ORDERS), key="gap_order", format_func=str.capitalize) or "effort, then risk"

    stamp = common.stamp()
    annex = _annex_a(stamp, source)
    implemented: list[str] | None
    if chosen_source == SOURCES[0]:
        implemented = _implemented_from_soa(stamp, source)
        if not implemented:
            st.info("No SoA row of this standard is marked implemented yet: nothing counts as implemented. "
                    "Pick the controls yourself to explore.")
    elif chosen_source == SOURCES[1]:
        implemented = None
    else:
        titles = dict(zip(annex["ref"].to_list(), annex["title"].to_list(), strict=True))
        implemented = st.multiselect("Implemented controls", list(titles), key=f"gap_pick_{source}",
                                     format_func=lambda r: f"{r} {titles.get(r, '')}")

    with common.guard():
        report = _gaps(stamp, source, target, None if implemented is None else tuple(implemented), clauses)
        rows = report.rows.sort(ORDERS[order], descending=True, maintain_order=True)

        m = st.columns(6)
        m[0].metric("Implemented", len(report.implemented))
        m[1].metric(f"{labels.standard(target)} controls", report.total)
        m[2].metric("Fully covered", report.full, help="An implemented control equals or contains it.")
        m[3].metric("Partly covered", report.partial, help="An implemented control only overlaps it.")
        m[4].metric("Not covered", report.none)
        m[5].metric("Estimated work done", f"{report.estimate_pct}%", help="Strength-weighted estimate; see below.")
        with st.expander("What “estimated work done” means"):
            st.markdown(common.md(coverage.ESTIMATE_DEFINITION))

        remaining = rows.filter(pl.col("coverage") != "full")
        st.plotly_chart(charts.gap_effort(rows, f"Coverage of {labels.standard(target)} by group"), key="gap_chart")
        st.subheader(f"What remains: {remaining.height} control(s)")
        show_all = st.toggle("Show fully covered controls too", key="gap_show_all")
        table = rows if show_all else remaining
        common.table(
            table, key="gap_table",
            column_config={
                "remaining_effort": st.column_config.ProgressColumn(
                    "Remaining effort", min_value=0, max_value=10, format="%d",
                    help="10: nothing covers it; 0: fully covered"),
                "covered_by": st.column_config.TextColumn("Covered by", width="large"),
                "n_risks": st.column_config.NumberColumn("Open risks", help="Open risks citing the control"),
                "max_risk_score": st.column_config.NumberColumn("Highest risk score"),
                "share": st.column_config.ProgressColumn(
                    "Work done", min_value=0, max_value=1, format="%.1f",
                    help="The control's part of the estimate: 1 fully covered, strength / 10 partly, 0 not"),
            })
        st.download_button("Download the gap list (CSV)", safe_frame(table).write_csv().encode("utf-8"),
                           file_name=f"gaps_{source}_to_{target}.csv", mime="text/csv", key="gap_download")


render()
