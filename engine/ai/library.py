"""The AI risk scenario library: reviewable YAML files in ``mappings/scenarios``, one record per scenario.

A scenario describes a risk that AI systems of a certain kind typically carry (ISO 42001 6.1.2 and Annex C:
risk sources and objectives), in riskmap's own words: cause, event, consequences for the organisation and
for individuals or society, the Annex C risk sources and objectives involved, the ISO 42001 and ISO 27001
Annex A controls that typically treat it, and optional references such as MITRE ATLAS technique ids.
Its conditions say which systems it applies to: the organisation's roles, the life cycle stages in which
the risk is present, and the characteristics of the system (``engine.register.vocab.AI_CHARACTERISTICS``).

:func:`validate_files` reports every problem of every file (``file:record:field: message``);
:func:`load_library` refuses a library with problems; :func:`sync_library` writes it to ``ai_scenarios``
on ``riskmap init``. The file format is described in ``mappings/README.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

from engine import store
from engine.config import ISO27001, ISO42001, MAPPINGS_DIR
from engine.crosswalk import catalog
from engine.errors import InputError, NotFoundError, Problem
from engine.register import vocab

SCENARIO_DIR = MAPPINGS_DIR / "scenarios"
HEADER_KEYS = ("theme", "title", "library_version", "copyright")
TEXT_FIELDS = ("title", "description", "cause", "event", "consequence_org")
LIST_FIELDS = ("risk_sources", "objectives", "cia", "roles", "stages", "requires", "requires_any", "excludes",
               "controls", "references")
REQUIRED_LISTS = ("risk_sources", "objectives", "roles", "stages", "controls")
RECORD_KEYS = {"id", *TEXT_FIELDS, "consequence_individuals", "management_system", *LIST_FIELDS}
CIA = ("confidentiality", "integrity", "availability")
CONTROL_FRAMEWORKS = (ISO42001, ISO27001)
STAGE_ORDER = tuple(vocab.choices(vocab.LIFECYCLE_STAGES))
"""Life cycle stages in order; a scenario applies until the system has moved past its last stage."""

_ID = re.compile(r"^[A-Z]{2,5}-\d{2,3}$")
_ATLAS = re.compile(r"^MITRE ATLAS AML\.T\d{4}(\.\d{3})?$")


@dataclass(frozen=True)
class Scenario:
    """One scenario of the library, values canonical (roles, stages, sources and objectives as stored)."""

    id: str
    theme: str
    title: str
    description: str
    cause: str
    event: str
    consequence_org: str
    consequence_individuals: str | None
    risk_sources: tuple[str, ...]
    objectives: tuple[str, ...]
    cia: tuple[str, ...]
    management_system: str
    roles: tuple[str, ...]
    stages: tuple[str, ...]
    requires: tuple[str, ...]
    requires_any: tuple[str, ...]
    excludes: tuple[str, ...]
    controls: tuple[str, ...]
    references: tuple[str, ...]
    origin_file: str
    library_version: str
    ordinal: int


def scenario_files(directory: Path = SCENARIO_DIR) -> list[Path]:
    """The library's files, in name order."""
    return sorted(directory.glob("*.yaml"))


