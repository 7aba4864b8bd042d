"""Running the programme in the real browser (Playwright in Debian's chromium, as tests/test_browser.py):
an AI system and an asset added and the asset retired; next quarter's register, under a new file name,
updating this quarter's risks (the check shows the changed field before anything is written) and the
register's own ids found by the register search; an SoA exclusion refused while open risks cite the
control, then recorded with an override; an SoA version approved with undecided rows only after a
confirmation; the Overview's definitions one click away and what needs attention listed. Each checks the
database the running app writes."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from tests.test_browser import app_url, browser, demo_copy, page, visit, wait_idle
from tests.test_browser_records import _pick_typed, one

__all__ = ["app_url", "browser", "demo_copy", "page"]  # fixtures

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _team_register(folder: Path, name: str, likelihood_of_3: int) -> Path:
    lines = ["Risk ID,Title,Likelihood,Impact,Owner"]
    titles = ["Phishing of finance staff", "Laptop stolen from a car", "Supplier portal breach",
              "Backups never restored"]
    for i, title in enumerate(titles, 1):
        lines.append(f"RR-00{i},{title} (team),{likelihood_of_3 if i == 3 else 2},{3 + i % 2},Ana Silva")
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _import(pg, url: str, path: Path) -> None:
    from playwright.sync_api import expect

    visit(pg, url, "imports")
    pg.locator('input[type="file"]').first.set_input_files(str(path))
    wait_idle(pg)
    pg.get_by_role("button", name="Check (dry run)").click()
    wait_idle(pg)
    expect(pg.get_by_text("Check passed", exact=False).first).to_be_visible()


def test_an_ai_system_and_an_asset_are_added_and_the_asset_retired(app_url: str, page, demo_copy: Path) -> None:
    from playwright.sync_api import expect

    visit(page, app_url, "ai_systems")
    page.get_by_role("tab", name="Add an AI system").click()
    page.get_by_label("Name", exact=True).first.fill("Rota planner (browser)")
    page.get_by_label("Owner", exact=True).first.fill("Dana Owner")
    page.get_by_role("button", name="Add the AI system").click()
    wait_idle(page)
    sid = one(demo_copy, "SELECT id FROM ai_systems WHERE name = 'Rota planner (browser)'")
    assert sid, page.locator('[data-testid="stAlert"]').all_inner_texts()
    expect(page.get_by_text(f"AI system {sid} added")).to_be_visible()

    page.get_by_role("tab", name="Add an asset").click()
    form = page.locator('[data-testid="stForm"]').filter(has_text="Add the asset")
    form.get_by_label("Name", exact=True).fill("Rota spreadsheet (browser)")
    form.get_by_role("button", name="Add the asset").click()
    wait_idle(page)
    aid = one(demo_copy, "SELECT id FROM assets WHERE name = 'Rota spreadsheet (browser)'")
    assert aid and one(demo_copy, "SELECT status FROM assets WHERE id = ?", [aid]) == "active"

    page.get_by_role("tab", name="Retire an AI system or asset").click()
    _pick_typed(page, "Record", "Rota spreadsheet", re.compile(rf"^Asset {aid} "))
    page.get_by_role("button", name="Retire", exact=True).click()
    wait_idle(page)
    assert one(demo_copy, "SELECT status FROM assets WHERE id = ?", [aid]) == "retired"   # kept, marked retired
    assert one(demo_copy, "SELECT count(*) FROM history WHERE entity_id = ? AND field = 'status' AND "
                          "new_value = 'retired' AND channel = 'app'", [aid]) == 1


def test_next_quarters_register_updates_this_quarters(app_url: str, page, demo_copy: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    q3 = _team_register(tmp_path, "team_register_Q3.csv", likelihood_of_3=2)
    _import(page, app_url, q3)
    page.get_by_role("button", name="Import", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text("Imported:", exact=False).first).to_be_visible()
    rid = one(demo_copy, "SELECT risk_id FROM risk_sources WHERE source = 'team_register_Q3' AND source_key = 'RR-003'")
    assert rid and one(demo_copy, "SELECT inherent_likelihood FROM risks WHERE id = ?", [rid]) == 2

    q4 = _team_register(tmp_path, "team_register_Q4.csv", likelihood_of_3=4)
    _import(page, app_url, q4)
    passed = page.get_by_text("Check passed", exact=False).first.inner_text()
    assert "0 new" in passed and "1 updated" in passed, passed          # recognised as the same register
    # the change, before the import (the grid draws on a canvas; its cells are mirrored in the DOM)
    expect(page.get_by_text("Inherent likelihood 2 -> 4", exact=True)).to_be_attached()
    expect(page.get_by_text("How the scores will be read", exact=False).first).to_be_visible()
    page.get_by_role("button", name="Import", exact=True).click()
    wait_idle(page)
    assert one(demo_copy, "SELECT inherent_likelihood FROM risks WHERE id = ?", [rid]) == 4
    assert one(demo_copy, "SELECT count(*) FROM risk_sources WHERE risk_id = ?", [rid]) == 1   # no second source
    assert one(demo_copy, "SELECT count(*) FROM history WHERE entity_id = ? AND field = 'inherent_likelihood' "
                          "AND old_value = '2' AND new_value = '4'", [rid]) == 1

    visit(page, app_url, "register")
    search = page.get_by_placeholder("Title, R-0001 or the register's own id")
    search.fill("RR-003")
    search.press("Enter")
    wait_idle(page)
    expect(page.get_by_text("Rows 1-1 of 1 matching risk(s)", exact=False)).to_be_visible()


def test_an_soa_exclusion_needs_an_override_while_open_risks_cite_the_control(app_url: str, page,
                                                                                  demo_copy: Path) -> None:
    from playwright.sync_api import expect

    framework, ref = duckdb.connect(str(demo_copy), read_only=True).execute(
        "SELECT framework, ref FROM v_soa WHERE applicable AND len(risk_ids) > 0 AND framework = 'iso27001-2022' "
        "ORDER BY ordinal LIMIT 1").fetchone()
    visit(page, app_url, "soa")
    page.get_by_text("Exclude a control", exact=True).click()
    _pick_typed(page, "Control", ref, re.compile(rf"^ISO.IEC 27001:2022 {re.escape(ref)} "))
    _pick_typed(page, "Exclusion reason", "scope", "Outside the scope of the management system")
    page.get_by_label("Justification", exact=True).fill("Handled by the group's shared service (browser)")
    expect(page.get_by_text("Excluding it needs an explicit override", exact=False)).to_be_visible()
    page.get_by_role("button", name="Exclude the control").click()
    wait_idle(page)
    assert one(demo_copy, "SELECT applicable FROM soa_rows WHERE framework = ? AND ref = ?", [framework, ref]) is True
    expect(page.locator('[data-testid="stAlert"]').filter(has_text="override").first).to_be_visible()

    page.get_by_label("Override reason", exact=True).fill("The risks are treated by the group's controls")
    page.get_by_role("button", name="Exclude the control").click()
    wait_idle(page)
    row = duckdb.connect(str(demo_copy), read_only=True).execute(
        "SELECT applicable, exclusion_reason, status FROM soa_rows WHERE framework = ? AND ref = ?",
        [framework, ref]).fetchone()
    assert row == (False, "outside_scope", "not_started")     # excluded, its status reset
    assert one(demo_copy, "SELECT count(*) FROM history WHERE entity_id = ? AND action = 'exclusion_override'",
               [f"{framework}:{ref}"]) == 1


def test_approving_an_soa_with_undecided_rows_needs_a_confirmation(app_url: str, page, demo_copy: Path) -> None:
    from playwright.sync_api import expect

    before = one(demo_copy, "SELECT count(*) FROM soa_versions")
    visit(page, app_url, "soa")
    page.get_by_role("tab", name="Versions and diff").click()
    expect(page.get_by_text("row(s) are undecided", exact=False)).to_be_visible()
    page.get_by_role("button", name="Approve the working copy as a new version").click()
    wait_idle(page)
    assert one(demo_copy, "SELECT count(*) FROM soa_versions") == before     # refused without a confirmation
    page.get_by_label("Confirmation: why approve it as it stands", exact=True).fill(
        "Interim version for the stage 1 audit (browser)")
    page.get_by_role("button", name="Approve the working copy as a new version").click()
    wait_idle(page)
    assert one(demo_copy, "SELECT count(*) FROM soa_versions") == before + 1
    assert one(demo_copy, "SELECT confirmation FROM soa_versions ORDER BY version DESC LIMIT 1") == \
        "Interim version for the stage 1 audit (browser)"


def test_the_overview_says_what_its_figures_count_and_what_needs_attention(app_url: str, page) -> None:
    from playwright.sync_api import expect

    from engine.plan import DEFINITIONS

    visit(page, app_url, "overview")
    expect(page.get_by_text("Needs attention", exact=True)).to_be_visible()
    expect(page.get_by_text("Risk reviews overdue").first).to_be_visible()
    page.get_by_role("button", name="What these figures count").click()
    first_words = DEFINITIONS["above_appetite"].split(".")[0][:40]
    expect(page.get_by_text(first_words, exact=False).first).to_be_visible()
