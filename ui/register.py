"""Risk register: one register for information-security and AI risks, filtered, sorted and edited in place.

Edits go through the engine's update function with the version of the row the user saw, so an edit
based on a row someone else has changed since is refused with a clear message (optimistic concurrency).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import streamlit as st

from engine import access, charts, labels, register
from engine.errors import RiskmapError
from engine.register import browse
from ui import common, downloads

PAGE_SIZE = 200
STATUSES = ["open", "treated", "accepted", "closed"]
TREATMENTS = ["modify", "retain", "avoid", "share"]
SYSTEMS = ["ISMS", "AIMS", "both"]
EDITABLE = ["title", "management_system", "owner", "status", "inherent_likelihood", "inherent_impact",
            "current_likelihood", "current_impact", "residual_likelihood", "residual_impact", "treatment",
            "treatment_notes", "next_review"]
SHOWN = ["id", "source_keys", "title", "management_system", "owner", "status", "level", "within_appetite",
         "inherent_likelihood", "inherent_impact", "inherent_level", "current_likelihood", "current_impact",
         "current_level", "residual_likelihood", "residual_impact", "residual_level", "treatment", "treatment_notes",
         "next_review", "acceptance_status", "ai_systems", "assets", "controls_27001", "controls_42001", "version"]
SORTS = {"ID": "id", "Score (current, else inherent)": "score", "Inherent score": "inherent_score",
         "Residual score": "residual_score", "Title": "title", "Owner": "owner", "Next review": "next_review"}


def _filters(owners: list[str], matrix: register.MatrixSpec) -> dict[str, Any]:
    """The filter and sort widgets; the choices as register_page arguments."""
    c = st.columns([2, 2, 2, 2, 3])
    systems = c[0].multiselect("Management system", SYSTEMS, default=[], placeholder="All", key="reg_ms",
                               format_func=lambda m: labels.word("management_system", m))
    statuses = c[1].multiselect("Status", STATUSES, default=["open", "treated", "accepted"], key="reg_status",
                                format_func=lambda v: labels.word("status", v))
    levels = c[2].multiselect("Level", matrix.level_names, default=[], placeholder="All", key="reg_level")
    chosen_owners = c[3].multiselect("Owner", owners, default=[], placeholder="All", key="reg_owner")
    text = c[4].text_input("Search", key="reg_search", placeholder="Title, R-0001 or the register's own id",
                           help="Finds the words in a risk's title, its id, or the id a source register gives it "
                                "(such as RR-001).")
    s1, s2 = st.columns([2, 5])
    sort = s1.selectbox("Sort by", list(SORTS), key="reg_sort") or "ID"
    descending = s2.toggle("Descending", value=False, key="reg_desc")
    return {"systems": tuple(systems), "statuses": tuple(statuses), "levels": tuple(levels),
            "owners": tuple(chosen_owners), "text": text, "sort": SORTS[sort], "descending": descending}


@st.cache_data(show_spinner=False, max_entries=16)
def _page(stamp: tuple[str, int, int], today: date, chosen: tuple[tuple[str, Any], ...], page: int,
          scope: tuple[str, tuple[str, ...] | None], _who: access.Principal) -> register.RegisterPage:
    """One page of the filtered register, read once per database state, day (overdue reviews are dated),
    filters, page number and what the principal may see (``scope``)."""
    return register.register_page(stamp[0], **dict(chosen), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE,
                                  today=today, principal=_who)


@st.cache_data(show_spinner=False, max_entries=4)
def _owners(stamp: tuple[str, int, int], scope: tuple[str, tuple[str, ...] | None],
            _who: access.Principal) -> list[str]:
    """Every owner in the register the principal sees (the owner filter's choices)."""
    return browse.risk_owners(stamp[0], principal=_who)


def _save(risk_id: str, version: int, changes: dict[str, Any]) -> None:
    register.update_risk(common.db_path(), risk_id, changes, version, actor=common.principal(),
                         channel=common.CHANNEL)


def _matrix_table(matrix: register.MatrixSpec) -> None:
    """The risk matrix the scores are read on: impact rows (highest first) by likelihood columns, each
    cell its score and level."""
    cells = {(c["likelihood"], c["impact"]): f"{c['score']} {c['level']}" for c in matrix.cells()}
    rows = [{"Impact": f"{im} {matrix.impact_labels[im - 1]}",
             **{f"{li} {matrix.likelihood_labels[li - 1]}": cells[(li, im)] for li in range(1, matrix.size + 1)}}
            for im in range(matrix.size, 0, -1)]
    st.caption(f"Risk matrix (version {matrix.version}): likelihood across, impact down; appetite up to "
               f"score {matrix.appetite}")
    st.dataframe(rows, hide_index=True, key="reg_new_matrix", height="content")


def _score(matrix: register.MatrixSpec, stage: str, required: bool) -> tuple[int | None, int | None]:
    """Likelihood and impact of one stage, picked on the matrix's labels; the level they give."""
    scale = [None, *range(1, matrix.size + 1)] if not required else list(range(1, matrix.size + 1))

    def name(labels: tuple[str, ...]):  # type: ignore[no-untyped-def]
        return lambda v: "not rated" if v is None else f"{v} {labels[v - 1]}"

    c1, c2, c3 = st.columns([2, 2, 3], vertical_alignment="bottom")
    li = c1.selectbox(f"{stage.capitalize()} likelihood", scale, key=f"reg_new_{stage}_l",
                      format_func=name(matrix.likelihood_labels))
    im = c2.selectbox(f"{stage.capitalize()} impact", scale, key=f"reg_new_{stage}_i",
                      format_func=name(matrix.impact_labels))
    score = matrix.score(li, im)
    c3.markdown(f"**{stage.capitalize()}**: " + ("not rated" if score is None else
                                                 f"score {score}, {matrix.level(score)}"
                                                 + ("" if matrix.within_appetite(score) else ", above appetite")))
    return li, im


def _create_form(matrix: register.MatrixSpec) -> None:
    """Add a risk by hand, scored on the current matrix, with its controls, assets and AI systems."""
    stamp = common.stamp()
    controls, (assets, systems) = common.annex_a_controls(stamp), common.inventories(stamp)
    who = common.principal()
    title = st.text_input("Title", key="reg_new_title", max_chars=300)
    c1, c2, c3 = st.columns(3)
    system = c1.selectbox("Management system", SYSTEMS, key="reg_new_ms",
                          format_func=lambda m: labels.word("management_system", m))
    owner = c2.text_input("Owner", key="reg_new_owner")
    units = sorted(who.units) if who.units is not None else None
    unit = (c3.selectbox("Business unit", units, key="reg_new_unit") if units
            else c3.text_input("Business unit", key="reg_new_unit"))
    description = st.text_area("Description", key="reg_new_description", height=80)
    _matrix_table(matrix)
    inherent = _score(matrix, "inherent", required=True)
    current = _score(matrix, "current", required=False)
    c1, c2 = st.columns(2)
    treatment = c1.selectbox("Treatment", [None, *TREATMENTS], key="reg_new_treatment",
                             format_func=lambda t: "Not decided" if t is None else labels.word("treatment", t))
    review = c2.date_input("Next review", value=None, key="reg_new_review")
    chosen = st.multiselect("Controls (either standard)", list(controls), format_func=lambda c: controls.get(c, c),
                            key="reg_new_controls", placeholder="Type an id such as A.8.13 or words of the title")
    c1, c2 = st.columns(2)
    linked_assets = c1.multiselect("Assets", list(assets), format_func=lambda a: assets.get(a, a), key="reg_new_assets")
    linked_systems = c2.multiselect("AI systems", list(systems), format_func=lambda a: systems.get(a, a),
                                    key="reg_new_systems")
    if st.button("Add the risk", type="primary", key="reg_new_add"):
        fields = {"title": title, "management_system": system, "owner": owner or None, "business_unit": unit or None,
                  "description": description or None, "inherent_likelihood": inherent[0],
                  "inherent_impact": inherent[1], "current_likelihood": current[0], "current_impact": current[1],
                  "treatment": treatment, "next_review": review}
        with common.guard():
            rid = register.create_risk(common.db_path(), fields, actor=who, channel=common.CHANNEL, controls=chosen,
                                       assets=linked_assets, ai_systems=linked_systems)
            common.flash(f"Risk {rid} added: {title}")
            for k in [k for k in st.session_state if str(k).startswith("reg_new_")]:
                del st.session_state[k]
            st.rerun()


def _links(rows: Any) -> None:
    """Link and unlink one risk's controls, assets and AI systems; close it (status closed, kept with its
    history)."""
    if rows.is_empty():
        st.caption("No risk on this page.")
        return
    titles = dict(zip(rows["id"].to_list(), rows["title"].to_list(), strict=True))
    rid = st.selectbox("Risk", list(titles), format_func=lambda r: f"{r} {titles.get(r) or ''}", key="reg_link_risk")
    if rid is None:
        return
    db, who, stamp = common.db_path(), common.principal(), common.stamp()
    try:
        now = register.risk_links(db, rid, principal=who)
    except (RiskmapError, duckdb.Error) as exc:
        common.show_error(exc)
        return
    controls, (assets, systems) = common.annex_a_controls(stamp), common.inventories(stamp)
    kw = {"actor": who, "channel": common.CHANNEL}
    st.markdown("**Controls**")
    common.link_panel(f"reg_link_{rid}_control", "control", now["controls"], controls,
                      lambda c: register.link_control(db, rid, "", c, **kw),
                      lambda c: register.unlink_control(db, rid, "", c, **kw))
    st.markdown("**Assets**")
    common.link_panel(f"reg_link_{rid}_asset", "asset", now["assets"], assets,
                      lambda a: register.link_asset(db, rid, a, **kw), lambda a: register.unlink_asset(db, rid, a, **kw))
    st.markdown("**AI systems**")
    common.link_panel(f"reg_link_{rid}_ai", "AI system", now["ai_systems"], systems,
                      lambda a: register.link_ai_system(db, rid, a, **kw),
                      lambda a: register.unlink_ai_system(db, rid, a, **kw))
    st.caption(common.md("Treated by actions: " + (", ".join(now["actions"]) or "none")
                         + " (link actions on the Treatment plan page)."))
    why = st.text_input("Why close it (kept in the treatment notes)", key=f"reg_close_{rid}_why")
    if st.button("Close the risk", key=f"reg_close_{rid}"):
        with common.guard():
            notes = rows.filter(rows["id"] == rid)["treatment_notes"].item()
            closing = f"Closed {date.today():%Y-%m-%d}: {why}"
            changes = {"status": "closed", **({"treatment_notes": f"{notes}\n{closing}" if notes else closing}
                                              if why else {})}
            register.update_risk(db, rid, changes, now["version"], **kw)
            common.flash(f"Risk {rid} closed; it stays in the register (status closed) with its history.")
            st.rerun()


def _page_number(chosen: tuple[tuple[str, Any], ...]) -> int:
    """The page asked for; back to the first page whenever the filters or the sort change."""
    if st.session_state.get("reg_chosen") != chosen:
        st.session_state["reg_chosen"] = chosen
        st.session_state["reg_page"] = 1
    return max(1, int(st.session_state.get("reg_page") or 1))


def render() -> None:
    common.header("Risk register", "Information-security and AI risks on one matrix. Edit cells, then save: "
                  "each row is saved with the version you saw, so a row changed meanwhile is refused.")
    stamp, today, scope, who = common.stamp(), date.today(), common.scope(), common.principal()
    matrix = common.matrix(stamp)
    chosen = tuple(_filters(_owners(stamp, scope, who), matrix).items())
    page = _page_number(chosen)
    try:
        got = _page(stamp, today, chosen, page, scope, who)
    except (RiskmapError, duckdb.Error) as exc:   # e.g. a database whose views predate this version
        common.show_error(exc)
        return
    if got.total == 0:
        st.info("The register is empty. Import a register on the Import page.")
        return
    pages = max(1, -(-got.filtered // PAGE_SIZE))
    if page > pages:   # fewer risks match than when the page was chosen
        page = st.session_state["reg_page"] = pages
        got = _page(stamp, today, chosen, page, scope, who)
    p1, p2 = st.columns([1, 5])
    p1.number_input("Page", min_value=1, max_value=pages, step=1, key="reg_page")
    first = (page - 1) * PAGE_SIZE + 1 if got.filtered else 0
    p2.caption(f"Rows {first}-{first + got.rows.height - 1 if got.filtered else 0} of {got.filtered} "
               f"matching risk(s); {got.total} in the register")
    score = {c: st.column_config.NumberColumn(min_value=1, max_value=matrix.size, step=1)
             for c in EDITABLE if c.endswith(("_likelihood", "_impact"))}
    common.versioned_editor(
        got.rows.select(SHOWN), name="register", id_col="id", editable=EDITABLE, save=_save, noun="risk",
        selection={**dict(chosen), "page": page}, allowed=common.can("edit_risk", ()),
        column_config={
            "id": st.column_config.TextColumn("ID", pinned=True),
            "title": st.column_config.TextColumn(required=True, max_chars=300, width="large"),
            "management_system": st.column_config.SelectboxColumn("System", options=SYSTEMS, required=True),
            "status": st.column_config.SelectboxColumn(options=STATUSES, required=True),
            "treatment": st.column_config.SelectboxColumn(options=TREATMENTS),
            "next_review": st.column_config.DateColumn(),
            "within_appetite": st.column_config.CheckboxColumn(),
            **score,
        })

    if common.can("edit_risk", ()):
        with st.expander("Add a risk"):
            _create_form(matrix)
        with st.expander("Links of a risk: controls, assets, AI systems; close a risk"):
            _links(got.rows)

    st.plotly_chart(charts.inherent_vs_residual(got.cells, matrix), key="register_matrix")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.risks_by(got.by_ai_system, "ai_system", "level", matrix, "Risks by AI system", top=15,
                                        count_col="n"), key="register_by_ai")
    with right:
        st.plotly_chart(charts.risks_by(got.by_asset, "asset", "level", matrix, "Risks by asset", top=15,
                                        count_col="n"), key="register_by_asset")
    with st.expander("Export the register"):
        downloads.prepared_download("risk_register", downloads.register_formats(), "register_export")


render()
