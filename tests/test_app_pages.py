"""Every page of the Streamlit app under AppTest: it renders without an exception, its key elements are
there, and an edit made through it is in the database afterwards."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from engine import labels
from engine.access import os_account

from . import stores

pytestmark = pytest.mark.both_stores

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
PAGES = ["overview", "overlap", "gaps", "register", "ai_systems", "treatment", "soa", "imports", "sql", "quality",
         "history"]
TITLES = {
    "overview": "Overview", "overlap": "Overlap explorer", "gaps": "Gap analysis", "register": "Risk register",
    "ai_systems": "AI systems and impact assessments", "treatment": "Treatment plan",
    "soa": "Statement of Applicability", "imports": "Import", "sql": "SQL", "quality": "Data quality",
    "history": "History",
}
ACTOR = os_account()
"""Without a sign-in configured the app acts as the account running it (the single-user default)."""


def build_demo_db(path: Path) -> Path:
    """The demo organisation, built by `riskmap demo` as a user would."""
    from engine.cli import main

    code = main(["demo", "--db", str(path)])
    assert code == 0, f"riskmap demo failed with exit code {code}"
    return path


_BUILT: list[Path] = []


def demo_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo database, built once per test session however many test modules ask for it."""
    if not _BUILT:
        _BUILT.append(build_demo_db(stores.new_db(tmp_path_factory.mktemp("demo"), "demo.duckdb", keep=True)))
    return _BUILT[0]


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo database, built once per session (copy it before changing it)."""
    return demo_once(tmp_path_factory)


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo database, which the app opens (RISKMAP_DB)."""
    path = stores.copy_db(demo_template, tmp_path)
    monkeypatch.setenv("RISKMAP_DB", str(path))
    monkeypatch.delenv("RISKMAP_ROLES", raising=False)
    return path


