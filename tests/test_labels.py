"""Human language: the app's tables and charts say standards, kinds, statuses, reasons and levels in words
(``engine.labels``); codes stay in the store, the exports' code columns and the SQL page."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from engine import labels, plan, soa
from engine.crosswalk import RELATIONSHIPS
from engine.register import vocab

from .test_app_pages import PAGES, assert_healthy, clear_streamlit_caches, demo_db, demo_template, open_page

__all__ = ["clear_streamlit_caches", "demo_db", "demo_template"]  # fixtures

CODES = re.compile(r"\biso(?:27001|42001)-20(?:13|22|23)\b|\bannex_a_\w+|\bin_progress\b|\bnot_started\b|"
                   r"\brisk_treatment\b|\bsubset_of\b|\bintersects_with\b|\bno_relationship\b|\blegal_regulatory\b|"
                   r"\bai_system\b|\bsoa_row\b|^\d{4}-\d{2}-\d{2}[ T]00:00:00$")
"""What a person should never read in a table outside the SQL page."""


def test_every_code_of_every_vocabulary_has_words() -> None:
    coded = {"status": [*plan.ACTION_STATUSES, *soa.STATUSES, *vocab.choices(vocab.RISK_STATUSES),
                        *vocab.choices(vocab.ASSESSMENT_STATUSES), "active", "retired"],
             "reasons": list(soa.REASONS), "exclusion_reason": list(soa.EXCLUSION_REASONS),
             "relationship": list(RELATIONSHIPS), "kind": ["clause", "annex_a_group", "annex_a_control"],
             "treatment": vocab.choices(vocab.TREATMENTS), "framework": list(labels.STANDARDS),
             "management_system": vocab.choices(vocab.MANAGEMENT_SYSTEMS), "channel": ["app", "cli", "import"]}
    for column, values in coded.items():
        for code in values:
            text = labels.word(column, code)
            assert text and "_" not in text and text[0].isupper(), (column, code, text)
    assert labels.word("status", "in_progress") == "In progress"
    assert labels.word("framework", "iso42001-2023") == "ISO/IEC 42001:2023"
    assert labels.word("kind", "annex_a_control") == "Annex A control"


def test_headings_and_words_of_a_table() -> None:
    assert labels.heading("max_strength") == "Strongest link" and labels.heading("grp") == "Group"
    assert labels.heading("ai_system_ids") == "AI systems" and labels.heading("inherent_level") == "Inherent level"
    assert labels.heading("next_review_due") == "Next review due" and labels.heading("n_open") == "Open"
    frame = pl.DataFrame({"framework": ["iso27001-2022", None], "reasons": [["risk_treatment", "contractual"], []],
                          "due": [datetime(2026, 9, 30), None], "changed": [datetime(2026, 9, 30, 8, 5), None],
                          "controls_42001": [["iso42001-2023:A.6.2.2"], []], "owner": ["in_progress", None]})
    got = labels.in_words(frame)
    assert got["framework"].to_list() == ["ISO/IEC 27001:2022", None]
    assert got["reasons"].to_list() == ["Risk treatment; Contractual obligation", ""]
    assert got.schema["due"] == pl.Date and got["due"][0] == date(2026, 9, 30)      # a date, not midnight
    assert isinstance(got.schema["changed"], pl.Datetime)                              # a time of day stays
    assert got["controls_42001"].to_list() == ["42001 A.6.2.2", ""]
    assert got["owner"].to_list() == ["in_progress", None]       # free text is never rewritten
    kept = labels.in_words(frame, keep=["framework"], lists=["reasons"])
    assert kept["framework"][0] == "iso27001-2022" and kept.schema["reasons"] == pl.List(pl.String)
    assert labels.control_text("iso42001-2023:A.6.2.8 -> iso27001-2022:A.8.15") == "42001 A.6.2.8 -> 27001 A.8.15"
    assert labels.date_text("2026-09-30 00:00:00") == "2026-09-30"


def _shown_text(at) -> list[str]:  # type: ignore[no-untyped-def]
    """Every cell and heading of the page's tables, as a person reads them (hidden columns left out)."""
    out: list[str] = []
    for element in at.dataframe:
        config = json.loads(element.proto.columns or "{}")
        frame = element.value
        for name in frame.columns:
            col = config.get(str(name), {})
            if col.get("hidden"):
                continue
            out.append(str(col.get("label") or name))
            options = (col.get("type_config") or {}).get("options") or []
            out += [str(o.get("label", o.get("value"))) if isinstance(o, dict) else str(o) for o in options]
            kind = (col.get("type_config") or {}).get("type")
            if kind in ("date", "datetime"):
                continue        # shown in the column's date format, whatever the frame holds
            # typed dates and times are drawn by the grid in its date format: only text is checked here
            out += [str(v) for v in frame[name].tolist()
                    if v is not None and not isinstance(v, (list, tuple, date, datetime))]
            out += [str(x) for v in frame[name].tolist() if isinstance(v, (list, tuple)) for x in v]
    return out


def _page_words(at) -> list[str]:  # type: ignore[no-untyped-def]
    """The page's own words: titles, captions, messages, metrics, and every widget's label and choices."""
    out: list[str] = []
    for kind in ("title", "header", "subheader", "caption", "markdown", "info", "warning", "success", "error"):
        out += [str(e.value) for e in at.get(kind)]
    out += [f"{m.label} {m.value}" for m in at.metric]
    for kind in ("selectbox", "multiselect", "radio"):
        for e in at.get(kind):
            out += [str(e.label), *[str(o) for o in e.options]]
    return out


@pytest.mark.parametrize("page", [p for p in PAGES if p != "sql"])
def test_no_page_shows_a_code(demo_db: Path, page: str) -> None:
    at = open_page(page)
    if page == "overlap":      # its tables follow a choice of control
        at.selectbox(key="drill_fw").select("iso27001-2022").run()
        at.selectbox(key="drill_ref").select("A.5.15").run()
    if page == "imports":
        at.radio(key="import_section").set_value("Control suggestions").run()
    assert_healthy(at)
    shown = _shown_text(at)
    assert shown or page == "imports", f"{page}: no table read"     # the import page's follow a file
    found = sorted({t for t in shown if CODES.search(t)})
    assert not found, f"{page} shows codes: {found[:10]}"
    headings = [t for t in shown if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", t)]
    assert not headings, f"{page} shows column names as headings: {sorted(set(headings))[:10]}"
    words = [t for t in _page_words(at) if CODES.search(t) or re.search(r"(?<![`\w])[a-z]+_[a-z_]+\b", t)
             and "v_audit_findings" not in t]
    assert not words, f"{page} speaks in codes: {words[:5]}"
