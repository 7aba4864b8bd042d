"""Overlap explorer: where ISO/IEC 27001:2022 and ISO/IEC 42001:2023 meet, and how closely; the
organisation's tailoring of the crosswalk (accept, dispute, strengthen, weaken, add), shown apart from the
shipped and imported links."""

from __future__ import annotations

import polars as pl
import streamlit as st

from engine import charts, labels
from engine.config import ISO27001, ISO27001_2013, ISO42001
from engine.crosswalk import RATIONALES, RELATIONSHIPS, coverage, tailoring
from ui import common

FRAMEWORK_NAMES = {ISO27001: "ISO/IEC 27001:2022", ISO42001: "ISO/IEC 42001:2023",
                   ISO27001_2013: "ISO/IEC 27001:2013 (legacy)"}
METRICS = {"Links": "n_links", "Mean strength": "mean_strength", "Strong links": "n_strong"}
ORIGINS = ("authored", "inverse", "inferred")
PROVENANCES = ("shipped", "tailored", "imported")
LINKS = [r for r in RELATIONSHIPS if r != "no_relationship"]
DECISION_HELP = {
    "accept": "The link holds for us as it is (recorded as reviewed by you).",
    "dispute": "The link does not hold for us (no relationship), for the reason given.",
    "strengthen": "A closer relationship, or a higher strength, than the record beneath.",
    "weaken": "A looser relationship, or a lower strength, than the record beneath.",
    "add": "A link the crosswalk does not have (or has rejected).",
}


@st.cache_data(show_spinner=False, max_entries=8)
def _static(stamp: tuple[str, int, int]) -> dict[str, pl.DataFrame]:
    """The crosswalk, read once per database state (init, a tailoring and an import change it)."""
    db = stamp[0]
    links = coverage.crosswalk_frame(db, framework=ISO27001).filter(pl.col("target_framework") == ISO42001)
    return {
        "overlap": coverage.overlap_summary(db),
        "links": links.with_columns(pl.col("provenance").map_elements(charts.provenance_kind, return_dtype=pl.String)
                                    .alias("kind")),
        "controls": coverage.controls_frame(db),
        "groups": coverage.controls_frame(db, framework=ISO42001, kinds=("annex_a_group",)),
        "tailorings": tailoring.tailorings_frame(db),
    }


def _sankey_frame(links: pl.DataFrame, controls: pl.DataFrame, level: str,
                  groups: pl.DataFrame | None = None) -> pl.DataFrame:
    """The links as flows: 27001 themes to 42001 groups (each named by its title), or control to control."""
    titles = {} if groups is None else dict(zip(groups["ref"].to_list(), groups["title"].to_list(), strict=True))
    c27 = controls.filter(pl.col("framework") == ISO27001).select(
        pl.col("ref").alias("source_ref"), pl.col("theme").str.to_titlecase().alias("theme"),
        pl.col("kind").alias("kind27"))
    c42 = controls.filter(pl.col("framework") == ISO42001).select(
        pl.col("ref").alias("target_ref"),
        pl.when(pl.col("kind") == "clause").then(pl.col("grp"))
          .otherwise(pl.concat_str(pl.col("grp"), pl.lit(" "),
                                   pl.col("grp").replace_strict(titles, default="", return_dtype=pl.String))
                     .str.strip_chars()).alias("grp"),
        pl.col("kind").alias("kind42"))
    joined = links.join(c27, on="source_ref", how="left").join(c42, on="target_ref", how="left")
    if level == "group":
        return joined.select(
            pl.when(pl.col("kind27") == "clause").then(pl.lit("27001 clauses"))
              .otherwise(pl.concat_str(pl.lit("27001 "), pl.col("theme").fill_null("?"))).alias("left"),
            pl.when(pl.col("kind42") == "clause").then(pl.concat_str(pl.lit("42001 clause "), pl.col("grp")))
              .otherwise(pl.concat_str(pl.lit("42001 "), pl.col("grp").fill_null("?"))).alias("right"),
            "relationship", "strength", "provenance")
    return joined.select(pl.concat_str(pl.lit("27001 "), pl.col("source_ref")).alias("left"),
                         pl.concat_str(pl.lit("42001 "), pl.col("target_ref")).alias("right"),
                         "relationship", "strength", "provenance")


