"""Crosswalk: completeness of the authored data, validation, inference with paths, coverage, gaps, export."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import crosswalk, store
from engine.crosswalk import COLUMNS, RELATIONSHIPS, compose, coverage, inverse

from .conftest import TEST_DATA

pytestmark = pytest.mark.both_stores

REL = st.sampled_from([r for r in RELATIONSHIPS if r != "no_relationship"])


def all_records() -> list[crosswalk.Mapping]:
    return crosswalk.load_crosswalk_files()


def test_every_control_and_clause_of_both_standards_appears_in_a_record(fresh_db: Path) -> None:
    with store.connect(fresh_db) as con:
        missing = con.execute("""
            SELECT c.framework, c.ref FROM controls c
            WHERE c.framework IN ('iso27001-2022', 'iso42001-2023') AND c.kind IN ('clause', 'annex_a_control')
              AND NOT EXISTS (SELECT 1 FROM mappings m WHERE
                   (m.source_framework = c.framework AND m.source_ref = c.ref)
                OR (m.target_framework = c.framework AND m.target_ref = c.ref))
        """).fetchall()
    assert missing == []


def test_every_2013_control_reaches_a_2022_successor(fresh_db: Path) -> None:
    with store.connect(fresh_db) as con:
        orphans = con.execute("""
            SELECT ref FROM controls c WHERE framework = 'iso27001-2013' AND kind = 'annex_a_control'
              AND NOT EXISTS (SELECT 1 FROM mappings m WHERE m.source_framework = 'iso27001-2013'
                  AND m.source_ref = c.ref AND m.target_framework = 'iso27001-2022' AND m.target_ref <> '')
        """).fetchall()
    assert orphans == []


def test_ai_specific_controls_have_explained_no_relationship_records() -> None:
    by_source = {(m.source_framework, m.source_ref): m for m in all_records() if m.relationship == "no_relationship"}
    for ref in ("A.5.4", "A.5.5", "A.7.4", "A.7.5", "6.1.4"):
        m = by_source[("iso42001-2023", ref)]
        assert m.strength == 0 and len(m.justification) > 30


def test_records_carry_provenance_and_honest_strength() -> None:
    records = all_records()
    assert all(m.author and m.review_status and m.justification for m in records)
    annex = [m for m in records if m.source_framework == "iso42001-2023" and m.source_ref.startswith("A.")
             and m.target_ref.startswith("A.")]
    # AI controls only partly overlap security controls: none is claimed equal to one.
    assert annex and not [m for m in annex if m.relationship == "equal"]


def test_legacy_reference_reaches_42001_through_its_2022_successor(fresh_db: Path) -> None:
    with store.connect(fresh_db) as con:
        rows = con.execute("""
            SELECT target_ref, relationship, strength, origin, path FROM v_crosswalk
            WHERE source_framework = 'iso27001-2013' AND source_ref = 'A.12.4.1'
              AND target_framework = 'iso42001-2023'
        """).fetchall()
    assert rows, "no inferred link from iso27001-2013:A.12.4.1 to 42001"
    target, rel, strength, origin, path = next(r for r in rows if r[0] == "A.6.2.8")
    assert origin == "inferred"
    assert "iso27001-2022:A.8.15" in path
    assert path.startswith("iso27001-2013:A.12.4.1 -") and path.endswith("iso42001-2023:A.6.2.8")
    assert rel == "intersects_with"


def test_v_crosswalk_is_queryable_from_either_side(fresh_db: Path) -> None:
    with store.connect(fresh_db) as con:
        fwd = con.execute("SELECT relationship, strength, origin FROM v_crosswalk WHERE source_framework = "
                          "'iso42001-2023' AND source_ref = 'A.6.2.8' AND target_ref = 'A.8.15'").fetchone()
        back = con.execute("SELECT relationship, strength, origin FROM v_crosswalk WHERE source_framework = "
                           "'iso27001-2022' AND source_ref = 'A.8.15' AND target_framework = 'iso42001-2023' "
                           "AND target_ref = 'A.6.2.8'").fetchone()
        sub = con.execute("SELECT relationship FROM v_crosswalk WHERE origin = 'inverse' AND source_framework = "
                          "'iso27001-2022' AND source_ref = 'A.8.15' AND target_ref = 'A.12.4.1'").fetchone()
    assert fwd[2] == "authored" and back[2] == "inverse"
    assert back[0] == inverse(fwd[0]) and back[1] == fwd[1]
    assert sub == ("superset_of",)


def test_inferred_strength_is_the_weakest_link_of_the_real_data(fresh_db: Path) -> None:
    with store.connect(fresh_db) as con:
        direct = {(f"{a}:{b}", f"{c}:{d}"): s for a, b, c, d, s in con.execute(
            "SELECT source_framework, source_ref, target_framework, target_ref, strength FROM crosswalk_links "
            "WHERE origin <> 'inferred' AND target_ref IS NOT NULL").fetchall()}
        inferred = con.execute("SELECT path, strength FROM crosswalk_links WHERE origin = 'inferred'").fetchall()
    assert inferred
    for path, strength in inferred:
        parts = path.split(" -")
        nodes = [parts[0]] + [p.split("-> ", 1)[1] for p in parts[1:]]
        assert strength == min(direct[(nodes[i], nodes[i + 1])] for i in range(len(nodes) - 1)), path


def test_configurable_depth(fresh_db: Path, run_cli) -> None:
    code, _, _ = run_cli("depth", "1", "--db", fresh_db)
    assert code == 0
    with store.connect(fresh_db) as con:
        assert con.execute("SELECT count(*) FROM v_crosswalk WHERE origin = 'inferred'").fetchone()[0] == 0
    run_cli("depth", "2", "--db", fresh_db)
    with store.connect(fresh_db) as con:
        assert con.execute("SELECT max(depth) FROM v_crosswalk WHERE origin = 'inferred'").fetchone()[0] == 2
    code, _, err = run_cli("depth", "9", "--db", fresh_db)
    assert code != 0 and "depth out of range" in err


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("unknown_control.csv", ":2:target: unknown control (value 'iso27001-2022:A.8.99')"),
        ("unknown_relationship.csv", ":2:relationship: unknown relationship (value 'overlaps')"),
        ("contradiction_equal_and_subset.csv", ":3:relationship: contradiction: the same pair is also equal"),
        ("duplicate_pair.csv", ":3:relationship: duplicate pair"),
        ("strength_out_of_range.csv", ":2:strength: strength out of range (value '11')"),
        ("missing_justification.csv", ":2:justification: missing justification"),
    ],
)
def test_validate_reports_crosswalk_defects(run_cli, name: str, needle: str) -> None:
    path = TEST_DATA / "crosswalks" / name
    code, out, _ = run_cli("validate", path)
    assert code != 0
    assert any(ln.startswith(str(path)) and needle in ln for ln in out.splitlines()), out


def test_good_crosswalk_validates(run_cli) -> None:
    code, out, _ = run_cli("validate", TEST_DATA / "crosswalks" / "good.csv")
    assert code == 0, out


def test_coverage_view_and_overlap(fresh_db: Path) -> None:
    cov = coverage.coverage_frame(fresh_db, "iso42001-2023", "iso27001-2022")
    assert cov.height == 38 + 43
    assert set(cov["coverage"].unique()) <= {"full", "partial", "none"}
    by_ref = {r["ref"]: r for r in cov.iter_rows(named=True)}
    assert by_ref["A.7.4"]["coverage"] == "none"       # data quality: AI only
    assert by_ref["A.6.2.8"]["coverage"] == "partial"  # event logs overlap logging
    assert by_ref["7.5.3"]["coverage"] == "full"       # control of documented information: the same text
    assert by_ref["7.5.1"]["coverage"] == "partial"    # each standard has its own mandatory documents
    assert by_ref["A.4.5"]["coverage"] == "full"       # computing resources: within the A.5.9 inventory
    overlap = coverage.overlap_summary(fresh_db)
    assert overlap["n_links"].sum() > 0
    assert set(overlap["theme_27001"].unique()) <= {"organizational", "people", "physical", "technological"}


def test_gaps_with_an_implemented_file(fresh_db: Path, tmp_path: Path, run_cli) -> None:
    impl = tmp_path / "implemented.txt"
    impl.write_text("# our ISMS\nA.8.15\nA.5.1\n")
    code, out, _ = run_cli("gaps", "--from", "iso27001-2022", "--to", "iso42001-2023", "--implemented", impl,
                           "--db", fresh_db, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(out.splitlines()))
    by_ref = {r["ref"]: r for r in rows}
    assert len(rows) == 38
    assert by_ref["A.6.2.8"]["coverage"] == "partial" and "A.8.15" in by_ref["A.6.2.8"]["covered_by"]
    assert by_ref["A.7.4"]["coverage"] == "none"
    report = coverage.gaps(fresh_db, "iso27001-2022", "iso42001-2023", ["A.8.15", "A.5.1"])
    assert report.full == 0 and report.partial >= 2 and 0 < report.estimate_pct < 10
    # the estimate weighs each partly covered control by its strongest link's strength
    partly = report.rows.filter(pl.col("coverage") == "partial")
    assert report.estimate_pct == round(100 * partly["max_strength"].sum() / 10 / report.total, 1)
    everything = coverage.gaps(fresh_db, "iso27001-2022", "iso42001-2023", None)
    assert everything.estimate_pct > report.estimate_pct


def test_gaps_refuses_unknown_refs(fresh_db: Path, tmp_path: Path, run_cli) -> None:
    impl = tmp_path / "implemented.txt"
    impl.write_text("A.8.15\nA.99.1\n")
    code, _, err = run_cli("gaps", "--implemented", impl, "--db", fresh_db)
    assert code != 0 and "A.99.1" in err and "not a control of iso27001-2022" in err


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_export_crosswalk_covers_every_control(fresh_db: Path, tmp_path: Path, run_cli, fmt: str) -> None:
    out = tmp_path / f"crosswalk.{fmt}"
    code, _, _ = run_cli("export", "crosswalk", "--format", fmt, "--out", out, "--db", fresh_db)
    assert code == 0
    if fmt == "csv":
        frame = pl.read_csv(out, infer_schema=False)
        assert frame.columns == crosswalk.CROSSWALK_COLUMNS
    elif fmt == "json":
        frame = pl.DataFrame(json.loads(out.read_text()))
    else:
        frame = pl.read_excel(out, engine="calamine", infer_schema_length=0)
    ids = set(zip(frame["source_framework"], frame["source_ref"], strict=True))
    ids |= set(zip(frame["target_framework"], frame["target_ref"], strict=True))
    with store.connect(fresh_db) as con:
        wanted = set(con.execute("SELECT framework, ref FROM controls WHERE kind = 'annex_a_control' OR "
                                 "(kind = 'clause' AND framework <> 'iso27001-2013')").fetchall())
    assert wanted - ids == set()


# Property tests -------------------------------------------------------------------------------------------


@given(REL)
def test_inverse_of_inverse_is_the_original(rel: str) -> None:
    assert inverse(inverse(rel)) == rel


@given(st.lists(REL, min_size=2, max_size=6))
def test_composition_through_intersects_is_never_equal(chain: list[str]) -> None:
    result = chain[0]
    for r in chain[1:]:
        result = compose(result, r)
    if "intersects_with" in chain:
        assert result == "intersects_with"
    if all(r == "equal" for r in chain):
        assert result == "equal"


def _edge_strategy():
    fws = ["fa", "fb", "fc", "fd"]
    node = st.tuples(st.sampled_from(fws), st.integers(1, 6).map(lambda i: f"C{i}"))
    return st.lists(st.tuples(node, node, REL, st.integers(1, 10)), min_size=1, max_size=25)


@settings(max_examples=40, deadline=None)
@given(_edge_strategy())
def test_sql_inference_agrees_with_set_algebra(edges) -> None:
    """On random graphs: inferred links never claim equal through intersects_with, reference only known
    ids, carry the weakest strength of their path, and compose relationships exactly as compose() does."""
    con = duckdb.connect()
    try:
        store.migrate(con)
        seen = set()
        for (sf, sr), (tf, tr), rel, strength in edges:
            if sf == tf or (sf, sr, tf, tr) in seen or (tf, tr, sf, sr) in seen:
                continue
            seen.add((sf, sr, tf, tr))
            con.execute("INSERT INTO mappings VALUES (?, ?, ?, ?, ?, ?, 'semantic', 'j', 'a', DATE '2026-01-01', "
                        "'draft', 'f', NULL, NULL)", [sf, sr, tf, tr, rel, strength])
        crosswalk.rebuild_links(con, 3)
        known = {(a, b) for (a, b), _, _, _ in edges} | {(a, b) for _, (a, b), _, _ in edges}
        direct = {(f"{a}:{b}", f"{c}:{d}"): (r, s) for a, b, c, d, r, s in con.execute(
            "SELECT source_framework, source_ref, target_framework, target_ref, relationship, strength "
            "FROM crosswalk_links WHERE origin <> 'inferred'").fetchall()}
        for sf, sr, tf, tr, rel, strength, path in con.execute(
                "SELECT source_framework, source_ref, target_framework, target_ref, relationship, strength, path "
                "FROM crosswalk_links WHERE origin = 'inferred'").fetchall():
            assert (sf, sr) in known and (tf, tr) in known
            assert sf != tf
            parts = path.split(" -")
            nodes = [parts[0]] + [p.split("-> ", 1)[1] for p in parts[1:]]
            rels = [p.split("-> ", 1)[0] for p in parts[1:]]
            hops = [direct[(nodes[i], nodes[i + 1])] for i in range(len(nodes) - 1)]
            assert [h[0] for h in hops] == rels
            expected = rels[0]
            for r in rels[1:]:
                expected = compose(expected, r)
            assert rel == expected
            assert strength == min(h[1] for h in hops)
            if "intersects_with" in rels:
                assert rel != "equal"
    finally:
        con.close()


def test_crosswalk_file_columns_match_the_documented_format() -> None:
    for path in crosswalk.crosswalk_files():
        with path.open(newline="") as fh:
            assert tuple(next(csv.reader(fh))) == COLUMNS


def test_gaps_reads_the_implemented_controls_from_the_soa(fresh_db: Path, run_cli) -> None:
    from engine import soa

    soa.set_row(fresh_db, "iso27001-2022", "A.8.15", applicable=True, reasons=["best_practice"],
                status="implemented", actor="tester", channel="cli")
    assert coverage.implemented_from_soa(fresh_db, "iso27001-2022") == ["A.8.15"]
    code, out, _ = run_cli("gaps", "--db", fresh_db, "--format", "csv")
    assert code == 0
    rows = {r["ref"]: r for r in csv.DictReader(out.splitlines())}
    assert rows["A.6.2.8"]["coverage"] == "partial"
    assert rows["A.2.2"]["coverage"] == "none"   # the AI policy needs A.5.1, which is not implemented


def test_query_csv_joins_list_columns(fresh_db: Path, run_cli) -> None:
    code, out, err = run_cli("query", "SELECT ['a', 'b'] AS xs, {'k': 1} AS s", "--db", fresh_db, "--format", "csv")
    assert code == 0, err
    assert "a; b" in out and '""k"":1' in out
