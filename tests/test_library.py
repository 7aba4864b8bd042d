"""CISO Assistant libraries: the parser turns a library file into frameworks, controls and mappings for
riskmap, matches a shipped framework's library to riskmap's catalog by ref, and names every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import crosswalk
from engine.crosswalk import library
from engine.errors import InputError

from .conftest import TEST_DATA

LIBS = TEST_DATA / "libraries"


def _pairs(lib: library.Library) -> dict[tuple[str, str, str, str], crosswalk.Mapping]:
    return {(m.source_framework, m.source_ref, m.target_framework, m.target_ref): m for m in lib.mappings}


def test_an_extra_framework_with_its_mapping_sets() -> None:
    lib = library.parse_library(LIBS / "good_extra_framework.yaml")
    h = lib.header
    assert (h.urn, h.ref_id, h.version, h.provider, h.packager, h.locale) == (
        "urn:riskmap-tests:risk:library:acme-ai-baseline", "acme-ai-baseline", "2", "ACME Test Provider",
        "riskmap tests", "en")
    assert h.copyright == "Written for riskmap's tests; free to copy." and h.publication_date.isoformat() == "2026-06-30"
    (fw,) = lib.frameworks
    assert (fw.framework, fw.shipped) == ("acme-ai-baseline", False)
    assert fw.row()["copyright"] == h.copyright and fw.row()["custom"] is False
    got = [(c.ref, c.title, c.kind, c.parent_ref, c.grp, c.ordinal) for c in lib.controls]
    assert got == [("GOV", "Governance", "annex_a_group", None, "GOV", 1),
                   ("GOV-1", "Keep a register of AI systems", "annex_a_control", "GOV", "GOV", 2),
                   ("GOV-2", "GOV-2", "annex_a_control", "GOV", "GOV", 3),   # no name: the ref is its title
                   ("4", "Operations", "annex_a_group", None, "4", 4),
                   ("4.10", "Log model decisions", "annex_a_control", "4", "4", 5)]  # 4.10 stays 4.10


def test_relationships_map_onto_nist_ir_8477() -> None:
    pairs = _pairs(library.parse_library(LIBS / "good_extra_framework.yaml"))
    sub = pairs["acme-ai-baseline", "4.10", "iso42001-2023", "A.6.2.8"]
    assert (sub.relationship, sub.strength, sub.rationale_type) == ("subset_of", 7, "semantic")
    assert sub.justification == "Logging model decisions is one part of what the event log control asks."
    assert (sub.author, sub.authored_on.isoformat(), sub.review_status) == (
        "ACME Test Provider (packaged by riskmap tests)", "2026-06-30", "authored")
    inter = pairs["acme-ai-baseline", "GOV-1", "iso42001-2023", "A.4.2"]
    assert (inter.relationship, inter.strength, inter.rationale_type) == ("intersects_with", 4, "functional")
    assert inter.justification.startswith("Stated by the mapping set acme-to-42001 of the CISO Assistant library")
    none = pairs["acme-ai-baseline", "GOV-2", "iso42001-2023", "A.7.4"]
    assert (none.relationship, none.strength) == ("no_relationship", 0)
    equal = pairs["acme-ai-baseline", "GOV-2", "iso42001-2023", "A.2.2"]
    assert (equal.relationship, equal.strength) == ("equal", 10)  # equal with no strength: the same requirement
    sup = pairs["iso27001-2022", "A.8.15", "acme-ai-baseline", "4.10"]
    assert sup.relationship == "superset_of"
    assert {library.CISO_RELATIONSHIPS[k] for k in library.CISO_RELATIONSHIPS} == set(crosswalk.RELATIONSHIPS)


def test_records_pass_the_crosswalk_checks() -> None:
    lib = library.parse_library(LIBS / "good_extra_framework.yaml")
    known = {(fw, r) for fw, refs in library.shipped_frameworks().items() for r in refs}
    known |= {(c.framework, c.ref) for c in lib.controls}
    fws = set(library.shipped_frameworks()) | {f.framework for f in lib.frameworks}
    assert crosswalk.check_records(lib.mappings, known, fws) == []


def test_a_shipped_frameworks_library_links_riskmaps_own_controls() -> None:
    lib = library.parse_library(LIBS / "good_shipped_framework.yaml")
    (fw,) = lib.frameworks
    assert (fw.framework, fw.shipped) == ("iso27001-2022", True)
    assert lib.controls == []                       # nothing to load: riskmap ships the catalog
    assert lib.unmatched == ["iso27001-2022: A.9.9"]  # assessable, but not in the standard
    pairs = _pairs(lib)
    assert set(pairs) == {("iso27001-2022", "A.5.9", "iso42001-2023", "A.4.5"),
                          ("iso27001-2022", "A.8.15", "iso42001-2023", "A.6.2.8")}
    assert pairs["iso27001-2022", "A.5.9", "iso42001-2023", "A.4.5"].relationship == "superset_of"


def test_a_mapping_set_to_a_framework_already_loaded(tmp_path: Path) -> None:
    """A mapping library for an extra framework loaded earlier resolves through its refs."""
    text = (LIBS / "mapping_set_framework_not_loaded.yaml").read_text()
    lib = library.parse_library(LIBS / "mapping_set_framework_not_loaded.yaml",
                                loaded={"scf-2025.2.2": {"MON-01", "MON-02"}})
    assert "scf-2025.2.2" in text
    ((_, _, fw, ref),) = _pairs(lib)
    assert (fw, ref) == ("scf-2025.2.2", "MON-01")


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("mapping_set_framework_not_loaded.yaml",
         ":objects.requirement_mapping_set:target_framework_urn: mapping set defect-set refers to a framework that "
         "is not loaded (value 'urn:intuitem:risk:framework:scf-2025.2.2')"),
        ("unknown_relationship.yaml", ":objects.requirement_mapping_set.requirement_mappings[0]:relationship: "
                                      "unknown relationship (value 'overlaps'); expected equal | subset"),
        ("unknown_requirement.yaml", ":objects.requirement_mapping_set.requirement_mappings[0]:"
                                     "target_requirement_urn: not a requirement of iso42001-2023 "
                                     "(value 'urn:intuitem:risk:req_node:iso42001-2023:a.6.2.99')"),
        ("strength_out_of_range.yaml", ":strength_of_relationship: strength out of range (value '12')"),
        ("missing_strength.yaml", ":strength_of_relationship: no strength for this mapping"),
        ("missing_copyright_header.yaml", ":header:copyright: missing copyright"),
        ("unknown_parent.yaml", ":objects.framework.requirement_nodes[0]:parent_urn: unknown parent"),
        ("not_a_library.yaml", ":objects: not a CISO Assistant library"),
    ],
)
def test_each_defect_is_named_with_file_record_and_field(name: str, needle: str) -> None:
    path = LIBS / name
    with pytest.raises(InputError) as err:
        library.parse_library(path)
    lines = [str(p) for p in err.value.problems]
    assert any(ln.startswith(str(path)) and needle in ln for ln in lines), lines


def test_a_default_strength_fills_a_missing_one() -> None:
    lib = library.parse_library(LIBS / "missing_strength.yaml", default_strength=3)
    assert [m.strength for m in lib.mappings] == [3]


def test_every_problem_of_a_file_is_listed_once(tmp_path: Path) -> None:
    bad = tmp_path / "two_problems.yaml"
    bad.write_text((LIBS / "unknown_relationship.yaml").read_text().replace("strength_of_relationship: 5", "")
                   + "    - source_requirement_urn: urn:intuitem:risk:req_node:iso27001-2022:a.5.9\n"
                     "      target_requirement_urn: urn:intuitem:risk:req_node:iso42001-2023:a.4.5\n"
                     "      relationship: subset\n      strength_of_relationship: 0\n")
    with pytest.raises(InputError) as err:
        library.parse_library(bad)
    assert [(p.record, p.field) for p in err.value.problems] == [
        ("objects.requirement_mapping_set.requirement_mappings[0]", "relationship"),
        ("objects.requirement_mapping_set.requirement_mappings[1]", "strength_of_relationship")]


def test_an_unreadable_file_is_one_clear_problem(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("urn: [unclosed\n")
    with pytest.raises(InputError, match="cannot read the library"):
        library.parse_library(bad)
