"""Coverage a manager can act on: fully, partly and not covered counts and the strength-weighted estimate,
the same numbers in v_coverage, the CLI and the app, with the estimate's definition one click away; and the
Overlap explorer shows shipped, tailored and imported links apart and records a tailoring."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from engine import store
from engine.access import os_account
from engine.config import ISO27001, ISO42001
from engine.crosswalk import coverage, tailoring

from . import stores
from .demo_support import demo_copy, demo_template

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo_db(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = demo_copy(demo_template(tmp_path_factory), tmp_path)
    monkeypatch.setenv("RISKMAP_DB", str(path))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield path
    st.cache_data.clear()
    st.cache_resource.clear()


def view_counts(db: Path, coverage_col: str, share_col: str) -> tuple[int, int, int, float]:
    """The headline numbers straight from v_coverage (Annex A controls of 42001 by 27001:2022)."""
    row = stores.rows(db, f"""
            SELECT count(*) FILTER (WHERE {coverage_col} = 'full'), count(*) FILTER (WHERE {coverage_col} = 'partial'),
                   count(*) FILTER (WHERE {coverage_col} = 'none'), round(100 * avg({share_col}), 1)
            FROM v_coverage WHERE framework = ? AND counterpart_framework = ? AND kind = 'annex_a_control'""",
        [ISO42001, ISO27001])[0]
    return row[0], row[1], row[2], float(row[3])


def numbers(text: str) -> tuple[int, int, int, float]:
    m = re.search(r"(\d+) fully covered, (\d+) partly, (\d+) not covered \(of \d+\); strength-weighted estimate of "
                  r"the work done: ([\d.]+)%", text)
    assert m, text
    return int(m[1]), int(m[2]), int(m[3]), float(m[4])


def test_the_view_the_cli_and_the_gap_report_give_the_same_numbers(demo_db: Path, run_cli) -> None:
    summary = coverage.coverage_summary(demo_db)
    crosswalk = (summary.crosswalk.full, summary.crosswalk.partial, summary.crosswalk.none,
                 summary.crosswalk.estimate_pct)
    done = (summary.implemented.full, summary.implemented.partial, summary.implemented.none,
            summary.implemented.estimate_pct)
    assert crosswalk == view_counts(demo_db, "coverage", "share")
    assert done == view_counts(demo_db, "implemented_coverage", "implemented_share")
    assert done != crosswalk and 0 < done[3] < crosswalk[3] < 100
    code, out, _ = run_cli("coverage", "--db", demo_db)
    assert code == 0
    by_every, by_implemented = [ln for ln in out.splitlines() if "strength-weighted" in ln]
    assert numbers(by_every) == crosswalk and numbers(by_implemented) == done
    code, out, _ = run_cli("gaps", "--db", demo_db)
    assert code == 0 and numbers(out.splitlines()[-1]) == done
    report = coverage.gaps(demo_db, ISO27001, ISO42001, coverage.implemented_from_soa(demo_db, ISO27001))
    assert (report.full, report.partial, report.none, report.estimate_pct) == done
    # the estimate is what its definition says: 1 per full control, strength / 10 per partial one
    rows = report.rows
    by_hand = (rows.filter(pl.col("coverage") == "full").height
               + rows.filter(pl.col("coverage") == "partial")["max_strength"].sum() / 10) / rows.height
    assert done[3] == round(100 * by_hand, 1)
    code, out, _ = run_cli("coverage", "--help")
    assert "Strength-weighted estimate of the work already done" in " ".join(out.split())


def test_no_page_shows_the_old_single_coverage_percentage() -> None:
    for page in ("overview.py", "gaps.py"):
        text = (ROOT / "ui" / page).read_text()
        assert "42001 coverage" not in text and "full_pct" not in text and "covered_pct" not in text


def test_the_overview_headline_is_counts_and_the_estimate(demo_db: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    done = coverage.coverage_summary(demo_db).implemented
    assert (metrics["Fully covered"], metrics["Partly covered"], metrics["Not covered"]) == \
        (str(done.full), str(done.partial), str(done.none))
    assert metrics["Estimated work done"] == f"{done.estimate_pct}%"
    (box,) = [e for e in at.expander if "estimated work done" in e.label]
    text = " ".join(m.value for m in box.markdown).replace("\\", "")
    assert "the strength of its strongest link divided by 10" in text


def test_the_gap_page_shows_the_estimate(demo_db: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    at.switch_page("ui/gaps.py").run()
    assert not at.exception
    report = coverage.gaps(demo_db, ISO27001, ISO42001, coverage.implemented_from_soa(demo_db, ISO27001))
    assert {m.label: m.value for m in at.metric}["Estimated work done"] == f"{report.estimate_pct}%"
    assert any("estimated work done" in e.label for e in at.expander)


def _overlap(demo_db: Path) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    at.switch_page("ui/overlap.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_overlap_explorer_records_a_tailoring_and_shows_it_apart(demo_db: Path) -> None:
    at = _overlap(demo_db)
    assert "0 tailored" in next(c.value for c in at.caption if "link(s) from" in c.value)
    at.selectbox(key="drill_fw").select(ISO42001).run()
    at.selectbox(key="drill_ref").select("A.6.2.8").run()
    at.radio(key="tailor_decision").set_value("strengthen").run()
    at.selectbox(key="tailor_target").select("iso27001-2022:A.8.15").run()
    at.slider(key="tailor_strength").set_value(9).run()
    at.text_input(key="tailor_reason").input("Model decisions go to the central log.").run()
    at.button(key="tailor_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    row = tailoring.tailoring_for(demo_db, "iso42001-2023:A.6.2.8", "iso27001-2022:A.8.15")
    assert row is not None and (row["decision"], row["strength"], row["tailored_by"]) == \
        ("strengthen", 9, os_account())  # the app without sign-in acts as the account running it
    with store.connect(demo_db) as con:
        assert con.execute("SELECT DISTINCT channel FROM v_history WHERE entity = 'crosswalk_tailoring'"
                           ).fetchall() == [("app",)]
    # the flow counts it as tailored, the tailoring table lists it, the drill-down says what it overrides
    assert "1 tailored" in next(c.value for c in at.caption if "link(s) from" in c.value)
    listed = next(d.value for d in at.dataframe if "beneath" in d.value.columns and "pair" in d.value.columns)
    assert listed["pair"].tolist() == ["42001 A.6.2.8 -> 27001 A.8.15"]
    drill = next(d.value for d in at.dataframe if "provenance" in d.value.columns and "path" in d.value.columns)
    mine = drill[drill["target_ref"] == "A.8.15"]
    assert mine["provenance"].tolist() == ["Tailored"] and mine["beneath"].tolist() == ["Shipped: intersects with (7)"]
    at.multiselect(key="overlap_provenance").set_value(["tailored"]).run()
    assert next(c.value for c in at.caption if "link(s) from" in c.value).startswith("1 link(s)")


def test_a_refused_tailoring_says_why_on_the_page(demo_db: Path) -> None:
    at = _overlap(demo_db)
    at.selectbox(key="drill_fw").select(ISO42001).run()
    at.selectbox(key="drill_ref").select("A.6.2.8").run()
    at.radio(key="tailor_decision").set_value("dispute").run()
    at.selectbox(key="tailor_target").select("iso27001-2022:A.8.15").run()
    at.button(key="tailor_save").click().run()
    assert not at.exception
    assert any("nothing changed" in e.value.replace("\\", "") for e in at.error)
    problems = next(d.value for d in at.dataframe if "problem" in d.value.columns)
    assert problems[["column", "problem"]].values.tolist() == [["reason", "a decision to dispute gives its reason"]]
    assert tailoring.tailoring_for(demo_db, "iso42001-2023:A.6.2.8", "iso27001-2022:A.8.15") is None
