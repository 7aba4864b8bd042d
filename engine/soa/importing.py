"""Importing a Statement of Applicability kept in a spreadsheet (ISO 27001 6.1.3 d, ISO 42001 6.1.3 f).

``riskmap import soa FILE [--framework F] [--dry-run]`` reads a CSV or Excel SoA as organisations keep
it: one row per control with its id, applicability (Yes/No, Y/N, Included/Excluded, ✓/✗, true/false),
justification, inclusion reasons (in words, or as marked ``LR``/``CO``/``BR/BP``/``RRA`` columns),
exclusion reason, implementation status in common wordings (or a percentage), owner, evidence and the
date last verified. Headings are recognised as for registers (``engine.register.imports.headers``;
a mapping file names the rest). Each row's control is

- the one its Standard column or its own prefix names (``42001 A.6.2.8``), else
- the ``--framework`` given, else
- the one control of that id among ISO/IEC 27001:2022, ISO/IEC 42001:2023 and ISO/IEC 27001:2013,
  using the row's title to choose when the id exists in several (both standards number Annex A from
  A.5), else the standard most of the file's rows belong to.

A 27001:2013 SoA (114 rows) is carried onto 27001:2022 through the transition crosswalk
(:mod:`engine.soa.transition`, every merge of several 2013 rows listed). Empty cells leave what
riskmap holds as it is. A row riskmap has already decided is updated through the one write path
with history, and each value that differs is listed (``differences``) so that nothing is overwritten
silently; a dry run shows them all and writes nothing. All or nothing: a file with a problem (an
unknown control, a control twice, an exclusion without justification...) changes nothing, and every
problem is reported at once. Afterwards the crosswalk's proposals for the 42001 rows (a 27001 control
implemented covers a 42001 control fully or partly; reuse its evidence) are listed, to confirm like
any SoA proposal.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from engine import access, records, store
from engine.config import ISO27001, ISO27001_2013, ISO42001
from engine.crosswalk.refs import parse_control
from engine.errors import InputError, NotFoundError, Problem, RiskmapError
from engine.register.imports import headers as hd
from engine.register.imports.limits import Limits
from engine.register.imports.reading import ROW, read_table
from engine.register.imports.report import FileReport, ImportReport
from engine.store import query

from .rows import SOA_ROW, ensure_rows
from .transition import Decision, carry_onto_2022
from .vocab import APPLICABLE_WORDS, EXCLUSION_WORDS, REASON_WORDS, REASONS, STATUS_WORDS

__all__ = ["Decision", "import_soa"]

STANDARDS = (ISO27001, ISO42001, ISO27001_2013)
FLAG_REASONS = {"reason_legal": ("legal_regulatory",), "reason_contractual": ("contractual",),
                "reason_business": ("business",), "reason_business_practice": ("business", "best_practice"),
                "reason_best_practice": ("best_practice",), "reason_risk": ("risk_treatment",)}
"""Columns marked with an X where a reason applies, and the reasons they stand for."""
_TRUE_MARKS = {"x", "yes", "y", "✓", "✔", "✅", "1", "true", "•", "*"}


class _DryRun(Exception):
    def __init__(self, report: ImportReport):
        super().__init__("dry run")
        self.report = report


def import_soa(db: str | Path | None, path: str | Path, *, actor: str, channel: str = "import",
               framework: str | None = None, mapping: str | Path | None = None, dry_run: bool = False,
               limits: Limits | None = None) -> ImportReport:
    """Import a Statement of Applicability (CSV or .xlsx); see the module docstring.

    Raises InputError listing every problem; nothing is written then. Returns what was (or, for a
    dry run, would be) changed, with the differences from what riskmap held, the 2013 rows carried
    onto 2022 and the crosswalk's proposals for the 42001 rows. The SoA is the organisation's: the import
    needs the role contributor for every business unit."""
    access.require(access.resolve(actor), "import")
    maps = hd.load_mapping(mapping, "soa") if mapping else None
    fw = _framework_arg(framework) or (maps.framework if maps else None)
    table = read_table(path, maps.sheet if maps else None, limits)
    cols = hd.resolve_columns(table, "soa", maps)
    rep = FileReport(table.file, Path(path).stem, "soa", rows=table.rows)
    if cols.unrecognised:
        rep.notes.append("columns not recognised (ignored): " + ", ".join(cols.unrecognised))
    frame = table.frame.select(ROW, *[pl.col(f"c{i}").alias(f) for f, i in cols.fields.items()])
    labels = {f: cols.labels[i] for f, i in cols.fields.items()}
    try:
        with store.transaction(db) as con:
            ensure_rows(con)
            problems = list(cols.problems)
            decisions = _read_rows(con, frame, labels, table.file, fw, maps.date_format if maps else None,
                                   problems, rep)
            decisions = carry_onto_2022(con, decisions, rep) if any(d.framework == ISO27001_2013
                                                                     for d in decisions) else decisions
            problems += _twice(table.file, decisions, labels)
            if problems:
                raise InputError(problems, f"{len(problems)} problem(s) found; nothing was imported")
            _apply(con, decisions, rep, table, labels, actor, channel)
            rep.proposals = _crosswalk_proposals(con)
            report = ImportReport("soa", dry_run, [rep])
            if dry_run:
                raise _DryRun(report)
    except _DryRun as done:
        return done.report
    return report


def _framework_arg(framework: str | None) -> str | None:
    if framework is None:
        return None
    got = hd.parse_framework(framework)
    if got not in STANDARDS:
        raise InputError([Problem("--framework", None, None, "unknown framework", framework,
                                  "iso27001-2022, iso42001-2023 or iso27001-2013")])
    return got


# ------------------------------------------------------------------------------------------ the rows

def _read_rows(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, labels: dict[str, str], file: str,
               fw: str | None, date_format: str | None, problems: list[Problem], rep: FileReport) -> list[Decision]:
    """Every row read into a :class:`Decision`; the problems of each cell go to ``problems``."""
    catalog = {(f, r): t for f, r, t in con.execute(
        "SELECT framework, ref, title FROM controls WHERE kind = 'annex_a_control' AND framework IN "
        "(SELECT unnest(?))", [list(STANDARDS)]).fetchall()}
    rows = frame.to_dicts()
    default = fw or _file_standard(rows, catalog)
    out: list[Decision] = []
    for row in rows:
        n = row[ROW]
        bad = len(problems)
        control = _control(row, labels, file, default, catalog, problems, rep)
        values = _values(row, labels, file, date_format, problems, rep)
        if control is not None and len(problems) == bad:
            out.append(Decision(n, control[0], control[1], values))
    return out


def _problem(file: str, row: int, labels: dict[str, str], fld: str, message: str, value: Any,
             expected: str | None) -> Problem:
    return Problem(file, row, labels.get(fld, fld), message, value, expected)


def _control(row: dict[str, Any], labels: dict[str, str], file: str, default: str | None,
             catalog: dict[tuple[str, str], str], problems: list[Problem], rep: FileReport) -> tuple[str, str] | None:
    """The (framework, ref) a row decides on, or None with its problem recorded."""
    n, text = row[ROW], row.get("ref")
    if not text:
        problems.append(_problem(file, n, labels, "ref", "no control id", None, "an Annex A id such as A.5.1"))
        return None
    named = hd.parse_framework(row["framework"]) if row.get("framework") else None
    if row.get("framework") and named not in STANDARDS:
        problems.append(_problem(file, n, labels, "framework", "unknown standard", row["framework"],
                                 "ISO/IEC 27001:2022, ISO/IEC 42001:2023 or ISO/IEC 27001:2013"))
        return None
    try:
        fw, ref = parse_control(text, named or ISO27001, annex_a=True)
        explicit = parse_control(text, "-", annex_a=True)[0] != "-"
    except NotFoundError as exc:
        problems.append(_problem(file, n, labels, "ref", "not a control reference", text, str(exc)))
        return None
    if not (named or explicit):
        candidates = [f for f in STANDARDS if (f, ref) in catalog]
        fw = _by_title(row.get("title"), ref, candidates, catalog) or (
            candidates[0] if len(candidates) == 1 else default if default in candidates else None) or fw
    elif fw == ISO27001 and (fw, ref) not in catalog and (ISO27001_2013, ref) in catalog \
            and "2022" not in f"{row.get('framework') or ''} {text}":
        fw = ISO27001_2013  # "ISO 27001" without a year, and an id only the 2013 edition has
    if (fw, ref) not in catalog:
        problems.append(_problem(file, n, labels, "ref", f"no Annex A control {ref} in {fw}", text,
                                 "an Annex A control of ISO/IEC 27001:2022, 42001:2023 or 27001:2013"))
        return None
    title = row.get("title")
    if title and _similar(title, catalog[(fw, ref)]) < 0.5:
        rep.warnings.append(_problem(file, n, labels, "title", f"the title is not that of {fw}:{ref} "
                                     f"({catalog[(fw, ref)]!r})", title, "the control's title, or a Standard column"))
    return fw, ref


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.strip().lower(), b.strip().lower()).ratio()


def _by_title(title: str | None, ref: str, candidates: list[str], catalog: dict[tuple[str, str], str]) -> str | None:
    """Of the standards having ``ref``, the one whose title the row's title matches best (0.6 or more)."""
    if not title or len(candidates) < 2:
        return None
    score, fw = max((_similar(title, catalog[(f, ref)]), f) for f in candidates)
    return fw if score >= 0.6 else None


