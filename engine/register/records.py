"""Field rules of the register records and the one write path every change goes through.

Every change to a risk, AI system, impact assessment or asset -- an edit in the app, a re-import,
a merge or its undo, a rescore -- ends in :func:`apply_changes`, which compares the new values with
the stored ones, writes only what differs, bumps ``version`` (optimistic concurrency) and appends
one history row per changed field in the same transaction. That is what makes the history complete
(ISO 27001 7.5.3 and ISO 42001 7.5.3: control of documented information, changes recorded).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import polars as pl

from engine.register import vocab
from engine.store import history, now

DType = pl.DataType | type[pl.DataType]
"""A polars data type, as an instance (``pl.List(pl.String)``) or a class (``pl.String``)."""

# --------------------------------------------------------------------------------------------------
# Field rules
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """How one field is validated: ``kind`` is text, enum, multi (comma list of a closed vocabulary),
    list (open vocabulary, stored as VARCHAR[]), bool, flag (yes, no or not recorded), score or date."""

    kind: str
    required: bool = False
    table: Mapping[str, str] | None = None
    closed: bool = True


TEXT = FieldSpec("text")
REQUIRED = FieldSpec("text", required=True)
DATE = FieldSpec("date")
SCORE = FieldSpec("score")
BOOL = FieldSpec("bool")
FLAG = FieldSpec("flag")

SCORE_FIELDS = ("inherent_likelihood", "inherent_impact", "current_likelihood", "current_impact",
                "residual_likelihood", "residual_impact")
STAGES = ("inherent", "current", "residual")

RISK_FIELDS: dict[str, FieldSpec] = {
    "title": REQUIRED, "description": TEXT, "cause": TEXT, "event": TEXT, "consequence": TEXT,
    "management_system": FieldSpec("enum", True, vocab.MANAGEMENT_SYSTEMS),
    "threat": TEXT, "vulnerability": TEXT,
    "ai_risk_sources": FieldSpec("list", table=vocab.AI_RISK_SOURCES, closed=False),
    "confidentiality": BOOL, "integrity": BOOL, "availability": BOOL,
    "ai_objectives": FieldSpec("list", table=vocab.AI_OBJECTIVES, closed=False),
    "consequence_org": TEXT, "consequence_individuals": TEXT, "owner": TEXT, "category": TEXT,
    "business_unit": TEXT,
    "status": FieldSpec("enum", True, vocab.RISK_STATUSES),
    **{f: SCORE for f in SCORE_FIELDS},
    "treatment": FieldSpec("enum", False, vocab.TREATMENTS),
    "treatment_notes": TEXT, "acceptance_approver": TEXT, "acceptance_date": DATE,
    "acceptance_expiry": DATE, "acceptance_justification": TEXT, "next_review": DATE,
}
"""Risk fields a user may change. ``matrix_version`` changes only through rescoring."""

AI_SYSTEM_FIELDS: dict[str, FieldSpec] = {
    "name": REQUIRED, "purpose": TEXT, "intended_use": TEXT,
    "lifecycle_stage": FieldSpec("enum", False, vocab.LIFECYCLE_STAGES),
    "role": FieldSpec("multi", False, vocab.AI_ROLES),
    "autonomy": TEXT, "human_oversight": TEXT, "data_sources": TEXT, "third_party_components": TEXT,
    "owner": TEXT, "status": REQUIRED,
    **{name: FLAG for name in vocab.AI_CHARACTERISTICS},
    "vendor": TEXT, "domains": FieldSpec("list", closed=False),
}
"""AI system fields. The characteristics (``vocab.AI_CHARACTERISTICS``) decide which risk scenarios
apply; ``vendor`` and ``domains`` match observed AI use to the inventory (``engine.ai``)."""

ASSESSMENT_FIELDS: dict[str, FieldSpec] = {
    "ai_system_id": REQUIRED, "title": REQUIRED, "affected_individuals": TEXT, "affected_groups": TEXT,
    "societal_impacts": TEXT, "consequences": TEXT,
    "severity": FieldSpec("enum", False, vocab.SEVERITIES),
    "assessed_on": DATE, "assessor": TEXT, "next_review_due": DATE,
    "status": FieldSpec("enum", True, vocab.ASSESSMENT_STATUSES),
}

ASSET_FIELDS: dict[str, FieldSpec] = {
    "name": REQUIRED, "asset_type": TEXT, "description": TEXT, "owner": TEXT, "business_unit": TEXT,
    "classification": TEXT, "location": TEXT, "status": REQUIRED,
}

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%d %b %Y", "%d %B %Y",
                "%b %d %Y", "%B %d %Y")
"""Date spellings read from registers, tried in order. Slashed dates are day first (31/01/2025), as
most registers outside the US write them; a mapping file can set ``date_format`` for others."""

_EXCEL_EPOCH = date(1899, 12, 30)
_ISO_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def parse_date(value: Any, date_format: str | None = None) -> date | None:
    """A date from the ways registers write one; None for empty. Raises ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    m = _ISO_PREFIX.match(text)
    if m:
        text = m.group(1)
    formats = (date_format,) if date_format else DATE_FORMATS
    for fmt in formats:
        try:
            return datetime.strptime(text.replace(",", ""), fmt).date()
        except ValueError:
            continue
    if not date_format and re.fullmatch(r"\d{5}(\.0+)?", text) and 20000 <= float(text) <= 80000:
        return _EXCEL_EPOCH + timedelta(days=int(float(text)))  # an Excel date serial
    raise ValueError("not a date")