@pytest.fixture(autouse=True)
def clear_streamlit_caches():
    """st.cache_data and st.cache_resource outlive an AppTest run within one pytest process."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def open_page(page: str, timeout: float = 30) -> AppTest:
    """The app, run once on the overview, then switched to ``page`` and run."""
    at = AppTest.from_file(str(APP), default_timeout=timeout).run()
    if page != "overview":
        at.switch_page(f"ui/{page}.py").run()
    return at


def assert_healthy(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def db_value(db: Path, sql: str, params: list[Any] | None = None) -> Any:
    with stores.open_db(db) as con:
        row = con.execute(sql, params or []).fetchone()
    return row[0] if row else None


def editor(at: AppTest, prefix: str):
    found = [e for e in at.data_editor if e.key and e.key.startswith(prefix)]
    assert found, f"no data editor whose key starts with {prefix!r}"
    return found[0]


def edit_cells(at: AppTest, prefix: str, edited_rows: dict[int, dict[str, Any]]) -> AppTest:
    """Edit a data_editor the way AppTest allows: through its edit state in session_state."""
    key = editor(at, prefix).key
    at.session_state[key] = {"edited_rows": edited_rows, "added_rows": [], "deleted_rows": []}
    return at.run()


def row_index(at: AppTest, prefix: str, column: str, value: Any) -> int:
    frame = editor(at, prefix).value
    matches = frame.index[frame[column] == value].tolist()
    assert matches, f"{value!r} not in column {column!r} of the editor"
    return int(frame.index.get_loc(matches[0]))


def frame_with(at: AppTest, *columns: str):
    """The first read-only table showing all of ``columns`` (st.dataframe keeps no key without selections)."""
    for element in at.dataframe:
        if element.editing_mode == "read_only":
            frame = element.value
            if set(columns) <= set(frame.columns):
                return frame
    raise AssertionError(f"no table with columns {columns}")


def unescaped(text: str) -> str:
    """Message text as the user reads it (the app escapes Markdown in messages)."""
    return re.sub(r"\\(.)", r"\1", text)


# --- every page renders ---------------------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_page_renders(demo_db: Path, page: str) -> None:
    at = open_page(page)
    assert_healthy(at)
    assert at.title and at.title[0].value == TITLES[page]
    assert not at.error, [e.value for e in at.error]
    assert not at.sidebar.text_input  # no free-text name: the principal comes from the sign-in
    assert any(c.value.startswith(f"Acting as {ACTOR}") for c in at.sidebar.caption)
    assert any("runs without sign-in" in unescaped(w.value) for w in at.warning), "every page says so"


def test_missing_database_says_how_to_create_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = stores.new_db(tmp_path, "nowhere.duckdb")
    monkeypatch.setenv("RISKMAP_DB", str(missing))
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert_healthy(at)
    assert at.error and "No database" in at.error[0].value
    assert "riskmap demo --db" in at.code[0].value
    assert not stores.exists(missing)


def test_an_unreachable_server_is_a_message_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKMAP_DB", "postgresql://ana:s3cret@127.0.0.1:1/riskmap")
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert_healthy(at)
    assert at.error and "cannot connect to the PostgreSQL store" in at.error[0].value
    shown = " ".join(e.value for e in at.error) + " ".join(c.value for c in at.caption)
    assert "s3cret" not in shown
    assert "ana:***@127.0.0.1:1/riskmap" in at.error[0].value.replace("\\", "")


def test_no_page_renders_html() -> None:
    """User text must never be rendered as HTML: no page allows raw HTML at all."""
    for path in [APP, *sorted((ROOT / "ui").glob("*.py"))]:
        text = path.read_text(encoding="utf-8")
        assert "unsafe_allow_html" not in text, path
        assert not re.search(r"\bst\.html\(|components\.html\(", text), path


# --- overview, overlap, gaps ----------------------------------------------------------------------

def test_overview_shows_the_programme(demo_db: Path) -> None:
    at = open_page("overview")
    labels = [m.label for m in at.metric]
    assert "Open risks" in labels and "Consistency checks: findings" in labels
    assert "Open audit findings" not in labels
    charts = at.get("plotly_chart")
    assert len(charts) >= 4
    open_risks = db_value(demo_db, "SELECT count(*) FROM v_plan_residual")
    assert next(m for m in at.metric if m.label == "Open risks").value == str(open_risks)


def test_overview_figures_say_what_they_count_and_list_what_needs_attention(demo_db: Path) -> None:
    at = open_page("overview")
    assert_healthy(at)
    metric = {m.label: m for m in at.metric}
    above = db_value(demo_db, "SELECT count(*) FILTER (WHERE above_appetite_score_now) FROM v_plan_residual")
    assert metric["Above appetite now"].value == str(above)
    assert "inherent" in metric["Above appetite now"].help and "residual" in metric["Above appetite now"].help
    assert all(metric[k].help for k in ("Open risks", "Actions overdue", "SoA decided",
                                        "Consistency checks: findings"))
    assert any("count at the score they stand at today" in c.value for c in at.caption)
    overdue = db_value(demo_db, "SELECT count(*) FROM risks WHERE status <> 'closed' AND next_review < current_date")
    assert overdue > 0 and metric["Risk reviews overdue"].value == str(overdue)
    reviews = frame_with(at, "record", "detail")   # a page of ten at a time, with the count above it
    assert len(reviews) == min(overdue, 10) and reviews["detail"].str.startswith("review was due on").all()
    assert overdue <= 10 or any(c.value.startswith(f"Rows 1-10 of {overdue} ") for c in at.caption)
    expiring = db_value(demo_db, "SELECT count(*) FROM risks WHERE status <> 'closed' AND acceptance_expiry IS NOT "
                                 "NULL AND acceptance_expiry <= current_date + 30")
    assert metric["Risk acceptances expired or expiring within 30 days"].value == str(expiring)


def test_overlap_drill_down_shows_justification_and_path(demo_db: Path) -> None:
    at = open_page("overlap")
    assert len(at.get("plotly_chart")) == 2
    at.selectbox(key="drill_fw").select("iso27001-2013").run()
    at.selectbox(key="drill_ref").select("A.12.4.1").run()
    assert_healthy(at)
    table = frame_with(at, "justification", "path")
    assert {"justification", "path", "relationship", "strength"} <= set(table.columns)
    inferred = table[table["origin"] == "Inferred (via a path)"]
    assert len(inferred) and inferred["path"].str.contains("->").all()
    assert "ISO/IEC 42001:2023" in set(table["target_framework"])     # standards by their names
    assert not table["path"].str.contains("iso4200|iso2700").any()


def test_overlap_filters_narrow_the_flow(demo_db: Path) -> None:
    at = open_page("overlap")
    before = next(c.value for c in at.caption if "link(s)" in c.value)
    at.multiselect(key="overlap_rel").set_value(["equal"]).run()
    after = next(c.value for c in at.caption if "link(s)" in c.value)
    assert_healthy(at)
    assert int(after.split()[0]) < int(before.split()[0])


def test_gap_analysis_from_chosen_controls(demo_db: Path) -> None:
    at = open_page("gaps")
    at.radio(key="gap_source").set_value("Choose controls").run()
    at.multiselect(key="gap_pick_iso27001-2022").set_value(["A.8.15", "A.5.1"]).run()
    assert_healthy(at)
    assert next(m for m in at.metric if m.label == "Implemented").value == "2"
    table = frame_with(at, "remaining_effort", "covered_by")
    assert {"ref", "coverage", "remaining_effort", "n_risks", "max_risk_score"} <= set(table.columns)
    efforts = table["remaining_effort"].tolist()
    assert efforts == sorted(efforts, reverse=True)


def test_gap_analysis_reports_every_chosen_source(demo_db: Path) -> None:
    at = open_page("gaps")
    for source in ("Statement of Applicability", "All Annex A controls"):
        at.radio(key="gap_source").set_value(source).run()
        assert_healthy(at)
    at.radio(key="gap_direction").set_value("42001 → 27001").run()
    assert_healthy(at)
    assert next(m for m in at.metric if m.label.startswith("ISO/IEC 27001:2022")).value == str(
        db_value(demo_db, "SELECT count(*) FROM controls WHERE framework = 'iso27001-2022' AND kind = 'annex_a_control'"))


# --- SQL and data quality -------------------------------------------------------------------------

def test_sql_runs_a_read_only_query(demo_db: Path) -> None:
    at = open_page("sql")
    views = frame_with(at, "view", "purpose", "columns")
    assert {"v_controls", "v_crosswalk", "v_coverage", "v_soa", "v_treatment_plan"} <= set(views["view"])
    at.text_area(key="sql_text").input("SELECT ref, title FROM v_controls WHERE framework = 'iso42001-2023'")
    at.button[0].click().run()
    assert_healthy(at)
    result = frame_with(at, "ref", "title")
    assert len(result) == db_value(demo_db, "SELECT count(*) FROM controls WHERE framework = 'iso42001-2023'")
    assert at.download_button(key="sql_download")


def test_sql_refuses_a_write_with_a_clear_message(demo_db: Path) -> None:
    at = open_page("sql")
    at.text_area(key="sql_text").input("DELETE FROM controls")
    at.button[0].click().run()
    assert_healthy(at)
    assert at.error and "DELETE" in at.error[0].value
    assert db_value(demo_db, "SELECT count(*) FROM controls") > 0


def test_data_quality_lists_the_audit_findings(demo_db: Path) -> None:
    from engine import audit

    at = open_page("quality")
    found = audit.run_audits(demo_db)
    assert next(m for m in at.metric if m.label == "Findings").value == str(found.height)
    rules = frame_with(at, "rule", "findings", "purpose")
    assert set(rules["rule"]) == {labels.word("rule", r) for r in audit.rule_names()}
    assert "Risk review overdue" in set(rules["rule"])
    assert len(frame_with(at, "rule", "severity", "entity_id")) == found.height


# --- AI systems -------------------------------------------------------------------------------------

def test_ai_systems_show_inventory_and_overdue(demo_db: Path) -> None:
    at = open_page("ai_systems")
    inventory = editor(at, "ai_system_editor").value
    assert len(inventory) == db_value(demo_db, "SELECT count(*) FROM ai_systems")
    overdue = db_value(demo_db, "SELECT count(*) FROM impact_assessments WHERE next_review_due < current_date "
                                "AND coalesce(status, '') NOT IN ('superseded', 'withdrawn')")
    assert next(m for m in at.metric if m.label == "Reviews overdue").value == str(overdue)


def test_ai_system_and_assessment_edits_are_saved(demo_db: Path) -> None:
    system = db_value(demo_db, "SELECT id FROM ai_systems ORDER BY id LIMIT 1")
    assessment = db_value(demo_db, "SELECT id FROM impact_assessments ORDER BY id LIMIT 1")
    at = open_page("ai_systems")
    at = edit_cells(at, "ai_system_editor", {row_index(at, "ai_system_editor", "id", system):
                                             {"human_oversight": "Clinician reviews every output"}})
    at.button(key="ai_system_save").click().run()
    assert_healthy(at)
    assert not at.error, [e.value for e in at.error]
    assert db_value(demo_db, "SELECT human_oversight FROM ai_systems WHERE id = ?", [system]) \
        == "Clinician reviews every output"
    at = edit_cells(at, "assessment_editor", {row_index(at, "assessment_editor", "id", assessment):
                                              {"next_review_due": "2031-01-31"}})
    at.button(key="assessment_save").click().run()
    assert_healthy(at)
    assert not at.error, [e.value for e in at.error]
    assert str(db_value(demo_db, "SELECT next_review_due FROM impact_assessments WHERE id = ?", [assessment])) \
        == "2031-01-31"


# --- risk register ---------------------------------------------------------------------------------

def _first_open_risk(db: Path) -> tuple[str, int]:
    with stores.open_db(db) as con:
        rid, version = con.execute("SELECT id, version FROM risks WHERE status <> 'closed' ORDER BY id LIMIT 1"
                                   ).fetchone()
    return rid, version


def test_register_shows_matrix_and_breakdowns(demo_db: Path) -> None:
    at = open_page("register")
    assert len(at.get("plotly_chart")) == 3
    shown = editor(at, "register_editor").value
    n_open = db_value(demo_db, "SELECT count(*) FROM risks WHERE status <> 'closed'")
    assert len(shown) == n_open
    assert any(c.value.startswith(f"Rows 1-{n_open} of {n_open} ") for c in at.caption), [c.value for c in at.caption]
    at.multiselect(key="reg_ms").set_value(["AIMS"]).run()
    assert set(editor(at, "register_editor").value["management_system"]) == {"AIMS (ISO/IEC 42001)"}


def test_register_edit_is_saved_with_history(demo_db: Path) -> None:
    rid, version = _first_open_risk(demo_db)
    at = open_page("register")
    at = edit_cells(at, "register_editor", {row_index(at, "register_editor", "id", rid):
                                            {"owner": "New Owner", "residual_likelihood": 1, "residual_impact": 2}})
    at.button(key="register_save").click().run()
    assert_healthy(at)
    assert not at.error, [e.value for e in at.error]
    assert any(f"Saved 1 risk(s): {rid}" in unescaped(s.value) for s in at.success), [s.value for s in at.success]
    assert db_value(demo_db, "SELECT owner FROM risks WHERE id = ?", [rid]) == "New Owner"
    assert db_value(demo_db, "SELECT residual_likelihood FROM risks WHERE id = ?", [rid]) == 1
    assert db_value(demo_db, "SELECT version FROM risks WHERE id = ?", [rid]) == version + 1
    assert db_value(demo_db, "SELECT count(*) FROM history WHERE entity = 'risk' AND entity_id = ? "
                             "AND actor = ? AND channel = 'app'", [rid, ACTOR]) >= 2


def test_register_stale_edit_is_refused(demo_db: Path) -> None:
    from engine import register

    rid, version = _first_open_risk(demo_db)
    at = open_page("register")
    register.update_risk(demo_db, rid, {"owner": "Someone Else"}, version, actor="other", channel="test")
    at = edit_cells(at, "register_editor", {row_index(at, "register_editor", "id", rid): {"owner": "Me"}})
    at.button(key="register_save").click().run()
    assert_healthy(at)
    assert any("changed by someone else" in e.value.lower() or "version" in e.value for e in at.error), \
        [e.value for e in at.error]
    assert db_value(demo_db, "SELECT owner FROM risks WHERE id = ?", [rid]) == "Someone Else"
    at.run()                                        # the table reloads with the stored values
    assert "Someone Else" in set(editor(at, "register_editor").value["owner"])


def test_register_invalid_edit_is_refused_and_kept(demo_db: Path) -> None:
    rid, _ = _first_open_risk(demo_db)
    title = db_value(demo_db, "SELECT title FROM risks WHERE id = ?", [rid])
    at = open_page("register")
    at = edit_cells(at, "register_editor", {row_index(at, "register_editor", "id", rid): {"title": ""}})
    at.button(key="register_save").click().run()
    assert_healthy(at)
    assert at.error, "an empty title must be refused"
    assert db_value(demo_db, "SELECT title FROM risks WHERE id = ?", [rid]) == title
    assert not at.button(key="register_save").disabled   # the edit is still there to correct


def test_register_pages_and_saves_an_edit_on_a_later_page(demo_db: Path) -> None:
    """A register larger than a page is shown a page at a time; an edit on page 2 reaches the database,
    and pending edits do not follow the user to another page."""
    with stores.open_db(demo_db, read_only=False) as con:
        con.execute("INSERT INTO risks SELECT r.* REPLACE (r.id || '-c' || c.i AS id) FROM risks r, "
                    "range(1, 9) c(i)")
        n_open = con.execute("SELECT count(*) FROM risks WHERE status <> 'closed'").fetchone()[0]
        second = con.execute("SELECT id, version FROM risks WHERE status <> 'closed' ORDER BY id "
                             "LIMIT 1 OFFSET 200").fetchone()
    assert n_open > 200
    at = open_page("register")
    assert len(editor(at, "register_editor").value) == 200
    assert any(c.value.startswith(f"Rows 1-200 of {n_open} ") for c in at.caption)
    at = edit_cells(at, "register_editor", {0: {"owner": "Left Behind"}})
    at.number_input(key="reg_page").set_value(2).run()
    assert_healthy(at)
    shown = editor(at, "register_editor").value
    assert shown["id"].iloc[0] == second[0] and len(shown) == min(200, n_open - 200)
    assert any(c.value.startswith(f"Rows 201-{min(400, n_open)} of {n_open} ") for c in at.caption)
    assert at.button(key="register_save").disabled          # the edit made on page 1 is not pending here
    at = edit_cells(at, "register_editor", {0: {"owner": "Page Two Owner"}})
    at.button(key="register_save").click().run()
    assert_healthy(at)
    assert not at.error, [e.value for e in at.error]
    assert db_value(demo_db, "SELECT owner FROM risks WHERE id = ?", [second[0]]) == "Page Two Owner"
    assert db_value(demo_db, "SELECT version FROM risks WHERE id = ?", [second[0]]) == second[1] + 1
    assert db_value(demo_db, "SELECT count(*) FROM risks WHERE owner = 'Left Behind'") == 0
    at.multiselect(key="reg_ms").set_value(["AIMS"]).run()    # another filter: back to the first page
    assert at.number_input(key="reg_page").value == 1


def test_register_user_text_is_shown_as_written(demo_db: Path) -> None:
    """A title with markup reaches the table as plain text (tables never render HTML or Markdown)."""
    from engine import register

    rid, version = _first_open_risk(demo_db)
    nasty = "<script>alert(1)</script> **bold** [link](http://x)"
    register.update_risk(demo_db, rid, {"title": nasty}, version, actor="other", channel="test")
    at = open_page("register")
    assert nasty in set(editor(at, "register_editor").value["title"])
    assert all(nasty not in m.value for m in at.markdown)


# --- SoA --------------------------------------------------------------------------------------------

def test_soa_edit_is_saved(demo_db: Path) -> None:
    at = open_page("soa")
    idx = row_index(at, "soa_editor", "ref", "A.5.2")
    version = db_value(demo_db, "SELECT version FROM v_soa WHERE framework = 'iso27001-2022' AND ref = 'A.5.2'")
    at = edit_cells(at, "soa_editor", {idx: {"status": "implemented", "applicability": "applicable",
                                             "reasons": ["best_practice"]}})
    at.button(key="soa_save").click().run()
    assert_healthy(at)
    assert not at.error, [e.value for e in at.error]
    assert db_value(demo_db, "SELECT status FROM soa_rows WHERE framework = 'iso27001-2022' AND ref = 'A.5.2'") \
        == "implemented"
    assert db_value(demo_db, "SELECT version FROM v_soa WHERE framework = 'iso27001-2022' AND ref = 'A.5.2'") \
        == version + 1
    assert db_value(demo_db, "SELECT actor FROM history WHERE entity = 'soa_row' "
                             "AND entity_id = 'iso27001-2022:A.5.2' ORDER BY id DESC LIMIT 1") == ACTOR


def test_soa_exclusion_without_justification_is_refused(demo_db: Path) -> None:
    at = open_page("soa")
    idx = row_index(at, "soa_editor", "ref", "A.5.3")
    at = edit_cells(at, "soa_editor", {idx: {"applicability": "not applicable", "justification": ""}})
    at.button(key="soa_save").click().run()
    assert_healthy(at)
    assert any("justification" in e.value for e in at.error), [e.value for e in at.error]
    assert db_value(demo_db, "SELECT applicable FROM soa_rows WHERE framework = 'iso27001-2022' AND ref = 'A.5.3'") \
        is not False

    at = edit_cells(at, "soa_editor", {idx: {"applicability": "not applicable",
                                             "exclusion_reason": "outside_scope",
                                             "justification": "No development work is done in house"}})
    at.button(key="soa_save").click().run()
    assert_healthy(at)
    assert db_value(demo_db, "SELECT justification FROM soa_rows WHERE framework = 'iso27001-2022' "
                             "AND ref = 'A.5.3'") == "No development work is done in house"


def test_soa_exclusion_of_a_cited_control_is_refused_then_overridden(demo_db: Path) -> None:
    from engine import soa

    rows = soa.soa_frame(demo_db).filter((pl.col("applicability") != "not applicable")
                                         & (pl.col("risk_ids").list.len() > 0))
    framework, ref, risks = rows["framework"][0], rows["ref"][0], rows["risk_ids"][0].to_list()
    control = f"{framework}:{ref}"
    at = open_page("soa")
    at.selectbox(key="soa_ex_control").select(control).run()
    at.selectbox(key="soa_ex_reason").select("no_relevant_risk").run()
    at.text_input(key="soa_ex_just").input("Handled by the provider").run()
    assert any(risks[0] in w.value.replace("\\", "") for w in at.warning), [w.value for w in at.warning]
    at.button(key="soa_ex_submit").click().run()
    assert_healthy(at)
    shown = [e.value.replace("\\", "") for e in at.error]   # messages are shown markdown-escaped
    assert any(control in e and risks[0] in e for e in shown), shown
    assert db_value(demo_db, f"SELECT coalesce(applicable, true) FROM soa_rows WHERE framework = '{framework}' "
                             f"AND ref = '{ref}'") is True
    at.text_input(key="soa_ex_override").input("Provider contract covers it; risks to be re-treated").run()
    at.button(key="soa_ex_submit").click().run()
    assert_healthy(at)
    assert not at.error, [e.value for e in at.error]
    assert db_value(demo_db, f"SELECT applicable::VARCHAR || '/' || status FROM soa_rows "
                             f"WHERE framework = '{framework}' AND ref = '{ref}'") == "false/not_started"
    assert db_value(demo_db, f"SELECT new_value FROM history WHERE action = 'exclusion_override' "
                             f"AND entity_id = '{control}'") == "Provider contract covers it; risks to be re-treated"


def test_soa_stale_edit_is_refused(demo_db: Path) -> None:
    from engine import soa

    at = open_page("soa")
    idx = row_index(at, "soa_editor", "ref", "A.5.4")
    soa.set_row(demo_db, "iso27001-2022", "A.5.4", owner="Someone else", actor="other", channel="test")
    at = edit_cells(at, "soa_editor", {idx: {"owner": "Me"}})
    at.button(key="soa_save").click().run()
    assert_healthy(at)
    assert any("changed by someone else" in e.value for e in at.error), [e.value for e in at.error]
    assert db_value(demo_db, "SELECT owner FROM soa_rows WHERE framework = 'iso27001-2022' AND ref = 'A.5.4'") \
        == "Someone else"


def test_soa_snapshot_and_diff(demo_db: Path) -> None:
    at = open_page("soa")
    at.text_input(key="soa_note").input("first approval")
    at.button(key="FormSubmitter:soa_snapshot_form-Approve the working copy as a new version").click().run()
    assert_healthy(at)
    # the demo SoA has undecided rows: approving it needs a confirmation, and the refusal writes nothing
    assert any("undecided" in e.value for e in at.error), [e.value for e in at.error]
    assert db_value(demo_db, "SELECT count(*) FROM soa_versions") == 0
    at.text_input(key="soa_confirm").input("First baseline for the auditor")
    at.button(key="FormSubmitter:soa_snapshot_form-Approve the working copy as a new version").click().run()
    assert_healthy(at)
    assert not at.error, [e.value for e in at.error]
    assert db_value(demo_db, "SELECT approved_by || '/' || created_by || '/' || channel || '/' || confirmation "
                             "FROM soa_versions ORDER BY version DESC LIMIT 1") \
        == f"{ACTOR}/{ACTOR}/app/First baseline for the auditor"
    assert frame_with(at, "change", "field", "old_value", "new_value") is not None


def test_soa_proposal_accepted(demo_db: Path) -> None:
    from engine import soa

    open_ = soa.proposals(demo_db)
    assert not open_.is_empty(), "the demo organisation has open SoA proposals to accept"
    pid = open_["proposal_id"][0]
    at = open_page("soa")
    at.session_state["soa_proposal_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    at.button(key="soa_accept").click().run()
    assert_healthy(at)
    assert pid not in soa.proposals(demo_db)["proposal_id"].to_list()


def test_soa_export_bytes_hold_the_soa(demo_db: Path) -> None:
    """AppTest cannot read a download's bytes: check the function that makes them, then that the page offers them."""
    import io

    from ui import downloads

    formats = downloads.soa_formats()
    assert set(formats) == {"xlsx", "csv", "md", "json"}
    for kind, fmt in formats.items():
        data = fmt.make()
        assert data, kind
        if kind == "xlsx":
            frame = pl.read_excel(io.BytesIO(data), sheet_name="Combined")
            assert "A.5.1" in frame["Control"].to_list()
        else:
            assert "A.5.1" in data.decode("utf-8"), kind
    at = open_page("soa")
    at.button(key="soa_export_prepare").click().run()
    assert_healthy(at)
    assert at.download_button(key="soa_export_download")


