"""End to end in a real browser: the app on a fresh demo database, driven by Playwright in Debian's chromium.

Visits every page (no exception, a screenshot of each in docs/screenshots/), edits a risk register cell
and saves it, and downloads the SoA as Excel and reads it back.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl
import pytest

from engine.access import os_account
from tests.test_app_pages import PAGES, TITLES, demo_once

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTH, HEIGHT = 1440, 1000
ACTOR = os_account()
"""Without a sign-in configured, the app acts as the account running it (the single-user default)."""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
]

# The script has finished, nothing is still loading, and every chart has drawn.
IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stSpinner"]')) return false;
  if (!document.querySelector('h1')) return false;
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  return charts.every(c => c.querySelector('.main-svg'));
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo database for the app under test."""
    path = tmp_path_factory.mktemp("browser") / "demo.duckdb"
    shutil.copyfile(demo_once(tmp_path_factory), path)
    return path


@contextmanager
def serve_app(db: Path, log: Path, *, env: dict[str, str] | None = None, port: int | None = None,
              args: tuple[str, ...] = ()) -> Iterator[str]:
    """The app served by `streamlit run` on a free port (or ``port``), on ``db``, until the block ends.

    The process starts from a clean environment for sign-in: no roles file, no service identity, unless
    ``env`` sets them (with ``args``: more `streamlit run` options, such as ``--secrets.files``)."""
    port = port or _free_port()
    base = {k: v for k, v in os.environ.items() if k not in ("RISKMAP_ROLES", "RISKMAP_SERVICE_IDENTITY")}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal", *args],
            cwd=ROOT, env={**base, "RISKMAP_DB": str(db), **(env or {})}, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not become healthy:\n{log.read_text(errors='replace')}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def app_url(demo_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on the demo database, with no sign-in configured (the single-user default)."""
    with serve_app(demo_copy, tmp_path_factory.mktemp("streamlit") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def wait_idle(pg) -> None:
    """Wait until the app has finished its script run and drawn everything (a rerun may follow a first
    idle moment, so idle must hold twice in a row)."""
    for _ in range(2):
        pg.wait_for_function(IDLE_JS, timeout=60_000)
        pg.wait_for_timeout(400)
    pg.wait_for_function(IDLE_JS, timeout=60_000)


def visit(pg, url: str, name: str) -> None:
    pg.goto(f"{url}/{'' if name == 'overview' else name}")
    wait_idle(pg)


def screenshot(pg, name: str) -> Path:
    """The whole page, however long: the main area scrolls inside the window, so grow the window to fit."""
    height = pg.evaluate("() => Math.max(...[...document.querySelectorAll("
                         "'[data-testid=stMain], [data-testid=stMainBlockContainer], section')]"
                         ".map(e => e.scrollHeight), 0)")
    pg.set_viewport_size({"width": WIDTH, "height": min(max(int(height) + 40, HEIGHT), 6000)})
    pg.wait_for_timeout(500)
    wait_idle(pg)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    pg.screenshot(path=str(path))
    pg.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    return path


def test_every_page_renders_with_a_screenshot(app_url: str, page) -> None:
    for name in PAGES:
        visit(page, app_url, name)
        assert page.locator('[data-testid="stException"]').count() == 0, f"{name}: exception on the page"
        assert page.locator("h1").first.inner_text().strip() == TITLES[name], name
        path = screenshot(page, name)
        assert path.stat().st_size > 10_000, f"{name}: screenshot looks empty"


def _grid_cell_click(pg, editor, row: int) -> None:
    """Click the first cell of a data row of a data editor (the grid is drawn on a canvas)."""
    box = editor.bounding_box()
    assert box, "the data editor is not visible"
    header, row_height = 35, 35
    pg.mouse.click(box["x"] + 30, box["y"] + header + row_height * row + row_height / 2)


def tick_row(pg, grid, row: int) -> None:
    """Tick data row ``row`` of a table whose rows are chosen by ticking: its box sits at the left edge of
    the row (the grid is drawn on a canvas, so the box is clicked where it is drawn). The page is scrolled
    first so that the row is in the window."""
    grid.scroll_into_view_if_needed()
    header, row_height = 35, 35
    for _ in range(10):
        box = grid.bounding_box()
        assert box, "the table is not visible"
        y = box["y"] + header + row_height * row + row_height / 2
        window = pg.viewport_size["height"]
        if 40 < y < window - 40:
            break
        pg.mouse.move(box["x"] + box["width"] / 2, window / 2)
        pg.mouse.wheel(0, y - window / 2)
        pg.wait_for_timeout(500)
    pg.mouse.click(box["x"] + 18, y)
    wait_idle(pg)


def test_register_cell_edit_is_saved(app_url: str, page, demo_copy: Path) -> None:
    from playwright.sync_api import expect

    with duckdb.connect(str(demo_copy), read_only=True) as con:
        risk_id, version = con.execute(
            "SELECT id, version FROM risks WHERE status IN ('open', 'treated', 'accepted') ORDER BY id LIMIT 1"
        ).fetchone()
    visit(page, app_url, "register")
    editor = page.locator('[data-testid="stDataFrame"]').first
    new_title = "Customer data leaked (edited in the browser)"
    save = page.get_by_role("button", name="Save changes")
    for attempt in range(2):   # on a loaded machine the first keystrokes can land before the grid has settled
        editor.scroll_into_view_if_needed()
        page.wait_for_timeout(800)               # the grid settles where it scrolled to
        _grid_cell_click(page, editor, 0)        # the id cell of the first row (read-only)
        page.keyboard.press("ArrowRight")        # the register's own ids (read-only)
        page.keyboard.press("ArrowRight")        # the title cell
        page.keyboard.press("Enter")             # open the cell editor
        page.wait_for_timeout(300)
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.type(new_title)
        page.wait_for_timeout(500)               # the cell editor takes the typed text in before Enter commits
        page.keyboard.press("Enter")
        try:
            expect(save).to_be_enabled(timeout=20_000)   # the edit reached the script, which enables saving
            break
        except AssertionError:
            page.keyboard.press("Escape")
            if attempt:
                raise
    wait_idle(page)
    save.click()
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Saved 1 risk(s)").count() == 1, page.locator('[data-testid="stAlert"]').all_inner_texts()
    # The app holds no connection between runs: read the file while it is running.
    with duckdb.connect(str(demo_copy), read_only=True) as con:
        title, new_version = con.execute("SELECT title, version FROM risks WHERE id = ?", [risk_id]).fetchone()
    assert title == new_title
    assert new_version == version + 1


def test_soa_downloads_as_excel(app_url: str, page, demo_copy: Path, tmp_path: Path) -> None:
    visit(page, app_url, "soa")
    page.get_by_role("tab", name="Export").click()
    page.get_by_role("button", name="Prepare Excel workbook").click()
    wait_idle(page)
    button = page.get_by_role("button", name="Download statement_of_applicability.xlsx")
    with page.expect_download() as got:
        button.click()
    target = tmp_path / "soa.xlsx"
    got.value.save_as(target)
    data = target.read_bytes()
    combined = pl.read_excel(io.BytesIO(data), sheet_name="Combined")
    with duckdb.connect(str(demo_copy), read_only=True) as con:
        n_rows = con.execute("SELECT count(*) FROM v_soa").fetchone()[0]
    assert combined.height == n_rows
    assert {"A.5.1", "A.6.2.8"} <= set(combined["Control"].to_list())
    cover = pl.read_excel(io.BytesIO(data), sheet_name="Cover", has_header=False)
    assert "Statement of Applicability" in cover.row(0)


def _choose(pg, label: str, option: str | re.Pattern[str]) -> None:
    """Pick ``option`` (its text, or a pattern of it) in the selectbox or multiselect labelled ``label``."""
    box = pg.get_by_role("combobox", name=label, exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    pg.get_by_role("option", name=option, exact=isinstance(option, str)).first.click()
    wait_idle(pg)


def test_the_import_wizard_maps_checks_imports_and_decides_suggestions(app_url: str, page, demo_copy: Path,
                                                                       tmp_path: Path) -> None:
    """Upload a register whose controls are written in words, change one column's field, download the
    mapping file, check, import, then accept a control suggestion: all in the real browser."""
    import yaml
    from playwright.sync_api import expect

    register_file = ROOT / "tests" / "data" / "imports" / "free_text_controls_register.csv"
    visit(page, app_url, "imports")
    page.locator('input[type="file"]').first.set_input_files(str(register_file))
    wait_idle(page)
    expect(page.get_by_text("Existing controls (recognised)")).to_be_visible()
    _choose(page, "Owner (recognised)", "Ignore (leave the column out)")
    with page.expect_download() as got:
        page.get_by_role("button", name="Download the mapping file").click()
    mapping = tmp_path / "mapping.yaml"
    got.value.save_as(mapping)
    assert yaml.safe_load(mapping.read_text(encoding="utf-8"))["columns"] == {"Owner": "ignore"}
    page.get_by_role("button", name="Check (dry run)").click()
    wait_idle(page)
    expect(page.get_by_text("Check passed", exact=False).first).to_be_visible()
    expect(page.get_by_text("Controls proposed for controls written in words", exact=False)).to_be_visible()
    # how each likelihood and impact value will be read on the matrix, shown before anything is imported
    scales = page.get_by_text(re.compile(r"^How the scores will be read on the \dx\d risk matrix$"))
    expect(scales).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"]').filter(has_text="Value as written").first).to_be_visible()
    assert page.locator('[data-testid="stException"]').count() == 0
    page.get_by_role("button", name="Import", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text("Imported:", exact=False).first).to_be_visible()
    with duckdb.connect(str(demo_copy), read_only=True) as con:
        owners = con.execute("SELECT DISTINCT r.owner FROM risks r JOIN risk_sources s ON s.risk_id = r.id "
                             "WHERE s.source = 'free_text_controls_register'").fetchall()
        waiting = con.execute("SELECT count(*) FROM control_suggestions WHERE status = 'proposed'").fetchone()[0]
    assert owners == [(None,)] and waiting > 0          # the Owner column was ignored, as chosen
    page.get_by_text("Control suggestions", exact=True).click()
    wait_idle(page)
    from engine.register import suggestions

    waiting_rows = suggestions.list_suggestions(demo_copy, status="proposed").select("phrase", "framework", "ref")
    row = waiting_rows.to_dicts().index({"phrase": "Backups", "framework": "iso27001-2022", "ref": "A.8.13"})
    tick_row(page, page.locator('[data-testid="stDataFrame"]').first, row)
    expect(page.get_by_text(f"1 of {waiting_rows.height} suggestion(s) ticked")).to_be_visible()
    page.get_by_role("button", name="Accept selected").click()
    wait_idle(page)
    expect(page.get_by_text("Accepted 1 suggestion(s)")).to_be_visible()
    with duckdb.connect(str(demo_copy), read_only=True) as con:
        accepted = con.execute("SELECT phrase, ref FROM control_suggestions WHERE status = 'accepted' "
                               "AND decided_by = ?", [ACTOR]).fetchall()
    assert accepted == [("Backups", "A.8.13")]