def date_expected(date_format: str | None = None) -> str:
    return f"a date as {date_format}" if date_format else "a date such as 2025-03-31 or 31/03/2025"


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = vocab.clean(value) if value is not None else ""
    if text in vocab.TRUE_WORDS:
        return True
    if text in vocab.FALSE_WORDS or text == "":
        return False
    raise ValueError("not yes or no")


def parse_flag(value: Any) -> bool | None:
    """Yes, no or not recorded (None): empty cells and "unknown", "tbc"... are not recorded."""
    if value is None or isinstance(value, bool):
        return value
    text = vocab.clean(value)
    if text == "" or text in vocab.UNKNOWN_WORDS:
        return None
    if text in vocab.TRUE_WORDS:
        return True
    if text in vocab.FALSE_WORDS:
        return False
    raise ValueError("not yes, no or unknown")


def split_list(value: Any) -> list[str]:
    """Items of a list cell or argument: a list, or text separated by , ; | or newlines."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = [str(x) for x in value]
    else:
        items = re.split(r"[,;|\n]+", str(value))
    return [x.strip() for x in items if x.strip()]


def coerce(spec: FieldSpec, value: Any, size: int = 5) -> Any:
    """The stored form of ``value`` for a field, or ValueError(reason, expected)."""
    kind = spec.kind
    if kind == "text":
        text = None if value is None else str(value).strip()
        if not text:
            if spec.required:
                raise ValueError("must not be empty", "a non-empty text")
            return None
        return text
    if kind == "enum":
        if value is None or str(value).strip() == "":
            if spec.required:
                raise ValueError("must not be empty", vocab.expected(spec.table or {}))
            return None
        got = vocab.canon(value, spec.table or {})
        if got is None:
            raise ValueError("not an allowed value", vocab.expected(spec.table or {}))
        return got
    if kind == "multi":
        items = split_list(value)
        out = []
        for item in items:
            got = vocab.canon(item, spec.table or {})
            if got is None:
                raise ValueError(f"{item!r} is not an allowed value", vocab.expected(spec.table or {}))
            if got not in out:
                out.append(got)
        return ", ".join(out) or None
    if kind == "list":
        out = []
        for item in split_list(value):
            got = vocab.canon(item, spec.table or {}) if spec.table else None
            got = got or vocab.clean(item)
            if got not in out:
                out.append(got)
        return out or None
    if kind == "bool":
        try:
            return parse_bool(value)
        except ValueError:
            raise ValueError("not yes or no", "yes/no, true/false, 1/0 or x") from None
    if kind == "flag":
        try:
            return parse_flag(value)
        except ValueError:
            raise ValueError("not yes, no or unknown", "yes, no, or empty / unknown when not known") from None
    if kind == "score":
        if value is None or str(value).strip() == "":
            return None
        try:
            number = float(str(value).strip())
        except ValueError:
            number = -1.0
        if not number.is_integer() or not 1 <= number <= size:
            raise ValueError("score out of range", f"a whole number from 1 to {size}")
        return int(number)
    if kind == "date":
        try:
            return parse_date(value)
        except ValueError:
            raise ValueError("not a date", date_expected()) from None
    raise AssertionError(f"unknown field kind {kind}")


# --------------------------------------------------------------------------------------------------
# History text and the write path
# --------------------------------------------------------------------------------------------------

def text_expr(name: str, dtype: DType) -> pl.Expr:
    """The history text of a column, the same as engine.history writes for one value."""
    col = pl.col(name)
    if dtype == pl.Boolean:
        return pl.when(col).then(pl.lit("True")).when(col.not_()).then(pl.lit("False"))
    if isinstance(dtype, pl.List):
        quoted = col.list.eval(
            pl.lit('"') + pl.element().cast(pl.String).str.replace_all("\\", "\\\\", literal=True)
            .str.replace_all('"', '\\"', literal=True) + pl.lit('"')
        ).list.join(", ")
        return pl.when(col.is_null()).then(pl.lit(None, pl.String)).otherwise(pl.lit("[") + quoted + pl.lit("]"))
    if dtype == pl.Null:
        return pl.lit(None, pl.String)
    return col.cast(pl.String)


TABLES = {"risk": "risks", "ai_system": "ai_systems", "impact_assessment": "impact_assessments",
          "asset": "assets"}


def current_rows(con: duckdb.DuckDBPyConnection, table: str, ids: Iterable[str],
                 columns: Iterable[str] | None = None) -> pl.DataFrame:
    """The stored rows of ``ids`` (all columns, or ``columns`` plus id and version)."""
    id_frame = pl.DataFrame({"id": list(dict.fromkeys(ids))}, schema={"id": pl.String})
    cols = "*" if columns is None else ", ".join(dict.fromkeys(["id", "version", *columns]))
    con.register("_ids", id_frame)
    try:
        return con.execute(f"SELECT {cols} FROM {table} WHERE id IN (SELECT id FROM _ids)").pl()
    finally:
        con.unregister("_ids")


def apply_changes(con: duckdb.DuckDBPyConnection, entity: str, frame: pl.DataFrame, *, actor: str,
                  channel: str, batch_id: str | None = None, action: str = "update",
                  current: pl.DataFrame | None = None) -> pl.DataFrame:
    """Write new values for existing records in bulk and record one history row per changed field.

    ``frame`` has an ``id`` column and one column per field to set (stored types); an optional
    ``_batch`` column gives each record's history its own batch id (a merge records its changes
    under the merge's id). Fields whose value is unchanged are not written; records with no change
    keep their version. Returns the changes as (id, field, old_value, new_value).
    """
    table = TABLES[entity]
    per_row = "_batch" in frame.columns
    fields = [c for c in frame.columns if c not in ("id", "_batch")]
    empty = pl.DataFrame(schema={"id": pl.String, "field": pl.String, "old_value": pl.String,
                                 "new_value": pl.String})
    if frame.is_empty() or not fields:
        return empty
    cur = current if current is not None else current_rows(con, table, frame["id"].to_list(), fields)
    joined = frame.join(cur.select(["id", *fields]), on="id", how="inner", suffix="__old")
    keep = ["id", "_batch"] if per_row else ["id"]
    longs = []
    for f in fields:
        new_t = text_expr(f, joined.schema[f]).alias("new_value")
        old_t = text_expr(f + "__old", joined.schema[f + "__old"]).alias("old_value")
        part = joined.select(*keep, pl.lit(f).alias("field"), old_t, new_t)
        longs.append(part.filter(pl.col("old_value").ne_missing(pl.col("new_value"))))
    changes = pl.concat(longs)
    if changes.is_empty():
        return empty
    upd = frame.filter(pl.col("id").is_in(changes["id"].unique().implode()))
    if per_row:
        upd = upd.drop("_batch")
    con.register("_upd", upd)
    try:
        sets = ", ".join(f'"{f}" = _upd."{f}"' for f in fields)
        touched = ", updated_at = ?" if entity == "risk" else ""
        con.execute(f"UPDATE {table} SET {sets}, version = {table}.version + 1{touched} "
                    f"FROM _upd WHERE {table}.id = _upd.id", [now()] if touched else [])
    finally:
        con.unregister("_upd")
    record_history(con, changes.with_columns(entity=pl.lit(entity), action=pl.lit(action)),
                   actor=actor, channel=channel, batch_id=batch_id)
    return changes


def record_history(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, *, actor: str, channel: str,
                   batch_id: str | None) -> None:
    """Append history rows in bulk from a frame with entity, id (the entity id), action, and
    optionally field, old_value, new_value and ``_batch`` (a per-row batch id, else ``batch_id``)."""
    if rows.is_empty():
        return
    cols = {"field": pl.String, "old_value": pl.String, "new_value": pl.String}
    rows = rows.with_columns([pl.lit(None, t).alias(c) for c, t in cols.items() if c not in rows.columns])
    if "_batch" not in rows.columns:
        rows = rows.with_columns(pl.lit(batch_id, pl.String).alias("_batch"))
    rows = rows.select("entity", pl.col("id").alias("entity_id"), "action", "field", "old_value", "new_value",
                       "_batch")
    con.register("_hist", rows)
    try:
        history.record_frame(con, "SELECT ?, ?, ?, entity, entity_id, action, field, old_value, new_value, _batch "
                                  "FROM _hist", [now(), actor, channel])
    finally:
        con.unregister("_hist")


def next_ids(con: duckdb.DuckDBPyConnection, table: str, prefix: str, count: int,
             column: str = "id") -> list[str]:
    """The next ``count`` sequential ids ``PREFIX-0001``... not yet used in ``table``."""
    if count <= 0:
        return []
    pattern = f"^{re.escape(prefix)}-([0-9]+)$"
    row = con.execute(
        f"SELECT max(CAST(regexp_extract({column}, ?, 1) AS BIGINT)) FROM {table} "
        f"WHERE regexp_matches({column}, ?)", [pattern, pattern]).fetchone()
    start = (row[0] or 0) + 1 if row else 1
    return [f"{prefix}-{n:04d}" for n in range(start, start + count)]


def slug(text: str, used: set[str]) -> str:
    """A readable id from a name (``Customer DB`` -> ``customer-db``), unique among ``used``."""
    base = re.sub(r"[^a-z0-9]+", "-", vocab.clean(text)).strip("-")[:60] or "item"
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    used.add(candidate)
    return candidate
