"""Recognising the columns of a register, and the mapping file that covers the rest.

Registers name their columns in many ways (``Risk ID``, ``Ref``, ``#``; ``Likelihood``,
``Probability``; ``Annex A controls``, ``ISO controls``...). Each import kind has a table of the
common wordings per field (in ``wordings``); a heading is compared after lower-casing and reducing punctuation to
spaces, so ``Risk-Owner`` and ``risk owner`` are the same. A scale written in the heading
(``Likelihood (1-4)``, ``Probability %``) declares that column's scale.

A mapping file names what the table does not know. YAML::

    columns:              # heading as written -> field (or "ignore")
      Chance: likelihood
      Harm: impact
    framework: iso27001-2013    # default framework of bare control references (A.x.y)
    management_system: ISMS     # ISMS, AIMS or both, for every row
    scales: {likelihood: 1-4, impact: low-medium-high}
    date_format: "%m/%d/%Y"
    sheet: Register             # Excel sheet (default: the first)

or CSV with the columns ``column,field`` (columns only).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.config import FRAMEWORKS, ISO27001, ISO27001_2013, ISO42001
from engine.errors import InputError, Problem
from engine.register import vocab
from engine.register.scales import Scale, parse_scale_name, scale_names

from .reading import Table
from .wordings import (
    AI_SYSTEM_HEADINGS,
    ASSESSMENT_HEADINGS,
    ASSET_HEADINGS,
    COMPOSED_FROM,
    HEADINGS,
    IGNORE,
    REQUIRED,
    RISK_HEADINGS,
    normalise_heading,
)

__all__ = ["AI_SYSTEM_HEADINGS", "ASSESSMENT_HEADINGS", "ASSET_HEADINGS", "FIELD_ALIASES", "HEADINGS", "IGNORE",
           "MULTI_COLUMN", "REQUIRED", "RISK_HEADINGS", "SCALED_FIELDS", "SCALE_ALIASES", "Columns", "MappingFile",
           "column_letter", "fields_of", "heading_framework", "load_mapping", "lookup_heading", "normalise_heading",
           "parse_framework", "resolve_columns"]

FIELD_ALIASES = {"likelihood": "inherent_likelihood", "impact": "inherent_impact", "asset": "assets",
                 "ai_system": "ai_systems", "id": "source_key", "risk_id": "source_key",
                 "risk_source": "ai_risk_sources", "control": "controls"}
"""Short names a mapping file may use for risk fields."""

SCALED_FIELDS = ("inherent_likelihood", "inherent_impact", "current_likelihood", "current_impact",
                 "residual_likelihood", "residual_impact")
SCALE_ALIASES = {"likelihood": ("inherent_likelihood", "current_likelihood", "residual_likelihood"),
                 "impact": ("inherent_impact", "current_impact", "residual_impact")}


def fields_of(kind: str) -> list[str]:
    """Fields a column of this import kind can be mapped to."""
    return sorted({f for f in HEADINGS[kind].values() if f != IGNORE} | {IGNORE})


def parse_framework(text: Any) -> str | None:
    """A framework id from the ways people name one (``27001:2013``, ``ISO 42001``...)."""
    t = re.sub(r"[^a-z0-9]+", " ", str(text).lower()).split()
    joined = " ".join(t)
    if str(text).strip() in FRAMEWORKS:
        return str(text).strip()
    if "42001" in t:
        return ISO42001
    if "27001" in t or joined.startswith("iso27001") or "isms" in t:
        return ISO27001_2013 if "2013" in t else ISO27001
    if "aims" in t:
        return ISO42001
    for fw in FRAMEWORKS:
        if joined.replace(" ", "") == fw.replace("-", ""):
            return fw
    return None


def _scale_hint(heading: str) -> Scale | None:
    h = heading.lower()
    m = re.search(r"\b1\s*(?:-|–|to|\.\.)\s*(\d{1,3})\b", h)
    if m and 2 <= int(m.group(1)) <= 100:
        return parse_scale_name(f"1-{m.group(1)}")
    if "%" in h or "percent" in h:
        return parse_scale_name("percent")
    if re.search(r"\b0\s*-\s*1\b", h):
        return parse_scale_name("probability")
    if re.search(r"\bl\s*/\s*m\s*/\s*h\b", h):
        return parse_scale_name("low-medium-high")
    return None


def _strip_hint(norm: str) -> str:
    norm = re.sub(r"\b1 (?:to )?\d{1,3}\b", " ", norm)
    norm = re.sub(r"\b0 1\b|%|\bpercent\b|\bl m h\b", " ", norm)
    return " ".join(norm.split())


@dataclass
class MappingFile:
    """A user's mapping of headings to fields, plus per-file settings."""

    file: str
    columns: dict[str, str] = field(default_factory=dict)   # heading as written -> field
    framework: str | None = None
    management_system: str | None = None
    scales: dict[str, Scale] = field(default_factory=dict)
    date_format: str | None = None
    sheet: str | None = None

    def field_for(self, heading: str | None) -> str | None:
        if heading is None:
            return None
        want = " ".join(heading.split()).lower()
        for col, fld in self.columns.items():
            if " ".join(col.split()).lower() == want:
                return fld
        return None