def _flow(data: dict[str, pl.DataFrame]) -> None:
    st.subheader("Flow of the mappings")
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    rels = c1.multiselect("Relationship", LINKS, default=LINKS, key="overlap_rel",
                          format_func=lambda r: labels.word("relationship", r))
    lo, hi = c2.slider("Strength", 1, 10, (1, 10), key="overlap_strength")
    origins = c3.multiselect("Origin", list(ORIGINS), default=["authored", "inverse"], key="overlap_origin",
                             format_func=lambda o: labels.word("origin", o),
                             help="Authored: a mapping record as written; inverse: the same read backwards; "
                                  "inferred: composed through another framework.")
    kinds = c4.multiselect("Provenance", list(PROVENANCES), default=list(PROVENANCES), key="overlap_provenance",
                           format_func=lambda p: labels.word("provenance", p),
                           help="Shipped: riskmap's crosswalk (authored, not independently reviewed unless it "
                                "names a reviewer); tailored: your organisation's decision, which wins; imported: "
                                "a crosswalk you imported (OSCAL or a CISO Assistant library).")
    d1, d2 = st.columns(2)
    level = d1.radio("Detail", ["group", "control"], horizontal=True, key="overlap_level",
                     format_func=lambda v: "Themes → groups" if v == "group" else "Controls")
    own = bool(data["links"]["kind"].is_in(["tailored", "imported"]).any())  # provenance first once there is any
    colour = d2.radio("Colour by", ["provenance", "relationship"], index=0 if own else 1, horizontal=True,
                      key="overlap_colour", format_func=labels.heading,
                      help="Provenance: shipped grey-blue, tailored orange, imported teal")
    links = data["links"].filter(pl.col("relationship").is_in(rels or []) & pl.col("strength").is_between(lo, hi)
                                 & pl.col("origin").is_in(origins or []) & pl.col("kind").is_in(kinds or [])
                                 & pl.col("target_ref").is_not_null())
    counts = {k: links.filter(pl.col("kind") == k).height for k in PROVENANCES}
    st.caption(f"{links.height} link(s) from ISO/IEC 27001:2022 to ISO/IEC 42001:2023 match the filters: "
               + ", ".join(f"{n} {k}" for k, n in counts.items()) + ".")
    st.plotly_chart(charts.crosswalk_sankey(_sankey_frame(links, data["controls"], level or "group", data["groups"]),
                                            "ISO/IEC 27001:2022 → ISO/IEC 42001:2023", level or "group",
                                            colour_by=colour or "provenance"),
                    key="overlap_sankey")


def _tailorings(frame: pl.DataFrame) -> None:
    st.subheader("Your organisation's tailoring")
    if frame.is_empty():
        st.caption("No tailored mapping yet: choose a control below to accept, dispute, strengthen, weaken or "
                   "add a link for your organisation.")
        return
    flagged = frame.filter(pl.col("base_changed"))
    if not flagged.is_empty():
        st.warning(common.md(f"{flagged.height} tailored mapping(s) rest on a record that changed since they were "
                             "decided: " + "; ".join(flagged["base_changed_detail"].to_list())))
    common.table(frame.select("id", "pair", "decision", "now", "beneath", "reason", "tailored_by", "tailored_on",
                              "base_changed"), key="overlap_tailorings",
                 column_config={"now": st.column_config.TextColumn("In force"),
                                "beneath": st.column_config.TextColumn("Record beneath, when decided"),
                                "base_changed": st.column_config.CheckboxColumn("Beneath changed")})
    if not common.can("edit_crosswalk"):
        return
    w1, w2, w3 = st.columns([1, 3, 1])
    chosen = w1.selectbox("Withdraw", frame["id"].to_list(), index=None, key="tailor_withdraw_id",
                          placeholder="Tailoring")
    reason = w2.text_input("Reason for withdrawing", key="tailor_withdraw_reason")
    if w3.button("Withdraw", key="tailor_withdraw", disabled=not chosen):
        who = common.principal()
        if chosen:
            version = int(frame.filter(pl.col("id") == chosen)["version"][0])
            with common.guard():
                tailoring.withdraw(common.db_path(), chosen, reason=reason, expected_version=version, actor=who,
                                   channel=common.CHANNEL)
                common.flash(f"{chosen} withdrawn: the record beneath is in force again")
                st.rerun()


def _drill_down(data: dict[str, pl.DataFrame]) -> tuple[str, str, pl.DataFrame] | None:
    st.subheader("Control drill-down")
    d1, d2 = st.columns([1, 3])
    fw = d1.selectbox("Standard", list(FRAMEWORK_NAMES), format_func=FRAMEWORK_NAMES.get, key="drill_fw")
    options = data["controls"].filter(pl.col("framework") == fw)
    titles = dict(zip(options["ref"].to_list(), options["title"].to_list(), strict=True))
    ref = d2.selectbox("Control or clause", list(titles), format_func=lambda r: f"{r} {titles.get(r, '')}",
                       key="drill_ref", index=None, placeholder="Choose a control")
    if not ref or not fw:
        return None
    found = coverage.counterparts(common.db_path(), fw, ref)
    if found.is_empty():
        st.info("No counterpart is mapped for this control.")
        return fw, ref, found
    st.caption(f"{found.height} counterpart(s), each with where it comes from: shipped, tailored by your "
               "organisation (with the record it overrides) or imported; an inferred link shows the path it took "
               "and the provenance of its hops. \"No relationship\" rows are pairs considered and rejected.")
    common.table(
        found, key="drill_table",
        column_config={
            "target_framework": st.column_config.TextColumn("Standard"),
            "target_ref": st.column_config.TextColumn("Counterpart"),
            "target_title": st.column_config.TextColumn("Title"),
            "strength": st.column_config.ProgressColumn("Strength", min_value=0, max_value=10, format="%d"),
            "justification": st.column_config.TextColumn(width="large"),
            "path": st.column_config.TextColumn(width="large"),
            "beneath": st.column_config.TextColumn("Overrides"),
        })
    return fw, ref, found


