"""Control references as registers write them, resolved against the catalogs and the 2013 crosswalk."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from engine.register.imports.controls import reference_frames, resolve_control_cells
from engine.register.imports.headers import heading_framework, parse_framework
from tests import stores

from .test_register_support import data

pytestmark = pytest.mark.both_stores


@pytest.fixture(scope="module")
def refs(template_db: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    con = stores.open_db(template_db)
    try:
        return reference_frames(con)
    finally:
        con.close()


def resolve(refs: tuple[pl.DataFrame, pl.DataFrame], text: str, default: str = "iso27001-2022",
            status: str = "existing") -> tuple[list[tuple[str, str, str | None]], list[str]]:
    cells = pl.DataFrame({"_file": [0], "file": ["f.csv"], "_row": [2], "column": ["Controls"], "status": [status],
                          "text": [text], "default_fw": [default]}).with_columns(
        pl.col("_file", "_row").cast(pl.Int32))
    links, _phrases, problems = resolve_control_cells(cells, *refs)
    return ([(r["framework"], r["ref"], r["translated_from"]) for r in links.iter_rows(named=True)],
            [str(p.value) for p in problems])


def phrases_of(refs: tuple[pl.DataFrame, pl.DataFrame], text: str) -> list[str]:
    cells = pl.DataFrame({"_file": [0], "file": ["f.csv"], "_row": [2], "column": ["Controls"],
                          "status": ["existing"], "text": [text], "default_fw": ["iso27001-2022"]}).with_columns(
        pl.col("_file", "_row").cast(pl.Int32))
    return resolve_control_cells(cells, *refs)[1]["phrase"].to_list()


@pytest.mark.parametrize("text", ["A.5.1", "5.1", "A 5.1", "A5.1", "Annex A 5.1", "a.5.1", "A.5.1 Policies",
                                  "ISO 27001:2022 A.5.1", "ISO/IEC 27001 A.5.1", "A.05.01", "A.5.1.",
                                  "A.5.1 Policies for information security", "A.5.1 (Policies)", "Annex A.5.1",
                                  "ISO 27002:2022 5.1", "27001-2022 A.5.1", "ISO/IEC 27001 (2022) A.5.1"])
def test_forms_of_one_reference(refs: tuple[pl.DataFrame, pl.DataFrame], text: str) -> None:
    assert resolve(refs, text) == ([("iso27001-2022", "A.5.1", None)], [])


@pytest.mark.parametrize("sep", [", ", "; ", " / ", "\n", " | ", " and "])
def test_separators(refs: tuple[pl.DataFrame, pl.DataFrame], sep: str) -> None:
    links, problems = resolve(refs, f"A.5.1{sep}A.8.15")
    assert [r for _, r, _ in links] == ["A.5.1", "A.8.15"] and problems == []


@pytest.mark.parametrize(("text", "refs_found"), [
    ("A.15.1.1 A.15.2.1", ["A.5.19", "A.5.22"]),                    # spaces between references
    ("A.8.15 Logging A.8.16 Monitoring activities", ["A.8.15", "A.8.16"]),  # each with its title
    ("12.4.1 12.4.3", ["A.8.15"]),                                   # without "A.", 2013 by their numbers
    ("27001-2013 A.12.4.1", ["A.8.15"]), ("ISO/IEC 27001 (2013) A.12.4.1", ["A.8.15"]),
    ("27001:13 A.12.4.1", ["A.8.15"]), ("27001/2013 A.12.4.1", ["A.8.15"]),
    ("ISO 27001:2013, A.12.4.1, A.12.4.3", ["A.8.15"]),              # a standard's name alone carries on
    ("ISO 27002:2013 12.4.1", ["A.8.15"]),
])
def test_references_as_registers_write_them(refs: tuple[pl.DataFrame, pl.DataFrame], text: str,
                                            refs_found: list[str]) -> None:
    links, problems = resolve(refs, text)
    assert sorted({r for _, r, _ in links}) == sorted(refs_found) and problems == []


def test_words_are_phrases_not_problems_and_mix_with_references(refs: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    assert phrases_of(refs, "MFA, email filtering, awareness training") == ["MFA", "email filtering",
                                                                           "awareness training"]
    links, problems = resolve(refs, "A.8.5, MFA; Backups (A.8.13), n/a")
    assert [r for _, r, _ in links] == ["A.8.5", "A.8.13"] and problems == []
    assert phrases_of(refs, "A.8.5, MFA; Backups (A.8.13), n/a") == ["MFA", "Backups"]   # n/a says nothing
    assert phrases_of(refs, "Encryption: AES-256") == ["Encryption: AES-256"]


def test_legacy_2013_reference_is_translated(refs: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    assert resolve(refs, "ISO 27001:2013 A.12.4.1") == (
        [("iso27001-2022", "A.8.15", "iso27001-2013:A.12.4.1")], [])
    # four-part numbers are 2013 even without a prefix
    assert resolve(refs, "A.12.4.1") == ([("iso27001-2022", "A.8.15", "iso27001-2013:A.12.4.1")], [])
    # a 2013 control with two 2022 successors links both
    links, _ = resolve(refs, "A.18.2.3")
    assert {r for _, r, _ in links} == {"A.5.36", "A.8.8"}


def test_bare_references_follow_the_default_framework(refs: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    # A.5.2 exists in both standards: the register's framework decides
    assert resolve(refs, "A.5.2", "iso27001-2022")[0] == [("iso27001-2022", "A.5.2", None)]
    assert resolve(refs, "A.5.2", "iso42001-2023")[0] == [("iso42001-2023", "A.5.2", None)]
    # A.6.2.8 is only in 42001: found there even in an ISMS register
    assert resolve(refs, "A.6.2.8", "iso27001-2022")[0] == [("iso42001-2023", "A.6.2.8", None)]


def test_a_prefix_carries_on_within_the_cell(refs: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    links, problems = resolve(refs, "42001 A.5.2, A.5.3; ISO 27001:2022 A.5.3")
    assert links == [("iso42001-2023", "A.5.2", None), ("iso42001-2023", "A.5.3", None),
                     ("iso27001-2022", "A.5.3", None)]
    assert problems == []


def test_unknown_references_are_each_a_problem(refs: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    links, problems = resolve(refs, "A.5.1, A.99.1, see policy, 42001:2019 A.5.2, A.5.1-A.5.3, A.5.1x")
    assert links == [("iso27001-2022", "A.5.1", None)]
    # written as references but naming none; "see policy" is words, not a reference
    assert problems == ["A.99.1", "42001:2019 A.5.2", "A.5.1-A.5.3", "A.5.1x"]


def test_a_problem_names_file_row_column_value_and_expected(refs: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    cells = pl.DataFrame({"_file": [0], "file": ["reg.csv"], "_row": [7], "column": ["ISO controls"],
                          "status": ["existing"], "text": ["A.1.1"], "default_fw": ["iso27001-2022"]}).with_columns(
        pl.col("_file", "_row").cast(pl.Int32))
    _, _, problems = resolve_control_cells(cells, *refs)
    p = problems[0]
    assert (p.file, p.record, p.field, p.value) == ("reg.csv", 7, "ISO controls", "A.1.1")
    assert "A.5.1" in (p.expected or "")


def test_existing_wins_over_planned_for_one_row(refs: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    cells = pl.DataFrame({"_file": [0, 0], "file": ["f", "f"], "_row": [2, 2], "column": ["Planned", "Controls"],
                          "status": ["planned", "existing"], "text": ["A.5.1, A.5.7", "A.5.1"],
                          "default_fw": ["iso27001-2022"] * 2}).with_columns(pl.col("_file", "_row").cast(pl.Int32))
    links, _, _ = resolve_control_cells(cells, *refs)
    assert dict(links.select("ref", "status").iter_rows()) == {"A.5.1": "existing", "A.5.7": "planned"}


@pytest.mark.parametrize(("text", "framework"), [
    ("27001:2013", "iso27001-2013"), ("ISO/IEC 27001", "iso27001-2022"), ("42001", "iso42001-2023"),
    ("iso27001-2022", "iso27001-2022"), ("ISMS", "iso27001-2022"), ("nonsense", None)])
def test_framework_names(text: str, framework: str | None) -> None:
    assert parse_framework(text) == framework


def test_headings_can_name_the_standard_of_their_column() -> None:
    assert heading_framework("Existing Controls (ISO 27001:2013)") == "iso27001-2013"
    assert heading_framework("ISO 42001 Controls") == "iso42001-2023"
    assert heading_framework("Annex A controls") is None


def test_fixture_csv_files_are_what_the_script_writes() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_fixtures", data("make_fixtures.py"))
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name, text in mod.csv_files().items():
        assert data(name).read_text(encoding="utf-8") == text, name
    assert data("custom_headings_mapping.yaml").read_text(encoding="utf-8") == mod.MAPPING_YAML
