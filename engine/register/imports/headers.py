"""Recognising the columns of a register, and the mapping file that covers the rest.

Registers name their columns in many ways (``Risk ID``, ``Ref``, ``#``; ``Likelihood``,
``Probability``; ``Annex A controls``, ``ISO controls``...). Each import kind has a table of the
common wordings per field; a heading is compared after lower-casing and reducing punctuation to
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
from engine.register.scoring import Scale, parse_scale_name, scale_names

from .reading import Table

IGNORE = "ignore"


def _syn(table: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for fld, spellings in table.items():
        for s in spellings.split("|"):
            key = normalise_heading(s)
            if key in out and out[key] != fld:
                raise AssertionError(f"heading {s!r} is listed for {out[key]} and {fld}")
            out[key] = fld
    return out


def normalise_heading(text: str) -> str:
    """Lower case, '&' as 'and', punctuation (except # and %) as spaces, single spaces."""
    t = str(text).lower().replace("&", " and ").replace("’", "'").replace("'s ", " ")
    t = re.sub(r"[^a-z0-9#%]+", " ", t)
    return " ".join(t.split())


RISK_HEADINGS = _syn({
    "source_key": "risk id|id|ref|ref no|reference|risk ref|risk reference|risk no|risk number|risk #|#|no|"
                  "number|key|risk key|identifier|risk identifier",
    "title": "title|risk|risk name|risk title|name|risk summary|summary|short description|risk statement",
    "description": "description|risk description|details|detail|risk details|narrative",
    "cause": "cause|causes|root cause|risk cause",
    "event": "event|risk event|scenario|risk scenario",
    "consequence": "consequence description|consequences description|effect|effects|outcome",
    "management_system": "management system|ms|register type|management system scope",
    "framework": "framework|standard|control framework|control standard",
    "category": "category|risk category|type|risk type|domain",
    "business_unit": "business unit|department|function|team|division|bu",
    "assets": "asset|assets|asset name|asset names|affected asset|affected assets|information asset|"
              "information assets|asset id|asset ids|assets affected|asset ref|related asset|related assets",
    "ai_systems": "ai system|ai systems|ai system name|ai model|ai system id|affected ai system|"
                  "affected ai systems|ai use case|ai systems affected",
    "threat": "threat|threats|threat source|threat event|threat description",
    "vulnerability": "vulnerability|vulnerabilities|weakness|weaknesses|vulnerability description",
    "ai_risk_sources": "risk source|risk sources|ai risk source|ai risk sources|source of risk|sources of risk",
    "cia": "cia|c i a|cia impact|cia affected|security properties|security property|properties affected",
    "confidentiality": "confidentiality|conf",
    "integrity": "integrity|integ",
    "availability": "availability|avail",
    "ai_objectives": "ai objectives|ai objective|objectives affected|objective affected|ai objectives affected|"
                     "trustworthiness|trustworthiness characteristics|objectives",
    "consequence_org": "consequence for the organisation|consequences for the organisation|business impact|"
                       "impact on the organisation|impact on organisation|organisational impact|"
                       "organizational impact|impact on the organization|impact description",
    "consequence_individuals": "consequence for individuals|consequences for individuals|impact on individuals|"
                               "impact on individuals or society|societal impact|impact on society|"
                               "individual impact|harm|harms|consequences for individuals or society|"
                               "impact on people|consequence for individuals or society|affected parties|"
                               "affected individuals|affected individuals or groups|who is affected",
    "owner": "owner|risk owner|responsible|accountable|owner name|risk owner name",
    "status": "status|risk status|state",
    "inherent_likelihood": "likelihood|probability|inherent likelihood|inherent probability|likelihood inherent|"
                           "gross likelihood|l|likelihood score|likelihood rating|probability score|"
                           "probability rating|initial likelihood",
    "inherent_impact": "impact|consequence|consequences|severity|inherent impact|inherent consequence|"
                       "inherent severity|impact inherent|gross impact|impact score|impact rating|"
                       "consequence rating|consequence score|severity rating|initial impact",
    "current_likelihood": "current likelihood|current probability|likelihood current|"
                          "likelihood with current controls|net likelihood",
    "current_impact": "current impact|current consequence|current severity|impact current|"
                      "impact with current controls|net impact",
    "residual_likelihood": "residual likelihood|residual probability|target likelihood|likelihood residual|"
                           "likelihood after treatment|post treatment likelihood",
    "residual_impact": "residual impact|residual consequence|residual severity|target impact|impact residual|"
                       "impact after treatment|post treatment impact",
    "treatment": "treatment|treatment option|risk treatment|treatment decision|response|risk response|"
                 "decision|treatment strategy|strategy",
    "treatment_notes": "treatment plan|treatment notes|treatment actions|actions|action plan|mitigation|"
                       "mitigation plan|planned actions|comments|notes|remarks",
    "controls": "controls|control|annex a controls|annex a control|iso controls|iso control|existing controls|"
                "current controls|control ref|control refs|control references|controls applied|"
                "mapped controls|control ids|annex a|iso 27001 controls|iso 42001 controls|27001 controls|"
                "42001 controls|soa reference|soa references|controls existing",
    "planned_controls": "planned controls|proposed controls|additional controls|new controls|"
                        "controls to implement|target controls|controls planned",
    "acceptance_approver": "accepted by|approver|acceptance approver|approved by|risk acceptance by",
    "acceptance_date": "acceptance date|accepted on|date accepted|approval date",
    "acceptance_expiry": "acceptance expiry|accepted until|acceptance expires|acceptance valid until|"
                         "acceptance end|expiry|acceptance expiry date",
    "acceptance_justification": "acceptance justification|justification|acceptance rationale|rationale|"
                                "reason for acceptance",
    "next_review": "review date|next review|next review date|review due|review by|next review due|"
                   "date of next review",
    IGNORE: "risk score|risk level|risk rating|score|rating|level|inherent risk|inherent risk score|"
            "inherent risk level|inherent risk rating|residual risk|residual risk score|residual risk level|"
            "residual risk rating|current risk|current risk score|current risk level|current risk rating|"
            "inherent score|residual score|current score|priority|rag|date raised|date identified|"
            "identified on|raised on|last updated|updated|created|date added|l x i|lxi|l i|overall rating|"
            "overall risk|overall score|overall risk rating|overall risk score",
})
"""Risk register headings. ``I`` is impact, or integrity when the file also has ``C`` or ``A``."""

ASSET_HEADINGS = _syn({
    "id": "id|asset id|asset ref|ref|reference|asset number|asset no|key",
    "name": "name|asset|asset name|title",
    "asset_type": "type|asset type|category|asset category|class|asset class",
    "description": "description|details",
    "owner": "owner|asset owner|custodian|responsible",
    "business_unit": "business unit|department|team|function",
    "classification": "classification|information classification|sensitivity|confidentiality level",
    "location": "location|site|hosting|where",
    "status": "status|state",
})

AI_SYSTEM_HEADINGS = _syn({
    "id": "id|system id|ai system id|ref|reference|key",
    "name": "name|ai system|system|system name|ai system name|model|use case|ai use case",
    "purpose": "purpose|business purpose|objective|goal",
    "intended_use": "intended use|intended purpose|use|usage",
    "lifecycle_stage": "lifecycle stage|life cycle stage|lifecycle|life cycle|stage|phase",
    "role": "role|our role|organisation role|organization role|role of the organisation|"
            "role of the organization|ai role|roles",
    "autonomy": "autonomy|level of autonomy|automation|level of automation|decision making",
    "human_oversight": "human oversight|oversight|human in the loop|hitl",
    "data_sources": "data sources|data source|training data|data",
    "third_party_components": "third party components|third parties|suppliers|components|vendors|third party",
    "owner": "owner|system owner|ai system owner|responsible",
    "status": "status|state",
    # characteristics (yes / no / unknown) that decide which AI risk scenarios apply, and matching keys
    "processes_personal_data": "processes personal data|personal data|pii|personal information|uses personal data|"
                               "processes pii|personal data processed|contains personal data",
    "processes_sensitive_data": "processes special category data|special category data|special categories of data|"
                                "sensitive personal data|sensitive data|health data|processes health data|"
                                "processes sensitive data",
    "decides_about_people": "makes decisions about people|decisions about people|decides about people|"
                            "automated decision making|decisions about individuals|makes decisions about individuals|"
                            "informs decisions about people",
    "uses_third_party_model": "uses third party model|uses a third party model|third party model|external model|"
                              "uses external model|third party ai|third party ai service|uses foundation model|"
                              "foundation model|vendor model",
    "trained_in_house": "trained in house|in house model|model trained in house|trains own model|own model|"
                        "fine tuned in house|trained by us",
    "learns_in_operation": "learns in operation|continuous learning|continual learning|online learning|"
                           "learns from live data|self learning|retrained in operation",
    "generative": "generative|generative ai|genai|gen ai|uses generative ai|llm|large language model",
    "external_input": "external input|takes external input|untrusted input|input from outside|external content|"
                      "processes external content|user supplied content",
    "interacts_with_people": "interacts with people|user facing|customer facing|public facing|patient facing|"
                             "interacts with the public|people interact with it|conversational",
    "safety_critical": "safety critical|safety relevant|safety impact|can harm health or safety|clinical safety",
    "fully_automated": "fully automated|fully autonomous|no human review|acts without human review|"
                       "autonomous decisions",
    "affects_vulnerable_groups": "vulnerable groups|affects vulnerable groups|vulnerable people|"
                                 "vulnerable individuals|affects children|vulnerable users",
    "vendor": "vendor|supplier|model provider|vendor name|supplier name|ai vendor|service provider",
    "domains": "domain|domains|url|urls|web address|website|hostname|hostnames|host|endpoint|endpoints|"
               "service url|api endpoint",
})

ASSESSMENT_HEADINGS = _syn({
    "id": "id|assessment id|ref|reference|aia id|impact assessment id|key",
    "ai_system_id": "ai system|ai system id|system|system id|ai system name|model",
    "title": "title|assessment|name|assessment title|impact assessment",
    "affected_individuals": "affected individuals|individuals|individuals affected|impact on individuals",
    "affected_groups": "affected groups|groups|groups affected|impact on groups",
    "societal_impacts": "societal impacts|societal impact|society|impact on society|societal",
    "consequences": "consequences|consequence|potential consequences|harms",
    "severity": "severity|impact|impact level|severity level",
    "assessed_on": "date|assessed on|assessment date|date assessed|assessed",
    "assessor": "assessor|assessed by|author",
    "next_review_due": "next review|next review due|review date|review due|next review date",
    "status": "status|state",
})

HEADINGS = {"risks": RISK_HEADINGS, "assets": ASSET_HEADINGS, "ai_systems": AI_SYSTEM_HEADINGS,
            "assessments": ASSESSMENT_HEADINGS}
REQUIRED = {"risks": ("title",), "assets": ("name",), "ai_systems": ("name",),
            "assessments": ("ai_system_id", "title")}
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
    problems: list[Problem] = []
    out = MappingFile(name)
    expected_fields = ", ".join(fields_of(kind))
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        heads = [h.strip().lower() for h in reader.fieldnames or []]
        if heads[:2] != ["column", "field"]:
            raise InputError([Problem(name, 1, None, "a CSV mapping file has the columns column,field",
                                      ",".join(reader.fieldnames or []), expected="column,field")])
        for i, row in enumerate(reader, start=2):
            col, fld = (row.get(k) or "" for k in reader.fieldnames[:2])  # type: ignore[index]
            got = _field_name(kind, fld)
            if not col.strip():
                problems.append(Problem(name, i, "column", "empty column heading"))
            elif got is None:
                problems.append(Problem(name, i, "field", "unknown field", fld, expected=expected_fields))
            else:
                out.columns[col.strip()] = got
        if problems:
            raise InputError(problems, f"{name}: the mapping file has problems")
        return out
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError([Problem(name, None, None, f"not valid YAML: {exc}")]) from exc
    if not isinstance(doc, dict):
        raise InputError([Problem(name, None, None, "not a mapping file", type(doc).__name__,
                                  expected="a YAML mapping with 'columns' and optional settings")])
    known = {"columns", "framework", "management_system", "scales", "date_format", "sheet"}
    for key in doc:
        if key not in known:
            problems.append(Problem(name, None, str(key), "unknown setting", expected=", ".join(sorted(known))))
    cols = doc.get("columns") or {}
    if not isinstance(cols, dict):
        problems.append(Problem(name, None, "columns", "columns must map headings to fields", cols))
        cols = {}
    for col, fld in cols.items():
        got = _field_name(kind, fld)
        if got is None:
            problems.append(Problem(name, "columns", str(col), "unknown field", fld, expected=expected_fields))
        else:
            out.columns[str(col).strip()] = got
    if doc.get("framework") is not None:
        out.framework = parse_framework(doc["framework"])
        if out.framework is None:
            problems.append(Problem(name, None, "framework", "unknown framework", doc["framework"],
                                    expected=", ".join(FRAMEWORKS)))
    if doc.get("management_system") is not None:
        out.management_system = vocab.canon(doc["management_system"], vocab.MANAGEMENT_SYSTEMS)
        if out.management_system is None:
            problems.append(Problem(name, None, "management_system", "unknown management system",
                                    doc["management_system"], expected="ISMS, AIMS or both"))
    scales = doc.get("scales") or {}
    if not isinstance(scales, dict):
        problems.append(Problem(name, None, "scales", "scales must map fields to scale names", scales))
        scales = {}
    for fld, sname in scales.items():
        key = str(fld).strip().lower()
        targets = SCALE_ALIASES.get(key) or ((key,) if key in SCALED_FIELDS else None)
        scale = parse_scale_name(str(sname))
        if targets is None:
            problems.append(Problem(name, "scales", str(fld), "not a scored field", fld,
                                    expected="likelihood, impact or one of " + ", ".join(SCALED_FIELDS)))
        elif scale is None:
            problems.append(Problem(name, "scales", str(fld), "unknown scale", sname,
                                    expected=", ".join(scale_names())))
        else:
            for t in targets:
                out.scales[t] = scale
    for key in ("date_format", "sheet"):
        if doc.get(key) is not None:
            setattr(out, key, str(doc[key]))
    if problems:
        raise InputError(problems, f"{name}: the mapping file has problems")
    return out


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
"""Fields several columns may hold, e.g. 'ISO 42001 Controls' and 'ISO 27001:2022 Controls'."""

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
    known = HEADINGS[kind]
    out = Columns()
    f = table.file
    norms = [normalise_heading(h) if h else "" for h in table.headers]
    has_cia_letters = kind == "risks" and bool({"c", "a"} & set(norms))
    seen: dict[str, int] = {}
    claimed: dict[str, int] = {}
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
        fld = mapping.field_for(heading) if mapping else None
        if fld is None:
            fld = lookup_heading(heading, known)
            if kind == "risks" and fld is None and norm in ("c", "i", "a"):
                fld = {"c": "confidentiality", "a": "availability",
                       "i": "integrity" if has_cia_letters else "inherent_impact"}[norm]
        if fld is None:
            out.unrecognised.append(heading)
            continue
        if fld == IGNORE:
            continue
        if fld in claimed and fld in MULTI_COLUMN and kind == "risks":
            out.more.setdefault(fld, []).append(i)
            fw = heading_framework(heading)
            if fw:
                out.frameworks[i] = fw
            continue
        if fld in claimed:
            other = table.headers[claimed[fld]]
            out.problems.append(Problem(
                f, 1, heading, f"both {other!r} (column {column_letter(claimed[fld])}) and {heading!r} "
                f"(column {column_letter(i)}) read as {fld}", heading,
                expected="one column per field; a mapping file can say which column to use or to ignore"))
            continue
        claimed[fld] = i
        out.fields[fld] = i
        if fld in MULTI_COLUMN:
            fw = heading_framework(heading)
            if fw:
                out.frameworks[i] = fw
        hint = _scale_hint(heading)
        if hint is not None and fld in SCALED_FIELDS:
            out.hints[fld] = hint
    if mapping:
        written = {" ".join(h.split()).lower() for h in table.headers if h}
        for col in mapping.columns:
            if " ".join(col.split()).lower() not in written:
                out.problems.append(Problem(mapping.file, "columns", col, "the mapping names a column the file "
                                            f"{Path(f).name} does not have", col,
                                            expected="a heading of the file: " + ", ".join(h for h in table.headers if h)))
    for req in REQUIRED[kind]:
        if req not in out.fields:
            wordings = [k for k, v in known.items() if v == req][:6]
            out.problems.append(Problem(f, 1, None, f"no {req} column",
                                        expected="a column headed " + " / ".join(w.capitalize() for w in wordings)
                                        + " (or a mapping file naming it)"))
    return out
