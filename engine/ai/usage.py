"""AI use nobody registered: observed use from a proxy, CASB or expense export, matched to the inventory.

``riskmap import ai-usage FILE`` reads a CSV or Excel list of observed AI use in the wordings such exports
use (Application / Tool / Service, Domain / URL / Host, Vendor / Merchant, Department / Business unit,
Users / User count, First seen, Last seen, Category). A per-user export (a User column) is counted per tool
and department; user names are counted, never stored. Every problem of the file is reported at once
and nothing is written then; ``dry_run`` reports without writing. A later export of the same source
updates the entries it names again (users, last seen) instead of duplicating them.

Matching to the AI system inventory (by domain, name or vendor) is done by the view ``v_ai_usage``, so an
entry is matched as soon as its system is registered. An unmatched entry is unregistered AI use (ISO 42001
4.3, A.4.2, A.9.2): :func:`register_usage` adds it to the inventory (where it then gets scenario
proposals), or :func:`dismiss_usage` records why it needs no registration (blocked, not AI...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from engine import access, records, register, store
from engine.errors import InputError, NotFoundError, Problem, RuleViolation
from engine.register import vocab
from engine.register.imports import headers as hd
from engine.register.imports.reading import ROW, Table, read_table

ENTITY = "ai_usage"
FIELD_TYPES: dict[str, records.DType] = {
    "tool": pl.String, "domain": pl.String, "vendor": pl.String, "category": pl.String, "department": pl.String,
    "user_count": pl.Int32, "first_seen": pl.Date, "last_seen": pl.Date}
"""What an export says about an entry, with its stored type (the importer validates the cells)."""
FIELDS = tuple(FIELD_TYPES)


def _missing(con: Any, usage_id: str) -> Exception:
    return NotFoundError(f"no observed AI use {usage_id!r}; `riskmap ai-usage list` shows them")


USAGE = records.declare(records.Entity(
    ENTITY, "ai_usage", "observed AI use", {"dismissed_reason": records.TEXT}, missing=_missing))
"""Observed AI use as a record of the one write path: created and updated by the importer (the export's
fields), dismissed with a reason by a person; every change versioned and in the history."""


def _headings(table: dict[str, str]) -> dict[str, str]:
    return {hd.normalise_heading(s): fld for fld, spellings in table.items() for s in spellings.split("|")}


HEADINGS = _headings({
    "tool": "tool|ai tool|application|app|app name|application name|service|service name|cloud app|"
            "cloud application|cloud service|saas app|saas application|product|software|ai service",
    "domain": "domain|domains|url|host|hostname|host name|destination|destination host|site|website|"
              "web address|fqdn|dest host",
    "vendor": "vendor|supplier|merchant|merchant name|payee|provider|publisher|company",
    "category": "category|app category|application category|service category|type|classification",
    "department": "department|business unit|team|division|cost centre|cost center|function|org unit|"
                  "organisational unit|organizational unit|group",
    "user_count": "users|user count|unique users|number of users|no of users|# users|#users|distinct users|"
                  "active users|seats|employees|people",
    "user": "user|user name|username|employee|employee name|email|user email|login|account",
    "first_seen": "first seen|first access|first used|first activity|first date|first observed|since",
    "last_seen": "last seen|last access|last used|last activity|last date|last observed",
    "seen": "date|transaction date|expense date|observed on|seen on",
    "ignore": "events|requests|hits|transactions|sessions|uploads|downloads|bytes|traffic|amount|spend|cost|"
              "risk|risk score|risk level|status|action|notes|comments",
})
"""Headings of observed-use exports. ``user`` rows are counted (user names are not stored); ``seen`` is
the one date of an expense line, taken as first and last seen."""


@dataclass
class UsageReport:
    """What an import of observed AI use did (or, in a dry run, would do)."""

    file: str
    source: str
    dry_run: bool
    rows: int = 0
    batch_id: str | None = None
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    matched: list[dict[str, Any]] = field(default_factory=list)       # id, tool, ai_system_id, matched_by
    unregistered: list[dict[str, Any]] = field(default_factory=list)  # id, tool, domain, department, user_count
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = "dry run, nothing written: " if self.dry_run else ""
        out = [f"{head}{self.file} [{self.source}] {self.rows} rows: {len(self.created)} new, {len(self.updated)} "
               f"updated, {self.unchanged} unchanged; {len(self.matched)} matched to the inventory, "
               f"{len(self.unregistered)} unregistered"]
        out += [f"  note: {n}" for n in self.notes]
        out += [f"  matched       {m['id']} {m['tool'] or ''} -> {m['ai_system_id']} (by {m['matched_by']})"
                for m in self.matched]
        out += [f"  unregistered  {u['id']} {u['tool'] or u['domain'] or u['vendor']}" + (f" ({u['domain']})" if u['tool'] and
                u['domain'] else "") + (f", {u['department']}" if u['department'] else "")
                + (f", {u['user_count']} user(s)" if u['user_count'] is not None else "") for u in self.unregistered]
        if self.unregistered:
            out.append("  register them (`riskmap ai-usage register ID`) or dismiss them with a reason "
                       "(`riskmap ai-usage dismiss ID --reason ...`)")
        return out


# ------------------------------------------------------------------------------------------ reading

def _columns(table: Table) -> tuple[dict[str, int], list[str], list[Problem]]:
    fields: dict[str, int] = {}
    unrecognised: list[str] = []
    problems: list[Problem] = []
    for i, heading in enumerate(table.headers):
        if not heading:
            if table.frame[f"c{i}"].is_not_null().any():
                problems.append(Problem(table.file, 1, f"column {hd.column_letter(i)}",
                                        "a column with values has no heading", expected="a heading naming the column"))
            continue
        fld = hd.lookup_heading(heading, HEADINGS)
        if fld is None:
            unrecognised.append(heading)
        elif fld == "ignore":
            continue
        elif fld in fields:
            problems.append(Problem(table.file, 1, heading, f"both {table.headers[fields[fld]]!r} and {heading!r} read "
                                    f"as {fld}", heading, "one column per field"))
        else:
            fields[fld] = i
    if not {"tool", "domain", "vendor"} & set(fields):
        problems.append(Problem(table.file, 1, None, "no tool, domain or vendor column",
                                expected="a column headed Application / Tool / Service, Domain / URL / Host or "
                                         "Vendor / Merchant"))
    return fields, unrecognised, problems


def _int(value: str) -> int:
    number = float(value.replace(",", "").replace(" ", ""))
    if not number.is_integer() or number < 0:
        raise ValueError
    return int(number)


def _entries(table: Table, fields: dict[str, int], problems: list[Problem]) -> list[dict[str, Any]]:
    """The file's rows as entries (per-user rows counted per tool and department), every bad cell reported."""
    f, labels = table.file, {fld: table.headers[i] for fld, i in fields.items()}
    rows: list[dict[str, Any]] = []
    for row in table.frame.iter_rows(named=True):
        entry: dict[str, Any] = {"_row": row[ROW]}
        for fld, i in fields.items():
            entry[fld] = row[f"c{i}"]
        if entry.get("tool") is None and entry.get("domain") is None and entry.get("vendor") is None:
            problems.append(Problem(f, row[ROW], labels.get("tool") or labels.get("domain") or labels.get("vendor"),
                                    "no tool, domain or vendor", None, "the application's name, domain or vendor"))
            continue
        for fld in ("first_seen", "last_seen", "seen"):
            try:
                entry[fld] = records.parse_date(entry.get(fld))
            except ValueError:
                problems.append(Problem(f, row[ROW], labels[fld], "not a date", entry[fld], records.date_expected()))
        if entry.get("user_count") is not None:
            try:
                entry["user_count"] = _int(entry["user_count"])
            except ValueError:
                problems.append(Problem(f, row[ROW], labels["user_count"], "not a number of users",
                                        entry["user_count"], "a whole number, e.g. 12"))
        if entry.get("seen") is not None:
            entry["first_seen"] = entry.get("first_seen") or entry["seen"]
            entry["last_seen"] = entry.get("last_seen") or entry["seen"]
        rows.append(entry)
    return rows