def is_scenario_file(path: Path) -> bool:
    """True for a YAML file whose top level has a ``scenarios`` list (as opposed to a catalog)."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(doc, dict) and "scenarios" in doc


def _text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def _annex_a_controls(index: dict[str, list[dict[str, str]]]) -> set[str]:
    return {f"{fw}:{row['ref']}" for fw in CONTROL_FRAMEWORKS for row in index.get(fw, [])
            if row["kind"] == "annex_a_control"}


class _Record:
    """Checks one record of a file, collecting problems located as file:record:field."""

    def __init__(self, file: str, rec: str, raw: dict[str, Any], problems: list[Problem]):
        self.file, self.rec, self.raw, self.problems = file, rec, raw, problems
        self._items: dict[str, list[str]] = {}

    def problem(self, fld: str, message: str, value: Any = None, expected: str | None = None) -> None:
        self.problems.append(Problem(self.file, self.rec, fld, message, value, expected))

    def items(self, fld: str) -> list[str]:
        """The non-empty items of a list field (a problem, once, when it is not a list)."""
        if fld not in self._items:
            value = self.raw.get(fld)
            if value is not None and not isinstance(value, list):
                self.problem(fld, "must be a list", value, f"a YAML list, e.g. {fld}: [a, b]")
            self._items[fld] = [_text(v) for v in value if _text(v)] if isinstance(value, list) else []
        return self._items[fld]

    def canon(self, fld: str, table: dict[str, str]) -> tuple[str, ...]:
        out = []
        for item in self.items(fld):
            got = vocab.canon(item, table)
            if got is None:
                self.problem(fld, "unknown value", item, vocab.expected(table))
            elif got not in out:
                out.append(got)
        return tuple(out)

    def closed(self, fld: str, allowed: Sequence[str]) -> tuple[str, ...]:
        out = []
        for item in self.items(fld):
            if item not in allowed:
                self.problem(fld, "unknown value", item, "one of " + ", ".join(allowed))
            elif item not in out:
                out.append(item)
        return tuple(out)


def _controls(r: _Record, known: set[str]) -> tuple[str, ...]:
    out = []
    for item in r.items("controls"):
        if item not in known:
            r.problem("controls", "not an Annex A control of ISO/IEC 42001:2023 or ISO/IEC 27001:2022", item,
                      "framework:ref, e.g. iso42001-2023:A.6.2.4 or iso27001-2022:A.8.28")
        elif item not in out:
            out.append(item)
    return tuple(out)


def _record(r: _Record, theme: str, version: str, ordinal: int, controls: set[str]) -> Scenario:
    raw = r.raw
    for key in sorted(set(raw) - RECORD_KEYS):
        r.problem(key, "unknown field", expected=", ".join(sorted(RECORD_KEYS)))
    for fld in TEXT_FIELDS:
        if not _text(raw.get(fld)):
            r.problem(fld, "missing text", expected="one or two sentences in our own words")
    ms = vocab.canon(raw.get("management_system") or "AIMS", vocab.MANAGEMENT_SYSTEMS)
    if ms is None:
        r.problem("management_system", "unknown management system", raw.get("management_system"),
                  "ISMS, AIMS or both")
    characteristics = list(vocab.AI_CHARACTERISTICS)
    values: dict[str, tuple[str, ...]] = {
        "risk_sources": r.canon("risk_sources", vocab.AI_RISK_SOURCES),
        "objectives": r.canon("objectives", vocab.AI_OBJECTIVES),
        "cia": r.closed("cia", CIA),
        "roles": r.canon("roles", vocab.AI_ROLES),
        "stages": r.canon("stages", vocab.LIFECYCLE_STAGES),
        **{f: r.closed(f, characteristics) for f in ("requires", "requires_any", "excludes")},
        "controls": _controls(r, controls),
        "references": tuple(r.items("references")),
    }
    for fld in REQUIRED_LISTS:
        if not r.items(fld):
            r.problem(fld, "empty", expected=f"at least one value for {fld}")
    if len(values["requires_any"]) == 1:
        r.problem("requires_any", "a single alternative", values["requires_any"][0],
                  "two or more characteristics (one that must hold belongs in requires)")
    both = (set(values["requires"]) | set(values["requires_any"])) & set(values["excludes"])
    for c in sorted(both):
        r.problem("excludes", "both required and excluded", c, "each characteristic in one condition")
    for ref in values["references"]:
        if ref.upper().startswith("MITRE") and not _ATLAS.match(ref):
            r.problem("references", "not a MITRE ATLAS technique id", ref, "e.g. MITRE ATLAS AML.T0051")
    if not any(c.startswith(ISO42001 + ":") for c in values["controls"]) and values["controls"]:
        r.problem("controls", "no ISO/IEC 42001 control", expected="at least one iso42001-2023 Annex A control")
    return Scenario(
        id=r.rec, theme=theme, title=_text(raw.get("title")), description=_text(raw.get("description")),
        cause=_text(raw.get("cause")), event=_text(raw.get("event")),
        consequence_org=_text(raw.get("consequence_org")),
        consequence_individuals=_text(raw.get("consequence_individuals")) or None,
        management_system=ms or "AIMS", origin_file=Path(r.file).name, library_version=version,
        ordinal=ordinal, **values)


def _read_file(path: Path, controls: set[str], seen: dict[str, str], problems: list[Problem],
               start: int) -> list[Scenario]:
    f = str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(Problem(f, None, None, f"cannot read the scenario file: {str(exc).splitlines()[0]}"))
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("scenarios"), list):
        problems.append(Problem(f, None, "scenarios", "not a scenario file: no list of scenarios",
                                expected="a mapping with theme, title, library_version, copyright and scenarios"))
        return []
    for key in HEADER_KEYS:
        if not _text(doc.get(key)):
            problems.append(Problem(f, "header", key, "missing header field"))
    for key in sorted(set(doc) - {*HEADER_KEYS, "scenarios"}):
        problems.append(Problem(f, "header", str(key), "unknown header field",
                                expected=", ".join((*HEADER_KEYS, "scenarios"))))
    theme, version = _text(doc.get("theme")), _text(doc.get("library_version"))
    out: list[Scenario] = []
    for i, raw in enumerate(doc["scenarios"], start=1):
        if not isinstance(raw, dict):
            problems.append(Problem(f, f"scenario {i}", None, "not a mapping", raw))
            continue
        sid = _text(raw.get("id"))
        rec = sid or f"scenario {i}"
        if not sid:
            problems.append(Problem(f, rec, "id", "missing id", expected="e.g. SEC-01"))
        elif not _ID.match(sid):
            problems.append(Problem(f, rec, "id", "not a scenario id", sid, "letters, a dash and a number: SEC-01"))
        elif sid in seen:
            problems.append(Problem(f, rec, "id", f"duplicate id (also in {seen[sid]})", sid))
        else:
            seen[sid] = path.name
        got = _record(_Record(f, rec, raw, problems), theme, version, start + len(out), controls)
        if sid:
            out.append(got)
    return out


def read_files(paths: Iterable[Path], index: dict[str, list[dict[str, str]]] | None = None
               ) -> tuple[list[Scenario], list[Problem]]:
    """Every scenario of the files, and every problem found in them (control ids are checked against
    the Annex A controls of the reference index)."""
    controls = _annex_a_controls(catalog.reference_index() if index is None else index)
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    out: list[Scenario] = []
    for path in paths:
        out.extend(_read_file(Path(path), controls, seen, problems, len(out) + 1))
    return out, problems


def validate_files(paths: Iterable[Path], index: dict[str, list[dict[str, str]]] | None = None) -> list[Problem]:
    """Every problem of the scenario files (``riskmap validate``)."""
    return read_files(paths, index)[1]


def load_library(directory: Path = SCENARIO_DIR) -> list[Scenario]:
    """The library, or InputError listing every problem of every file."""
    scenarios, problems = read_files(scenario_files(directory))
    if problems:
        raise InputError(problems, "the AI risk scenario library has problems")
    return scenarios


_COLUMNS = [f.name for f in fields(Scenario) if f.name != "references"] + ["refs"]


def library_frame(scenarios: Sequence[Scenario]) -> pl.DataFrame:
    """The scenarios as rows of ``ai_scenarios``."""
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        c: (pl.List(pl.String) if c in LIST_FIELDS or c == "refs" else pl.String) for c in _COLUMNS}
    schema["ordinal"] = pl.Int32
    rows = [{**{c: getattr(s, c) for c in _COLUMNS if c != "refs"}, "refs": s.references} for s in scenarios]
    return pl.DataFrame([{k: (list(v) if isinstance(v, tuple) else v) for k, v in r.items()} for r in rows],
                        schema=schema)


def sync_library(con: duckdb.DuckDBPyConnection, scenarios: Sequence[Scenario]) -> int:
    """Make ``ai_scenarios`` hold exactly ``scenarios``; touches nothing that already agrees. Returns rows
    written or removed. Decisions on a scenario that left the library are kept (the view ignores them)."""
    cols = ", ".join(_COLUMNS)
    con.register("_library", library_frame(scenarios))
    try:
        changed = store.scalar(con, f"SELECT count(*) FROM (SELECT {cols} FROM _library "
                                    f"EXCEPT SELECT {cols} FROM ai_scenarios)")
        gone = store.scalar(con, "SELECT count(*) FROM ai_scenarios s WHERE NOT EXISTS "
                                 "(SELECT 1 FROM _library f WHERE f.id = s.id)")
        if changed or gone:
            con.execute("DELETE FROM ai_scenarios")
            con.execute(f"INSERT INTO ai_scenarios ({cols}) SELECT {cols} FROM _library")
    finally:
        con.unregister("_library")
    return int(changed) + int(gone)


def list_scenarios(db: str | Path | None = None, theme: str | None = None) -> pl.DataFrame:
    """The library as loaded in the database (``v_ai_scenarios``), optionally one theme (NotFoundError
    listing the themes for one the library does not have)."""
    sql, params = "SELECT * FROM v_ai_scenarios", []
    if theme:
        sql, params = sql + " WHERE theme = ?", [theme]
    with store.connect(db) as con:
        frame = con.execute(sql + " ORDER BY ordinal", params).pl()
        if theme and frame.is_empty():
            themes = [r[0] for r in con.execute("SELECT DISTINCT theme FROM ai_scenarios ORDER BY 1").fetchall()]
            raise NotFoundError(f"no theme {theme!r} in the AI risk scenario library; themes: "
                                f"{', '.join(themes) or 'none loaded (run `riskmap init`)'}")
    return frame


def get_scenario(db: str | Path | None, scenario_id: str) -> dict[str, Any]:
    """One scenario (``v_ai_scenarios``). Raises NotFoundError."""
    with store.connect(db) as con:
        cur = con.execute("SELECT * FROM v_ai_scenarios WHERE id = ?", [scenario_id])
        row = cur.fetchone()
        if row is None:
            raise NotFoundError(f"no AI risk scenario {scenario_id!r}; `riskmap scenarios list` shows the library")
        return dict(zip([d[0] for d in cur.description or []], row, strict=True))
