"""Overlap explorer: where ISO/IEC 27001:2022 and ISO/IEC 42001:2023 meet, and how closely."""

from __future__ import annotations

import polars as pl
import streamlit as st

from engine import charts
from engine.config import ISO27001, ISO27001_2013, ISO42001
from engine.crosswalk import RELATIONSHIPS, coverage
from ui import common

FRAMEWORK_NAMES = {ISO27001: "ISO/IEC 27001:2022", ISO42001: "ISO/IEC 42001:2023",
                   ISO27001_2013: "ISO/IEC 27001:2013 (legacy)"}
METRICS = {"links": "n_links", "mean strength": "mean_strength", "strong links": "n_strong"}
ORIGINS = ("authored", "inverse", "inferred")


@st.cache_data(show_spinner=False, max_entries=8)
def _static(stamp: tuple[str, int, int]) -> dict[str, pl.DataFrame]:
    """The crosswalk changes only with `riskmap init`: cache it per database state."""
    db = stamp[0]
    return {
        "overlap": coverage.overlap_summary(db),
        "links": coverage.crosswalk_frame(db, framework=ISO27001).filter(pl.col("target_framework") == ISO42001),
        "controls": coverage.controls_frame(db),
    }


def _sankey_frame(links: pl.DataFrame, controls: pl.DataFrame, level: str) -> pl.DataFrame:
    c27 = controls.filter(pl.col("framework") == ISO27001).select(
        pl.col("ref").alias("source_ref"), pl.col("theme").alias("theme"), pl.col("kind").alias("kind27"))
    c42 = controls.filter(pl.col("framework") == ISO42001).select(
        pl.col("ref").alias("target_ref"), pl.col("grp").alias("grp"), pl.col("kind").alias("kind42"))
    joined = links.join(c27, on="source_ref", how="left").join(c42, on="target_ref", how="left")
    if level == "group":
        return joined.select(
            pl.when(pl.col("kind27") == "clause").then(pl.lit("27001 clauses"))
              .otherwise(pl.concat_str(pl.lit("27001 "), pl.col("theme").fill_null("?"))).alias("left"),
            pl.when(pl.col("kind42") == "clause").then(pl.concat_str(pl.lit("42001 clause "), pl.col("grp")))
              .otherwise(pl.concat_str(pl.lit("42001 "), pl.col("grp").fill_null("?"))).alias("right"),
            "relationship", "strength")
    return joined.select(pl.concat_str(pl.lit("27001 "), pl.col("source_ref")).alias("left"),
                         pl.concat_str(pl.lit("42001 "), pl.col("target_ref")).alias("right"),
                         "relationship", "strength")


def render() -> None:
    common.header("Overlap explorer", "How the Annex A controls and clauses of the two standards map onto "
                  "each other (NIST IR 8477 relationships, strength 1-10).")
    data = _static(common.stamp())

    st.subheader("Themes x groups")
    metric = st.radio("Colour by", list(METRICS), horizontal=True, key="overlap_metric")
    st.plotly_chart(charts.overlap_heatmap(data["overlap"], METRICS[metric or "links"]), key="overlap_heatmap")

    st.subheader("Flow of the mappings")
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    rels = c1.multiselect("Relationship", [r for r in RELATIONSHIPS if r != "no_relationship"],
                          default=[r for r in RELATIONSHIPS if r != "no_relationship"], key="overlap_rel")
    lo, hi = c2.slider("Strength", 1, 10, (1, 10), key="overlap_strength")
    origins = c3.multiselect("Origin", list(ORIGINS), default=["authored", "inverse"], key="overlap_origin",
                             help="authored: reviewed mapping records; inverse: the same read backwards; "
                                  "inferred: composed through another framework.")
    level = c4.radio("Detail", ["group", "control"], horizontal=True, key="overlap_level",
                     format_func=lambda v: "themes → groups" if v == "group" else "controls")
    links = data["links"].filter(pl.col("relationship").is_in(rels or []) & pl.col("strength").is_between(lo, hi)
                                 & pl.col("origin").is_in(origins or []) & pl.col("target_ref").is_not_null())
    st.caption(f"{links.height} link(s) from ISO/IEC 27001:2022 to ISO/IEC 42001:2023 match the filters.")
    st.plotly_chart(charts.crosswalk_sankey(_sankey_frame(links, data["controls"], level or "group"),
                                            "ISO/IEC 27001:2022 → ISO/IEC 42001:2023", level or "group"),
                    key="overlap_sankey")

    st.subheader("Control drill-down")
    d1, d2 = st.columns([1, 3])
    fw = d1.selectbox("Framework", list(FRAMEWORK_NAMES), format_func=FRAMEWORK_NAMES.get, key="drill_fw")
    options = data["controls"].filter(pl.col("framework") == fw)
    titles = dict(zip(options["ref"].to_list(), options["title"].to_list(), strict=True))
    ref = d2.selectbox("Control or clause", list(titles), format_func=lambda r: f"{r} {titles.get(r, '')}",
                       key="drill_ref", index=None, placeholder="Choose a control")
    if not ref:
        return
    with common.guard():
        found = coverage.counterparts(common.db_path(), fw, ref)
        if found.is_empty():
            st.info("No counterpart is mapped for this control.")
            return
        st.caption(f"{found.height} counterpart(s); an inferred link shows the path it took.")
        st.dataframe(
            found, hide_index=True,
            column_config={
                "target_framework": st.column_config.TextColumn("framework"),
                "target_ref": st.column_config.TextColumn("ref"),
                "target_title": st.column_config.TextColumn("title"),
                "strength": st.column_config.ProgressColumn("strength", min_value=0, max_value=10, format="%d"),
                "justification": st.column_config.TextColumn("justification", width="large"),
                "path": st.column_config.TextColumn("path", width="large"),
            })


render()
