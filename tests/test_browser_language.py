"""In the real browser (Playwright in Debian's chromium, as tests/test_browser.py): a mixed save on the SoA
(the valid edit saved, the refused one listed with its reason and still on screen), an SoA proposal
accepted by ticking its row, the pages speaking in words (no codes, no midnight times), and charts whose
labels do not run into each other at 1280 px. Each save is checked in the database the running app writes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pytest

from engine import soa
from tests.test_browser import (
    CHROMIUM,
    HEIGHT,
    app_url,
    browser,
    demo_copy,
    page,
    tick_row,
    visit,
    wait_idle,
)
from tests.test_browser_records import _edit_cell, one

__all__ = ["app_url", "browser", "demo_copy", "page"]  # fixtures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]

CODES = ("iso27001-2022", "iso42001-2023", "annex_a_control", "in_progress", "not_started", "intersects_with",
         "00:00:00")
"""Codes and midnight times a person should never read on a page (the store's and the exports' own)."""

# The main area's text as a person reads it, and every column heading and cell of every table (editable
# ones too: a coded choice is held as its label), read column by column while the grid is scrolled
# sideways: the grid draws its cells on a canvas and mirrors the visible ones in an accessible table.
PAGE_TEXT_JS = """async () => {
  const main = document.querySelector('[data-testid="stMain"]');
  const bodies = [...main.querySelectorAll('[data-testid="stDataFrame"] table tbody')];
  bodies.forEach(b => { b.dataset.display = b.style.display; b.style.display = 'none'; });
  const text = main.innerText;
  bodies.forEach(b => { b.style.display = b.dataset.display; });
  const headings = [], cells = [];
  for (const grid of main.querySelectorAll('[data-testid="stDataFrame"]')) {
    if (!grid.offsetParent) continue;
    const scroller = grid.querySelector('.dvn-scroller') || grid;
    for (let n = 0; n < 20; n++) {
      scroller.scrollLeft = n * Math.max(200, scroller.clientWidth * 0.8);
      await new Promise(r => setTimeout(r, 500));
      grid.querySelectorAll('th').forEach(th => headings.push(th.innerText));
      grid.querySelectorAll('td').forEach(td => cells.push(td.innerText));
      if (scroller.scrollLeft + scroller.clientWidth >= scroller.scrollWidth) break;
    }
    scroller.scrollLeft = 0;
  }
  return {text, headings, cells};
}"""


def _soa_row(db: Path, framework: str, ref: str) -> dict[str, object]:
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute("SELECT * FROM soa_rows WHERE framework = ? AND ref = ?", [framework, ref])
        names = [d[0] for d in cur.description]
        return dict(zip(names, cur.fetchone(), strict=True))


def test_a_mixed_soa_save(app_url: str, page, demo_copy: Path) -> None:
    """Row 1 gets implementation notes (saved); row 0 is marked not applicable without a justification or
    an exclusion reason (refused, listed with why, and still in its cell)."""
    from playwright.sync_api import expect

    rows = soa.soa_frame(demo_copy)
    (fw_bad, bad), (fw_good, good) = rows.select("framework", "ref").head(2).rows()
    assert rows["applicability"][0] != "not applicable"
    versions = {ref: _soa_row(demo_copy, fw, ref)["version"] for fw, ref in ((fw_bad, bad), (fw_good, good))}
    visit(page, app_url, "soa")
    editor = page.locator('[data-testid="stDataFrame"]').first
    notes = "Reviewed in the browser: roles published on the intranet"
    _edit_cell(page, editor, 1, 8, notes, "1 SoA row(s) changed")            # implementation notes of row 1
    _edit_cell(page, editor, 0, 3, "Not app", "2 SoA row(s) changed")        # applicability of row 0
    page.get_by_role("button", name="Save changes").click()
    wait_idle(page)
    saved, refused = _soa_row(demo_copy, fw_good, good), _soa_row(demo_copy, fw_bad, bad)
    assert saved["implementation_notes"] == notes and saved["version"] == versions[good] + 1
    assert refused["applicable"] is not False and refused["version"] == versions[bad]
    expect(page.get_by_text(f"Saved 1 SoA row(s): {fw_good}:{good}", exact=False)).to_be_visible()
    expect(page.get_by_text(re.compile(rf"Not saved: 1 SoA row\(s\)\. {fw_bad}:{bad}: .*needs a justification")))\
        .to_be_visible()
    expect(page.get_by_text("1 SoA row(s) changed, not saved yet")).to_be_visible()   # the refused edit is kept
    assert page.locator('[data-testid="stException"]').count() == 0


def test_an_soa_proposal_is_accepted_by_ticking_its_row(app_url: str, page, demo_copy: Path) -> None:
    from playwright.sync_api import expect

    found = soa.proposals(demo_copy)
    assert not found.is_empty(), "the demo has open SoA proposals"
    first = found.row(0, named=True)
    pid, framework, ref = first["proposal_id"], first["framework"], first["ref"]
    visit(page, app_url, "soa")
    page.get_by_role("tab", name="Proposals").click()
    wait_idle(page)
    grid = page.locator('[data-testid="stDataFrame"]:visible').first
    tick_row(page, grid, 0)
    expect(page.get_by_text(f"1 of {found.height} proposal(s) ticked")).to_be_visible()
    page.get_by_role("button", name="Accept selected").click()
    wait_idle(page)
    expect(page.get_by_text("Accepted 1 proposal(s)")).to_be_visible()
    assert pid not in soa.proposals(demo_copy)["proposal_id"].to_list()
    row = _soa_row(demo_copy, framework, ref)
    if first["proposed_applicable"]:
        assert row["applicable"] is True and first["proposed_reason"] in row["reasons"]
    if first["proposed_status"]:
        assert row["status"] == first["proposed_status"]
    assert one(demo_copy, "SELECT count(*) FROM history WHERE entity = 'soa_row' AND entity_id = ? "
                          "AND action = 'accept_proposal' AND channel = 'app'", [f"{framework}:{ref}"]) == 1


@pytest.mark.parametrize("name, tabs, tables", [("soa", ("Decisions", "Proposals", "Versions and diff"), True),
                                                ("register", (), True), ("treatment", (), True),
                                                ("overlap", (), False)])
def test_pages_speak_in_words(app_url: str, page, name: str, tabs: Sequence[str], tables: bool) -> None:
    """Standards by their names, kinds, statuses and relationships by their labels, dates as dates: in the
    page's text, in every table heading and in every cell a screen reader reads."""
    visit(page, app_url, name)
    seen: list[str] = []
    headings: list[str] = []
    for tab in tabs or (None,):
        if tab:
            page.get_by_role("tab", name=tab).click()
            wait_idle(page)
        got = page.evaluate(PAGE_TEXT_JS)
        seen += [got["text"], *got["headings"], *got["cells"]]
        headings += got["headings"]
    assert bool(headings) == tables, f"{name}: table headings found: {headings}"
    text = "\n".join(seen)
    found = {code for code in CODES if code in text}
    assert not found, f"{name}: codes on the page: {sorted(found)}"
    assert "ISO/IEC 27001:2022" in text, name