# --- treatment plan ---------------------------------------------------------------------------------

def test_treatment_plan_renders_timeline_and_ranking(demo_db: Path) -> None:
    at = open_page("treatment")
    assert len(at.get("plotly_chart")) == 2
    ranked = frame_with(at, "rank", "n_27001", "n_42001")
    assert list(ranked["rank"]) == sorted(ranked["rank"])


def test_treatment_action_edit_is_saved(demo_db: Path) -> None:
    at = open_page("treatment")
    action = db_value(demo_db, "SELECT id FROM actions WHERE status = 'planned' ORDER BY id LIMIT 1")
    idx = row_index(at, "plan_editor", "action_id", action)
    at = edit_cells(at, "plan_editor", {idx: {"status": "in_progress"}})
    at.button(key="plan_save").click().run()
    assert_healthy(at)
    assert not at.error, [e.value for e in at.error]
    assert db_value(demo_db, "SELECT status FROM actions WHERE id = ?", [action]) == "in_progress"


def test_treatment_plan_approval_is_recorded(demo_db: Path) -> None:
    """The single-user default holds the role approver: it approves a risk's plan in its own name."""
    risk = db_value(demo_db, "SELECT risk_id FROM v_plan_residual WHERE NOT plan_approval_current "
                             "AND len(action_ids) > 0 ORDER BY risk_id LIMIT 1")
    at = open_page("treatment")
    at.multiselect(key="plan_approve_risks").set_value([risk])  # inside the form: sent with the submit
    at.button(key="FormSubmitter:plan_approve_form-Record approval").click().run()
    assert_healthy(at)
    assert not at.error, [e.value for e in at.error]
    assert db_value(demo_db, "SELECT approved_by || '/' || recorded_by || '/' || channel FROM plan_approvals "
                             "WHERE risk_id = ?", [risk]) == f"{ACTOR}/{ACTOR}/app"