def _key(entry: dict[str, Any], host: str | None) -> tuple[str, str, str, str]:
    """What identifies an entry within one source: tool, domain (vendor when neither) and department."""
    tool = vocab.clean(entry.get("tool") or "")
    vendor = vocab.clean(entry.get("vendor") or "") if not tool and not host else ""
    return (tool, host or "", vendor, vocab.clean(entry.get("department") or ""))


def _combine(rows: list[dict[str, Any]], hosts: dict[int, str | None], per_user: bool, file: str,
             labels: dict[str, str], problems: list[Problem]) -> list[dict[str, Any]]:
    """One entry per tool, domain and department: per-user rows are counted, other repeats reported."""
    out: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    users: dict[tuple[str, str, str, str], set[str]] = {}
    for entry in rows:
        k = _key(entry, hosts[entry["_row"]])
        if k in out and not per_user:
            problems.append(Problem(file, entry["_row"], labels.get("tool") or labels.get("domain") or labels.get("vendor"),
                                    f"the same tool and department twice (also in row {out[k]['_row']})",
                                    entry.get("tool") or entry.get("domain") or entry.get("vendor"),
                                    "each tool once per department"))
            continue
        have = out.setdefault(k, dict(entry))
        if per_user:
            users.setdefault(k, set()).add(vocab.clean(entry.get("user") or f"row {entry['_row']}"))
            for fld, pick in (("first_seen", min), ("last_seen", max)):
                dates = [d for d in (have.get(fld), entry.get(fld)) if d is not None]
                have[fld] = pick(dates) if dates else None
    for k, names in users.items():
        out[k]["user_count"] = len(names)
    return list(out.values())


