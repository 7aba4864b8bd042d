"""Risk register: one register for information-security and AI risks, filtered, sorted and edited in place.

Edits go through the engine's update function with the version of the row the user saw, so an edit
based on a row someone else has changed since is refused with a clear message (optimistic concurrency).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import streamlit as st

from engine import charts, register
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
SHOWN = ["id", "title", "management_system", "owner", "status", "level", "within_appetite",
         "inherent_likelihood", "inherent_impact", "inherent_level", "current_likelihood", "current_impact",
         "current_level", "residual_likelihood", "residual_impact", "residual_level", "treatment", "treatment_notes",
         "next_review", "acceptance_status", "ai_systems", "assets", "controls_27001", "controls_42001", "version"]
SORTS = {"id": "id", "score (current, else inherent)": "score", "inherent score": "inherent_score",
         "residual score": "residual_score", "title": "title", "owner": "owner", "next review": "next_review"}


def _filters(owners: list[str], matrix: register.MatrixSpec) -> dict[str, Any]:
    """The filter and sort widgets; the choices as register_page arguments."""
    c = st.columns([2, 2, 2, 2, 3])
    systems = c[0].multiselect("Management system", SYSTEMS, default=[], placeholder="All", key="reg_ms")
    statuses = c[1].multiselect("Status", STATUSES, default=["open", "treated", "accepted"], key="reg_status")
    levels = c[2].multiselect("Level", matrix.level_names, default=[], placeholder="All", key="reg_level")
    chosen_owners = c[3].multiselect("Owner", owners, default=[], placeholder="All", key="reg_owner")
    text = c[4].text_input("Search title", key="reg_search")
    s1, s2 = st.columns([2, 5])
    sort = s1.selectbox("Sort by", list(SORTS), key="reg_sort") or "id"
    descending = s2.toggle("Descending", value=False, key="reg_desc")
    return {"systems": tuple(systems), "statuses": tuple(statuses), "levels": tuple(levels),
            "owners": tuple(chosen_owners), "text": text, "sort": SORTS[sort], "descending": descending}


@st.cache_data(show_spinner=False, max_entries=16)
def _page(stamp: tuple[str, int, int], today: date, chosen: tuple[tuple[str, Any], ...],
          page: int) -> register.RegisterPage:
    """One page of the filtered register, read once per database state, day (overdue reviews are dated),
    filters and page number."""
    return register.register_page(stamp[0], **dict(chosen), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE,
                                  today=today)


@st.cache_data(show_spinner=False, max_entries=4)
def _owners(stamp: tuple[str, int, int]) -> list[str]:
    """Every owner in the register (the owner filter's choices)."""
    return browse.risk_owners(stamp[0])


def _save(risk_id: str, version: int, changes: dict[str, Any]) -> None:
    register.update_risk(common.db_path(), risk_id, changes, version, actor=common.actor(), channel=common.CHANNEL)


def _page_number(chosen: tuple[tuple[str, Any], ...]) -> int:
    """The page asked for; back to the first page whenever the filters or the sort change."""
    if st.session_state.get("reg_chosen") != chosen:
        st.session_state["reg_chosen"] = chosen
        st.session_state["reg_page"] = 1
    return max(1, int(st.session_state.get("reg_page") or 1))


def render() -> None:
    common.header("Risk register", "Information-security and AI risks on one matrix. Edit cells, then save: "
                  "each row is saved with the version you saw, so a row changed meanwhile is refused.")
    stamp, today = common.stamp(), date.today()
    matrix = common.matrix(stamp)
    chosen = tuple(_filters(_owners(stamp), matrix).items())
    page = _page_number(chosen)
    try:
        got = _page(stamp, today, chosen, page)
    except (RiskmapError, duckdb.Error) as exc:   # e.g. a database whose views predate this version
        common.show_error(exc)
        return
    if got.total == 0:
        st.info("The register is empty. Import a register on the Import page.")
        return
    pages = max(1, -(-got.filtered // PAGE_SIZE))
    if page > pages:   # fewer risks match than when the page was chosen
        page = st.session_state["reg_page"] = pages
        got = _page(stamp, today, chosen, page)
    p1, p2 = st.columns([1, 5])
    p1.number_input("Page", min_value=1, max_value=pages, step=1, key="reg_page")
    first = (page - 1) * PAGE_SIZE + 1 if got.filtered else 0
    p2.caption(f"rows {first}-{first + got.rows.height - 1 if got.filtered else 0} of {got.filtered} "
               f"matching risk(s); {got.total} in the register")
    score = {c: st.column_config.NumberColumn(c.replace("_", " "), min_value=1, max_value=matrix.size, step=1)
             for c in EDITABLE if c.endswith(("_likelihood", "_impact"))}
    common.versioned_editor(
        got.rows.select(SHOWN), name="register", id_col="id", editable=EDITABLE, save=_save, noun="risk",
        selection={**dict(chosen), "page": page},
        column_config={
            "title": st.column_config.TextColumn("title", required=True, max_chars=300, width="large"),
            "management_system": st.column_config.SelectboxColumn("system", options=SYSTEMS, required=True),
            "status": st.column_config.SelectboxColumn("status", options=STATUSES, required=True),
            "treatment": st.column_config.SelectboxColumn("treatment", options=TREATMENTS),
            "next_review": st.column_config.DateColumn("next review"),
            "within_appetite": st.column_config.CheckboxColumn("within appetite"),
            **score,
        })

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