# --- import -----------------------------------------------------------------------------------------

GOOD_CSV = (b"Risk ID,Title,Chance,Impact,Owner,Management system,Annex A controls\n"
            b"IMP-1,Phishing of finance staff,4,3,IT,ISMS,A.6.3\n"
            b"IMP-2,Model drift in credit scoring,3,4,Risk office,AIMS,iso42001-2023:A.6.2.6\n")
BAD_CSV = (b"Risk ID,Title,Likelihood,Impact,Owner,Management system,Annex A controls\n"
           b"BAD-1,,4,3,IT,ISMS,A.99.1\n"
           b"BAD-2,Model drift,3,2,ML,Nope,iso42001-2023:A.6.2.6\n")


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="import_file").upload(name, data, "text/csv")
    return at.run()


def test_import_maps_columns_checks_then_commits(demo_db: Path) -> None:
    before = db_value(demo_db, "SELECT count(*) FROM risks")
    at = _upload(open_page("imports"), "good.csv", GOOD_CSV)
    assert_healthy(at)
    assert len(frame_with(at, "Row", "Risk ID", "Chance")) == 2                     # the preview
    next(s for s in at.selectbox if s.label.startswith("Chance")).select("inherent_likelihood").run()
    assert at.button(key="import_commit").disabled                                 # not checked yet
    at.button(key="import_check").click().run()
    assert_healthy(at)
    assert not at.error, [e.value for e in at.error]
    assert any("Check passed" in s.value and "2 new" in s.value for s in at.success)
    assert db_value(demo_db, "SELECT count(*) FROM risks") == before               # a dry run writes nothing
    at.button(key="import_commit").click().run()
    assert_healthy(at)
    assert db_value(demo_db, "SELECT count(*) FROM risks") == before + 2
    assert db_value(demo_db, "SELECT inherent_likelihood FROM risks WHERE title = 'Phishing of finance staff'") == 4
    assert db_value(demo_db, "SELECT count(*) FROM import_batches WHERE source = 'good'") == 1


