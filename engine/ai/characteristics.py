"""The characteristics of an AI system that decide which risk scenarios apply to it.

They are columns of the AI system inventory (``ai_systems``; names and meanings in
``engine.register.vocab.AI_CHARACTERISTICS``), imported from the inventory's own columns ("Processes
personal data: yes", "Uses third-party model", "Generative", ...) and changed like any other field of a
system: validated, checked against the version the editor saw, recorded in the history. Each is yes, no
or not recorded; a scenario resting on an unrecorded characteristic is still proposed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from engine import records, register, store
from engine.errors import InputError, Problem
from engine.register import vocab
from engine.register.records import AI_SYSTEM

CHARACTERISTICS: dict[str, str] = dict(vocab.AI_CHARACTERISTICS)
"""Column name -> what it means, in inventory order."""
MATCH_KEYS = ("vendor", "domains")
"""The fields observed AI use is matched on (with the name): the supplier, and the system's domains."""


def label(name: str) -> str:
    """What a characteristic means, for people (``processes personal data``)."""
    return CHARACTERISTICS.get(name, name.replace("_", " "))


def characteristics(db: str | Path | None = None, ai_system_id: str | None = None) -> pl.DataFrame:
    """Every system's characteristics, one row each (``v_ai_characteristics``), with their meaning."""
    sql, params = "SELECT * FROM v_ai_characteristics", []
    if ai_system_id is not None:
        sql, params = sql + " WHERE ai_system_id = ?", [ai_system_id]
    with store.connect(db) as con:
        frame = con.execute(sql + " ORDER BY ai_system_id", params).pl()
    order = {n: i for i, n in enumerate(CHARACTERISTICS)}
    return (frame.with_columns(pl.col("characteristic").replace_strict(CHARACTERISTICS, default=None).alias("label"),
                               pl.col("characteristic").replace_strict(order, default=len(order)).alias("_o"))
            .sort("ai_system_id", "_o").drop("_o"))


def matching_keys(db: str | Path | None, ai_system_id: str) -> dict[str, Any]:
    """A system's vendor and domains (what observed use is matched on) and its version."""
    with store.connect(db) as con:
        row = records.fetch(con, AI_SYSTEM, ai_system_id)   # NotFoundError for an unknown system
    return {"vendor": row["vendor"], "domains": list(row["domains"] or []), "version": row["version"]}


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """``name=value`` pairs as people type them (``generative=yes``, ``processes_personal_data=unknown``,
    ``vendor=Orbis AI Ltd``, ``domains=orbis.example,api.orbis.example``) -> values; every unknown name or
    value is reported at once (InputError)."""
    out: dict[str, Any] = {}
    problems = []
    for item in items:
        name, sep, value = str(item).partition("=")
        name = name.strip().replace("-", "_")
        if not sep:
            problems.append(Problem("characteristics", None, name, "not name=value", item,
                                    "e.g. generative=yes or processes_personal_data=unknown"))
        elif name in MATCH_KEYS:
            out[name] = value.strip() or None
        elif name not in CHARACTERISTICS:
            problems.append(Problem("characteristics", None, name, "unknown characteristic", item,
                                    "one of " + ", ".join([*CHARACTERISTICS, *MATCH_KEYS])))
        else:
            try:
                out[name] = records.parse_tristate(value)
            except ValueError:
                problems.append(Problem("characteristics", None, name, "not yes, no or unknown", value,
                                        "yes, no or unknown"))
    if problems:
        raise InputError(problems, f"{len(problems)} problem(s) in the characteristics; nothing changed")
    return out


def set_characteristics(db: str | Path | None, ai_system_id: str, values: Mapping[str, Any],
                        expected_version: int | None, *, actor: str,
                        channel: str = "api") -> dict[str, Any]:
    """Record characteristics of a system (True, False or None for not recorded) and its matching keys
    (vendor, domains), checked against the version the caller saw; returns the system as stored. Only
    those fields are accepted here."""
    unknown = [n for n in values if n not in CHARACTERISTICS and n not in MATCH_KEYS]
    if unknown:
        raise InputError([Problem("ai_system", ai_system_id, n, "not a characteristic", values[n],
                                  "one of " + ", ".join([*CHARACTERISTICS, *MATCH_KEYS])) for n in unknown])
    return register.update_ai_system(db, ai_system_id, dict(values), expected_version, actor=actor,
                                     channel=channel)
