"""Data quality: the consistency audit findings (engine/sql/audits); zero rows means healthy."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from engine import access, audit, labels
from engine.exports.safe import safe_frame
from ui import common


@st.cache_data(show_spinner=False, max_entries=4)
def _findings(stamp: tuple[str, int, int], today: date, scope: tuple[str, tuple[str, ...] | None],
              _who: access.Principal) -> pl.DataFrame:
    """The audit findings the principal may see, run once per database state and day (some rules compare
    dates)."""
    return audit.run_audits(stamp[0], today=today, principal=_who)


def render() -> None:
    common.header("Data quality", "Consistency checks across the register, the treatment plan, the SoA and "
                  "the crosswalk. Each rule returns the records breaking it; the same rows are in the view "
                  "v_audit_findings.")
    with common.guard():
        found = _findings(common.stamp(), date.today(), common.scope(), common.principal())
        rules = audit.summary(found)
        errors = found.filter(pl.col("severity") == "error").height
        m = st.columns(3)
        m[0].metric("Findings", found.height)
        m[1].metric("Errors", errors)
        m[2].metric("Rules passing", f"{rules.filter(pl.col('findings') == 0).height} / {rules.height}")
        if found.is_empty():
            st.success("Every consistency rule passes.")

        st.subheader("Rules")
        common.table(rules, key="quality_rules",
                     column_config={"purpose": st.column_config.TextColumn(width="large")})

        st.subheader("Findings")
        c1, c2 = st.columns(2)
        severities = c1.multiselect("Severity", ["error", "warning"], default=["error", "warning"],
                                    key="quality_severity", format_func=lambda v: labels.word("severity", v))
        failing = rules.filter(pl.col("findings") > 0)["rule"].to_list()
        chosen = c2.multiselect("Rule", failing, default=[], key="quality_rule", placeholder="All rules",
                                format_func=lambda r: labels.word("rule", r))
        shown = found.filter(pl.col("severity").is_in(severities or []))
        if chosen:
            shown = shown.filter(pl.col("rule").is_in(chosen))
        common.table(shown, key="quality_findings",
                     column_config={"detail": st.column_config.TextColumn(width="large"),
                                    "entity_id": st.column_config.TextColumn("Record")})
        st.download_button("Download findings (CSV)", safe_frame(shown).write_csv().encode("utf-8"),
                           file_name="audit_findings.csv", mime="text/csv", key="quality_download",
                           on_click="ignore")


render()
