"""Carrying an ISO/IEC 27001:2013 Statement of Applicability onto ISO/IEC 27001:2022.

An organisation certified against the 2013 edition arrives with a 114-row SoA. Each row is carried
onto the 2022 control(s) the authored transition crosswalk
(``mappings/crosswalks/iso27001-2013__iso27001-2022.csv``) makes it, so the decisions are not lost.
Where several 2013 rows become one 2022 control (A.12.4.1, A.12.4.2 and A.12.4.3 are all A.8.15)
their decisions are merged by one stated rule:

- **applicable wins**: the 2022 control is applicable when any of its 2013 rows is; not applicable
  only when every decided one is not;
- its inclusion reasons are those of the applicable rows; an exclusion reason is kept when every
  excluded row gives the same one, else it is ``other``;
- justifications, implementation notes and evidence are joined, each naming its 2013 control
  (``A.12.4.1: Central logging in the SIEM``);
- the implementation status is the least implemented of the rows the decision rests on (the
  applicable ones, when there are), the date last verified the earliest, the owners all named.

Every merge is listed in the report (``carried``), with its sources and the outcome. A 2022 control
new in 2022 (A.5.7 Threat intelligence...) has no 2013 row and stays undecided, and the report says
which; a 2022 row the same file also decides directly keeps the file's own decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from engine.config import ISO27001, ISO27001_2013
from engine.register.imports.report import FileReport

from .vocab import REASONS, STATUS_RANK

__all__ = ["MERGE_RULE", "Decision", "carry_onto_2022", "merge_decisions"]


@dataclass
class Decision:
    """One SoA row as a file states it: the control and the fields the file gives (empty cells are
    not given). ``sources`` names the 2013 controls a carried decision came from."""

    row: int
    framework: str
    ref: str
    fields: dict[str, Any]
    sources: list[str] = field(default_factory=list)

MERGE_RULE = ("applicable wins; reasons of the applicable rows; justifications, notes and evidence joined, each "
              "naming its 2013 control; the least implemented status; the earliest date verified")


def _successors(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for src, tgt in con.execute(
            "SELECT DISTINCT source_ref, target_ref FROM crosswalk_links WHERE source_framework = ? "
            "AND target_framework = ? AND origin = 'authored' AND target_ref IS NOT NULL "
            "AND relationship <> 'no_relationship' ORDER BY 1, 2", [ISO27001_2013, ISO27001]).fetchall():
        out.setdefault(src, []).append(tgt)
    return out


def _named(ref: str, text: str) -> str:
    return f"2013 {ref}: {text}"


def merge_decisions(sources: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], str]:
    """The merged fields of the 2013 rows ``(ref, fields)`` one 2022 control rests on, and the outcome
    in words (see the module docstring for the rule)."""
    stated = [f.get("applicable") for _, f in sources if f.get("applicable") is not None]
    applicable = True if True in stated else (False if stated else None)
    basis = [(r, f) for r, f in sources if f.get("applicable") is applicable] or sources
    out: dict[str, Any] = {} if applicable is None else {"applicable": applicable}
    if applicable:
        reasons = {x for _, f in basis for x in f.get("reasons") or []}
        if any("reasons" in f for _, f in basis):
            out["reasons"] = [r for r in REASONS if r in reasons]
    elif applicable is False:
        codes = {f.get("exclusion_reason") for _, f in basis if f.get("exclusion_reason")}
        if codes:
            out["exclusion_reason"] = codes.pop() if len(codes) == 1 else "other"
    for fld in ("justification", "implementation_notes"):
        texts = [_named(r, f[fld]) for r, f in sources if f.get(fld)]
        if texts:
            out[fld] = "; ".join(texts)
    evidence = [_named(r, e) for r, f in sources for e in f.get("evidence") or []]
    if evidence:
        out["evidence"] = list(dict.fromkeys(evidence))
    statuses = [f["status"] for _, f in basis if f.get("status")]
    if statuses:
        out["status"] = min(statuses, key=lambda s: STATUS_RANK[s])
    owners = list(dict.fromkeys(f["owner"] for _, f in sources if f.get("owner")))
    if owners:
        out["owner"] = " / ".join(owners)
    dates = [f["last_verified"] for _, f in sources if f.get("last_verified")]
    if dates:
        out["last_verified"] = min(dates)
    said = {True: "applicable", False: "not applicable", None: "undecided"}
    outcome = said[applicable] + (f", {out['status']}" if "status" in out else "")
    return out, outcome


def carry_onto_2022(con: duckdb.DuckDBPyConnection, decisions: list[Decision], rep: FileReport) -> list[Decision]:
    """The decisions with every 27001:2013 row carried onto its 2022 control(s), merged where several
    meet; the report gets the merges (``carried``) and notes on what could not be carried."""
    successors = _successors(con)
    legacy = [d for d in decisions if d.framework == ISO27001_2013]
    direct = {(d.framework, d.ref) for d in decisions if d.framework != ISO27001_2013}
    targets: dict[str, list[Decision]] = {}
    orphans: list[str] = []
    for d in legacy:
        refs: list[str | None] = list(successors.get(d.ref, [])) or [None]
        for ref in refs:
            if ref is None:
                orphans.append(d.ref)
            elif (ISO27001, ref) not in direct:
                targets.setdefault(ref, []).append(d)
    carried = []
    for ref, rows in sorted(targets.items(), key=lambda kv: kv[1][0].row):
        fields, outcome = merge_decisions([(d.ref, d.fields) for d in rows])
        carried.append(Decision(rows[0].row, ISO27001, ref, fields, [d.ref for d in rows]))
        if len(rows) > 1:
            said = ", ".join(f"{d.ref} (row {d.row}: {_said(d.fields)})" for d in rows)
            rep.carried.append({"ref": f"{ISO27001}:{ref}", "sources": said, "outcome": outcome})
    rep.notes.append(f"{len(legacy)} ISO/IEC 27001:2013 row(s) carried onto {len(targets)} ISO/IEC 27001:2022 "
                     f"control(s) through the transition crosswalk; {len(rep.carried)} of them merge several 2013 "
                     f"rows ({MERGE_RULE})")
    uncovered = _uncovered(con, set(targets) | {r for _, r in direct})
    if uncovered:
        rep.notes.append(f"{len(uncovered)} ISO/IEC 27001:2022 control(s) have no 2013 row and stay undecided: "
                         + ", ".join(uncovered))
    if orphans:
        rep.notes.append("2013 control(s) with no 2022 successor in the crosswalk, not carried: "
                         + ", ".join(dict.fromkeys(orphans)))
    return [d for d in decisions if d.framework != ISO27001_2013] + carried


def _said(fields: dict[str, Any]) -> str:
    a = fields.get("applicable")
    parts = ["applicable" if a else "not applicable" if a is False else "undecided"]
    if fields.get("status"):
        parts.append(fields["status"])
    return ", ".join(parts)


def _uncovered(con: duckdb.DuckDBPyConnection, covered: set[str]) -> list[str]:
    refs = [r[0] for r in con.execute("SELECT ref FROM controls WHERE framework = ? AND kind = 'annex_a_control' "
                                      "ORDER BY ordinal", [ISO27001]).fetchall()]
    return [r for r in refs if r not in covered]
