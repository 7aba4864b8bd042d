"""The domain rules live once, as macros in engine/sql/macros.sql: every view, audit and query uses them,
none spells a rule out again, and today comes from one place, settable for tests and audits."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from engine import plan, store
from engine.config import SQL_DIR
from engine.register import browse
from tests import stores

from .demo_support import demo_copy, demo_template

pytestmark = pytest.mark.both_stores

ROOT = Path(__file__).resolve().parent.parent
MACROS = SQL_DIR / "macros.sql"
_MACRO = re.compile(r"^CREATE OR REPLACE MACRO (\w+)\(", re.M)

# Each rule, as it used to be written out, and the macro that now holds it.
SPELLED_OUT = {
    "risk_open": re.compile(r"status\s*(<>|!=)\s*'closed'"),
    "risk_score": re.compile(r"coalesce\(\s*(\w+\.)?current_likelihood\s*\*", re.I),
    "level_index": re.compile(r"list_filter\(\s*(\w+\.)?level_thresholds"),
    "relationship_rank": re.compile(r"WHEN\s+'equal'\s+THEN\s+5", re.I),
    "rank_coverage": re.compile(r"rnk\s*>=\s*4|best_rank\s*>=\s*4"),
    "assessment_live": re.compile(r"NOT\s+IN\s*\(\s*'superseded'", re.I),
    "action_open": re.compile(r"IN\s*\(\s*'planned',\s*'in_progress'\s*\)", re.I),
    "action_in_plan": re.compile(r"status\s*(<>|!=)\s*'cancelled'"),
    "soa_not_excluded": re.compile(r"coalesce\(\s*(\w+\.)?applicable,\s*true\)", re.I),
    "riskmap_today": re.compile(r"current_date|getvariable\(", re.I),
}


def sql_files() -> list[Path]:
    """Every SQL file of views, audits and queries (the macros file holds the rules themselves)."""
    return sorted(p for p in SQL_DIR.rglob("*.sql") if p != MACROS)


def owned_python() -> list[Path]:
    """Python files that hold or compose SQL over the views: the pages, and the engine's read paths."""
    return [*sorted((ROOT / "ui").glob("*.py")), ROOT / "engine" / "crosswalk" / "coverage.py",
            ROOT / "engine" / "register" / "browse.py", ROOT / "engine" / "soa" / "proposals.py",
            ROOT / "engine" / "store" / "query.py", ROOT / "engine" / "audit.py"]


def test_the_macros_file_explains_itself_and_each_macro() -> None:
    text = MACROS.read_text(encoding="utf-8")
    assert text.startswith("-- macros: ")
    names = _MACRO.findall(text)
    assert set(SPELLED_OUT) <= set(names)
    assert len(names) == len(set(names)), "a macro is defined twice"
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _MACRO.match(line)
        if m:
            assert lines[i - 1].startswith("--"), f"macro {m.group(1)} has no comment above it"
            comment = [ln for ln in lines[max(0, i - 6):i] if ln.startswith("--")]
            assert any(f"-- {m.group(1)}(" in ln for ln in comment), f"the comment of {m.group(1)} does not name it"


@pytest.mark.parametrize("macro", sorted(SPELLED_OUT))
def test_no_rule_is_spelled_out_again(macro: str) -> None:
    pattern = SPELLED_OUT[macro]
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in sql_files() + owned_python()
             for m in pattern.finditer(p.read_text(encoding="utf-8"))]
    assert not found, f"use the macro {macro}() from engine/sql/macros.sql instead of: {found}"