def _file_standard(rows: list[dict[str, Any]], catalog: dict[tuple[str, str], str]) -> str | None:
    """The standard most of the file's ids belong to, when they name none (ties: 27001:2022)."""
    counts = dict.fromkeys(STANDARDS, 0)
    for row in rows:
        try:
            _, ref = parse_control(str(row.get("ref") or ""), ISO27001, annex_a=True)
        except NotFoundError:
            continue
        for f in STANDARDS:
            counts[f] += (f, ref) in catalog
    best = max(counts.values())
    return next((f for f in STANDARDS if counts[f] == best), None) if best else None


def _clean(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value).strip().lower())


def _values(row: dict[str, Any], labels: dict[str, str], file: str, date_format: str | None,
            problems: list[Problem], rep: FileReport) -> dict[str, Any]:
    """The SoA fields a row gives, in stored form; empty cells are not given."""
    n = row[ROW]
    out: dict[str, Any] = {}
    if row.get("applicable") is not None:
        got = APPLICABLE_WORDS.get(_clean(row["applicable"]))
        if got is None:
            problems.append(_problem(file, n, labels, "applicable", "not an applicability", row["applicable"],
                                     "Yes/No, Y/N, Included/Excluded, ✓/✗ or true/false"))
        else:
            out["applicable"] = got
    reasons = _reasons(row, labels, file, problems)
    if reasons is not None:
        out["reasons"] = reasons
    for fld in ("justification", "implementation_notes", "owner"):
        if row.get(fld):
            out[fld] = str(row[fld]).strip()
    if row.get("exclusion_reason"):
        code = EXCLUSION_WORDS.get(_clean(row["exclusion_reason"]))
        out["exclusion_reason"] = code or "other"
        if code is None:  # their own words: kept as the justification
            text = str(row["exclusion_reason"]).strip()
            out["justification"] = f"{text}; {out['justification']}" if out.get("justification") else text
    if row.get("status"):
        status = _status(row["status"])
        if status is None:
            problems.append(_problem(file, n, labels, "status", "not an implementation status", row["status"],
                                     "implemented, partially implemented, planned, not started (or a percentage)"))
        elif status:
            out["status"] = status
    if row.get("evidence"):
        out["evidence"] = records.split_list(row["evidence"])
    if row.get("last_verified"):
        try:
            out["last_verified"] = records.parse_date(row["last_verified"], date_format)
        except ValueError:
            problems.append(_problem(file, n, labels, "last_verified", "not a date", row["last_verified"],
                                     records.date_expected(date_format)))
    if out.get("applicable") is True and "exclusion_reason" in out:
        rep.warnings.append(_problem(file, n, labels, "exclusion_reason", "an applicable control with an exclusion "
                                     "reason: the reason is not kept", row["exclusion_reason"], None))
        del out["exclusion_reason"]
    if out.get("applicable") is False and "exclusion_reason" not in out and out.get("justification"):
        out["exclusion_reason"] = "other"  # the file's justification says why: "Other (see justification)"
    return out


