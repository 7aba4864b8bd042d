"""Same question, same answer: the CLI and the app ask the engine the same functions.

On one demo database, each question is asked through the CLI (``--format json``) and through the engine
function the app's page calls, and the answers must be equal: gaps, coverage, the SoA, the plan ranking
and the audits. The gap analysis, where the app and the CLI once read the SoA differently, is also
checked on the page itself. Pages hold no SQL at all, so they cannot grow a second answer.
"""

from __future__ import annotations

import ast
import json
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from engine import audit, plan, soa
from engine.config import ISO27001, ISO42001
from engine.crosswalk import coverage
from tests import stores

from .demo_support import demo_copy, demo_template

pytestmark = pytest.mark.both_stores

ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "ui"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_copy(demo_template(tmp_path_factory), tmp_path_factory.mktemp("parity"))


@pytest.fixture
def own_demo(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    """A private copy of the demo database, for a test that changes it."""
    return demo_copy(demo_template(tmp_path_factory), tmp_path)


@pytest.fixture
def clear_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def cli_json(run_cli, *args: object) -> list[dict]:
    code, out, err = run_cli(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def as_json(frame: pl.DataFrame) -> list[dict]:
    """A frame as the CLI prints it with --format json."""
    return json.loads(frame.write_json())


# --------------------------------------------------------------------------------------------- gaps

def test_gaps_from_the_soa(demo_db: Path, run_cli) -> None:
    for source, target in ((ISO27001, ISO42001), (ISO42001, ISO27001)):
        cli = cli_json(run_cli, "gaps", "--from", source, "--to", target, "--db", demo_db)
        # the Gap analysis page, "Statement of Applicability" chosen
        page = coverage.gaps(demo_db, source, target, coverage.implemented_from_soa(demo_db, source),
                             implemented_label="the chosen controls", with_risks=True)
        assert as_json(page.rows.drop("n_risks", "max_risk_score")) == cli
        assert len(cli) == page.total and sum(r["coverage"] == "full" for r in cli) == page.full


def test_nothing_implemented_in_the_soa_means_nothing_is_implemented(own_demo: Path, run_cli) -> None:
    """The disagreement this file exists for: with no SoA row of 42001 marked implemented, the CLI used
    to count every Annex A control as implemented while the app counted none."""
    with stores.open_db(own_demo, read_only=False) as con:
        con.execute("UPDATE soa_rows SET status = 'partial' "
                    "WHERE framework = 'iso42001-2023' AND status = 'implemented'")
        # an excluded control is not implemented, whatever its status says
        con.execute("UPDATE soa_rows SET status = 'implemented', applicable = false, exclusion_reason = 'other', "
                    "justification = 'Not in scope' WHERE framework = 'iso42001-2023' AND ref = 'A.10.4'")
    assert coverage.implemented_from_soa(own_demo, ISO42001) == []
    cli = cli_json(run_cli, "gaps", "--from", ISO42001, "--to", ISO27001, "--db", own_demo)
    assert cli and {r["coverage"] for r in cli} == {"none"}
    page = coverage.gaps(own_demo, ISO42001, ISO27001, coverage.implemented_from_soa(own_demo, ISO42001),
                         with_risks=True)
    assert as_json(page.rows.drop("n_risks", "max_risk_score")) == cli
    assert page.implemented == [] and page.full == page.partial == 0


def test_gap_page_shows_what_the_cli_says(own_demo: Path, run_cli, monkeypatch: pytest.MonkeyPatch,
                                          clear_caches) -> None:
    monkeypatch.setenv("RISKMAP_DB", str(own_demo))
    monkeypatch.setenv("RISKMAP_ACTOR", "Parity Test")
    cli = cli_json(run_cli, "gaps", "--from", ISO27001, "--to", ISO42001, "--db", own_demo)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    at.switch_page("ui/gaps.py").run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Implemented"] == str(len(coverage.implemented_from_soa(own_demo, ISO27001)))
    assert metrics["Fully covered"] == str(sum(r["coverage"] == "full" for r in cli))
    assert metrics["Partly covered"] == str(sum(r["coverage"] == "partial" for r in cli))
    assert metrics["Not covered"] == str(sum(r["coverage"] == "none" for r in cli))


# ------------------------------------------------------------------------------- coverage, SoA, plan

def test_coverage(demo_db: Path, run_cli) -> None:
    cli = cli_json(run_cli, "coverage", "--framework", ISO42001, "--by", ISO27001, "--db", demo_db)
    assert cli == as_json(coverage.coverage_frame(demo_db, ISO42001, ISO27001))   # the Overview page
    assert {r["coverage"] for r in cli} == {"full", "partial", "none"}


def test_statement_of_applicability(demo_db: Path, run_cli) -> None:
    cli = cli_json(run_cli, "soa", "show", "--db", demo_db)
    assert cli == as_json(soa.soa_frame(demo_db))   # the SoA page
    assert {r["framework"] for r in cli} >= {ISO27001, ISO42001} and len(cli) >= 131


def test_plan_rank(demo_db: Path, run_cli) -> None:
    cli = cli_json(run_cli, "plan", "rank", "--all", "--db", demo_db)
    page = plan.ranking(demo_db, include_closed=True, today=date.today())   # the Treatment plan page
    assert cli == as_json(page)
    ranks = [r["rank"] for r in cli if r["rank"] is not None]
    assert ranks == list(range(1, len(ranks) + 1))


@pytest.mark.parametrize("today", [None, date(2031, 1, 1)])
def test_audits(demo_db: Path, run_cli, today: date | None) -> None:
    args = ["audit", "--db", demo_db] + (["--today", today.isoformat()] if today else [])
    cli = cli_json(run_cli, *args)
    page = audit.run_audits(demo_db, today=today or date.today())   # the Data quality page
    assert cli == as_json(page)
    assert cli, "the demo organisation has findings to compare"
    with stores.open_db(demo_db) as con:   # the analysts' view says the same
        if today:
            con.execute("SET VARIABLE riskmap_today = ?::DATE", [today])
        view = con.execute("SELECT rule, severity, entity, entity_id, detail FROM v_audit_findings").pl()
    assert sorted(view.rows()) == sorted(page.rows())


# ------------------------------------------------------------------------------------- no SQL in ui/

_SQL = re.compile(r"\bSELECT\b[\s\S]*\bFROM\b|\bFROM\s+(v_|risk|soa_|controls\b|actions\b)|\bINSERT\s+INTO\b"
                  r"|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b|\bJOIN\s+\w+\s+(\w+\s+)?ON\b")
_CALLS = re.compile(r"\.execute\(|\.sql\(|duckdb\.connect\(|store\.connect\(|store\.transaction\(")


def sql_in(path: Path) -> list[str]:
    """The SQL a Python file holds: string literals that read like a query, and database calls."""
    text = path.read_text(encoding="utf-8")
    found = [m.group(0) for m in _CALLS.finditer(text)]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.search(node.value):
            found.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            if _SQL.search(literal):
                found.append(literal)
    return found


def test_no_page_holds_sql() -> None:
    pages = sorted(UI.glob("*.py")) + [ROOT / "app.py"]
    assert len(pages) > 10
    offending = {p.name: found for p in pages if (found := sql_in(p))}
    assert not offending, f"SQL belongs in engine/sql, not in the pages: {offending}"


def test_the_sql_check_finds_sql(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    for snippet in ('Q = "SELECT ref FROM v_soa WHERE status = \'implemented\'"',
                    'Q = """\nSELECT count(*)\nFROM risks r\n"""',
                    "def f(con):\n    return con.execute(q)",
                    'Q = f"SELECT * FROM {name}"'):
        page.write_text(snippet + "\n")
        assert sql_in(page), snippet
    page.write_text('CAPTION = "Read-only queries (one SELECT; writes are refused)"\n')
    assert not sql_in(page)