def _tailor_form(fw: str, ref: str, found: pl.DataFrame, controls: pl.DataFrame) -> None:
    """Record the organisation's decision on one link of the chosen control (engine.crosswalk.tailoring)."""
    st.markdown(f"**Tailor a link of {common.md(common.control_label(f'{fw}:{ref}'))} for your organisation**")
    t1, t2 = st.columns([1, 2])
    decision = t1.radio("Decision", list(DECISION_HELP), key="tailor_decision", format_func=str.capitalize,
                        captions=list(DECISION_HELP.values())) or "accept"
    direct = found.filter(pl.col("origin").is_in(["authored", "inverse"]) & pl.col("target_ref").is_not_null())
    if decision == "add":
        other_fw = t2.selectbox("Standard of the other control", [f for f in FRAMEWORK_NAMES if f != fw],
                                format_func=FRAMEWORK_NAMES.get, key="tailor_add_fw")
        refs = controls.filter(pl.col("framework") == other_fw)["ref"].to_list()
        other_ref = t2.selectbox("Other control", refs, index=None, key="tailor_add_ref", placeholder="Choose")
        target = f"{other_fw}:{other_ref}" if other_ref else None
    else:
        targets = [f"{r['target_framework']}:{r['target_ref']}" for r in direct.iter_rows(named=True)]
        target = t2.selectbox("Link", targets, index=None, key="tailor_target", placeholder="Choose a counterpart",
                              format_func=common.control_label)
    current = direct.filter(pl.concat_str("target_framework", pl.lit(":"), "target_ref") == (target or ""))
    rel0 = current["relationship"][0] if current.height else "intersects_with"
    relationship, strength = None, None
    if decision in ("strengthen", "weaken", "add"):
        relationship = t2.selectbox("Relationship (of this control to the other)", LINKS,
                                    format_func=lambda r: labels.word("relationship", r),
                                    index=LINKS.index(rel0) if rel0 in LINKS else 3, key="tailor_relationship")
        strength = t2.slider("Strength", 1, 10, int(current["strength"][0]) if current.height else 5,
                             key="tailor_strength")
    rationale = (t2.selectbox("Rationale type", RATIONALES, index=1, key="tailor_rationale",
                              format_func=lambda r: labels.word("rationale_type", r)) if decision == "add" else None)
    reason = t2.text_input("Reason (in your organisation's context)", key="tailor_reason")
    if st.button("Record the decision", type="primary", key="tailor_save", disabled=not target):
        who = common.principal()
        if not target:
            return
        with common.guard():
            seen = tailoring.tailoring_for(common.db_path(), (fw, ref), target)
            row = tailoring.tailor(common.db_path(), (fw, ref), target, decision, relationship=relationship,
                                   strength=strength, rationale_type=rationale, reason=reason or None,
                                   expected_version=seen["version"] if seen else 0, actor=who,
                                   channel=common.CHANNEL)
            common.flash(f"Saved {row['id']}: {decision} {common.control_label(f'{fw}:{ref}')} / "
                         f"{common.control_label(target)}, now {labels.word('relationship', row['relationship'])} "
                         f"(strength {row['strength']}); links rebuilt")
            st.rerun()


def render() -> None:
    common.header("Overlap explorer", "How the Annex A controls and clauses of the two standards map onto "
                  "each other (NIST IR 8477 relationships, strength 1-10), as shipped, as your organisation "
                  "tailored them, and as imported.")
    data = _static(common.stamp())

    st.subheader("Themes x groups")
    metric = st.radio("Colour by", list(METRICS), horizontal=True, key="overlap_metric")
    st.plotly_chart(charts.overlap_heatmap(data["overlap"], METRICS[metric or "Links"]), key="overlap_heatmap")
    _flow(data)
    _tailorings(data["tailorings"])
    with common.guard():
        chosen = _drill_down(data)
        if chosen is not None and common.can("edit_crosswalk"):  # tailoring the crosswalk: the role admin
            _tailor_form(*chosen, data["controls"])


render()
