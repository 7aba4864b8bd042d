"""In the real browser (Playwright in Debian's chromium, as tests/test_browser.py): a risk added on the
register with a control, a control linked to it afterwards, an action added for it, mixed saves on the
register and the plan (the valid edit saved, the refused one listed and still pending), and the History
page's filters. Each checks the database the running app writes."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from tests.test_browser import (
    CHROMIUM,
    _choose,
    _grid_cell_click,
    app_url,
    browser,
    demo_copy,
    page,
    visit,
    wait_idle,
)

__all__ = ["app_url", "browser", "demo_copy", "page"]  # fixtures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]

TITLE = "Backups of the triage database are never restored (browser)"


def one(db: Path, sql: str, params: list[object] | None = None) -> object:
    """A value of the database the app is running on (the app holds no connection between runs)."""
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(sql, params or []).fetchone()
    return row[0] if row else None


def _pick_typed(pg, label: str, typed: str, option: str | re.Pattern[str]) -> None:
    """Type into the multiselect labelled ``label`` and pick the option matching ``option``."""
    box = pg.get_by_role("combobox", name=label, exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    pg.keyboard.type(typed)
    pg.get_by_role("option", name=option, exact=isinstance(option, str)).first.click()
    pg.locator("h1").first.click()   # close the list of options
    wait_idle(pg)


def _edit_cell(pg, editor, row: int, right: int, text: str, pending: str) -> None:
    """Type ``text`` into the cell ``right`` columns right of the first one in data row ``row``, until the
    page reports ``pending`` (e.g. "1 risk(s) changed"): on a loaded machine a keystroke can land before the
    grid has settled, so the edit is tried again once."""
    from playwright.sync_api import expect

    for attempt in range(2):
        editor.scroll_into_view_if_needed()
        pg.wait_for_timeout(800)                    # the grid settles where it scrolled to
        _grid_cell_click(pg, editor, row)
        for _ in range(right):
            pg.keyboard.press("ArrowRight")
        pg.keyboard.press("Enter")
        pg.wait_for_timeout(400)
        pg.keyboard.press("ControlOrMeta+a")
        pg.keyboard.type(text)
        pg.wait_for_timeout(600)
        pg.keyboard.press("Enter")
        pg.wait_for_timeout(300)
        pg.keyboard.press("Escape")
        wait_idle(pg)
        try:
            expect(pg.get_by_text(f"{pending}, not saved yet")).to_be_visible(timeout=15_000)
            return
        except AssertionError:
            if attempt:
                raise


def _cell_text(editor, row: int, col: int) -> str | None:
    """A cell's text as the grid mirrors it in the DOM (None when the cell is scrolled out of view)."""
    cell = editor.locator(f"td#glide-cell-{col}-{row}")
    return cell.first.text_content() if cell.count() else None


def _edit_cells(pg, editor, edits: list[tuple[int, int, str]], noun: str) -> None:
    """Make each (row, column, text) edit in turn, then check every edit landed in its own cell: on a
    loaded machine a keystroke can move the focus before the text is typed, putting it in the next cell.
    Then every edit is discarded and made again (once)."""
    for attempt in range(2):
        for n, (row, right, text) in enumerate(edits, 1):
            _edit_cell(pg, editor, row, right, text, f"{n} {noun}(s) changed")
        seen = {(row, right): (text, _cell_text(editor, row, right)) for row, right, text in edits}
        assert any(got is not None for _, got in seen.values()), "no edited cell is mirrored in the DOM"
        misplaced = [cell for cell, (text, got) in seen.items() if got is not None and got.strip() != text]
        if not misplaced:
            return
        assert not attempt, f"edits landed in other cells than {misplaced}"
        pg.get_by_role("button", name="Discard changes").click()
        wait_idle(pg)


def test_a_risk_is_added_with_a_control_then_linked_to_another(app_url: str, page, demo_copy: Path) -> None:
    from playwright.sync_api import expect

    visit(page, app_url, "register")
    page.get_by_text("Add a risk", exact=True).click()
    page.get_by_label("Title", exact=True).fill(TITLE)
    _choose(page, "Inherent likelihood", re.compile(r"^4 "))
    _choose(page, "Inherent impact", re.compile(r"^5 "))
    expect(page.get_by_text(re.compile(r"score 20, "))).to_be_visible()
    _pick_typed(page, "Controls (either standard)", "Information backup",
                "ISO/IEC 27001:2022 A.8.13 Information backup")
    page.get_by_role("button", name="Add the risk").click()
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    rid = one(demo_copy, "SELECT id FROM risks WHERE title = ?", [TITLE])
    assert rid, page.locator('[data-testid="stAlert"]').all_inner_texts()
    expect(page.get_by_text(f"Risk {rid} added")).to_be_visible()
    assert one(demo_copy, "SELECT list(ref) FROM risk_controls WHERE risk_id = ?", [rid]) == ["A.8.13"]

    page.get_by_text("Links of a risk", exact=False).first.click()
    _pick_typed(page, "Risk", str(rid), re.compile(rf"^{rid} "))
    _pick_typed(page, "Link controls", "A.6.2.8", re.compile(r"^ISO.IEC 42001:2023 A\.6\.2\.8 "))
    page.get_by_role("button", name="Apply").first.click()
    wait_idle(page)
    assert one(demo_copy, "SELECT count(*) FROM risk_controls WHERE risk_id = ? AND framework = 'iso42001-2023' "
                          "AND ref = 'A.6.2.8'", [rid]) == 1
    assert one(demo_copy, "SELECT count(*) FROM history WHERE entity_id = ? AND action = 'link' AND channel = 'app'",
               [rid]) == 2


