"""Crosswalks imported from other tools: CISO Assistant libraries (frameworks with their copyright header,
mapping sets), OSCAL mapping collections as an extra or tailored crosswalk, and inference through them,
with every authored record, no_relationship included, winning for its pair."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from trestle.oscal.mapping import MappingCollection

from engine import soa, store
from engine.crosswalk import coverage, imported, oscal, tailoring
from engine.errors import InputError
from engine.lifecycle import init_database

from . import stores
from .conftest import TEST_DATA

pytestmark = pytest.mark.both_stores

LIBS = TEST_DATA / "libraries"
WHO = {"actor": "Ada Owner", "channel": "cli"}


def links(db: Path, sql_where: str, params: list | None = None) -> list[tuple]:
    with store.connect(db) as con:
        return con.execute("SELECT source_framework, source_ref, target_framework, target_ref, relationship, "
                           f"strength, origin, provenance FROM v_crosswalk WHERE {sql_where} ORDER BY ALL",
                           params or []).fetchall()


def test_a_library_loads_its_framework_with_the_header_and_its_mappings(fresh_db: Path) -> None:
    report = imported.import_library(fresh_db, LIBS / "good_extra_framework.yaml", **WHO)
    assert (report.mode, report.frameworks, report.controls, report.mappings) == \
        ("library", ["acme-ai-baseline"], 5, 5)
    with store.connect(fresh_db) as con:
        fw = con.execute("SELECT copyright, custom, source FROM frameworks WHERE framework = 'acme-ai-baseline'").fetchone()
        head = con.execute("SELECT kind, name, version, provider, copyright, imported_by FROM crosswalk_imports"
                           ).fetchall()
        hist = con.execute("SELECT actor, action FROM v_history WHERE entity = 'crosswalk_import'").fetchall()
    assert fw[0] == "Written for riskmap's tests; free to copy." and fw[1] is False and "version 2" in fw[2]
    assert head == [("library", "ACME AI assurance baseline", "2", "ACME Test Provider",
                     "Written for riskmap's tests; free to copy.", "Ada Owner")]
    assert hist == [("Ada Owner", "import")]
    # an extra framework is a published one, not the organisation's: it does not join the SoA
    assert "acme-ai-baseline" not in set(soa.soa_frame(fresh_db)["framework"])
    assert links(fresh_db, "source_ref = '4.10' AND origin = 'authored'") == [
        ("acme-ai-baseline", "4.10", "iso42001-2023", "A.6.2.8", "subset_of", 7, "authored", "imported")]
    assert imported.imports_frame(fresh_db)["mappings"].to_list() == [5]


def test_inference_reaches_through_an_imported_framework_where_no_record_decides(fresh_db: Path) -> None:
    before = links(fresh_db, "source_framework = 'iso27001-2022' AND target_framework = 'iso42001-2023' "
                             "AND origin = 'inferred'")
    assert before == []
    imported.import_library(fresh_db, LIBS / "good_bridge_framework.yaml", **WHO)
    inferred = links(fresh_db, "source_framework = 'iso27001-2022' AND target_framework = 'iso42001-2023' "
                               "AND origin = 'inferred'")
    # A.8.16 -> LOG-1 -> A.6.2.8: no shipped record for the pair, so inference fills it
    assert inferred == [("iso27001-2022", "A.8.16", "iso42001-2023", "A.6.2.8", "intersects_with", 6, "inferred",
                         "imported")]
    # the shipped link A.8.15 / A.6.2.8 stands; the shipped rejection of A.8.17 / A.6.2.8 stands; A.7.4, which
    # the shipped crosswalk says has no 27001 counterpart at all, is not reached from 27001
    assert links(fresh_db, "source_ref = 'A.8.15' AND target_ref = 'A.6.2.8'")[0][6:] == ("inverse", "shipped")
    assert links(fresh_db, "source_ref = 'A.8.17' AND target_ref = 'A.6.2.8'")[0][4:] == \
        ("no_relationship", 0, "inverse", "shipped")
    assert links(fresh_db, "source_framework = 'iso27001-2022' AND target_ref = 'A.7.4'") == []
    path = coverage.counterparts(fresh_db, "iso42001-2023", "A.6.2.8").filter(
        pl.col("target_ref") == "A.8.16")["path"][0]
    assert path == ("iso42001-2023:A.6.2.8 -superset_of-> bridge-logging:LOG-1 -subset_of-> iso27001-2022:A.8.16")
    # a tailoring of the pair wins over inference too: disputed, the inferred link goes
    tailoring.tailor(fresh_db, "iso27001-2022:A.8.16", "iso42001-2023:A.6.2.8", "add", relationship="intersects_with",
                     strength=2, reason="Our monitoring watches the models only a little.", **WHO)
    assert links(fresh_db, "source_ref = 'A.8.16' AND target_ref = 'A.6.2.8'") == [
        ("iso27001-2022", "A.8.16", "iso42001-2023", "A.6.2.8", "intersects_with", 2, "authored", "tailored")]


def test_imports_survive_init_and_a_second_import_replaces_the_first(fresh_db: Path) -> None:
    imported.import_library(fresh_db, LIBS / "good_bridge_framework.yaml", **WHO)
    init_database(fresh_db)
    assert len(links(fresh_db, "origin = 'inferred' AND provenance = 'imported'")) > 0
    report = imported.import_library(fresh_db, LIBS / "good_bridge_framework.yaml", **WHO)
    assert report.mappings == 6
    with store.connect(fresh_db) as con:
        assert con.execute("SELECT count(*) FROM imported_mappings").fetchone() == (6,)
        assert con.execute("SELECT count(*) FROM controls WHERE framework = 'bridge-logging'").fetchone() == (3,)


def test_a_library_of_a_shipped_framework_links_riskmaps_own_controls(fresh_db: Path, run_cli) -> None:
    code, out, err = run_cli("import", "library", LIBS / "good_shipped_framework.yaml", "--db", fresh_db)
    assert code == 0, err
    assert "mapping record(s) imported as urn:riskmap-tests:risk:library:iso27001-2022-outline" in out
    assert "not in riskmap's catalog, left out: iso27001-2022: a.9.9" in out.lower()
    with store.connect(fresh_db) as con:
        assert con.execute("SELECT count(*) FROM imported_frameworks").fetchone() == (0,)  # nothing loaded again
        pairs = con.execute("SELECT source_framework, source_ref FROM imported_mappings").fetchall()
    assert pairs and all(fw == "iso27001-2022" and ref.startswith("A.") for fw, ref in pairs)


def test_a_mapping_set_of_a_framework_not_loaded_is_refused_by_name(fresh_db: Path, run_cli) -> None:
    code, _, err = run_cli("import", "library", LIBS / "mapping_set_framework_not_loaded.yaml", "--db", fresh_db)
    assert code == 2 and "mapping set defect-set refers to a framework that is not loaded" in err
    assert "urn:intuitem:risk:framework:scf-2025.2.2" in err
    with store.connect(fresh_db) as con:
        assert con.execute("SELECT count(*) FROM crosswalk_imports").fetchone() == (0,)


def test_a_dry_run_writes_nothing(fresh_db: Path, run_cli) -> None:
    code, out, _ = run_cli("import", "library", LIBS / "good_bridge_framework.yaml", "--dry-run", "--db", fresh_db)
    assert code == 0 and "6 mapping record(s) would be imported" in out
    assert "frameworks would be loaded: bridge-logging (3 controls)" in out
    with store.connect(fresh_db) as con:
        assert con.execute("SELECT count(*) FROM imported_mappings").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM frameworks WHERE framework = 'bridge-logging'").fetchone() == (0,)


def test_a_library_may_not_take_the_organisations_own_framework(fresh_db: Path) -> None:
    soa.add_control(fresh_db, "ORG-1", "Our own", framework="acme-ai-baseline", **WHO)
    with pytest.raises(InputError, match="the organisation's own framework has this id"):
        imported.import_library(fresh_db, LIBS / "good_extra_framework.yaml", **WHO)


# OSCAL --------------------------------------------------------------------------------------------------


def test_oscal_export_carries_the_tailoring_and_imports_back_as_tailoring(fresh_db: Path, tmp_path: Path,
                                                                        template_db: Path, run_cli) -> None:
    tailoring.tailor(fresh_db, "iso42001-2023:A.6.2.8", "iso27001-2022:A.8.15", "dispute",
                     reason="Our AI platform keeps its own logs.", **WHO)
    tailoring.tailor(fresh_db, "iso42001-2023:A.7.4", "iso27001-2022:A.5.12", "add", relationship="intersects_with",
                     strength=3, reason="We classify training data as information.", **WHO)
    code, out, _ = run_cli("export", "oscal", tmp_path / "oscal", "--db", fresh_db)
    assert code == 0
    assert f"{tmp_path / 'oscal' / 'crosswalk-mapping.json'}: mapping" in out
    assert "note: no approved SoA version yet" in out
    path = tmp_path / "oscal" / "crosswalk-mapping.json"
    assert MappingCollection.oscal_read(path) is not None
    maps = json.loads(path.read_text())["mapping-collection"]["mappings"][0]["maps"]
    tailored = [m for m in maps if {"name": "provenance", "value": "tailored", "ns": oscal.NS} in m["props"]]
    assert len(tailored) == 2
    # another database takes the organisation's view from the file
    other = stores.copy_db(template_db, tmp_path / "other")
    code, out, err = run_cli("import", "mapping", path, "--as", "tailored", "--db", other)
    assert code == 0, err
    assert "2 tailored record(s) written" in out
    decisions = sorted(tailoring.tailorings_frame(other)["decision"].to_list())
    assert decisions == ["add", "dispute"]
    assert links(other, "source_ref = 'A.6.2.8' AND target_ref = 'A.8.15'")[0][4:] == \
        ("no_relationship", 0, "authored", "tailored")


def test_an_oscal_collection_as_an_extra_crosswalk(fresh_db: Path, tmp_path: Path) -> None:
    doc = {"mapping-collection": {
        "uuid": "0b1e9c4e-7d2a-4f3b-8c5d-6e7f8a9b0c1d",
        "metadata": {"title": "Vendor view", "last-modified": "2026-10-01T00:00:00Z", "version": "1",
                     "oscal-version": "1.2.1"},
        "provenance": {"method": "human", "matching-rationale": "semantic", "status": "complete",
                       "mapping-description": "A vendor's view."},
        "mappings": [{"uuid": "1b1e9c4e-7d2a-4f3b-8c5d-6e7f8a9b0c1d",
                      "source-resource": {"type": "catalog", "href": "iso42001-2023.json"},
                      "target-resource": {"type": "catalog", "href": "iso27001-2022.json"},
                      "maps": [
                          {"uuid": "2b1e9c4e-7d2a-4f3b-8c5d-6e7f8a9b0c1d", "relationship": "intersects-with",
                           "sources": [{"type": "control", "id-ref": "A.6.2.8"}],
                           "targets": [{"type": "control", "id-ref": "A.8.16"}],
                           "confidence-score": {"percentage": 0.4}, "remarks": "Monitoring reads the logs."},
                          {"uuid": "3b1e9c4e-7d2a-4f3b-8c5d-6e7f8a9b0c1d", "relationship": "equal-to",
                           "sources": [{"type": "control", "id-ref": "A.6.2.8"}],
                           "targets": [{"type": "control", "id-ref": "A.8.15"}],
                           "confidence-score": {"percentage": 1.0}, "remarks": "The vendor thinks so."}]}]}}
    path = tmp_path / "vendor.json"
    path.write_text(json.dumps(doc))
    report = imported.import_mapping(fresh_db, path, **WHO)
    assert (report.source, report.mappings, report.shadowed) == ("oscal:vendor.json", 2, 1)
    assert links(fresh_db, "source_ref = 'A.6.2.8' AND target_ref IN ('A.8.15', 'A.8.16') AND origin = 'authored'") == [
        ("iso42001-2023", "A.6.2.8", "iso27001-2022", "A.8.15", "intersects_with", 7, "authored", "shipped"),
        ("iso42001-2023", "A.6.2.8", "iso27001-2022", "A.8.16", "intersects_with", 4, "authored", "imported")]
