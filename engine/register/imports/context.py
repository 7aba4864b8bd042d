"""Reference data a risk import reads once per run: the matrix, the control catalog, the inventories.

Every file of a run is parsed and matched against the same snapshot, so two files naming one new
asset create it once, and a later file sees the assets an earlier file brought in.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from engine.register import records
from engine.register.matrix import matrix_on
from engine.register.scoring import MatrixSpec

from .controls import reference_frames
from .limits import Limits
from .reading import ROW

__all__ = ["KnownEntities", "RunContext"]


@dataclass
class KnownEntities:
    """Assets or AI systems known to the run: stored ones plus those the run creates."""

    kind: str
    frame: pl.DataFrame                      # id, name

    def resolve(self, names: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Find the entity of every (_file, _row, name) cell by id or name (case-insensitive),
        creating one per unknown name. Returns (links: _file, _row, id, obj; created: id, name, _file)."""
        link_schema = {"_file": pl.Int32, ROW: pl.Int32, "id": pl.String, "obj": pl.String}
        created = pl.DataFrame(schema={"id": pl.String, "name": pl.String, "_file": pl.Int32})
        if names.is_empty():
            return pl.DataFrame(schema=link_schema), created
        by_id = self.frame.select(pl.col("id").str.to_lowercase().alias("key"), pl.col("id").alias("id1"),
                                  pl.col("name").alias("n1"))
        by_name = self.frame.select(pl.col("name").str.to_lowercase().alias("key"), pl.col("id").alias("id2"),
                                    pl.col("name").alias("n2")).unique("key", keep="first", maintain_order=True)
        hit = (names.with_columns(pl.col("name").str.to_lowercase().alias("key"))
               .join(by_id, on="key", how="left", maintain_order="left")
               .join(by_name, on="key", how="left", maintain_order="left"))
        unknown = hit.filter(pl.col("id1").is_null() & pl.col("id2").is_null()).unique(
            "key", keep="first", maintain_order=True)
        if not unknown.is_empty():
            used = set(self.frame["id"].to_list())
            created = pl.DataFrame({"id": [records.slug(n, used) for n in unknown["name"]],
                                    "name": unknown["name"].to_list(), "_file": unknown["_file"].to_list()},
                                   schema=created.schema)
            self.frame = pl.concat([self.frame, created.select("id", "name")])
        hit = hit.join(created.select(pl.col("name").str.to_lowercase().alias("key"), pl.col("id").alias("id3"),
                                      pl.col("name").alias("n3")), on="key", how="left", maintain_order="left")
        links = hit.select(
            "_file", ROW, pl.coalesce("id1", "id2", "id3").alias("id"),
            pl.coalesce("n1", "n2", "n3").str.to_lowercase().str.strip_chars().alias("obj"),
        ).unique(["_file", ROW, "id"], maintain_order=True)
        return links.cast(link_schema), created  # type: ignore[arg-type]


class RunContext:
    """Reference data read once per run."""

    def __init__(self, con: duckdb.DuckDBPyConnection, default_framework: str | None,
                 limits: Limits | None = None):
        self.limits = limits or Limits.from_env()
        self.matrix: MatrixSpec = matrix_on(con)
        self.catalog, self.successors = reference_frames(con)
        self.assets = KnownEntities("asset", con.execute("SELECT id, name FROM assets").pl())
        self.ai_systems = KnownEntities("ai_system", con.execute("SELECT id, name FROM ai_systems").pl())
        self.default_framework = default_framework
        self.sources_with_text = {r[0] for r in con.execute(
            "SELECT DISTINCT s.source FROM risks r JOIN risk_sources s ON s.risk_id = r.id "
            "WHERE r.controls_text IS NOT NULL").fetchall()}
        """Registers some of whose risks keep control cells written in words (``controls_text``)."""