# ------------------------------------------------------------------------------------------ writing

class _DryRun(Exception):
    pass


def import_usage(db: str | Path | None, path: str | Path, *, actor: str,
                 channel: str = "import",
                 source: str | None = None, sheet: str | None = None, dry_run: bool = False) -> UsageReport:
    """Import a list of observed AI use (CSV or .xlsx). Raises InputError listing every problem of the
    file (nothing is written then). Returns what was created, updated, matched and left unregistered.
    Needs the role contributor (refused before the file is read)."""
    actor = access.resolve(actor)
    access.require(actor, "import")
    table = read_table(path, sheet)
    fields, unrecognised, problems = _columns(table)
    if problems:
        raise InputError(problems, f"{len(problems)} problem(s) found; nothing was imported")
    rows = _entries(table, fields, problems)
    source = source or Path(path).stem
    report = UsageReport(table.file, source, dry_run, rows=table.rows)
    if unrecognised:
        report.notes.append("columns not recognised (ignored): " + ", ".join(unrecognised))
    if "user" in fields:
        report.notes.append("one row per user: users counted per tool and department (names not stored)")
    try:
        with store.transaction(db) as con:
            hosts = _hosts(con, rows)
            labels = {fld: table.headers[i] or fld for fld, i in fields.items()}
            entries = _combine(rows, hosts, "user" in fields, table.file, labels, problems)
            if problems:
                problems.sort(key=lambda p: (p.record if isinstance(p.record, int) else 0, str(p.field)))
                raise InputError(problems, f"{len(problems)} problem(s) found; nothing was imported")
            _write(con, entries, hosts, report, table, actor, channel)
            _outcome(con, report)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


def _hosts(con: Any, rows: list[dict[str, Any]]) -> dict[int, str | None]:
    """Each row's domain as the view matches it (the ``ai_host`` macro, so import and view agree)."""
    con.register("_seen", pl.DataFrame({"r": [e["_row"] for e in rows], "d": [e.get("domain") for e in rows]},
                                       schema={"r": pl.Int32, "d": pl.String}))
    try:
        return dict(con.execute("SELECT r, ai_host(d) FROM _seen").fetchall())
    finally:
        con.unregister("_seen")


def _existing(con: Any, source: str) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """The entries an earlier export of the source recorded, by what identifies them (:func:`_key`)."""
    existing = {}
    for row in con.execute(f"SELECT id, version, {', '.join(FIELDS)}, ai_host(domain) FROM ai_usage "
                           "WHERE source = ?", [source]).fetchall():
        values = dict(zip(("id", "version", *FIELDS), row[:-1], strict=True))
        existing[_key(values, row[-1])] = values
    return existing


def _merged(old: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """An entry seen again: first seen is the earliest date, last seen the latest, and a value the new
    export leaves empty keeps the one recorded."""
    out = {f: old[f] if values[f] is None else values[f] for f in FIELDS}
    for fld, pick in (("first_seen", min), ("last_seen", max)):
        known = [d for d in (old[fld], values[fld]) if d is not None]
        out[fld] = pick(known) if known else None
    return out


def _write(con: Any, entries: list[dict[str, Any]], hosts: dict[int, str | None], report: UsageReport,
           table: Table, actor: access.Principal, channel: str) -> None:
    """New entries created, entries seen again updated, through the record write path: one history row
    per created entry and per changed field, under the import's batch id."""
    existing = _existing(con, report.source)
    batch_id = records.next_ids(con, "import_batches", "B", 1)[0]
    new_ids = iter(records.next_ids(con, "ai_usage", "U", len(entries)))
    updates = []
    for e in entries:
        values = {f: e.get(f) for f in FIELDS}
        old = existing.get(_key(e, hosts[e["_row"]]))
        if old is None:
            uid = next(new_ids)
            records.create(con, USAGE, uid, values, actor=actor, channel=channel, batch_id=batch_id,
                           extra={"source": report.source, "batch_id": batch_id, "source_row": e["_row"]})
            report.created.append(uid)
        else:
            updates.append({"id": old["id"], **_merged(old, values)})
    if updates:
        frame = pl.DataFrame(updates, schema={"id": pl.String, **FIELD_TYPES})
        changed = set(records.apply_changes(con, USAGE, frame, actor=actor, channel=channel,
                                            batch_id=batch_id)["id"].to_list())
        report.updated = [u["id"] for u in updates if u["id"] in changed]
    report.unchanged = len(updates) - len(report.updated)
    if report.created or report.updated:
        report.batch_id = batch_id
        con.execute("INSERT INTO import_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [batch_id, "ai_usage", report.source, Path(table.file).name, table.sha256, table.rows,
                     store.now(), str(actor)])