def _field_name(kind: str, value: Any) -> str | None:
    text = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    if kind == "risks":
        text = FIELD_ALIASES.get(text, text)
    elif text == "ai_system" and kind == "assessments":
        text = "ai_system_id"
    return text if text in fields_of(kind) else None


def load_mapping(path: str | Path, kind: str) -> MappingFile:
    """Read a mapping file (YAML or CSV). Raises InputError listing every problem in it."""
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise InputError([Problem(name, None, None, "no such mapping file")])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(name, None, None, f"not UTF-8 text (byte {exc.start})",
                                  expected="a mapping file saved as UTF-8")]) from exc
    out = MappingFile(name)
    if path.suffix.lower() == ".csv":
        problems = _read_csv_mapping(out, text, kind)
    else:
        problems = _read_yaml_mapping(out, text, kind)
    if problems:
        raise InputError(problems, f"{name}: the mapping file has problems")
    return out


def _read_csv_mapping(out: MappingFile, text: str, kind: str) -> list[Problem]:
    """Fill ``out.columns`` from a CSV mapping file (``column,field``); the problems of its rows.
    A file without those two columns is refused at once (InputError)."""
    name = out.file
    problems: list[Problem] = []
    reader = csv.DictReader(io.StringIO(text))
    heads = [h.strip().lower() for h in reader.fieldnames or []]
    if heads[:2] != ["column", "field"]:
        raise InputError([Problem(name, 1, None, "a CSV mapping file has the columns column,field",
                                  ",".join(reader.fieldnames or []), expected="column,field")])
    expected_fields = ", ".join(fields_of(kind))
    for i, row in enumerate(reader, start=2):
        col, fld = (row.get(k) or "" for k in reader.fieldnames[:2])  # type: ignore[index]
        got = _field_name(kind, fld)
        if not col.strip():
            problems.append(Problem(name, i, "column", "empty column heading"))
        elif got is None:
            problems.append(Problem(name, i, "field", "unknown field", fld, expected=expected_fields))
        else:
            out.columns[col.strip()] = got
    return problems


_MAPPING_SETTINGS = {"columns", "framework", "management_system", "scales", "date_format", "sheet"}


def _read_yaml_mapping(out: MappingFile, text: str, kind: str) -> list[Problem]:
    """Fill ``out`` from a YAML mapping file; the problems of its settings. A file that is not a
    YAML mapping at all is refused at once (InputError)."""
    name = out.file
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError([Problem(name, None, None, f"not valid YAML: {exc}")]) from exc
    if not isinstance(doc, dict):
        raise InputError([Problem(name, None, None, "not a mapping file", type(doc).__name__,
                                  expected="a YAML mapping with 'columns' and optional settings")])
    problems = [Problem(name, None, str(key), "unknown setting", expected=", ".join(sorted(_MAPPING_SETTINGS)))
                for key in doc if key not in _MAPPING_SETTINGS]
    problems += _yaml_columns(out, doc, kind)
    problems += _yaml_defaults(out, doc)
    problems += _yaml_scales(out, doc)
    for key in ("date_format", "sheet"):
        if doc.get(key) is not None:
            setattr(out, key, str(doc[key]))
    return problems


def _yaml_columns(out: MappingFile, doc: dict[Any, Any], kind: str) -> list[Problem]:
    """``columns:`` (heading as written -> field) into ``out.columns``."""
    problems: list[Problem] = []
    cols = doc.get("columns") or {}
    if not isinstance(cols, dict):
        problems.append(Problem(out.file, None, "columns", "columns must map headings to fields", cols))
        cols = {}
    expected_fields = ", ".join(fields_of(kind))
    for col, fld in cols.items():
        got = _field_name(kind, fld)
        if got is None:
            problems.append(Problem(out.file, "columns", str(col), "unknown field", fld, expected=expected_fields))
        else:
            out.columns[str(col).strip()] = got
    return problems


