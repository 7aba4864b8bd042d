"""Overview: the state of the integrated programme at a glance."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from engine import audit, charts, plan, soa
from engine.config import ISO27001, ISO42001
from engine.crosswalk import coverage
from engine.register import browse
from ui import common, scenarios

# The columns the overview shows: the cache keeps only these (a cached frame is copied on every rerun).
ACTION_COLUMNS = ["action_id", "status", "overdue"]
SOA_COLUMNS = ["framework", "standard", "applicability", "status"]


@st.cache_data(show_spinner=False, max_entries=4)
def _data(stamp: tuple[str, int, int], today: date) -> dict[str, pl.DataFrame]:
    """Everything the overview shows, read once per database state and day (dates decide what is overdue)."""
    db = stamp[0]
    return {"coverage": coverage.coverage_frame(db, ISO42001, ISO27001),
            "findings": audit.run_audits(db, today=today),
            "risks": browse.open_risks(db),
            "actions": plan.ranking(db, include_closed=True, today=today).select(ACTION_COLUMNS),
            "soa": soa.soa_frame(db).filter(~pl.col("custom")).select(SOA_COLUMNS)}


def render() -> None:
    common.header("Overview", "One programme for ISO/IEC 27001:2022 (ISMS) and ISO/IEC 42001:2023 (AIMS).")
    data = _data(common.stamp(), date.today())
    cov, found = data["coverage"], data["findings"]
    matrix = common.matrix(common.stamp())
    risks, actions, soa = data["risks"], data["actions"], data["soa"]

    annex = cov.filter(pl.col("kind") == "annex_a_control")
    full = annex.filter(pl.col("coverage") == "full").height
    partial = annex.filter(pl.col("coverage") == "partial").height
    decided = soa.filter(pl.col("applicability") != "undecided").height if not soa.is_empty() else 0
    m = st.columns(6)
    m[0].metric("42001 coverage", f"{round(100 * (full + partial) / max(annex.height, 1))}%",
                f"{full} full, {partial} partial", delta_color="off", delta_arrow="off",
                help="ISO/IEC 42001 Annex A controls covered fully or partly by ISO/IEC 27001:2022 controls "
                     "(crosswalk, v_coverage).")
    m[1].metric("Open risks", risks.height)
    m[2].metric("Above appetite now", int(risks["above_appetite"].sum()) if not risks.is_empty() else 0)
    m[3].metric("Actions overdue", int(actions["overdue"].fill_null(False).sum()) if not actions.is_empty() else 0)
    m[4].metric("SoA decided", f"{decided} / {soa.height}")
    m[5].metric("Open audit findings", found.height,
                f"{found.filter(pl.col('severity') == 'error').height} error(s)", delta_color="off", delta_arrow="off")
    scenarios.render_overview()

    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.coverage_by_group(cov, "ISO/IEC 42001 covered by the ISO/IEC 27001 programme"),
                        key="overview_coverage")
    with right:
        st.plotly_chart(charts.risks_by_level(risks, matrix, level_col="level",
                                              title="Open risks by current level and management system"),
                        key="overview_risks")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.status_bar(actions, "status", title="Treatment plan progress (actions)"),
                        key="overview_plan")
    with right:
        st.plotly_chart(charts.status_bar(soa, "applicability", by="standard",
                                          title="Statement of Applicability: decisions"), key="overview_soa")
    if not soa.is_empty():
        st.plotly_chart(charts.status_bar(soa.filter(pl.col("applicability") == "applicable"), "status",
                                          by="standard", title="Applicable controls: implementation status"),
                        key="overview_soa_status")


render()
