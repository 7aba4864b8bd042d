"""The 42001 to 27001:2022 crosswalk as data: every entry decided, honest provenance, counts documented."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engine import crosswalk, store
from engine.crosswalk import census

from .conftest import ROOT, TEST_DATA

MAIN = census.MAIN_FILE


def _rows() -> list[dict[str, str]]:
    with MAIN.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_42001_entry_and_27001_control_has_a_decision() -> None:
    """Each 42001 clause and control links to 27001 or says it has no counterpart; each 27001 Annex A
    control likewise, so nothing is left undecided."""
    rows = _rows()
    linked = {r["source"] for r in rows if r["relationship"] != "no_relationship"}
    linked |= {r["target"] for r in rows if r["relationship"] != "no_relationship"}
    no_counterpart = {r["source"] for r in rows if r["relationship"] == "no_relationship"
                      and r["target"].endswith(":")}
    assert not linked & no_counterpart, "a control both linked and declared without counterpart"
    index = crosswalk.catalog.reference_index()
    wanted = {f"iso42001-2023:{e['ref']}" for e in index["iso42001-2023"] if e["kind"] != "annex_a_group"}
    wanted |= {f"iso27001-2022:{e['ref']}" for e in index["iso27001-2022"] if e["kind"] == "annex_a_control"}
    assert wanted - linked - no_counterpart == set()


def test_records_are_sorted_and_one_per_line() -> None:
    lines = MAIN.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(_rows()) + 1  # no record spans two lines
    order = {f"{fw}:{e['ref']}": i for fw, entries in crosswalk.catalog.reference_index().items()
             for i, e in enumerate(entries)}
    keys = [(r["source"].startswith("iso27001"), order[r["source"]], order.get(r["target"], -1)) for r in _rows()]
    assert keys == sorted(keys)


def test_provenance_is_honest() -> None:
    """Nobody has independently reviewed the shipped records, so none claims it."""
    for path in crosswalk.crosswalk_files():
        records = crosswalk.parse_file(path)[0]
        assert records and {m.review_status for m in records} == {"authored"}, path.name
        assert not any(m.reviewer or m.reviewed_on for m in records), path.name
    assert {r["author"] for r in _rows()} == {"riskmap crosswalk team"}


def test_set_relations_are_used_where_they_hold() -> None:
    rows = _rows()
    by_pair = {(r["source"], r["target"]): r["relationship"] for r in rows}
    assert by_pair["iso42001-2023:7.5.3", "iso27001-2022:7.5.3"] == "equal"
    assert by_pair["iso42001-2023:A.4.5", "iso27001-2022:A.5.9"] == "subset_of"
    assert by_pair["iso42001-2023:A.6.2.5", "iso27001-2022:A.8.32"] == "subset_of"
    assert by_pair["iso42001-2023:A.7.6", "iso27001-2022:A.5.13"] == "no_relationship"  # rejected pair
    # no 42001 Annex A control is claimed equal to a security control
    assert not [r for r in rows if r["relationship"] == "equal" and ":A." in r["source"]]


def test_readme_counts_are_the_census_of_the_file() -> None:
    text = (ROOT / "mappings" / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- census:start -->\n", 1)[1].split("<!-- census:end -->", 1)[0]
    assert block == census.census_markdown()


def test_census_counts_add_up() -> None:
    c = census.census()
    assert sum(c["relationship"].values()) == sum(c["decision"].values()) == c["records"] == len(_rows())
    cov = c["coverage"]
    assert sum(cov["annex_a_control"].values()) == 38 and sum(cov["clause"].values()) == 43
    assert cov["annex_a_control"]["none"] >= 4  # impact on individuals and society, data quality, provenance...


def test_pair_level_no_relationship_keeps_its_target_in_the_store(fresh_db: Path) -> None:
    with store.connect(fresh_db) as con:
        rows = con.execute("SELECT target_ref, strength, reviewer, reviewed_on FROM mappings "
                           "WHERE source_framework = 'iso42001-2023' AND source_ref = 'A.7.6' "
                           "AND relationship = 'no_relationship' ORDER BY target_ref").fetchall()
        coverage = con.execute("SELECT coverage FROM v_coverage WHERE framework = 'iso42001-2023' "
                               "AND ref = 'A.7.6' AND counterpart_framework = 'iso27001-2022'").fetchone()
    assert [r[0] for r in rows] == ["", "A.5.13", "A.8.11"]
    assert {(r[1], r[2], r[3]) for r in rows} == {(0, None, None)}
    assert coverage == ("none",)


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("reviewed_without_reviewer.csv", ":2:reviewer: a reviewed record names its reviewer"),
        ("reviewed_without_reviewer.csv", ":2:reviewed_on: a reviewed record gives its review date"),
        ("reviewer_on_authored_record.csv", ":2:review_status: a record with a reviewer is reviewed "
                                            "(value 'authored')"),
    ],
)
def test_validate_reports_dishonest_provenance(run_cli, name: str, needle: str) -> None:
    path = TEST_DATA / "crosswalks" / name
    code, out, _ = run_cli("validate", path)
    assert code != 0
    assert any(ln.startswith(str(path)) and needle in ln for ln in out.splitlines()), out


@pytest.mark.parametrize("name", ["good_reviewed.csv", "good_without_provenance_columns.csv"])
def test_reviewed_and_old_format_files_validate(run_cli, name: str) -> None:
    code, out, _ = run_cli("validate", TEST_DATA / "crosswalks" / name)
    assert code == 0, out


def test_a_named_review_is_read_with_its_date() -> None:
    records, problems = crosswalk.parse_file(TEST_DATA / "crosswalks" / "good_reviewed.csv")
    assert problems == []
    assert {(m.reviewer, m.reviewed_on.isoformat()) for m in records} == {("Dana Reviewer", "2026-12-01")}
    assert records[1].relationship == "no_relationship" and records[1].target_ref == "A.5.13"
