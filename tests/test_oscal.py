"""OSCAL out and in: every exported document validates with compliance-trestle, the mapping reads back to
the authored records, and a mapping collection from another tool is read with clear problems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from trestle.oscal.catalog import Catalog
from trestle.oscal.mapping import MappingCollection
from trestle.oscal.profile import Profile

from engine import crosswalk, soa
from engine.crosswalk import oscal, oscal_read
from engine.errors import InputError

from .conftest import TEST_DATA

pytestmark = pytest.mark.both_stores

OSCAL_RELATIONSHIPS = {"equivalent-to", "equal-to", "subset-of", "superset-of", "intersects-with", "no-relationship"}
RATIONALES = {"syntactic", "semantic", "functional"}
MAIN = "iso42001-2023__iso27001-2022.csv"


def _known() -> set[tuple[str, str]]:
    index = crosswalk.catalog.reference_index()
    return {(fw, e["ref"]) for fw, entries in index.items() for e in entries}


def _key(m: crosswalk.Mapping) -> tuple[object, ...]:
    return (m.source_framework, m.source_ref, m.target_framework, m.target_ref, m.relationship, m.strength,
            m.rationale_type, m.justification, m.author, m.authored_on, m.review_status, m.reviewer or "",
            m.reviewed_on)


@pytest.fixture
def approved_db(fresh_db: Path) -> Path:
    for fw, ref in (("iso27001-2022", "A.5.1"), ("iso27001-2022", "A.8.15"), ("iso42001-2023", "A.6.2.8")):
        soa.set_row(fresh_db, fw, ref, applicable=True, reasons=["best_practice"], actor="tester", channel="cli")
    soa.set_row(fresh_db, "iso27001-2022", "A.7.4", applicable=False, exclusion_reason="outside_scope",
                justification="No premises of our own.", actor="tester", channel="cli")
    soa.snapshot(fresh_db, approved_by="Ada Owner", confirmation="First version", actor="tester",
                 channel="cli")
    return fresh_db


@pytest.fixture
def exported(approved_db: Path, tmp_path: Path) -> oscal.OscalExport:
    return oscal.export_oscal(approved_db, tmp_path / "oscal")


def test_every_exported_file_validates_with_trestle(exported: oscal.OscalExport) -> None:
    assert set(exported.files) == {"catalog:iso42001-2023", "catalog:iso27001-2022", "mapping", "profile"}
    assert exported.notes == []
    for role, path in exported.files.items():
        model = {"catalog": Catalog, "mapping": MappingCollection, "profile": Profile}[role.split(":")[0]]
        assert model.oscal_read(path) is not None, path
        assert json.loads(path.read_text())  # plain JSON


def _catalog_ids(doc: dict) -> dict[str, str]:
    out: dict[str, str] = {}

    def walk(node: dict) -> None:
        for c in node.get("controls", []):
            out[c["id"]] = c["title"]
            walk(c)
        for g in node.get("groups", []):
            walk(g)
    walk(doc["catalog"])
    return out


def test_catalogs_carry_ids_and_official_titles_only(exported: oscal.OscalExport) -> None:
    index = crosswalk.catalog.reference_index()
    for fw in ("iso42001-2023", "iso27001-2022"):
        path = exported.files[f"catalog:{fw}"]
        doc = json.loads(path.read_text())
        ids = _catalog_ids(doc)
        wanted = {oscal.control_id(fw, e["ref"]): e["title"] for e in index[fw] if e["kind"] != "annex_a_group"}
        assert ids == wanted
        assert "parts" not in path.read_text() and "summary" not in path.read_text()  # no text beyond titles
        assert "copyrighted" in doc["catalog"]["metadata"]["remarks"]


def test_mapping_uses_the_oscal_vocabulary_and_resolves_to_the_catalogs(exported: oscal.OscalExport) -> None:
    doc = json.loads(exported.files["mapping"].read_text())["mapping-collection"]
    assert doc["provenance"]["method"] == "human" and doc["provenance"]["status"] == "complete"
    assert "not independently reviewed" in doc["provenance"]["mapping-description"]
    assert [p["name"] for p in doc["metadata"]["parties"]] == ["riskmap crosswalk team"]
    (mapping,) = doc["mappings"]
    catalogs = {fw: _catalog_ids(json.loads(exported.files[f"catalog:{fw}"].read_text()))
                for fw in ("iso42001-2023", "iso27001-2022")}
    assert mapping["source-resource"]["href"] == "iso42001-2023.json"
    for m in mapping["maps"]:
        assert m["relationship"] in OSCAL_RELATIONSHIPS and m["matching-rationale"] in RATIONALES
        assert m["sources"][0]["id-ref"] in catalogs["iso42001-2023"]
        assert m["targets"][0]["id-ref"] in catalogs["iso27001-2022"]
        assert m["remarks"]
    by_pair = {(m["sources"][0]["id-ref"], m["targets"][0]["id-ref"]): m for m in mapping["maps"]}
    sub = by_pair["iso42001-2023_A.4.5", "iso27001-2022_A.5.9"]
    assert sub["relationship"] == "subset-of" and sub["confidence-score"] == {"percentage": 0.7}
    assert by_pair["iso42001-2023_7.5.3", "iso27001-2022_7.5.3"]["relationship"] == "equal-to"
    assert "confidence-score" not in by_pair["iso42001-2023_A.7.6", "iso27001-2022_A.5.13"]
    gaps = mapping["source-gap-summary"]["unmapped-controls"][0]["with-ids"]
    assert "iso42001-2023_A.7.4" in gaps
    assert "iso27001-2022_A.7.4" in mapping["target-gap-summary"]["unmapped-controls"][0]["with-ids"]


def test_mapping_reads_back_to_the_authored_records(exported: oscal.OscalExport) -> None:
    back = oscal_read.read_mapping_collection(exported.files["mapping"], known=_known())
    authored = [m for m in crosswalk.load_crosswalk_files() if m.origin_file == MAIN]
    assert sorted(map(_key, back)) == sorted(map(_key, authored))
    assert not crosswalk.check_records(back, _known(), {"iso42001-2023", "iso27001-2022"})
    model = MappingCollection.oscal_read(exported.files["mapping"])
    maps = model.mappings[0].maps if isinstance(model.mappings, list) else model.mappings.maps
    assert len(maps) == len([m for m in authored if m.target_ref])


def test_a_named_review_survives_the_round_trip(tmp_path: Path) -> None:
    records, _ = crosswalk.parse_file(TEST_DATA / "crosswalks" / "good_reviewed.csv")
    hrefs = {"iso42001-2023": "iso42001-2023.json", "iso27001-2022": "iso27001-2022.json"}
    path = oscal.write_json(oscal.mapping_collection(records, hrefs), tmp_path / "m.json")
    assert MappingCollection.oscal_read(path) is not None
    doc = json.loads(path.read_text())["mapping-collection"]
    assert {r["role-id"] for r in doc["provenance"]["responsible-parties"]} == {"mapping-author", "mapping-reviewer"}
    back = oscal_read.read_mapping_collection(path, known=_known())
    assert sorted(map(_key, back)) == sorted(map(_key, records))


def test_profile_lists_the_applicable_controls_of_the_approved_version(exported: oscal.OscalExport) -> None:
    doc = json.loads(exported.files["profile"].read_text())["profile"]
    imports = {i["href"]: i["include-controls"][0]["with-ids"] for i in doc["imports"]}
    assert imports == {"iso27001-2022.json": ["iso27001-2022_A.5.1", "iso27001-2022_A.8.15"],
                       "iso42001-2023.json": ["iso42001-2023_A.6.2.8"]}
    assert doc["metadata"]["version"] == "1"
    assert {"name": "approved-by", "value": "Ada Owner", "ns": oscal.NS} in doc["metadata"]["props"]


def test_no_approved_soa_means_no_profile_and_says_why(fresh_db: Path, tmp_path: Path) -> None:
    result = oscal.export_oscal(fresh_db, tmp_path)
    assert "profile" not in result.files and "mapping" in result.files
    assert any("no approved SoA version" in n for n in result.notes)


def _foreign(tmp_path: Path, maps: list[dict], **resource: str) -> Path:
    doc = {"mapping-collection": {
        "uuid": "0b1e9c4e-7d2a-4f3b-8c5d-6e7f8a9b0c1d",
        "metadata": {"title": "Vendor crosswalk", "last-modified": "2026-10-01T00:00:00Z", "version": "3",
                     "oscal-version": "1.2.1"},
        "provenance": {"method": "human", "matching-rationale": "semantic", "status": "complete",
                       "mapping-description": "A vendor's crosswalk."},
        "mappings": [{"uuid": "1b1e9c4e-7d2a-4f3b-8c5d-6e7f8a9b0c1d",
                      "source-resource": {"type": "catalog", "href": resource.get("source", "vendor-ai.json")},
                      "target-resource": {"type": "catalog", "href": resource.get("target", "iso27001-2022.json")},
                      "maps": maps}]}}
    path = tmp_path / "vendor-mapping.json"
    path.write_text(json.dumps(doc))
    assert MappingCollection.oscal_read(path) is not None  # the test file itself is valid OSCAL
    return path


def _m(rel: str, src: str, tgt: str, **extra: object) -> dict:
    return {"uuid": "2b1e9c4e-7d2a-4f3b-8c5d-6e7f8a9b0c1d", "relationship": rel,
            "sources": [{"type": "control", "id-ref": src}], "targets": [{"type": "control", "id-ref": tgt}],
            **extra}


def test_a_foreign_mapping_collection_is_matched_by_ref(tmp_path: Path) -> None:
    path = _foreign(tmp_path, [_m("superset-of", "a.6.2.8", "a.8.15", remarks="Ours logs more.",
                                  **{"confidence-score": {"category": "high"}})])
    (rec,) = oscal_read.read_mapping_collection(path, known=_known(), frameworks={"source": "iso42001-2023"})
    assert (rec.source_framework, rec.source_ref, rec.target_framework, rec.target_ref) == \
        ("iso42001-2023", "A.6.2.8", "iso27001-2022", "A.8.15")
    assert (rec.relationship, rec.strength, rec.rationale_type, rec.review_status) == \
        ("superset_of", 8, "semantic", "authored")
    assert rec.author == "imported from vendor-mapping.json" and rec.authored_on.isoformat() == "2026-10-01"


def test_a_bad_mapping_collection_lists_every_problem(tmp_path: Path) -> None:
    path = _foreign(tmp_path, [_m("overlaps", "A.6.2.8", "A.8.15", remarks="x"),
                               _m("intersects-with", "A.6.2.8", "A.8.99"),
                               _m("subset-of", "A.6.2.8", "A.8.15", remarks="y")])
    with pytest.raises(InputError) as err:
        oscal_read.read_mapping_collection(path, known=_known(), frameworks={"source": "iso42001-2023"})
    text = str(err.value)
    assert f"{path}:mappings[0].maps[0]:relationship: unknown relationship (value 'overlaps')" in text
    assert "mappings[0].maps[1]:remarks: missing justification" in text
    assert "mappings[0].maps[1]:targets[0].id-ref: unknown control of iso27001-2022 (value 'A.8.99')" in text
    assert "mappings[0].maps[2]:confidence-score: no strength for this map" in text
    (ok,) = oscal_read.read_mapping_collection(_foreign(tmp_path, [_m("subset-of", "A.6.2.8", "A.8.15",
                                                                      remarks="y")]),
                                               known=_known(), frameworks={"source": "iso42001-2023"},
                                               default_strength=4)
    assert ok.strength == 4


def test_a_catalog_of_unknown_framework_is_named(tmp_path: Path) -> None:
    path = _foreign(tmp_path, [_m("subset-of", "X1", "A.8.15", remarks="y")])
    with pytest.raises(InputError) as err:
        oscal_read.read_mapping_collection(path, known=_known())
    assert "mappings[0]:source-resource.href: cannot tell which framework this catalog is (value 'vendor-ai.json')" \
        in str(err.value)


def test_not_a_mapping_collection(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text('{"catalog": {}}')
    with pytest.raises(InputError, match="not an OSCAL mapping collection"):
        oscal_read.read_mapping_collection(path)
