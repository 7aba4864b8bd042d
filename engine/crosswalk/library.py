"""CISO Assistant libraries: a framework (ids, titles, hierarchy) and its requirement mapping sets, read from
a library YAML file a user downloaded, as clean records for riskmap's catalog and crosswalk.

A library file has a header (urn, locale, ref_id, name, description, copyright, version, provider,
packager, publication_date, dependencies) and ``objects``: a ``framework`` (or ``frameworks``) with
``requirement_nodes`` (urn, ref_id, name, parent_urn, assessable, depth) and a
``requirement_mapping_set`` (or ``requirement_mapping_sets``) whose ``requirement_mappings`` link a source
and a target requirement urn with a relationship, a rationale and a strength of relationship.

What the parser does:

- **Header kept**, copyright included, on every framework and mapping it yields.
- **Shipped frameworks matched by ref.** A framework riskmap ships (ISO/IEC 27001:2022, 27001:2013,
  42001:2023; the framework urn ends with riskmap's id) is not loaded again: its requirement nodes are
  matched to the shipped catalog by ref, case-insensitively (``a.5.1`` is ``A.5.1``), so its mapping sets
  link riskmap's own controls. Other frameworks become extra frameworks: only ids, titles (the node name,
  else its ref) and hierarchy are taken, never descriptions, which are the publisher's text.
- **Relationships onto NIST IR 8477**: ``equal``, ``subset`` -> ``subset_of``, ``superset`` ->
  ``superset_of``, ``intersect`` -> ``intersects_with``, ``not_related`` -> ``no_relationship``. CISO
  Assistant states the relationship of the source requirement to the target, as riskmap does. A strength
  left empty is 10 for ``equal`` (the same requirement), 0 for ``not_related``, else ``default_strength``;
  a rationale left empty is ``default_rationale``. Records are ``authored`` by the library's provider.
- **A mapping set whose other framework is not loaded is refused**, naming that framework's urn.

Every problem is collected (file, record such as ``objects.framework.requirement_nodes[3]``, field,
value, what was expected) and raised together as one :class:`~engine.errors.InputError`. Storing a library
(``riskmap import library``) is :func:`engine.crosswalk.imported.import_library`'s business.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from engine.errors import InputError, Problem

from . import catalog
from .mappings import Mapping
from .relationships import RATIONALES

__all__ = ["CISO_RELATIONSHIPS", "Library", "LibraryControl", "LibraryFramework", "LibraryHeader",
           "parse_library", "shipped_frameworks"]

CISO_RELATIONSHIPS = {"equal": "equal", "subset": "subset_of", "superset": "superset_of",
                      "intersect": "intersects_with", "not_related": "no_relationship"}
"""CISO Assistant relationship -> NIST IR 8477 relationship as riskmap spells it."""

HEADER_FIELDS = ("urn", "locale", "ref_id", "name", "description", "copyright", "version", "provider",
                 "packager", "publication_date")
_REQUIRED_HEADER = ("urn", "ref_id", "name", "copyright", "version")


@dataclass(frozen=True)
class LibraryHeader:
    """The library's own identification and terms, kept with everything it provides."""

    urn: str
    locale: str | None
    ref_id: str
    name: str
    description: str | None
    copyright: str
    version: str
    provider: str | None
    packager: str | None
    publication_date: date | None
    dependencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class LibraryFramework:
    """A framework of the library: ``shipped`` when it is one of riskmap's catalogs (nothing to load), else an
    extra framework with the columns of ``frameworks``."""

    framework: str
    urn: str
    ref_id: str
    name: str
    shipped: bool
    header: LibraryHeader

    def row(self) -> dict[str, Any]:
        """The ``frameworks`` row of an extra framework: a published framework, not the organisation's own
        (``custom`` false, so its controls do not join the SoA)."""
        return {"framework": self.framework, "name": self.name, "edition": self.header.version, "title": self.name,
                "source": f"CISO Assistant library {self.header.urn} version {self.header.version}",
                "copyright": self.header.copyright, "catalog_version": self.header.version, "custom": False}


@dataclass(frozen=True)
class LibraryControl:
    """One requirement node of an extra framework, with the columns of ``controls``: an assessable node is
    a control (``annex_a_control``), a node grouping others an ``annex_a_group``."""

    framework: str
    ref: str
    title: str
    kind: str
    parent_ref: str | None
    grp: str
    ordinal: int
    urn: str


@dataclass
class Library:
    """What one library file provides, ready for loading."""

    file: str
    header: LibraryHeader
    frameworks: list[LibraryFramework] = field(default_factory=list)
    controls: list[LibraryControl] = field(default_factory=list)
    mappings: list[Mapping] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    """Assessable nodes of a shipped framework's library with no counterpart in riskmap's catalog."""


