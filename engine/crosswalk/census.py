"""Counts of one authored crosswalk file, for its documentation: records per relationship, per decision, per
review status, and how many controls of a framework the file covers fully, partly or not at all.

The counts in ``mappings/README.md`` are this module's output (``python -m engine.crosswalk.census``), and a
test keeps the two in step, so the numbers a reader sees are never typed by hand. Reads the CSV only (no
database): coverage here is what the authored records say, the same rule as ``v_coverage`` without
inference: ``full`` when a counterpart is equal to the control or contains it, ``partial`` when one only
overlaps it, ``none`` otherwise.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

from engine.config import CROSSWALK_DIR, ISO27001, ISO42001

from . import catalog
from .relationships import RELATIONSHIPS, inverse

__all__ = ["MAIN_FILE", "census", "census_markdown", "coverage_counts"]

MAIN_FILE = CROSSWALK_DIR / f"{ISO42001}__{ISO27001}.csv"

_FULL = ("equal", "subset_of")
_PARTIAL = ("superset_of", "intersects_with")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def _decision(row: dict[str, str]) -> str:
    if row["relationship"] != "no_relationship":
        return "link"
    return "no_relationship, pair rejected" if row["target"].split(":", 1)[1] else "no_relationship, no counterpart"


def coverage_counts(rows: list[dict[str, str]], framework: str, counterpart: str) -> dict[str, Counter[str]]:
    """For each kind (clause, annex_a_control) of ``framework``: how many entries are fully, partly, not covered."""
    best: dict[str, int] = {}  # 2 full, 1 partial
    for r in rows:
        rel = r["relationship"]
        if rel == "no_relationship":
            continue
        src, tgt = r["source"], r["target"]
        if src.startswith(framework + ":") and tgt.startswith(counterpart + ":"):
            ref = src.split(":", 1)[1]
        elif tgt.startswith(framework + ":") and src.startswith(counterpart + ":"):
            ref, rel = tgt.split(":", 1)[1], inverse(rel)
        else:
            continue
        best[ref] = max(best.get(ref, 0), 2 if rel in _FULL else 1 if rel in _PARTIAL else 0)
    out: dict[str, Counter[str]] = {}
    for entry in catalog.reference_index()[framework]:
        if entry["kind"] in ("clause", "annex_a_control"):
            level = ("none", "partial", "full")[best.get(entry["ref"], 0)]
            out.setdefault(entry["kind"], Counter())[level] += 1
    return out


def census(path: Path = MAIN_FILE) -> dict[str, object]:
    """Counts for one crosswalk file: records, per relationship, per decision, per review status, coverage."""
    rows = _rows(path)
    fws = sorted({r["source"].split(":", 1)[0] for r in rows} | {r["target"].split(":", 1)[0] for r in rows})
    framework = ISO42001 if ISO42001 in fws else fws[0]
    counterpart = next(f for f in fws if f != framework)
    return {
        "file": path.name,
        "records": len(rows),
        "relationship": Counter(r["relationship"] for r in rows),
        "decision": Counter(_decision(r) for r in rows),
        "review_status": Counter(r["review_status"] for r in rows),
        "coverage": coverage_counts(rows, framework, counterpart),
        "framework": framework,
        "counterpart": counterpart,
    }


def census_markdown(path: Path = MAIN_FILE) -> str:
    """The counts as the Markdown block the README shows."""
    c = census(path)
    rel: Counter[str] = c["relationship"]  # type: ignore[assignment]
    dec: Counter[str] = c["decision"]  # type: ignore[assignment]
    status: Counter[str] = c["review_status"]  # type: ignore[assignment]
    cov: dict[str, Counter[str]] = c["coverage"]  # type: ignore[assignment]
    lines = [f"`{c['file']}`: {c['records']} records.", "",
             "| relationship | records |", "|---|---|"]
    lines += [f"| `{r}` | {rel[r]} |" for r in RELATIONSHIPS]
    lines += ["", "| decision | records |", "|---|---|"]
    lines += [f"| {d} | {dec[d]} |" for d in ("link", "no_relationship, pair rejected", "no_relationship, no counterpart")]
    lines += ["", "| review status | records |", "|---|---|"]
    lines += [f"| `{s}` | {n} |" for s, n in sorted(status.items())]
    lines += ["", f"| {c['framework']} by {c['counterpart']} | full | partial | none |", "|---|---|---|---|"]
    for kind, label in (("annex_a_control", "Annex A controls"), ("clause", "clauses")):
        k = cov.get(kind, Counter())
        lines.append(f"| {label} ({sum(k.values())}) | {k['full']} | {k['partial']} | {k['none']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - a documentation helper
    sys.stdout.write(census_markdown(Path(sys.argv[1]) if len(sys.argv) > 1 else MAIN_FILE))