def test_import_of_a_registers_next_version_chosen_from_the_known_registers_updates(demo_db: Path,
                                                                                   tmp_path: Path) -> None:
    from engine import register

    q3 = tmp_path / "team_q3.csv"
    q3.write_bytes(b"Risk ID,Title,Likelihood,Impact,Owner\nRR-001,Phishing of staff,2,3,IT\n"
                   b"RR-002,Laptop theft,2,4,IT\n")
    register.import_risks(demo_db, q3, "team register", actor="setup", channel="api")
    q4 = b"Risk ID,Title,Likelihood,Impact,Owner\nRR-001,Phishing of staff,4,3,IT\nRR-002,Laptop theft,2,4,IT\n"
    before = db_value(demo_db, "SELECT count(*) FROM risks")
    at = _upload(open_page("imports"), "team_q4_renamed.csv", q4)
    next(s for s in at.selectbox if s.label == "Register").select("team register").run()
    at.button(key="import_check").click().run()
    assert_healthy(at)
    assert not at.error, [e.value for e in at.error]
    passed = [s.value.replace("\\", "") for s in at.success]   # shown markdown-escaped
    assert any("[team register]" in s and "0 new" in s and "1 updated" in s for s in passed), passed
    changes = frame_with(at, "row", "id", "changes")
    assert changes["changes"].to_list() == ["Inherent likelihood 2 -> 4"]
    at.button(key="import_commit").click().run()
    assert_healthy(at)
    assert db_value(demo_db, "SELECT count(*) FROM risks") == before
    assert db_value(demo_db, "SELECT r.inherent_likelihood FROM risks r JOIN risk_sources s ON s.risk_id = r.id "
                             "WHERE s.source = 'team register' AND s.source_key = 'RR-001'") == 4


