"""Versions of the risk criteria, and rescoring as an explicit, recorded step.

ISO 27001 6.1.2 b) and ISO 42001 6.1.2 ask that repeated risk assessments produce consistent,
valid and comparable results. So criteria are versioned: setting a matrix adds a version and
changes no score; each risk keeps the version it was scored under (its level and appetite are read
from that version), until someone rescores it. Rescoring maps scores from the old size onto the new
one (the same linear end-to-end mapping as imports use) and records every changed value in the
history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

from engine import access, store
from engine.errors import InputError, NotFoundError, Problem
from engine.register import records
from engine.store.history import record

from .scoring import MatrixSpec

_COLUMNS = ("version, size, likelihood_labels, impact_labels, level_names, level_thresholds, level_colours, "
            "appetite, created_at, created_by, note")


def _spec(row: tuple[Any, ...]) -> MatrixSpec:
    (version, size, lik, imp, names, th, colours, appetite, created_at, created_by, note) = row
    return MatrixSpec(size=size, likelihood_labels=tuple(lik), impact_labels=tuple(imp),
                      level_names=tuple(names), level_thresholds=tuple(th), level_colours=tuple(colours),
                      appetite=appetite, version=version, created_at=created_at, created_by=created_by,
                      note=note)


def matrix_on(con: duckdb.DuckDBPyConnection, version: int | None = None) -> MatrixSpec:
    """A matrix version (the current, newest one by default) read on an open connection."""
    if version is None:
        row = con.execute(f"SELECT {_COLUMNS} FROM risk_matrix_versions ORDER BY version DESC LIMIT 1").fetchone()
        if row is None:
            raise NotFoundError("no risk matrix: run `riskmap init` to create the default one")
    else:
        row = con.execute(f"SELECT {_COLUMNS} FROM risk_matrix_versions WHERE version = ?", [version]).fetchone()
        if row is None:
            raise NotFoundError(f"no risk matrix version {version}")
    return _spec(row)


def all_matrices_on(con: duckdb.DuckDBPyConnection) -> dict[int, MatrixSpec]:
    return {r[0]: _spec(r) for r in con.execute(
        f"SELECT {_COLUMNS} FROM risk_matrix_versions ORDER BY version").fetchall()}


def get_matrix(db: str | Path | None = None, version: int | None = None) -> MatrixSpec:
    """The current risk matrix, or a given version."""
    with store.connect(db) as con:
        return matrix_on(con, version)


def matrix_versions(db: str | Path | None = None) -> list[MatrixSpec]:
    """Every version of the risk criteria, oldest first."""
    with store.connect(db) as con:
        return list(all_matrices_on(con).values())


def read_matrix_file(path: str | Path) -> MatrixSpec:
    """A matrix from a YAML file (the form of :meth:`MatrixSpec.to_dict`)."""
    path = Path(path)
    if not path.exists():
        raise InputError([Problem(str(path), None, None, "no such file")])
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError([Problem(str(path), None, None, f"not valid YAML: {exc}")]) from exc
    return MatrixSpec.from_dict(doc or {}, str(path))


@dataclass
class MatrixChange:
    matrix: MatrixSpec
    created: bool
    risks_on_older_versions: int


def set_matrix(db: str | Path | None, spec: MatrixSpec, *, actor: access.Principal | str, channel: str = "api",
               note: str | None = None) -> MatrixChange:
    """Record new risk criteria as a new version. No score changes: run :func:`rescore` for that.

    Setting criteria identical to the current ones creates no version. Needs the role admin.
    """
    actor = access.resolve(actor)
    access.require(actor, "set_matrix")
    spec = spec.validated()
    with store.transaction(db) as con:
        current = matrix_on(con)
        older = con.execute("SELECT count(*) FROM risks WHERE matrix_version <> ?", [current.version]).fetchone()
        if spec.same_criteria(current):
            return MatrixChange(current, False, older[0] if older else 0)
        version = (current.version or 0) + 1
        when = store.now()
        note = note or spec.note
        con.execute(
            f"INSERT INTO risk_matrix_versions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [version, spec.size, list(spec.likelihood_labels), list(spec.impact_labels), list(spec.level_names),
             list(spec.level_thresholds), list(spec.level_colours), spec.appetite, when, actor, note])
        record(con, entity="risk_matrix", entity_id=str(version), action="create", actor=actor, channel=channel,
               new=json.dumps(spec.to_dict(), sort_keys=True))
        stale = con.execute("SELECT count(*) FROM risks").fetchone()
        new = matrix_on(con, version)
    return MatrixChange(new, True, stale[0] if stale else 0)


@dataclass
class RescoreReport:
    to_version: int
    dry_run: bool
    risks: list[dict[str, Any]] = field(default_factory=list)   # id, from_version, changes {field: (old, new)}

    def lines(self) -> list[str]:
        head = "dry run, nothing written: " if self.dry_run else ""
        out = [f"{head}{len(self.risks)} risk(s) rescored onto matrix version {self.to_version}"]
        for r in self.risks:
            ch = ", ".join(f"{k} {a}->{b}" for k, (a, b) in r["changes"].items() if a != b)
            out.append(f"  {r['id']}: version {r['from_version']} -> {self.to_version}" + (f" ({ch})" if ch else ""))
        return out


def rescore(db: str | Path | None = None, *, actor: access.Principal | str, channel: str = "api",
            to_version: int | None = None, risk_ids: list[str] | None = None, dry_run: bool = False) -> RescoreReport:
    """Move risks scored under other matrix versions onto ``to_version`` (default: the current one).

    Scores are mapped from the old size to the new one end to end (1 stays 1, the top stays the top);
    with equal sizes they are kept and only the criteria version changes, so levels and the appetite
    check follow the new thresholds. Every change is recorded with action ``rescore``. Needs the role
    admin (a dry run too: it shows what the operation would do).
    """
    actor = access.resolve(actor)
    access.require(actor, "rescore")
    conn = store.connect(db) if dry_run else store.transaction(db)
    with conn as con:
        target = matrix_on(con, to_version)
        specs = all_matrices_on(con)
        sql = "SELECT id, version, matrix_version, " + ", ".join(records.SCORE_FIELDS) + \
              " FROM risks WHERE matrix_version <> ?"
        params: list[Any] = [target.version]
        if risk_ids:
            sql += " AND id IN (SELECT unnest(?))"
            params.append(list(risk_ids))
            known = {r[0] for r in con.execute("SELECT id FROM risks WHERE id IN (SELECT unnest(?))",
                                               [list(risk_ids)]).fetchall()}
            missing = [r for r in risk_ids if r not in known]
            if missing:
                raise NotFoundError("no such risk: " + ", ".join(missing))
        cur = con.execute(sql + " ORDER BY id", params).pl()
        report = RescoreReport(target.version or 0, dry_run)
        if cur.is_empty():
            return report
        sizes = pl.DataFrame({"matrix_version": list(specs), "_k": [s.size for s in specs.values()]},
                             schema={"matrix_version": cur.schema["matrix_version"], "_k": pl.Int64})
        n = target.size
        frame = cur.join(sizes, on="matrix_version", how="left").with_columns(
            [pl.when(pl.col("_k") == n).then(pl.col(f))
             .otherwise((1 + (pl.col(f) - 1) * (n - 1) / (pl.col("_k") - 1) + 0.5).floor())
             .cast(pl.Int32).alias(f) for f in records.SCORE_FIELDS]
        ).with_columns(pl.lit(target.version, pl.Int32).alias("matrix_version"))
        new_frame = frame.select("id", *records.SCORE_FIELDS, "matrix_version")
        for old, new in zip(cur.iter_rows(named=True), new_frame.iter_rows(named=True), strict=True):
            report.risks.append({
                "id": old["id"], "from_version": old["matrix_version"],
                "changes": {f: (old[f], new[f]) for f in (*records.SCORE_FIELDS, "matrix_version")
                            if old[f] != new[f]}})
        if not dry_run:
            records.apply_changes(con, "risk", new_frame, actor=actor, channel=channel,
                                  batch_id=f"rescore:v{target.version}:{store.now().isoformat()}",
                                  action="rescore", operation="rescore")
    return report
