"""OSCAL 1.2 documents of the crosswalk: catalogs of the standards (ids and titles only), the crosswalk as a
``mapping-collection``, the applicable controls of an approved SoA as a ``profile``; and reading a
mapping-collection back into crosswalk records (:mod:`engine.crosswalk.oscal_read`).

Plain JSON built with the standard library, so the engine needs no OSCAL library; the tests validate every
document with compliance-trestle. Choices worth knowing:

- **Ids.** OSCAL ids are tokens (a clause number such as ``4.1`` is not one), and one profile imports both
  standards, whose Annex A ids overlap (``A.5.2`` is in both). A control's OSCAL id is therefore
  ``framework_ref`` (``iso42001-2023_A.6.2.8``, ``iso27001-2022_4.1``); its ``label`` prop is the ref.
- **No ISO text.** Catalogs carry ids, official short titles, the kind of entry and the 27001 theme; not
  our summaries either: they are id-and-title catalogs for tools to map against.
- **Relationships** are NIST IR 8477's in OSCAL spelling: ``subset_of`` is ``subset-of`` and so on;
  ``equal`` is ``equal-to`` when the rationale is syntactic (same words) and ``equivalent-to`` otherwise
  (same meaning in other words), as OSCAL distinguishes them. Strength 1-10 is the map's
  ``confidence-score`` percentage (strength / 10); the justification is its ``remarks``; author, date,
  review status, reviewer, review date and provenance (shipped, tailored by the organisation, or imported)
  are props in riskmap's namespace.
- **No counterpart.** A record saying a control has no counterpart in the other framework names no target,
  which an OSCAL map cannot express: such controls are listed in the mapping's source or target
  ``gap-summary`` and, with their justification, as ``no-counterpart`` props of the mapping.
- **UUIDs** are name-based (UUID 5): a map keeps its UUID across exports, and a document's UUID changes
  when its content does.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from engine.config import ISO27001, ISO42001

from .mappings import Mapping
from .relationships import inverse

__all__ = ["NS", "OSCAL_VERSION", "RELATIONSHIP_TO_OSCAL", "OscalExport", "catalog_document", "control_id",
           "export_oscal", "mapping_collection", "soa_profile", "write_json"]

OSCAL_VERSION = "1.2.1"
NS = "urn:riskmap:oscal"
"""Namespace of riskmap's own props (absolute URI, as OSCAL requires for ``ns``)."""

RELATIONSHIP_TO_OSCAL = {"equal": "equal-to", "subset_of": "subset-of", "superset_of": "superset-of",
                         "intersects_with": "intersects-with", "no_relationship": "no-relationship"}

_UUID_NS = uuid.UUID("8f0b6a52-3c1d-5b7e-9a44-6d2f0c1e7b90")
_TEAM = "riskmap crosswalk team"


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(_UUID_NS, "\x1f".join(str(p) for p in parts)))


def control_id(framework: str, ref: str) -> str:
    """The OSCAL id of a control or clause: ``framework_ref``, unique across the exported catalogs."""
    return f"{framework}_{ref}"


def _timestamp(when: datetime | date | None) -> str:
    if when is None:
        when = datetime.now(UTC)
    elif not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day, tzinfo=UTC)
    if when.tzinfo is None:  # the store keeps naive UTC
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _prop(name: str, value: object, *, ns: str | None = NS, remarks: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "value": str(value).strip()}
    if ns:
        out["ns"] = ns
    if remarks:
        out["remarks"] = remarks
    return out


def _metadata(title: str, version: str, when: datetime | date | None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"title": title, "last-modified": _timestamp(when), "version": version,
                            "oscal-version": OSCAL_VERSION}
    meta.update({k.replace("_", "-"): v for k, v in extra.items() if v})
    return meta


# Catalogs ----------------------------------------------------------------------------------------------


def _control(framework: str, entry: MappingABC[str, Any], children: dict[str | None, list[Any]]) -> dict[str, Any]:
    props = [_prop("label", entry["ref"], ns=None), _prop("kind", entry["kind"])]
    if entry.get("theme"):
        props.append(_prop("theme", entry["theme"]))
    out: dict[str, Any] = {"id": control_id(framework, entry["ref"]), "title": entry["title"], "props": props}
    subs = [_control(framework, c, children) for c in children.get(entry["ref"], []) if c["kind"] != "annex_a_group"]
    if subs:
        out["controls"] = subs
    return out