def _status(text: Any) -> str | None:
    """The implementation status a cell states; '' for one that states none (n/a)."""
    t = _clean(text)
    if t in ("n/a", "na", "not applicable", "-"):
        return ""
    m = re.fullmatch(r"(\d{1,3})(?:\.\d+)?\s*%", t)
    if m:
        pct = int(m.group(1))
        return "implemented" if pct >= 100 else "not_started" if pct == 0 else "partial"
    return STATUS_WORDS.get(t)


def _reasons(row: dict[str, Any], labels: dict[str, str], file: str, problems: list[Problem]) -> list[str] | None:
    """Inclusion reasons from the reasons cell and the marked reason columns; None when none is given."""
    found: list[str] = []
    given = False
    if row.get("reasons"):
        given = True
        for item in re.split(r"\s*(?:[;,\n+]|\band\b|&)\s*", str(row["reasons"])):
            if not item.strip():
                continue
            codes = REASON_WORDS.get(_clean(item)) or tuple(
                c for part in item.split("/") for c in REASON_WORDS.get(_clean(part), ()))
            if not codes:
                problems.append(_problem(file, row[ROW], labels, "reasons", "not an inclusion reason", item,
                                         "risk treatment, legal/regulatory, contractual, business requirement or "
                                         "best practice (or LR, CO, BR, BP, RRA)"))
            found += codes
    for fld, codes in FLAG_REASONS.items():
        if fld in row:
            given = True
            if row[fld] is not None and _clean(row[fld]) in _TRUE_MARKS:
                found += codes
    return [r for r in REASONS if r in found] if given else None


