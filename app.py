"""riskmap's Streamlit app: one programme for ISO/IEC 27001:2022 and ISO/IEC 42001:2023.

Run with ``make app`` (the demo organisation) or ``RISKMAP_DB=path streamlit run app.py``. The page
modules live in ``ui/`` (a folder named ``pages/`` would switch Streamlit to its legacy multipage mode).
Every run first establishes who is signed in (``ui/auth.py``: OpenID Connect, a local account, or the
single-user default); the pages a principal's roles cannot use are not offered.
"""

from __future__ import annotations

import streamlit as st

from ui import auth, common

PAGES = {
    "Programme": [
        st.Page("ui/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("ui/overlap.py", title="Overlap explorer", icon=":material/hub:"),
        st.Page("ui/gaps.py", title="Gap analysis", icon=":material/rule:"),
    ],
    "Registers": [
        st.Page("ui/register.py", title="Risk register", icon=":material/warning:"),
        st.Page("ui/ai_systems.py", title="AI systems", icon=":material/smart_toy:"),
        st.Page("ui/treatment.py", title="Treatment plan", icon=":material/event_note:"),
        st.Page("ui/soa.py", title="Statement of Applicability", icon=":material/fact_check:"),
    ],
    "Data": [
        st.Page("ui/imports.py", title="Import", icon=":material/upload_file:"),
        st.Page("ui/sql.py", title="SQL", icon=":material/terminal:"),
        st.Page("ui/quality.py", title="Data quality", icon=":material/verified:"),
        st.Page("ui/history.py", title="History", icon=":material/history:"),
    ],
}
# Pages offered only to principals that may perform their operation (import in some unit; SQL on every
# unit). A comment, not a docstring: Streamlit writes a bare string of the main script onto the page.
NEEDS: dict[str, tuple[str, tuple[()] | None]] = {"imports": ("import", ()), "sql": ("query", None)}


def pages_for() -> dict[str, list[st.Page]]:
    """The pages the signed-in principal's roles can use."""
    shown = {}
    for group, pages in PAGES.items():
        keep = [p for p in pages if p.url_path not in NEEDS or common.can(*NEEDS[p.url_path])]
        if keep:
            shown[group] = keep
    return shown


st.set_page_config(page_title="riskmap", page_icon=":material/shield:", layout="wide")
who = auth.current()
if who is None:
    st.stop()
common.set_principal(who)
page = st.navigation(pages_for())
common.sidebar()
if common.database_ready():
    page.run()