def _outcome(con: Any, report: UsageReport) -> None:
    frame = con.execute("SELECT id, tool, domain, vendor, department, user_count, ai_system_id, matched_by, unregistered "
                        "FROM v_ai_usage WHERE source = ? ORDER BY id", [report.source]).pl()
    report.matched = frame.filter(pl.col("ai_system_id").is_not_null()).select(
        "id", "tool", "ai_system_id", "matched_by").to_dicts()
    report.unregistered = frame.filter(pl.col("unregistered")).select(
        "id", "tool", "domain", "vendor", "department", "user_count").to_dicts()


# ----------------------------------------------------------------------------------- reading, deciding

def list_usage(db: str | Path | None = None, unregistered: bool = False) -> pl.DataFrame:
    """Observed AI use with its match to the inventory (``v_ai_usage``); only the unregistered entries
    when asked."""
    sql = "SELECT * FROM v_ai_usage" + (" WHERE unregistered" if unregistered else "") + " ORDER BY id"
    with store.connect(db) as con:
        return con.execute(sql).pl()


def _entry(con: Any, usage_id: str) -> dict[str, Any]:
    cur = con.execute("SELECT * FROM v_ai_usage WHERE id = ?", [usage_id])
    row = cur.fetchone()
    if row is None:
        raise _missing(con, usage_id)
    return dict(zip([d[0] for d in cur.description or []], row, strict=True))


def registration_fields(entry: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    """What the inventory records for a tool found in use: a third-party service the organisation uses,
    in operation, matched by its domain and vendor; its purpose is for the owner to complete."""
    seen = ", ".join(p for p in (
        f"used by {entry['department']}" if entry.get("department") else "",
        f"{entry['user_count']} user(s)" if entry.get("user_count") is not None else "",
        f"first seen {entry['first_seen']}" if entry.get("first_seen") else "") if p)
    return {
        "name": name or entry.get("tool") or entry.get("domain") or entry.get("vendor"),
        "purpose": f"Found in use ({entry['source']}, {entry['id']}{'; ' + seen if seen else ''}); "
                   "purpose and intended use to be confirmed by the owner",
        "lifecycle_stage": "operation", "role": "user", "status": "active",
        "uses_third_party_model": True, "trained_in_house": False,
        "vendor": entry.get("vendor"), "domains": [entry["domain"]] if entry.get("domain") else None,
    }


def register_usage(db: str | Path | None, usage_id: str, *, actor: str, channel: str = "api",
                   name: str | None = None, fields: dict[str, Any] | None = None,
                   ai_system_id: str | None = None) -> str:
    """Add an unregistered tool to the AI system inventory (so it is matched and gets scenario proposals);
    returns the new system's id. ``fields`` may add or override any AI system field (owner, purpose,
    characteristics...). Refused when the entry already matches a system."""
    actor = access.resolve(actor)
    access.require(actor, "edit_register")
    with store.connect(db) as con:
        entry = _entry(con, usage_id)
        if entry["ai_system_id"] is not None:
            raise RuleViolation(f"{usage_id} ({entry['tool'] or entry['domain'] or entry['vendor']}) is already matched to "
                                f"{entry['ai_system_id']} ({entry['ai_system_name']})")
        values = {**registration_fields(entry, name), **(fields or {})}
        values = {k: v for k, v in values.items() if v is not None}
        if not entry.get("domain") and entry.get("tool"):
            fits = store.scalar(con, "SELECT list_has_all(ai_name_words(?), ai_name_words(?)) "
                                     "OR list_has_all(ai_name_words(?), ai_name_words(?))",
                                [values["name"], entry["tool"], entry["tool"], values["name"]])
            if not fits:
                raise InputError([Problem("ai_usage", usage_id, "name", "this name would not match the tool seen "
                                          "in use", values["name"], f"a name containing {entry['tool']!r}")])
    return register.create_ai_system(db, values, actor=actor, channel=channel, ai_system_id=ai_system_id)


def dismiss_usage(db: str | Path | None, usage_id: str, reason: str, *, actor: str,
                  channel: str = "api", expected_version: int | None = None) -> None:
    """Record why an entry of observed AI use needs no registration (blocked at the proxy, not an AI
    service, a trial that ended...), a versioned change with its history (who and when: ``v_ai_usage``); the
    entry is then no longer flagged as unregistered."""
    if not str(reason or "").strip():
        raise InputError([Problem("ai_usage", usage_id, "reason", "a reason is required", reason,
                                  "why this use needs no registration")],
                         f"{usage_id}: dismissing needs a reason; nothing changed")
    with store.transaction(db) as con:
        records.edit(con, USAGE, usage_id, {"dismissed_reason": reason}, expected_version=expected_version,
                     actor=actor, channel=channel)