def test_an_action_is_added_for_a_risk(app_url: str, page, demo_copy: Path) -> None:
    rid = one(demo_copy, "SELECT id FROM risks WHERE status <> 'closed' AND id NOT IN (SELECT risk_id FROM "
                         "action_risks) ORDER BY id LIMIT 1")
    visit(page, app_url, "treatment")
    page.get_by_text("Add an action", exact=True).click()
    page.get_by_label("Title", exact=True).fill("Quarterly restore test (browser)")
    from playwright.sync_api import expect

    chosen = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Risks it treats")
    for attempt in range(2):   # the pick must show as a chip before the form is submitted
        _pick_typed(page, "Risks it treats", str(rid), re.compile(rf"^{rid} "))
        try:
            expect(chosen).to_contain_text(f"{rid} ", timeout=10_000)
            break
        except AssertionError:
            if attempt:
                raise
    page.get_by_role("button", name="Add the action").click()
    wait_idle(page)
    aid = one(demo_copy, "SELECT id FROM actions WHERE title = 'Quarterly restore test (browser)'")
    assert aid, page.locator('[data-testid="stAlert"]').all_inner_texts()
    assert one(demo_copy, "SELECT list(risk_id) FROM action_risks WHERE action_id = ?", [aid]) == [rid]


def test_a_mixed_register_save(app_url: str, page, demo_copy: Path) -> None:
    """Row 0 gets a current likelihood without an impact (refused), row 1 a new owner (saved)."""
    from playwright.sync_api import expect

    with duckdb.connect(str(demo_copy), read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT id FROM risks WHERE status <> 'closed' ORDER BY id LIMIT 2").fetchall()]
    bad, good = ids
    assert one(demo_copy, "SELECT current_likelihood IS NULL AND current_impact IS NULL FROM risks WHERE id = ?", [bad])
    visit(page, app_url, "register")
    editor = page.locator('[data-testid="stDataFrame"]').first
    # the owner of the second row, the current likelihood of the first
    _edit_cells(page, editor, [(1, 4, "Browser Owner"), (0, 11, "3")], "risk")
    page.get_by_role("button", name="Save changes").click()
    wait_idle(page)
    assert one(demo_copy, "SELECT owner FROM risks WHERE id = ?", [good]) == "Browser Owner"
    assert one(demo_copy, "SELECT current_likelihood FROM risks WHERE id = ?", [bad]) is None
    expect(page.get_by_text(f"Saved 1 risk(s): {good}", exact=False)).to_be_visible()
    expect(page.get_by_text(re.compile(rf"Not saved: 1 risk\(s\)\. {bad}: .*go together"))).to_be_visible()
    expect(page.get_by_text("1 risk(s) changed, not saved yet")).to_be_visible()   # the refused edit is kept


def test_a_mixed_plan_save(app_url: str, page, demo_copy: Path) -> None:
    """Row 0 gets an effort of 0 (refused), row 1 a new owner (saved)."""
    from playwright.sync_api import expect

    with duckdb.connect(str(demo_copy), read_only=True) as con:
        bad, good = [r[0] for r in con.execute("SELECT id FROM actions ORDER BY id LIMIT 2").fetchall()]
    visit(page, app_url, "treatment")
    editor = page.locator('[data-testid="stDataFrame"]').first
    # the owner of the second row, the effort of the first
    _edit_cells(page, editor, [(1, 2, "Browser Planner"), (0, 5, "0")], "action")
    page.get_by_role("button", name="Save changes").click()
    wait_idle(page)
    assert one(demo_copy, "SELECT owner FROM actions WHERE id = ?", [good]) == "Browser Planner"
    assert one(demo_copy, "SELECT effort FROM actions WHERE id = ?", [bad]) != 0
    expect(page.get_by_text(f"Saved 1 action(s): {good}", exact=False)).to_be_visible()
    expect(page.get_by_text(re.compile(rf"Not saved: 1 action\(s\)\. {bad}: .*greater than 0"))).to_be_visible()
    expect(page.get_by_text("1 action(s) changed, not saved yet")).to_be_visible()


def test_the_history_page_filters(app_url: str, page, demo_copy: Path) -> None:
    from playwright.sync_api import expect

    from engine import register

    rid = "R-0003"
    register.update_risk(demo_copy, rid, {"owner": "History Browser"}, None, actor="scripted", channel="cli")
    visit(page, app_url, "history")
    total = one(demo_copy, "SELECT count(*) FROM history")
    expect(page.get_by_text(re.compile(rf"^{total} change\(s\) match"))).to_be_visible()
    _choose(page, "Record kind", "Risk")
    page.get_by_label("Record id", exact=True).fill(rid)
    page.keyboard.press("Enter")
    wait_idle(page)
    n = one(demo_copy, "SELECT count(*) FROM history WHERE entity = 'risk' AND entity_id = ?", [rid])
    expect(page.get_by_text(re.compile(rf"^{n} change\(s\) match"))).to_be_visible()
    _choose(page, "Channel", "Command line")
    n_app = one(demo_copy, "SELECT count(*) FROM history WHERE entity = 'risk' AND entity_id = ? AND channel = 'cli'",
                [rid])
    assert n_app == 1
    expect(page.get_by_text(re.compile(rf"^{n_app} change\(s\) match"))).to_be_visible()
    with page.expect_download() as got:
        page.get_by_role("button", name="Download CSV").click()
    text = Path(got.value.path()).read_text()
    assert text.count("\n") == n_app + 1 and rid in text and "History Browser" in text