def _yaml_defaults(out: MappingFile, doc: dict[Any, Any]) -> list[Problem]:
    """``framework:`` and ``management_system:``, the file-wide defaults of its rows."""
    problems: list[Problem] = []
    if doc.get("framework") is not None:
        out.framework = parse_framework(doc["framework"])
        if out.framework is None:
            problems.append(Problem(out.file, None, "framework", "unknown framework", doc["framework"],
                                    expected=", ".join(FRAMEWORKS)))
    if doc.get("management_system") is not None:
        out.management_system = vocab.canon(doc["management_system"], vocab.MANAGEMENT_SYSTEMS)
        if out.management_system is None:
            problems.append(Problem(out.file, None, "management_system", "unknown management system",
                                    doc["management_system"], expected="ISMS, AIMS or both"))
    return problems


def _yaml_scales(out: MappingFile, doc: dict[Any, Any]) -> list[Problem]:
    """``scales:`` (field or likelihood / impact -> scale name) into ``out.scales``; ``likelihood``
    and ``impact`` set the scale of all three stages."""
    problems: list[Problem] = []
    scales = doc.get("scales") or {}
    if not isinstance(scales, dict):
        problems.append(Problem(out.file, None, "scales", "scales must map fields to scale names", scales))
        scales = {}
    for fld, sname in scales.items():
        key = str(fld).strip().lower()
        targets = SCALE_ALIASES.get(key) or ((key,) if key in SCALED_FIELDS else None)
        scale = parse_scale_name(str(sname))
        if targets is None:
            problems.append(Problem(out.file, "scales", str(fld), "not a scored field", fld,
                                    expected="likelihood, impact or one of " + ", ".join(SCALED_FIELDS)))
        elif scale is None:
            problems.append(Problem(out.file, "scales", str(fld), "unknown scale", sname,
                                    expected=", ".join(scale_names())))
        else:
            for t in targets:
                out.scales[t] = scale
    return problems