def _group(framework: str, entry: MappingABC[str, Any], children: dict[str | None, list[Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": control_id(framework, entry["ref"]), "title": entry["title"],
                           "props": [_prop("label", entry["ref"], ns=None)]}
    kids = children.get(entry["ref"], [])
    groups = [_group(framework, c, children) for c in kids if c["kind"] == "annex_a_group"]
    controls = [_control(framework, c, children) for c in kids if c["kind"] != "annex_a_group"]
    if groups:  # OSCAL 1.2 (as compliance-trestle reads it): a group holds groups or controls, not both
        out["groups"] = groups + ([{"id": control_id(framework, entry["ref"]) + "_controls",
                                    "title": entry["title"], "controls": controls}] if controls else [])
    elif controls:
        out["controls"] = controls
    return out


def catalog_document(framework: MappingABC[str, Any], entries: Iterable[MappingABC[str, Any]], *,
                     generated_at: datetime | date | None = None) -> dict[str, Any]:
    """An OSCAL catalog of one framework: ids, official short titles, kind and theme; no ISO text.

    ``framework`` is a row of ``frameworks`` (framework, name, edition, title, copyright, catalog_version);
    ``entries`` are its ``controls`` rows (ref, title, kind, parent_ref, theme) in catalog order. Clauses
    form one group of nested controls (``4`` holds ``4.1`` ...); each Annex A group is a group.
    """
    fw = framework["framework"]
    rows = list(entries)
    children: dict[str | None, list[Any]] = {}
    for e in rows:
        children.setdefault(e.get("parent_ref") or None, []).append(e)
    top = children.get(None, [])
    groups = []
    clauses = [_control(fw, e, children) for e in top if e["kind"] == "clause"]
    if clauses:
        groups.append({"id": control_id(fw, "clauses"), "title": "Clauses", "controls": clauses})
    groups += [_group(fw, e, children) for e in top if e["kind"] == "annex_a_group"]
    loose = [_control(fw, e, children) for e in top if e["kind"] not in ("clause", "annex_a_group")]
    meta = _metadata(f"{_framework_title(framework)} - identifiers and titles", str(framework.get("catalog_version") or "1"),
                     generated_at, props=[_prop("framework", fw)], remarks=framework.get("copyright"))
    doc: dict[str, Any] = {"uuid": _uuid("catalog", fw, _digest(rows)), "metadata": meta}
    if groups:
        doc["groups"] = groups
    if loose:
        doc["controls"] = loose
    return {"catalog": doc}


def _framework_title(framework: MappingABC[str, Any]) -> str:
    name, edition = framework.get("name"), framework.get("edition")
    return f"{name}:{edition}" if name and edition else str(name or framework["framework"])


def _digest(content: object) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


# Mapping collection ------------------------------------------------------------------------------------


def _oscal_relationship(m: Mapping) -> str:
    if m.relationship == "equal" and m.rationale_type != "syntactic":
        return "equivalent-to"
    return RELATIONSHIP_TO_OSCAL[m.relationship]


def _provenance_props(m: Mapping) -> list[dict[str, Any]]:
    props = [_prop("author", m.author), _prop("authored-on", m.authored_on.isoformat()),
             _prop("review-status", m.review_status)]
    if m.reviewer:
        props.append(_prop("reviewer", m.reviewer))
    if m.reviewed_on:
        props.append(_prop("reviewed-on", m.reviewed_on.isoformat()))
    if m.provenance:
        props.append(_prop("provenance", m.provenance))
    return props


def _map(m: Mapping) -> dict[str, Any]:
    out: dict[str, Any] = {
        "uuid": _uuid("map", m.source_framework, m.source_ref, m.target_framework, m.target_ref),
        "matching-rationale": m.rationale_type,
        "relationship": _oscal_relationship(m),
        "sources": [{"type": "control", "id-ref": control_id(m.source_framework, m.source_ref)}],
        "targets": [{"type": "control", "id-ref": control_id(m.target_framework, m.target_ref)}],
    }
    if m.relationship != "no_relationship":
        out["confidence-score"] = {"percentage": round(m.strength / 10, 1)}
    out["props"] = _provenance_props(m)
    out["remarks"] = m.justification
    return out


def _oriented(records: list[Mapping], source_fw: str, target_fw: str) -> list[Mapping]:
    """The pair's records as source_fw -> target_fw; a record stored the other way round is read inversely."""
    out = []
    for m in records:
        if m.source_framework == target_fw and m.target_ref:
            m = Mapping(m.target_framework, m.target_ref, m.source_framework, m.source_ref, inverse(m.relationship),
                        m.strength, m.rationale_type, m.justification, m.author, m.authored_on, m.review_status,
                        m.origin_file, m.line, m.file, m.reviewer, m.reviewed_on, m.provenance)
        out.append(m)
    return out


def _gap(side: str, framework: str, records: list[Mapping]) -> dict[str, Any] | None:
    ids = [control_id(m.source_framework, m.source_ref) for m in records if m.source_framework == framework]
    if not ids:
        return None
    return {"uuid": _uuid(side, framework, *ids), "unmapped-controls": [{"with-ids": ids}]}


def _mapping(source_fw: str, target_fw: str, records: list[Mapping], hrefs: MappingABC[str, str]) -> dict[str, Any]:
    pairs = [m for m in _oriented(records, source_fw, target_fw) if m.target_ref]
    alone = [m for m in records if not m.target_ref]
    out: dict[str, Any] = {"uuid": _uuid("mapping", source_fw, target_fw)}
    for side, fw in (("source-resource", source_fw), ("target-resource", target_fw)):
        out[side] = {"type": "catalog", "href": hrefs[fw], "props": [_prop("framework", fw)]}
    out["maps"] = [_map(m) for m in pairs]
    if alone:
        out["props"] = [_prop("no-counterpart", control_id(m.source_framework, m.source_ref),
                              remarks=m.justification) for m in alone]
    for side, fw in (("source-gap-summary", source_fw), ("target-gap-summary", target_fw)):
        gap = _gap(side, fw, alone)
        if gap:
            out[side] = gap
    return out


def _framework_pairs(records: list[Mapping]) -> list[tuple[str, str]]:
    """Each unordered framework pair once, oriented the way most of its links are stored."""
    counts = Counter((m.source_framework, m.target_framework) for m in records if m.target_ref)
    pairs: list[tuple[str, str]] = []
    for m in records:
        a, b = m.source_framework, m.target_framework
        if (a, b) in pairs or (b, a) in pairs:
            continue
        pairs.append((a, b) if counts[(a, b)] >= counts[(b, a)] else (b, a))
    return pairs


def mapping_collection(records: Iterable[Mapping], hrefs: MappingABC[str, str], *, title: str | None = None,
                       generated_at: datetime | date | None = None) -> dict[str, Any]:
    """The crosswalk as an OSCAL ``mapping-collection``: one ``mapping`` per framework pair.

    ``hrefs`` gives, for each framework, the (relative) reference of its exported catalog. Every record
    becomes one map (source and target one control each) or, when it names no target, a gap-summary
    entry with a ``no-counterpart`` prop carrying the justification.
    """
    recs = list(records)
    if not recs:
        raise ValueError("a mapping collection needs at least one crosswalk record")
    parties = sorted({m.author for m in recs} | {m.reviewer for m in recs if m.reviewer})
    party_uuid = {p: _uuid("party", p) for p in parties}
    roles = [{"id": "mapping-author", "title": "Mapping author"}]
    responsible = [{"role-id": "mapping-author", "party-uuids": [party_uuid[a] for a in sorted({m.author for m in recs})]}]
    reviewers = sorted({m.reviewer for m in recs if m.reviewer})
    if reviewers:
        roles.append({"id": "mapping-reviewer", "title": "Mapping reviewer"})
        responsible.append({"role-id": "mapping-reviewer", "party-uuids": [party_uuid[r] for r in reviewers]})
    statuses = Counter(m.review_status for m in recs)
    rationale = Counter(m.rationale_type for m in recs).most_common(1)[0][0]
    fws = sorted({m.source_framework for m in recs} | {m.target_framework for m in recs})
    meta = _metadata(title or "riskmap crosswalk " + " / ".join(fws), _digest([m.__dict__ for m in recs])[:12],
                     generated_at, roles=roles,
                     parties=[{"uuid": party_uuid[p], "type": "organization" if p == _TEAM else "person", "name": p}
                              for p in parties])
    description = ("Authored set-theory relationship mapping (NIST IR 8477) between "
                   + " and ".join(fws) + ": " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
                   + " records. 'authored' means written, not independently reviewed; a reviewed record names"
                   " its reviewer and date in its props.")
    provenance = {"method": "human", "matching-rationale": rationale,
                  "status": "draft" if statuses.get("draft") else "complete",
                  "mapping-description": description, "responsible-parties": responsible}
    mappings = []
    for a, b in _framework_pairs(recs):
        mine = [m for m in recs if {m.source_framework, m.target_framework} == {a, b}]
        mappings.append(_mapping(a, b, mine, hrefs))
    doc = {"uuid": _uuid("mapping-collection", _digest([m.__dict__ for m in recs])), "metadata": meta,
           "provenance": provenance, "mappings": mappings}
    return {"mapping-collection": doc}


# Profile -----------------------------------------------------------------------------------------------


def soa_profile(version: MappingABC[str, Any], applicable: Iterable[tuple[str, str]],
                hrefs: MappingABC[str, str]) -> dict[str, Any]:
    """The applicable controls of an approved SoA version as an OSCAL profile, one import per catalog.

    ``version`` is a row of ``soa_versions`` (version, approved_by, approved_at, note); ``applicable`` the
    (framework, ref) pairs marked applicable in it, in SoA order.
    """
    by_fw: dict[str, list[str]] = {}
    for fw, ref in applicable:
        by_fw.setdefault(fw, []).append(control_id(fw, ref))
    if not by_fw:
        raise ValueError(f"SoA version {version['version']} has no applicable control")
    n = version["version"]
    props = [_prop("approved-by", version["approved_by"]), _prop("soa-version", n)]
    meta = _metadata(f"Statement of Applicability version {n}: applicable controls", str(n),
                     version["approved_at"], props=props, remarks=version.get("note"))
    imports = [{"href": hrefs[fw], "include-controls": [{"with-ids": ids}]} for fw, ids in by_fw.items()]
    doc = {"uuid": _uuid("profile", n, _digest(by_fw)), "metadata": meta, "imports": imports,
           "merge": {"as-is": True}}
    return {"profile": doc}


# Writing -----------------------------------------------------------------------------------------------


def write_json(document: MappingABC[str, Any], path: Path) -> Path:
    """Write one OSCAL document as indented UTF-8 JSON (stable key order, so exports diff cleanly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


@dataclass
class OscalExport:
    """What :func:`export_oscal` wrote: ``files`` by role (``catalog:<framework>``, ``mapping``, ``profile``),
    and ``notes`` for what it did not write and why."""

    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def export_oscal(db: str | Path | None, directory: Path,
                 frameworks: tuple[str, ...] = (ISO42001, ISO27001)) -> OscalExport:
    """Write the OSCAL catalogs of ``frameworks``, the crosswalk in force between them (the organisation's
    tailoring over the shipped records over imported ones) as a mapping-collection, and the applicable controls of the latest approved SoA version as a profile
    (with a catalog for each further framework the profile needs, such as the organisation's own)."""
    from . import oscal_read  # the store queries live beside the reader

    data = oscal_read.load_store(db, frameworks)
    result = OscalExport()
    wanted = list(frameworks) + [fw for fw in data.profile_frameworks if fw not in frameworks]
    hrefs = {fw: f"{fw}.json" for fw in wanted}
    for fw in wanted:
        doc = catalog_document(data.frameworks[fw], data.controls[fw], generated_at=data.generated_at)
        result.files[f"catalog:{fw}"] = write_json(doc, directory / hrefs[fw])
    if data.records:
        doc = mapping_collection(data.records, hrefs, generated_at=data.generated_at)
        result.files["mapping"] = write_json(doc, directory / "crosswalk-mapping.json")
    else:
        result.notes.append("no authored crosswalk records between " + ", ".join(frameworks))
    if data.soa_version is None:
        result.notes.append("no approved SoA version yet (riskmap soa snapshot): no profile written")
    elif not data.applicable:
        result.notes.append(f"SoA version {data.soa_version['version']} has no applicable control: no profile")
    else:
        doc = soa_profile(data.soa_version, data.applicable, hrefs)
        result.files["profile"] = write_json(doc, directory / "soa-profile.json")
    return result