def shipped_frameworks() -> dict[str, set[str]]:
    """riskmap's shipped catalogs: framework id -> refs (from the reference index)."""
    return {fw: {e["ref"] for e in rows} for fw, rows in catalog.reference_index().items()}


@dataclass
class _Ctx:
    file: str
    problems: list[Problem] = field(default_factory=list)

    def problem(self, record: str | None, fld: str | None, message: str, value: object = None,
                expected: str | None = None) -> None:
        self.problems.append(Problem(self.file, record, fld, message, value, expected))


_NULLS = ("", "~", "null", "Null", "NULL")


def _text(value: Any) -> str | None:
    """A scalar as stripped text; None for a missing or null value (the YAML is read with every scalar a
    string, so null arrives as the word)."""
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return None if text in _NULLS else text


def _header(ctx: _Ctx, doc: MappingABC[str, Any]) -> LibraryHeader:
    values = {k: _text(doc.get(k)) for k in HEADER_FIELDS}
    for key in _REQUIRED_HEADER:
        if not values[key]:
            ctx.problem("header", key, f"missing {key}", expected=f"the library's {key}")
    published = None
    if values["publication_date"]:
        try:
            published = date.fromisoformat(values["publication_date"][:10])
        except ValueError:
            ctx.problem("header", "publication_date", "not a date", values["publication_date"],
                        expected="YYYY-MM-DD")
    deps = doc.get("dependencies") or []
    return LibraryHeader(values["urn"] or "", values["locale"], values["ref_id"] or "", values["name"] or "",
                         values["description"], values["copyright"] or "", values["version"] or "",
                         values["provider"], values["packager"], published,
                         tuple(str(d) for d in deps) if isinstance(deps, list) else ())


def _listed(ctx: _Ctx, objects: MappingABC[str, Any], singular: str, plural: str) -> list[tuple[str, Any]]:
    """The objects of one kind with their record paths, accepting both spellings CISO Assistant accepts."""
    out: list[tuple[str, Any]] = []
    if objects.get(singular) is not None:
        out.append((f"objects.{singular}", objects[singular]))
    many = objects.get(plural)
    if many is not None and not isinstance(many, list):
        ctx.problem(f"objects.{plural}", None, "not a list", expected=f"a list of {singular} objects")
    elif many:
        out += [(f"objects.{plural}[{i}]", m) for i, m in enumerate(many)]
    return out


def _framework_id(urn: str) -> str:
    return urn.rsplit(":", 1)[-1].strip()


def _node_ref(node: MappingABC[str, Any]) -> str | None:
    return _text(node.get("ref_id")) or (_framework_id(str(node["urn"])) if _text(node.get("urn")) else None)


def _match(refs: set[str], node: MappingABC[str, Any]) -> str | None:
    lowered = {r.lower(): r for r in refs}
    for candidate in (_text(node.get("ref_id")), _framework_id(str(node.get("urn") or ""))):
        if candidate and candidate.lower() in lowered:
            return lowered[candidate.lower()]
    return None


@dataclass
class _Parsed:
    """The frameworks parsed so far: id -> refs, and each requirement urn (lowercased) -> (framework, ref)."""

    refs: dict[str, set[str]]
    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)
    defined: set[str] = field(default_factory=set)  # frameworks defined in this file


def _flag(ctx: _Ctx, where: str, node: MappingABC[str, Any]) -> bool:
    raw = _text(node.get("assessable"))
    if raw is None or raw.lower() in ("false", "no"):
        return False
    if raw.lower() in ("true", "yes"):
        return True
    ctx.problem(where, "assessable", "not a boolean", raw, expected="true | false")
    return False


def _extra_nodes(ctx: _Ctx, where: str, fw: str, nodes: list[Any], parsed: _Parsed, lib: Library) -> None:
    by_urn: dict[str, LibraryControl] = {}
    for i, node in enumerate(nodes):
        at = f"{where}.requirement_nodes[{i}]"
        if not isinstance(node, dict) or not _text(node.get("urn")):
            ctx.problem(at, "urn", "a requirement node needs a urn", expected="urn:...:req_node:...")
            continue
        urn, ref = str(node["urn"]).strip(), _node_ref(node) or ""
        if _text(node.get("depth")) is not None and not str(node["depth"]).strip().isdigit():
            ctx.problem(at, "depth", "not a whole number", node["depth"], expected="1, 2, 3 ...")
        if ref in parsed.refs[fw]:
            ctx.problem(at, "ref_id", f"duplicate ref in {fw}", ref, expected="a ref used once in the framework")
            continue
        parent = None
        if _text(node.get("parent_urn")):
            parent = by_urn.get(str(node["parent_urn"]).strip().lower())
            if parent is None:
                ctx.problem(at, "parent_urn", "unknown parent (not an earlier node of this framework)",
                            node["parent_urn"], expected="the urn of a node listed before it")
        control = LibraryControl(fw, ref, _text(node.get("name")) or ref,
                                 "annex_a_control" if _flag(ctx, at, node) else "annex_a_group",
                                 parent.ref if parent else None, parent.grp if parent else ref, len(lib.controls) + 1,
                                 urn)
        by_urn[urn.lower()] = control
        parsed.refs[fw].add(ref)
        parsed.nodes[urn.lower()] = (fw, ref)
        lib.controls.append(control)