def column_letter(index: int) -> str:
    """Spreadsheet letter of a 0-based column index (0 -> A, 26 -> AA)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


@dataclass
class Columns:
    """Which column holds which field, for one file."""

    fields: dict[str, int] = field(default_factory=dict)     # field -> (first) column index
    more: dict[str, list[int]] = field(default_factory=dict)  # further columns of a multi-column field
    frameworks: dict[int, str] = field(default_factory=dict)  # column index -> framework its heading names
    labels: dict[int, str] = field(default_factory=dict)     # column index -> heading for messages
    hints: dict[str, Scale] = field(default_factory=dict)    # field -> scale declared in the heading
    unrecognised: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def label(self, fld: str) -> str:
        return self.labels[self.fields[fld]]

    def columns_of(self, fld: str) -> list[int]:
        """Every column holding a field (control columns may be several: one per standard)."""
        if fld not in self.fields:
            return []
        return [self.fields[fld], *self.more.get(fld, [])]


MULTI_COLUMN = ("controls", "planned_controls")
"""Fields several columns of a risk register or an action plan may hold, e.g. 'ISO 42001 Controls' and
'ISO 27001:2022 Controls'."""

_FRAMEWORK_WORDS = {"iso", "iec", "27001", "42001", "2013", "2022", "2023"}


def lookup_heading(heading: str, known: dict[str, str]) -> str | None:
    """The field a heading names: as written, without a scale hint, without a bracketed remark
    (``Risk Source (ISO 42001 Annex C)``), or without the standard it names (``ISO 42001 Controls``)."""
    norm = normalise_heading(heading)
    tries = [norm, _strip_hint(norm), normalise_heading(re.sub(r"[(\[].*?[)\]]", " ", heading))]
    tries.append(" ".join(w for w in norm.split() if w not in _FRAMEWORK_WORDS))
    for t in tries:
        if t and t in known:
            return known[t]
    return None


def heading_framework(heading: str) -> str | None:
    """The framework a heading names (``Existing Controls (ISO 27001:2013)`` -> iso27001-2013)."""
    words = set(re.sub(r"[^a-z0-9]+", " ", heading.lower()).split())
    if words & {"27001", "42001"}:
        return parse_framework(heading)
    return None


def resolve_columns(table: Table, kind: str, mapping: MappingFile | None = None) -> Columns:
    """Decide which column holds which field; report headings that repeat, fields claimed by two
    columns, columns without a heading, mapping entries naming no column, and required fields that
    no column provides."""
    out = Columns()
    f = table.file
    norms = [normalise_heading(h) if h else "" for h in table.headers]
    has_cia_letters = kind == "risks" and bool({"c", "a"} & set(norms))
    seen: dict[str, int] = {}
    for i, heading in enumerate(table.headers):
        label = heading if heading else f"column {column_letter(i)}"
        out.labels[i] = label
        if not heading:
            if table.frame[f"c{i}"].is_not_null().any():
                out.problems.append(Problem(f, 1, label, "a column with values has no heading",
                                            expected="a heading naming the column"))
            continue
        norm = norms[i]
        if norm in seen:
            out.problems.append(Problem(
                f, 1, heading, f"the heading appears twice (columns {column_letter(seen[norm])} and "
                f"{column_letter(i)})", heading, expected="each heading once"))
            continue
        seen[norm] = i
        fld = _heading_field(heading, norm, kind, mapping, has_cia_letters)
        if fld is None:
            out.unrecognised.append(heading)
        elif fld != IGNORE:
            _claim(out, table, kind, fld, i, heading)
    if mapping:
        out.problems.extend(_unused_mapping_columns(table, mapping))
    out.problems.extend(_missing_required(f, kind, out))
    return out


def _heading_field(heading: str, norm: str, kind: str, mapping: MappingFile | None,
                   has_cia_letters: bool) -> str | None:
    """The field a heading names: the mapping file's word first, then the known wordings. A lone
    ``C``, ``I`` or ``A`` of a risk register is a C/I/A flag (``I`` is impact unless C or A is there)."""
    fld = mapping.field_for(heading) if mapping else None
    if fld is None:
        fld = lookup_heading(heading, HEADINGS[kind])
        if kind == "risks" and fld is None and norm in ("c", "i", "a"):
            fld = {"c": "confidentiality", "a": "availability",
                   "i": "integrity" if has_cia_letters else "inherent_impact"}[norm]
    return fld


def _claim(out: Columns, table: Table, kind: str, fld: str, i: int, heading: str) -> None:
    """Column ``i`` holds ``fld``, unless another column already does: a further control column of a
    risk register is kept beside the first, any other second claim is a problem."""
    if fld in out.fields and fld in MULTI_COLUMN and kind in ("risks", "actions"):
        out.more.setdefault(fld, []).append(i)
        fw = heading_framework(heading)
        if fw:
            out.frameworks[i] = fw
        return
    if fld in out.fields and fld.endswith("_stated"):
        out.unrecognised.append(heading)  # a second column of the register's own arithmetic: lineage only
        return
    if fld in out.fields:
        first = out.fields[fld]
        out.problems.append(Problem(
            table.file, 1, heading, f"both {table.headers[first]!r} (column {column_letter(first)}) and "
            f"{heading!r} (column {column_letter(i)}) read as {fld}", heading,
            expected="one column per field; a mapping file can say which column to use or to ignore"))
        return
    out.fields[fld] = i
    if fld in MULTI_COLUMN:
        fw = heading_framework(heading)
        if fw:
            out.frameworks[i] = fw
    hint = _scale_hint(heading)
    if hint is not None and fld in SCALED_FIELDS:
        out.hints[fld] = hint


def _unused_mapping_columns(table: Table, mapping: MappingFile) -> list[Problem]:
    """A problem for each heading the mapping file names that the file does not have."""
    written = {" ".join(h.split()).lower() for h in table.headers if h}
    return [Problem(mapping.file, "columns", col, "the mapping names a column the file "
                    f"{Path(table.file).name} does not have", col,
                    expected="a heading of the file: " + ", ".join(h for h in table.headers if h))
            for col in mapping.columns if " ".join(col.split()).lower() not in written]


def _missing_required(file: str, kind: str, out: Columns) -> list[Problem]:
    """A problem for each required field of the import kind that no column holds."""
    problems = []
    for req in REQUIRED[kind]:
        composed = COMPOSED_FROM.get((kind, req), ())
        if req in out.fields or any(f in out.fields for f in composed):
            continue
        wordings = [k for k, v in HEADINGS[kind].items() if v == req][:6]
        also = f", or {' / '.join(composed)} columns to compose it from" if composed else ""
        problems.append(Problem(file, 1, None, f"no {req} column",
                                expected="a column headed " + " / ".join(w.capitalize() for w in wordings)
                                + " (or a mapping file naming it)" + also))
    return problems