def test_import_lists_every_problem_and_writes_nothing(demo_db: Path) -> None:
    before = db_value(demo_db, "SELECT count(*) FROM risks")
    at = _upload(open_page("imports"), "bad_values.csv", BAD_CSV)
    at.button(key="import_check").click().run()
    assert_healthy(at)
    assert at.error and "nothing was imported" in at.error[0].value
    problems = frame_with(at, "file", "row", "column", "problem", "expected")
    assert set(problems["file"]) == {"bad_values.csv"}                             # the user's name, not a temp path
    assert {("2", "Title"), ("2", "Annex A controls"), ("3", "Management system")} <= set(
        zip(problems["row"], problems["column"], strict=True))
    assert at.button(key="import_commit").disabled
    assert db_value(demo_db, "SELECT count(*) FROM risks") == before


def test_import_an_excel_asset_inventory(demo_db: Path) -> None:
    import io

    sheet = pl.DataFrame({"Asset ID": ["AST-900", "AST-901"], "Asset": ["Test lab network", "Spare laptops"],
                          "Asset Type": ["Hardware", "Hardware"], "Asset Owner": ["IT", "IT"]})
    buf = io.BytesIO()
    sheet.write_excel(buf, worksheet="Assets")
    at = open_page("imports")
    at.radio(key="import_kind").set_value("assets").run()
    at.file_uploader(key="import_file").upload(
        "assets.xlsx", buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    at.run()
    assert_healthy(at)
    assert not any(t.label.startswith("Register name") for t in at.text_input)   # only risk registers have one
    at.button(key="import_check").click().run()
    assert not at.error, [e.value for e in at.error]
    at.button(key="import_commit").click().run()
    assert_healthy(at)
    assert db_value(demo_db, "SELECT name FROM assets WHERE name = 'Spare laptops'") == "Spare laptops"


def test_import_a_soa_lists_the_values_that_differ(demo_db: Path) -> None:
    soa_csv = (b"Control,Applicable,Implementation Status,Owner\n"
               b"A.5.1,Yes,Implemented,New Owner\nA.5.2,Yes,Partially implemented,New Owner\n")
    at = open_page("imports")
    at.radio(key="import_kind").set_value("soa").run()
    _upload(at, "soa.csv", soa_csv)
    assert_healthy(at)
    at.button(key="import_check").click().run()
    assert not at.error, [e.value for e in at.error]
    diffs = frame_with(at, "id", "field", "stored", "imported")
    shown = set(zip(diffs["id"], diffs["field"], diffs["imported"], strict=True))
    assert ("27001 A.5.1", "Owner", "New Owner") in shown and ("27001 A.5.2", "Status", "Partially implemented") in shown
    at.button(key="import_commit").click().run()
    assert_healthy(at)
    assert db_value(demo_db, "SELECT owner FROM soa_rows WHERE framework = 'iso27001-2022' AND ref = 'A.5.1'") == \
        "New Owner"


def test_control_suggestions_are_decided_on_the_import_page(demo_db: Path) -> None:
    from engine import register
    from tests.test_register_support import data

    register.import_risks(demo_db, data("free_text_controls_register.csv"), "ft", actor="t")
    sid = db_value(demo_db, "SELECT id FROM v_control_suggestions WHERE phrase = 'Backups'")
    risk_id = db_value(demo_db, "SELECT risk_id FROM v_control_suggestions WHERE id = ?", [sid])
    at = open_page("imports")
    at.radio(key="import_section").set_value("Control suggestions").run()
    assert_healthy(at)
    from engine.register import suggestions

    row = suggestions.list_suggestions(demo_db, status="proposed")["id"].to_list().index(sid)
    at.session_state["suggest_table"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    at.button(key="suggest_accepted").click().run()
    assert_healthy(at)
    assert db_value(demo_db, "SELECT status FROM control_suggestions WHERE id = ?", [sid]) == "accepted"
    assert db_value(demo_db, "SELECT count(*) FROM risk_controls WHERE risk_id = ? AND ref = 'A.8.13'",
                    [risk_id]) == 1
