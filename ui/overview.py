"""Overview: the state of the integrated programme at a glance.

Each headline says what it counts, with its definition one click away (``help=`` on the figure and the
"What these figures count" popover), worded once in ``engine.plan.picture.DEFINITIONS``. Risks count at the
score they stand at today (``engine.plan.current_picture``: done treatment actions applied as the plan
says); the lists needing attention (overdue reviews and actions, acceptances expired or expiring) are the
consistency checks of ``engine/sql/audits``."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from engine import access, audit, charts, plan, soa
from engine.config import ISO27001, ISO42001
from engine.crosswalk import coverage
from engine.plan.picture import ATTENTION_RULES, DEFINITIONS
from ui import common, scenarios

# The columns the overview shows: the cache keeps only these (a cached frame is copied on every rerun).
ACTION_COLUMNS = ["action_id", "status"]
SOA_COLUMNS = ["framework", "standard", "applicability", "status"]


@st.cache_data(show_spinner=False, max_entries=4)
def _data(stamp: tuple[str, int, int], today: date, scope: tuple[str, tuple[str, ...] | None],
          _who: access.Principal) -> dict[str, Any]:
    """Everything the overview shows, read once per database state, day (dates decide what is overdue) and
    what the principal may see."""
    db = stamp[0]
    return {"coverage": coverage.coverage_frame(db, ISO42001, ISO27001),
            "summary": coverage.coverage_summary(db, ISO42001, ISO27001),
            "findings": audit.run_audits(db, today=today, principal=_who),
            "picture": plan.current_picture(db, today=today, principal=_who),
            "actions": plan.ranking(db, include_closed=True, today=today, principal=_who).select(ACTION_COLUMNS),
            "soa": soa.soa_frame(db).filter(~pl.col("custom")).select(SOA_COLUMNS)}


def _coverage_headline(summary: coverage.CoverageSummary) -> None:
    """42001 Annex A through the 27001 programme: counts that cannot be misread, and the estimate with its
    definition one click away (the numbers of v_coverage and `riskmap coverage`)."""
    done, most = summary.implemented, summary.crosswalk
    st.subheader("ISO/IEC 42001 Annex A through the ISO/IEC 27001:2022 controls in place")
    m = st.columns(4)
    m[0].metric("Fully covered", done.full, help="An implemented 27001 control equals or contains it.")
    m[1].metric("Partly covered", done.partial, help="An implemented 27001 control only overlaps it: work of its "
                "own remains.")
    m[2].metric("Not covered", done.none, help="No implemented 27001 control reaches it.")
    m[3].metric("Estimated work done", f"{done.estimate_pct}%", help="Strength-weighted estimate; see below.")
    st.caption(f"Of the {done.total} ISO/IEC 42001 Annex A controls, by the ISO/IEC 27001:2022 controls the SoA "
               f"marks implemented. With every 27001 control implemented the crosswalk would give {most.full} "
               f"fully, {most.partial} partly and {most.none} not covered; estimated work done {most.estimate_pct}%.")
    with st.expander("What “estimated work done” means"):
        st.markdown(common.md(coverage.ESTIMATE_DEFINITION))


_DEFINITION_TITLES = {"open_risks": "Open risks", "above_appetite": "Above appetite now",
                      "actions_overdue": "Actions overdue", "soa_decided": "SoA decided",
                      "consistency_checks": "Consistency checks", "reviews_overdue": "Risk reviews overdue",
                      "acceptances": "Risk acceptances expired or expiring"}


def _headlines(picture: plan.Picture, found: pl.DataFrame, soa: pl.DataFrame, actions: pl.DataFrame) -> None:
    """The programme's figures, each with what it counts (help) and all definitions in one popover."""
    decided = soa.filter(pl.col("applicability") != "undecided").height if not soa.is_empty() else 0
    attention = {k: found.filter(pl.col("rule").is_in(list(rules))) for k, rules in ATTENTION_RULES.items()}
    # the actions the principal may see (the plan's ranking applies the business units)
    attention["actions_overdue"] = attention["actions_overdue"].filter(
        pl.col("entity_id").is_in(actions["action_id"].to_list()))
    m = st.columns(5)
    m[0].metric("Open risks", picture.open_risks, help=DEFINITIONS["open_risks"])
    m[1].metric("Above appetite now", picture.above_appetite, help=DEFINITIONS["above_appetite"])
    m[2].metric("Actions overdue", attention["actions_overdue"].height, help=DEFINITIONS["actions_overdue"])
    m[3].metric("SoA decided", f"{decided} / {soa.height}", help=DEFINITIONS["soa_decided"])
    m[4].metric("Consistency checks: findings", found.height,
                f"{found.filter(pl.col('severity') == 'error').height} error(s)", delta_color="off", delta_arrow="off",
                help=DEFINITIONS["consistency_checks"])
    st.caption(common.md(f"Open risks count at the score they stand at today: {picture.basis_text()}."))
    with st.popover("What these figures count"):
        st.markdown("\n\n".join(f"**{title}**: {common.md(DEFINITIONS[k])}" for k, title in _DEFINITION_TITLES.items()))
    _attention(attention)


def _attention(attention: dict[str, pl.DataFrame]) -> None:
    """The overdue risk reviews, overdue actions and expired or expiring acceptances, each listed."""
    titles = {"reviews_overdue": "Risk reviews overdue", "actions_overdue": "Actions overdue",
              "acceptances": "Risk acceptances expired or expiring within 30 days"}
    st.subheader("Needs attention")
    cols = st.columns(3)
    for col, (key, title) in zip(cols, titles.items(), strict=True):
        rows = attention[key]
        col.metric(title, rows.height, help=DEFINITIONS[key])
        if rows.height:
            shown = rows.select(pl.col("entity_id").alias("record"),
                                pl.col("rule").replace({"acceptance_expired": "expired",
                                                        "acceptance_expiring": "expiring"}).alias("check"),
                                "detail")
            with col:
                common.table(shown if key == "acceptances" else shown.drop("check"), key=f"overview_{key}",
                             page_rows=10, column_config={"check": st.column_config.TextColumn("Acceptance"),
                                                          "detail": st.column_config.TextColumn(width="large")})


def render() -> None:
    common.header("Overview", "One programme for ISO/IEC 27001:2022 (ISMS) and ISO/IEC 42001:2023 (AIMS).")
    data = _data(common.stamp(), date.today(), common.scope(), common.principal())
    cov, found = data["coverage"], data["findings"]
    matrix = common.matrix(common.stamp())
    picture, actions, soa = data["picture"], data["actions"], data["soa"]
    risks = picture.risks

    _coverage_headline(data["summary"])
    _headlines(picture, found, soa, actions)
    scenarios.render_overview()

    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.coverage_by_group(cov, "ISO/IEC 42001 by the ISO/IEC 27001 controls (whole crosswalk)"),
                        key="overview_coverage")
    with right:
        st.plotly_chart(charts.risks_by_level(risks, matrix, level_col="level",
                                              title="Open risks by level today (done actions applied)"),
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