# Every label of one chart: axis titles, tick labels, subplot titles and annotations (their boxes).
LABEL_BOXES_JS = """(chart) => {
  const sel = ['.gtitle', '[class*="title"]:not(.gtitle)', 'g[class$="tick"] text', '.annotation-text'];
  const found = new Set();
  for (const s of sel) chart.querySelectorAll(s).forEach(e => { if (e.tagName.toLowerCase() === 'text') found.add(e); });
  return [...found].map(e => { const r = e.getBoundingClientRect();
    return {text: e.textContent, cls: e.getAttribute('class') || e.parentNode.getAttribute('class'),
            x: r.x, y: r.y, w: r.width, h: r.height}; })
    .filter(b => b.w > 0 && b.h > 0 && b.text.trim());
}"""


def overlaps(boxes: Sequence[dict[str, object]], slack: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of labels whose boxes intersect (by more than ``slack`` pixels each way)."""
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            dx = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])  # type: ignore[operator]
            dy = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])  # type: ignore[operator]
            if dx > slack and dy > slack:
                out.append((str(a["text"]), str(b["text"])))
    return out


def test_heat_map_labels_do_not_overlap_at_1280(app_url: str, page) -> None:
    page.set_viewport_size({"width": 1280, "height": HEIGHT})
    visit(page, app_url, "register")
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(has_text="Inherent versus residual risk").first
    chart.scroll_into_view_if_needed()
    boxes = chart.evaluate(LABEL_BOXES_JS)
    texts = {b["text"] for b in boxes}
    assert {"Impact", "Likelihood", "Inherent"} <= texts, texts
    assert len([b for b in boxes if "tick" in str(b["cls"])]) >= 15, boxes   # 5 + 5 impact, 5 likelihood
    assert not overlaps(boxes), overlaps(boxes)


def test_mapping_flow_labels_do_not_overlap_at_1280(app_url: str, page) -> None:
    page.set_viewport_size({"width": 1280, "height": HEIGHT})
    visit(page, app_url, "overlap")
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(has=page.locator(".sankey")).first
    chart.scroll_into_view_if_needed()
    boxes = chart.evaluate("""(chart) => [...chart.querySelectorAll('.sankey .node-label')].map(e => {
        const r = e.getBoundingClientRect(); return {text: e.textContent, x: r.x, y: r.y, w: r.width, h: r.height}; })
        .filter(b => b.w > 0 && b.h > 0)""")
    assert len(boxes) >= 10, boxes
    assert not overlaps(boxes), overlaps(boxes)