def test_the_rule_patterns_find_the_rules_they_replaced() -> None:
    examples = {
        "risk_open": "WHERE r.status <> 'closed'",
        "risk_score": "coalesce(r.current_likelihood * r.current_impact, r.inherent_likelihood * r.inherent_impact)",
        "level_index": "level_names[len(list_filter(level_thresholds, t -> t <= score))]",
        "relationship_rank": "CASE relationship WHEN 'equal' THEN 5 WHEN 'subset_of' THEN 4 END",
        "rank_coverage": "CASE WHEN b.rnk >= 4 THEN 'full' END",
        "assessment_live": "coalesce(ia.status, '') NOT IN ('superseded', 'withdrawn')",
        "action_open": "a.status IN ('planned', 'in_progress')",
        "action_in_plan": "a.status <> 'cancelled'",
        "soa_not_excluded": "coalesce(s.applicable, true)",
        "riskmap_today": "next_review < current_date",
    }
    assert set(examples) == set(SPELLED_OUT)
    for macro, text in examples.items():
        assert SPELLED_OUT[macro].search(text), macro


def test_every_view_is_created_from_the_macros(fresh_db: Path) -> None:
    with store.connect(fresh_db) as con:
        macros = {r[0] for r in con.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'macro' "
            "AND NOT internal").fetchall()}
        views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert set(_MACRO.findall(MACROS.read_text())) <= macros
    assert set(store.view_names()) <= views


# ------------------------------------------------------------------------------------------- today

@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_copy(demo_template(tmp_path_factory), tmp_path_factory.mktemp("rules"))


def test_today_defaults_to_the_current_date_and_follows_the_setting(demo_db: Path) -> None:
    with store.connect(demo_db) as con:
        assert store.scalar(con, "SELECT riskmap_today()") == store.scalar(con, "SELECT current_date")
        store.set_today(con, date(2031, 3, 4))
        assert store.scalar(con, "SELECT riskmap_today()") == date(2031, 3, 4)
        assert store.scalar(con, "SELECT date_passed(DATE '2031-03-03')") is True
        assert store.scalar(con, "SELECT date_passed(DATE '2031-03-04')") is False   # due today: not overdue


def test_every_dated_flag_follows_today(demo_db: Path) -> None:
    """Views once compared with current_date directly, ignoring an audit's date: now every dated flag
    of every view moves with the one setting."""
    with stores.open_db(demo_db) as con:
        last = con.execute("SELECT greatest(max(next_review_due), (SELECT max(next_review) FROM v_risk_register), "
                           "(SELECT max(due_date) FROM v_treatment_plan)) FROM v_impact_assessments").fetchone()[0]
    long_after = last + timedelta(days=1)
    flags = {
        "v_impact_assessments": "count(*) FILTER (WHERE NOT review_overdue AND next_review_due IS NOT NULL)",
        "v_ai_systems": "count(*) FILTER (WHERE NOT assessment_overdue AND assessment_due IS NOT NULL)",
        "v_risk_register": "count(*) FILTER (WHERE NOT review_overdue AND next_review IS NOT NULL)",
        "v_treatment_plan": "count(*) FILTER (WHERE NOT overdue AND status IN ('planned', 'in_progress') "
                            "AND due_date IS NOT NULL)",
    }
    with store.connect(demo_db) as con:
        store.set_today(con, long_after)
        for view, not_yet_due in flags.items():
            assert store.scalar(con, f"SELECT {not_yet_due} FROM {view}") == 0, view
        store.set_today(con, date(2000, 1, 1))
        assert store.scalar(con, "SELECT count(*) FROM v_impact_assessments WHERE review_overdue") == 0
        assert store.scalar(con, "SELECT count(*) FROM v_risk_register WHERE review_overdue") == 0


def test_read_functions_take_today(demo_db: Path) -> None:
    far = date(2099, 1, 1)
    assert browse.ai_inventory(demo_db, today=far).overdue.height == browse.ai_inventory(demo_db, today=far).live.height
    assert browse.ai_inventory(demo_db, today=date(2000, 1, 1)).overdue.height == 0
    page = browse.register_page(demo_db, today=far, statuses=("open",), limit=500)
    assert page.rows.filter(page.rows["next_review"].is_not_null())["review_overdue"].all()
    ranked = plan.ranking(demo_db, today=far)
    assert ranked["overdue"].fill_null(False).sum() == ranked.filter(ranked["due_date"].is_not_null()).height