def _shipped_nodes(ctx: _Ctx, where: str, fw: str, nodes: list[Any], parsed: _Parsed, lib: Library) -> None:
    for i, node in enumerate(nodes):
        if not isinstance(node, dict) or not _text(node.get("urn")):
            ctx.problem(f"{where}.requirement_nodes[{i}]", "urn", "a requirement node needs a urn",
                        expected="urn:...:req_node:...")
            continue
        ref = _match(parsed.refs[fw], node)
        if ref is not None:
            parsed.nodes[str(node["urn"]).strip().lower()] = (fw, ref)
        elif _flag(ctx, f"{where}.requirement_nodes[{i}]", node):
            lib.unmatched.append(f"{fw}: {_node_ref(node)}")


def _framework(ctx: _Ctx, where: str, obj: Any, shipped: dict[str, set[str]], parsed: _Parsed, lib: Library) -> None:
    if not isinstance(obj, dict) or not _text(obj.get("urn")):
        ctx.problem(where, "urn", "a framework needs a urn", expected="urn:...:framework:<id>")
        return
    urn = str(obj["urn"]).strip()
    fw = _framework_id(urn)
    is_shipped = fw in shipped
    if fw in parsed.defined:
        ctx.problem(where, "urn", "framework defined twice in the library", urn, expected="each framework once")
        return
    parsed.defined.add(fw)
    name = _text(obj.get("name")) or _text(obj.get("ref_id")) or fw
    lib.frameworks.append(LibraryFramework(fw, urn, _text(obj.get("ref_id")) or fw, name, is_shipped, lib.header))
    nodes = obj.get("requirement_nodes") or []
    if not isinstance(nodes, list):
        ctx.problem(where, "requirement_nodes", "not a list", expected="a list of requirement nodes")
        return
    if is_shipped:
        parsed.refs[fw] = set(shipped[fw])
        _shipped_nodes(ctx, where, fw, nodes, parsed, lib)
    else:
        parsed.refs[fw] = set()
        _extra_nodes(ctx, where, fw, nodes, parsed, lib)


def _resolve_node(ctx: _Ctx, at: str, fld: str, urn: Any, fw: str, parsed: _Parsed) -> str | None:
    text = _text(urn)
    if text is None:
        ctx.problem(at, fld, "missing requirement urn", expected="urn:...:req_node:...")
        return None
    found = parsed.nodes.get(text.lower())
    if found and found[0] == fw:
        return found[1]
    ref = _match(parsed.refs.get(fw, set()), {"urn": text})
    if ref is None:
        ctx.problem(at, fld, f"not a requirement of {fw}", text, expected=f"a requirement urn of {fw}")
    return ref


@dataclass(frozen=True)
class _Options:
    default_strength: int | None
    default_rationale: str


def _strength(ctx: _Ctx, at: str, item: MappingABC[str, Any], rel: str, opts: _Options) -> int:
    raw = _text(item.get("strength_of_relationship"))
    if rel == "no_relationship":
        return 0
    if raw is None:
        if rel == "equal":
            return 10
        if opts.default_strength is None:
            ctx.problem(at, "strength_of_relationship", "no strength for this mapping",
                        expected="an integer from 1 to 10, or a default strength")
            return 1
        return opts.default_strength
    if not raw.isdigit() or not 1 <= int(raw) <= 10:
        ctx.problem(at, "strength_of_relationship", "strength out of range", raw, expected="an integer from 1 to 10")
        return 1
    return int(raw)


