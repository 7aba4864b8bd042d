"""Accessibility in the real browser (Playwright in Debian's chromium, as tests/test_browser.py): the app is
used with the keyboard alone, every input has an accessible name, and the counts on the heat map's level
colours contrast at least 4.5:1 (WCAG 2.1 AA) with the colour they are drawn on."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from engine.contrast import MINIMUM_TEXT_CONTRAST, contrast_ratio
from engine.register import DEFAULT_MATRIX
from tests.test_app_pages import PAGES
from tests.test_browser import CHROMIUM, app_url, browser, demo_copy, page, visit, wait_idle

__all__ = ["app_url", "browser", "demo_copy", "page"]  # fixtures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]

FOCUSED_JS = """() => { const e = document.activeElement;
  return {tag: e.tagName, text: (e.innerText || e.getAttribute('aria-label') || '').trim(),
          nav: !!e.closest('[data-testid="stSidebarNav"]'), href: e.getAttribute('href') || ''}; }"""

# Every visible input, text area, select, combobox, checkbox and slider without an accessible name: no
# aria-label, no aria-labelledby naming text, no <label for>, no enclosing label, no title.
UNNAMED_JS = """() => {
  const sel = 'input, textarea, select, [role="combobox"], [role="checkbox"], [role="slider"]';
  const shown = e => e.type !== 'hidden' && !e.closest('[hidden], [aria-hidden="true"]')
    && getComputedStyle(e).visibility !== 'hidden' && (e.offsetParent !== null || e.getClientRects().length > 0);
  const name = e => {
    const own = (e.getAttribute('aria-label') || '').trim();
    if (own) return own;
    const by = (e.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
      .map(i => document.getElementById(i)).filter(Boolean).map(x => x.textContent.trim()).join(' ').trim();
    if (by) return by;
    if (e.id) {
      const l = document.querySelector(`label[for="${CSS.escape(e.id)}"]`);
      if (l && l.textContent.trim()) return l.textContent.trim();
    }
    const around = e.closest('label');
    if (around && around.textContent.trim()) return around.textContent.trim();
    return (e.getAttribute('title') || '').trim();
  };
  return [...document.querySelectorAll(sel)].filter(shown).filter(e => !name(e))
    .map(e => `${e.tagName.toLowerCase()} ${e.getAttribute('role') || e.type || ''} in `
              + `${(e.closest('[data-testid^="st"]') || e).getAttribute('data-testid')}: ${e.outerHTML.slice(0, 160)}`);
}"""


def _tab_to(pg, wanted, presses: int) -> dict[str, object]:
    """Press Tab until the focused element is ``wanted`` (a test on FOCUSED_JS's answer); that answer."""
    seen = []
    for _ in range(presses):
        pg.keyboard.press("Tab")
        got = pg.evaluate(FOCUSED_JS)
        if wanted(got):
            return got
        seen.append(f"{got['tag']} {str(got['text'])[:30]!r}")
    raise AssertionError(f"not reached with {presses} Tab presses; focus went: {seen}")


def test_tab_reaches_the_navigation_and_enter_opens_a_page(app_url: str, page) -> None:
    visit(page, app_url, "overview")
    first = _tab_to(page, lambda f: f["nav"], 5)          # after the "Skip to main content" link at most
    assert first["tag"] == "A"
    _tab_to(page, lambda f: f["nav"] and str(f["href"]).endswith("/register"), 15)
    page.keyboard.press("Enter")
    wait_idle(page)
    assert page.url.endswith("/register")
    assert page.locator("h1").first.inner_text().strip() == "Risk register"


def test_tab_reaches_the_add_a_risk_form_and_the_keyboard_opens_it(app_url: str, page) -> None:
    from playwright.sync_api import expect

    visit(page, app_url, "register")
    page.locator("h1").first.click()                       # start in the main area
    _tab_to(page, lambda f: f["tag"] == "SUMMARY" and str(f["text"]).endswith("Add a risk"), 150)
    form = page.locator("details").filter(has_text="Add a risk").first
    title = page.get_by_label("Title", exact=True)
    expect(title).to_be_hidden()
    page.keyboard.press("Enter")
    expect(title).to_be_visible()
    assert form.evaluate("d => d.open")
    page.keyboard.press("Space")                           # and closes it again
    expect(title).to_be_hidden()
    page.keyboard.press("Space")
    expect(title).to_be_visible()


def test_every_input_has_an_accessible_name(app_url: str, page) -> None:
    """On every page, with every expander opened (the forms to add records are in them)."""
    unnamed: dict[str, list[str]] = {}
    for name in PAGES:
        visit(page, app_url, name)
        closed = page.locator('[data-testid="stMain"] details:not([open]) > summary:visible')
        for _ in range(20):
            if not closed.count():
                break
            closed.first.click()
        wait_idle(page)
        found = page.evaluate(UNNAMED_JS)
        if found:
            unnamed[name] = found
    assert not unnamed, unnamed


def _rgb(css: str) -> tuple[int, int, int]:
    parts = css[css.index("(") + 1:css.index(")")].split(",")
    r, g, b = (int(float(p)) for p in parts[:3])
    return r, g, b


def _hex(rgb: tuple[int, ...]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb[:3])


def test_heat_map_counts_contrast_with_their_cells(app_url: str, page, tmp_path: Path) -> None:
    """Each count drawn on the register's heat map: its fill as the browser computed it against the colour
    of the cell around it (read from the pixels beside the text), at least 4.5:1."""
    from PIL import Image

    visit(page, app_url, "register")
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(has_text="Inherent versus residual risk").first
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    counts = chart.evaluate("""c => [...c.querySelectorAll('.textpoint text')].map(e => {
        const r = e.getBoundingClientRect();
        return {text: e.textContent, fill: getComputedStyle(e).fill, x: r.x, y: r.y, w: r.width, h: r.height}; })""")
    assert len(counts) >= 5, counts
    shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    levels = {c.lower() for c in DEFAULT_MATRIX.level_colours}
    seen_levels = set()
    for c in counts:
        middle = c["y"] + c["h"] / 2
        beside = {shot.getpixel((int(c["x"] - 6), int(middle))), shot.getpixel((int(c["x"] + c["w"] + 6), int(middle)))}
        assert len(beside) == 1, (c, beside)             # the same cell colour on both sides of the count
        background = _hex(beside.pop())
        assert background in levels, (c, background)      # a level colour of the matrix
        seen_levels.add(background)
        ratio = contrast_ratio(_hex(_rgb(c["fill"])), background)
        assert ratio >= MINIMUM_TEXT_CONTRAST, (c["text"], c["fill"], background, round(ratio, 2))
    assert len(seen_levels) >= 2, seen_levels             # dark and light text both checked
