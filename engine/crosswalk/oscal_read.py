"""Reading OSCAL: a ``mapping-collection`` back into crosswalk records, and the store data an OSCAL export
needs (:func:`load_store`).

:func:`read_mapping_collection` accepts what :mod:`engine.crosswalk.oscal` writes and mapping collections from
other tools: a control is named by riskmap's id (``iso42001-2023_A.6.2.8``) or by its own id within a
resource whose framework is known (a ``framework`` prop in riskmap's namespace, the catalog file's name, or
the ``frameworks`` argument); ``a.5.1`` matches ``A.5.1``. Every problem is collected with file, record
(``mappings[0].maps[3]``), field, value and what was expected, and raised together as one
:class:`~engine.errors.InputError`. The records returned are ready for the crosswalk loader's checks
(:func:`engine.crosswalk.check_records`) as a tailored or extra crosswalk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from engine.errors import InputError, Problem

from .mappings import REVIEW_STATUSES, Mapping
from .oscal import NS, RELATIONSHIP_TO_OSCAL
from .relationships import RATIONALES

__all__ = ["FROM_OSCAL", "StoreData", "load_store", "read_mapping_collection"]

FROM_OSCAL = {v: k for k, v in RELATIONSHIP_TO_OSCAL.items()} | {"equivalent-to": "equal"}
"""OSCAL relationship -> NIST IR 8477 relationship as riskmap spells it."""

_CATEGORY_STRENGTH = {"high": 8, "medium": 5, "low": 2}


@dataclass
class _Ctx:
    file: str
    known: set[tuple[str, str]] | None
    frameworks: dict[str, str]
    default_strength: int | None
    problems: list[Problem] = field(default_factory=list)
    id_frameworks: set[str] = field(default_factory=set)  # prefixes read as riskmap's framework_ref ids

    def problem(self, record: str, fld: str | None, message: str, value: object = None, expected: str | None = None) -> None:
        self.problems.append(Problem(self.file, record, fld, message, value, expected))


def _props(obj: dict[str, Any]) -> dict[str, str]:
    return {p.get("name", ""): str(p.get("value", "")) for p in obj.get("props") or []
            if isinstance(p, dict) and p.get("ns") == NS}


def _resource_framework(ctx: _Ctx, resource: Any, side: str, where: str) -> str | None:
    if not isinstance(resource, dict):
        ctx.problem(where, side, "missing resource reference", expected="an object with type and href")
        return None
    fw = _props(resource).get("framework") or ctx.frameworks.get(side.split("-")[0])
    if not fw:
        stem = Path(str(resource.get("href", ""))).stem
        fw = stem if ctx.known is None or any(k[0] == stem for k in ctx.known) else None
    if not fw:
        ctx.problem(where, f"{side}.href", "cannot tell which framework this catalog is", resource.get("href"),
                    expected="a framework prop, a catalog named <framework>.json, or the framework given")
    return fw


def _resolve(ctx: _Ctx, id_ref: object, framework: str | None, where: str, fld: str) -> tuple[str, str] | None:
    text = str(id_ref or "").strip()
    if not text:
        ctx.problem(where, fld, "missing id-ref", expected="the id of a control")
        return None
    fw, ref = framework, text
    if "_" in text and text.split("_", 1)[0] in ctx.id_frameworks:
        fw, ref = text.split("_", 1)
    if fw is None:
        return None
    if ctx.known is not None and (fw, ref) not in ctx.known:
        match = [k for k in ctx.known if k[0] == fw and k[1].lower() == ref.lower()]
        if not match:
            ctx.problem(where, fld, f"unknown control of {fw}", text, expected="a control of the loaded catalog")
            return None
        ref = match[0][1]
    return fw, ref


def _strength(ctx: _Ctx, item: dict[str, Any], rel: str, where: str) -> int:
    if rel == "no_relationship":
        return 0
    score = item.get("confidence-score") or {}
    if isinstance(score, dict) and isinstance(score.get("percentage"), int | float):
        value = round(float(score["percentage"]) * 10)
        if 1 <= value <= 10:
            return value
        ctx.problem(where, "confidence-score.percentage", "confidence out of range", score["percentage"],
                    expected="a decimal from 0.1 to 1")
        return 1
    if isinstance(score, dict) and score.get("category") in _CATEGORY_STRENGTH:
        return _CATEGORY_STRENGTH[score["category"]]
    if ctx.default_strength is not None:
        return ctx.default_strength
    ctx.problem(where, "confidence-score", "no strength for this map", score or None,
                expected="a confidence-score percentage or category, or a default strength")
    return 1


def _date(ctx: _Ctx, raw: str | None, where: str, fld: str, fallback: date | None) -> date | None:
    if not raw:
        return fallback
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        ctx.problem(where, fld, "not a date", raw, expected="YYYY-MM-DD")
        return fallback


@dataclass
class _Defaults:
    rationale: str | None
    author: str
    authored_on: date | None
    status: str


def _map_records(ctx: _Ctx, item: Any, fws: tuple[str | None, str | None], d: _Defaults,
                 where: str) -> list[Mapping]:
    if not isinstance(item, dict):
        ctx.problem(where, None, "a map is an object")
        return []
    rel = FROM_OSCAL.get(str(item.get("relationship", "")))
    if rel is None:
        ctx.problem(where, "relationship", "unknown relationship", item.get("relationship"),
                    expected=" | ".join(FROM_OSCAL))
        return []
    rationale = item.get("matching-rationale") or d.rationale
    if rationale not in RATIONALES:
        ctx.problem(where, "matching-rationale", "unknown matching rationale", rationale,
                    expected=" | ".join(RATIONALES))
    justification = str(item.get("remarks") or "").strip()
    if not justification:
        ctx.problem(where, "remarks", "missing justification", expected="one sentence saying why, in remarks")
    sources, targets = item.get("sources") or [], item.get("targets") or []
    if (len(sources) > 1 or len(targets) > 1) and rel not in ("intersects_with", "no_relationship"):
        ctx.problem(where, "sources", f"a {item.get('relationship')} map of {len(sources)} sources and "
                    f"{len(targets)} targets cannot be split into pairs", expected="one source and one target")
        return []
    props = _props(item)
    status = props.get("review-status", d.status)
    if status not in REVIEW_STATUSES:
        ctx.problem(where, "props.review-status", "unknown review status", status,
                    expected=" | ".join(REVIEW_STATUSES))
    strength = _strength(ctx, item, rel, where)
    authored_on = _date(ctx, props.get("authored-on"), where, "props.authored-on", d.authored_on)
    reviewed_on = _date(ctx, props.get("reviewed-on"), where, "props.reviewed-on", None)
    out = []
    for i, s in enumerate(sources):
        for j, t in enumerate(targets):
            src = _resolve(ctx, (s or {}).get("id-ref"), fws[0], where, f"sources[{i}].id-ref")
            tgt = _resolve(ctx, (t or {}).get("id-ref"), fws[1], where, f"targets[{j}].id-ref")
            if src and tgt and authored_on:
                out.append(Mapping(src[0], src[1], tgt[0], tgt[1], rel, strength, str(rationale), justification,
                                   props.get("author", d.author), authored_on, status, Path(ctx.file).name, 0,
                                   ctx.file, props.get("reviewer", ""), reviewed_on))
    return out


def _no_counterpart(ctx: _Ctx, mapping: dict[str, Any], fws: tuple[str | None, str | None], d: _Defaults,
                    where: str) -> list[Mapping]:
    out = []
    for k, p in enumerate(mapping.get("props") or []):
        if not (isinstance(p, dict) and p.get("ns") == NS and p.get("name") == "no-counterpart"):
            continue
        at = f"{where}.props[{k}]"
        for side, fw in enumerate(fws):
            other = fws[1 - side]
            found = _resolve(ctx, p.get("value"), fw, at, "value") if fw and other else None
            if found and found[0] == fw:
                out.append(Mapping(fw, found[1], str(other), "", "no_relationship", 0, d.rationale or "semantic",
                                   str(p.get("remarks") or "").strip() or "no counterpart in " + str(other),
                                   d.author, d.authored_on or date.today(), d.status, Path(ctx.file).name, 0,
                                   ctx.file))
                break
    return out


def _defaults(ctx: _Ctx, doc: dict[str, Any]) -> _Defaults:
    meta, prov = doc.get("metadata") or {}, doc.get("provenance") or {}
    parties = {p.get("uuid"): p.get("name") for p in meta.get("parties") or [] if isinstance(p, dict)}
    authors = [parties.get(u) for rp in prov.get("responsible-parties") or [] if rp.get("role-id") == "mapping-author"
               for u in rp.get("party-uuids") or []]
    author = ", ".join(a for a in authors if a) or f"imported from {Path(ctx.file).name}"
    status = "draft" if prov.get("status") in ("draft", "not-complete") else "authored"
    when = _date(ctx, str(meta.get("last-modified") or "")[:10] or None, "metadata", "last-modified", None)
    return _Defaults(prov.get("matching-rationale"), author, when, status)


def read_mapping_collection(path: Path, *, known: set[tuple[str, str]] | None = None,
                            frameworks: dict[str, str] | None = None,
                            default_strength: int | None = None) -> list[Mapping]:
    """The crosswalk records of an OSCAL mapping-collection (JSON), or every problem as one InputError.

    ``known`` is the set of (framework, ref) of the loaded catalogs (ids are matched case-insensitively
    against it); ``frameworks`` may name the framework of the ``source`` and ``target`` resources when the
    file does not; ``default_strength`` is used for maps with no confidence score.
    """
    ctx = _Ctx(str(path), known, dict(frameworks or {}), default_strength)
    known_fws = {k[0] for k in known or ()} | set(ctx.frameworks.values())
    try:
        whole = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError([Problem(str(path), None, None, f"cannot read the mapping collection: {exc}")]) from exc
    doc = whole.get("mapping-collection") if isinstance(whole, dict) else None
    if not isinstance(doc, dict):
        raise InputError([Problem(str(path), None, None, "not an OSCAL mapping collection",
                                  expected="a JSON object with a mapping-collection")])
    d = _defaults(ctx, doc)
    mappings = doc.get("mappings")
    mappings = [mappings] if isinstance(mappings, dict) else mappings or []
    records: list[Mapping] = []
    for i, mapping in enumerate(mappings):
        where = f"mappings[{i}]"
        if not isinstance(mapping, dict):
            ctx.problem(where, None, "a mapping is an object", expected="source-resource, target-resource, maps")
            continue
        fws = (_resource_framework(ctx, mapping.get("source-resource"), "source-resource", where),
               _resource_framework(ctx, mapping.get("target-resource"), "target-resource", where))
        ctx.id_frameworks = known_fws | {fw for fw in fws if fw}
        for j, item in enumerate(mapping.get("maps") or []):
            records.extend(_map_records(ctx, item, fws, d, f"{where}.maps[{j}]"))
        records.extend(_no_counterpart(ctx, mapping, fws, d, where))
    if not mappings:
        ctx.problem("mapping-collection", "mappings", "no mapping in the collection", expected="one or more")
    if ctx.problems:
        raise InputError(ctx.problems, f"{path}: the mapping collection has problems")
    return records


# Store data for the export -----------------------------------------------------------------------------


@dataclass
class StoreData:
    """What an OSCAL export reads from the store."""

    frameworks: dict[str, dict[str, Any]]
    controls: dict[str, list[dict[str, Any]]]
    records: list[Mapping]
    soa_version: dict[str, Any] | None
    applicable: list[tuple[str, str]]
    profile_frameworks: list[str]
    generated_at: datetime


def _dicts(cur: Any) -> list[dict[str, Any]]:
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def load_store(db: str | Path | None, frameworks: tuple[str, ...]) -> StoreData:
    """Catalog rows, the mapping records in force among ``frameworks`` (the organisation's tailoring over the
    shipped records over imported ones) and the latest approved SoA's applicable controls."""
    from engine import soa, store
    from engine.errors import NotFoundError
    from engine.store import query

    version = soa.latest_version(db)
    applicable: list[tuple[str, str]] = []
    if version is not None:
        frame = soa.soa_frame(db, version=version["version"])
        applicable = [(r["framework"], r["ref"]) for r in frame.iter_rows(named=True) if r["applicable"]]
    needed = list(frameworks) + sorted({fw for fw, _ in applicable} - set(frameworks))
    marks = ", ".join("?" * len(needed))
    with store.connect(db) as con:
        fw_rows = {r["framework"]: r for r in _dicts(con.execute(
            f"SELECT * FROM frameworks WHERE framework IN ({marks})", needed))}
        missing = [fw for fw in needed if fw not in fw_rows]
        if missing:
            raise NotFoundError("not a loaded framework: " + ", ".join(missing))
        controls: dict[str, list[dict[str, Any]]] = {fw: [] for fw in needed}
        for r in _dicts(con.execute(f"SELECT framework, ref, title, kind, parent_ref, theme FROM controls "
                                    f"WHERE framework IN ({marks}) ORDER BY framework, ordinal", needed)):
            controls[r["framework"]].append(r)
        rows = _dicts(con.execute(f"""
            SELECT m.* FROM ({query.load("mappings_in_force")}) m
            LEFT JOIN controls s ON s.framework = m.source_framework AND s.ref = m.source_ref
            LEFT JOIN controls t ON t.framework = m.target_framework AND t.ref = m.target_ref
            WHERE list_contains($fws, m.source_framework) AND list_contains($fws, m.target_framework)
            ORDER BY m.source_framework, s.ordinal, m.target_framework, coalesce(t.ordinal, -1)""",
            {"fws": list(frameworks), "with_tailoring": True}))
        now = store.now()
    records = [Mapping(r["source_framework"], r["source_ref"], r["target_framework"], r["target_ref"],
                       r["relationship"], r["strength"], r["rationale_type"], r["justification"], r["author"],
                       r["authored_on"], r["review_status"], r["origin_file"], 0, "", r.get("reviewer") or "",
                       r.get("reviewed_on"), r["provenance"]) for r in rows]
    return StoreData(fw_rows, controls, records, version, applicable,
                     [fw for fw in needed if fw not in frameworks], now)