def _mapping_set(ctx: _Ctx, where: str, obj: Any, parsed: _Parsed, lib: Library, opts: _Options) -> None:
    if not isinstance(obj, dict):
        ctx.problem(where, None, "a mapping set is an object", expected="source_framework_urn, target_framework_urn")
        return
    label = _text(obj.get("ref_id")) or _text(obj.get("name")) or where
    fws = []
    for key in ("source_framework_urn", "target_framework_urn"):
        urn = _text(obj.get(key))
        fw = _framework_id(urn) if urn else None
        if fw is None or fw not in parsed.refs:
            ctx.problem(where, key, f"mapping set {label} refers to a framework that is not loaded", urn,
                        expected="a framework riskmap ships or has loaded, or one defined in this library; "
                                 "load its library first")
        fws.append(fw)
    items = obj.get("requirement_mappings") or []
    if not isinstance(items, list):
        ctx.problem(where, "requirement_mappings", "not a list", expected="a list of requirement mappings")
        return
    if None in fws:
        return
    source_fw, target_fw = str(fws[0]), str(fws[1])
    h = lib.header
    author = " ".join(x for x in (h.provider, f"(packaged by {h.packager})" if h.packager else None) if x) or h.name
    if h.publication_date is None:
        ctx.problem("header", "publication_date", "the library gives no publication date for its mappings",
                    expected="YYYY-MM-DD")
    stated = (f"Stated by the mapping set {label} of the CISO Assistant library {h.ref_id} version {h.version}"
              f"{' from ' + h.provider if h.provider else ''}, which gives no reason.")
    for i, item in enumerate(items):
        at = f"{where}.requirement_mappings[{i}]"
        if not isinstance(item, dict):
            ctx.problem(at, None, "a requirement mapping is an object")
            continue
        rel = CISO_RELATIONSHIPS.get(_text(item.get("relationship")) or "")
        if rel is None:
            ctx.problem(at, "relationship", "unknown relationship", item.get("relationship"),
                        expected=" | ".join(CISO_RELATIONSHIPS))
            continue
        rationale = _text(item.get("rationale")) or opts.default_rationale
        if rationale not in RATIONALES:
            ctx.problem(at, "rationale", "unknown rationale", rationale, expected=" | ".join(RATIONALES))
        strength = _strength(ctx, at, item, rel, opts)
        src = _resolve_node(ctx, at, "source_requirement_urn", item.get("source_requirement_urn"), source_fw, parsed)
        tgt = _resolve_node(ctx, at, "target_requirement_urn", item.get("target_requirement_urn"), target_fw, parsed)
        if src and tgt and h.publication_date:
            lib.mappings.append(Mapping(source_fw, src, target_fw, tgt, rel, strength, rationale,
                                        _text(item.get("annotation")) or stated, author, h.publication_date,
                                        "authored", Path(ctx.file).name, i + 1, ctx.file))


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        # BaseLoader keeps every scalar a string, so a ref such as 4.10 is not read as the number 4.1.
        doc = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=yaml.BaseLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError([Problem(str(path), None, None, f"cannot read the library: {exc}")]) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("objects"), dict):
        raise InputError([Problem(str(path), None, "objects", "not a CISO Assistant library",
                                  expected="a YAML mapping with a header and objects")])
    return doc


def parse_library(path: Path, *, loaded: MappingABC[str, set[str]] | None = None,
                  default_strength: int | None = None, default_rationale: str = "semantic") -> Library:
    """Read one CISO Assistant library file into frameworks, controls and mappings, or raise InputError
    listing every problem.

    ``loaded`` names the extra frameworks already in the store (framework id -> refs); riskmap's shipped
    catalogs are always known. A mapping set may link frameworks defined in the file, shipped or loaded.
    """
    path = Path(path)
    ctx = _Ctx(str(path))
    doc = _load_yaml(path)
    lib = Library(str(path), _header(ctx, doc))
    shipped = shipped_frameworks()
    parsed = _Parsed({fw: set(refs) for fw, refs in {**(loaded or {}), **shipped}.items()})
    objects = doc["objects"]
    for where, obj in _listed(ctx, objects, "framework", "frameworks"):
        _framework(ctx, where, obj, shipped, parsed, lib)
    opts = _Options(default_strength, default_rationale)
    sets = _listed(ctx, objects, "requirement_mapping_set", "requirement_mapping_sets")
    for where, obj in sets:
        _mapping_set(ctx, where, obj, parsed, lib, opts)
    if not lib.frameworks and not sets:
        ctx.problem("objects", None, "the library has no framework and no mapping set",
                    expected="objects.framework or objects.requirement_mapping_sets")
    if ctx.problems:
        raise InputError(_unique(ctx.problems), f"{path}: the library has problems")
    return lib


def _unique(problems: list[Problem]) -> list[Problem]:
    """Each problem once (a header problem found by every mapping set is reported once)."""
    seen: set[str] = set()
    out = []
    for p in problems:
        if str(p) not in seen:
            seen.add(str(p))
            out.append(p)
    return out