def _twice(file: str, decisions: list[Decision], labels: dict[str, str]) -> list[Problem]:
    """A problem for each control decided by two rows of the file (2013 rows carried together are one)."""
    first: dict[tuple[str, str], int] = {}
    out = []
    for d in decisions:
        key = (d.framework, d.ref)
        if key in first and not d.sources:
            out.append(_problem(file, d.row, labels, "ref", f"{d.framework}:{d.ref} is decided twice (also in row "
                                f"{first[key]})", d.ref, "each control once"))
        first.setdefault(key, d.row)
    return out


# ----------------------------------------------------------------------------------------- writing

def _shown(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(map(str, value))
    if value is True or value is False:
        return "applicable" if value else "not applicable"
    return value


def _differences(d: Decision, before: dict[str, Any]) -> list[dict[str, Any]]:
    """The values of a row riskmap has decided that the file would change."""
    decided = before.get("applicable") is not None or any(
        before.get(k) not in (None, [], "not_started") for k in d.fields)
    if not decided:
        return []
    out = []
    for k, v in d.fields.items():
        old = before.get(k)
        if old in (None, []) or _shown(old) == _shown(v):
            continue
        if k == "status" and old == "not_started":
            continue
        out.append({"row": d.row, "id": f"{d.framework}:{d.ref}", "field": k, "stored": _shown(old),
                    "imported": _shown(v)})
    return out


def _apply(con: duckdb.DuckDBPyConnection, decisions: list[Decision], rep: FileReport, table: Any,
           labels: dict[str, str], actor: str, channel: str) -> None:
    """Validate every decision as one edit of its row (the SoA's rules, each refusal a problem of its
    file row), then write them in bulk through the write path, one statement per set of fields."""
    batch = records.next_ids(con, "import_batches", "B", 1)[0]
    cur = records.current_rows(con, SOA_ROW, [f"{d.framework}:{d.ref}" for d in decisions])
    before_of = {r["id"]: r for r in cur.iter_rows(named=True)}
    problems: list[Problem] = []
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for d in decisions:
        rid = f"{d.framework}:{d.ref}"
        before = before_of[rid]
        changes = {k: v for k, v in d.fields.items() if _shown(before.get(k)) != _shown(v)}
        if not changes:
            rep.unchanged += 1
            continue
        try:
            values = records.validate(SOA_ROW, rid, changes, con=con, before=before)
        except RiskmapError as exc:
            problems.append(Problem(table.file, d.row, labels.get("ref", "control"),
                                    str(exc).splitlines()[0].split(": ", 1)[-1], rid, None))
            continue
        values = {k: v for k, v in values.items() if _shown(before.get(k)) != _shown(v)}
        rep.differences += _differences(d, before)
        rep.updated.append({"row": d.row, "id": rid, "fields": sorted(values)})
        groups.setdefault(tuple(sorted(values)), []).append({"id": rid, **values})
    if problems:
        raise InputError(problems, f"{len(problems)} problem(s) found; nothing was imported")
    for fields, rows in groups.items():
        schema = {"id": pl.String, **{f: records.FRAME_TYPES[SOA_ROW.fields[f].kind] for f in fields}}
        records.apply_changes(con, SOA_ROW, pl.DataFrame(rows, schema=schema), actor=actor, channel=channel,
                              batch_id=batch, current=cur)
    if rep.updated:
        rep.batch_id = batch
        con.execute("INSERT INTO import_batches VALUES (?, 'soa', ?, ?, ?, ?, ?, ?)",
                    [batch, rep.source, Path(table.file).name, table.sha256, table.rows, store.now(), actor])


def _crosswalk_proposals(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The open proposals the crosswalk makes for 42001 rows now (confirmed like any SoA proposal)."""
    frame = con.execute(query.load("soa_proposals")).pl().filter(
        (pl.col("kind") == "counterpart_status") & (pl.col("framework") == ISO42001))
    return [{"proposal_id": p, "basis": summary} for p, summary in frame.select("proposal_id", "summary").iter_rows()]
