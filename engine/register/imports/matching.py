"""Recognising the same risk arriving from two registers.

A row from register B is the same risk as a risk already in the register (from register A) when

1. they concern the same thing: they share an asset or AI system (compared by name, case-insensitive,
   so an asset and an AI system of the same name count), or neither names one; and
2. their titles are near-identical. Titles are compared as word sets after normalising: lower case,
   punctuation dropped, common short words dropped (a, the, of, to, ...), British and American
   spellings folded (-ise/-ize, -our/-or) and a light suffix strip (-s, -es, -ed, -ing). Then

   - numbers in the titles must agree (``Server 1 outage`` is not ``Server 2 outage``);
   - similarity = shared words / all words (Jaccard). At ``MERGE_JACCARD`` (0.8) or above the titles
     are the same (this covers reordering: ``Laptop loss`` / ``Loss of laptop``);
   - from ``CANDIDATE_JACCARD`` (0.5) up to 0.8 the titles are compared character by character
     (``difflib.SequenceMatcher`` ratio of the normalised titles) and are the same at
     ``MERGE_RATIO`` (0.9) or above (this covers typos: ``databse`` / ``database``).

A risk takes at most one row of a register: it is never merged with a second row of a register it
already has a lineage from, and two rows of one file never merge with each other.

Finding candidates must stay fast with 100,000 risks: words are ordered rarest first across the
run, and two titles can reach a Jaccard of 0.5 only if they share one of their first
``n - ceil(0.5 n) + 1`` words (the prefix filter of set-similarity joins), so only titles sharing a
rare word with the same asset are compared.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

import polars as pl

MERGE_JACCARD = 0.8
CANDIDATE_JACCARD = 0.5
MERGE_RATIO = 0.9

STOPWORDS = frozenset(
    "a an the of to in on for and or by with from at is are be been being as into via due its it this that "
    "their there than then which who whose may might could can will would should our your".split()
)


def title_tokens(expr: pl.Expr) -> pl.Expr:
    """The normalised words of a title, in title order, each once."""
    words = (
        expr.fill_null("").str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars().str.split(" ")
    )
    return words.list.eval(
        pl.element().filter((pl.element() != "") & ~pl.element().is_in(list(STOPWORDS)))
        .str.replace(r"is(e|ed|es|ing|ation|ations)$", "iz$1")
        .str.replace(r"our(s?)$", "or$1")
        .map_batches(_strip_suffix, return_dtype=pl.String)
    ).list.unique(maintain_order=True)


def _strip_suffix(s: pl.Series) -> pl.Series:
    long = s.str.len_chars() > 4
    return pl.select(
        pl.when(long & s.str.contains(r"(?:ing|ed|es)$")).then(s.str.replace(r"(?:ing|ed|es)$", ""))
        .when(long & s.str.contains(r"[^s]s$")).then(s.str.replace(r"s$", ""))
        .otherwise(s)
    ).to_series()


def with_title_keys(frame: pl.DataFrame, title: str = "title") -> pl.DataFrame:
    """Add ``tokens`` (normalised words), ``norm`` (them joined) and ``digits`` (words holding a
    digit, sorted, joined) for matching."""
    return frame.with_columns(title_tokens(pl.col(title)).alias("tokens")).with_columns(
        pl.col("tokens").list.join(" ").alias("norm"),
        pl.col("tokens").list.eval(pl.element().filter(pl.element().str.contains(r"\d"))).list.sort()
        .list.join(" ").alias("digits"),
    )


@dataclass
class Match:
    row: int
    risk_id: str
    similarity: float
    reason: str


class MatchPool:
    """The risks a new row may merge into, with their prefix index; grows as a run creates risks.

    ``ranks`` fixes the word order (rarest first) for the whole run, so the prefixes of risks added
    later stay comparable with those computed at the start.
    """

    def __init__(self, ranks: pl.DataFrame):
        self.ranks = ranks  # token, rank
        self.entries = pl.DataFrame(schema={"risk_id": pl.String, "tokens": pl.List(pl.String),
                                            "norm": pl.String, "digits": pl.String})
        self.prefix = pl.DataFrame(schema={"obj": pl.String, "token": pl.String, "risk_id": pl.String})
        self.sources = pl.DataFrame(schema={"risk_id": pl.String, "source": pl.String})

    @staticmethod
    def rank_words(token_lists: list[pl.Series]) -> pl.DataFrame:
        """Order every word of the run by how many titles hold it (rarest first)."""
        words = pl.concat([s.rename("token").explode().drop_nulls() for s in token_lists if s.len()])
        if words.is_empty():
            return pl.DataFrame(schema={"token": pl.String, "rank": pl.UInt32})
        counts = words.value_counts(name="n").sort(["n", "token"])
        return counts.with_row_index("rank").select("token", "rank")

    def _prefix_tokens(self, keyed: pl.DataFrame, key: str) -> pl.DataFrame:
        """(key, token) for the prefix words of each title."""
        ex = keyed.select(key, "tokens").explode("tokens").rename({"tokens": "token"}).drop_nulls("token")
        if ex.is_empty():
            return pl.DataFrame(schema={key: keyed.schema[key], "token": pl.String})
        ex = ex.join(self.ranks, on="token", how="left").with_columns(pl.col("rank").fill_null(0))
        ex = ex.with_columns(
            pos=pl.col("rank").rank("ordinal").over(key),
            n=pl.len().over(key),
        )
        keep = pl.col("n") - (pl.col("n") * CANDIDATE_JACCARD).ceil().cast(pl.UInt32) + 1
        return ex.filter(pl.col("pos") <= keep).select(key, "token")

    def add(self, risks: pl.DataFrame, objects: pl.DataFrame, sources: pl.DataFrame) -> None:
        """Add risks (risk_id + keys from :func:`with_title_keys`), their objects (risk_id, obj;
        risks without one get '') and their lineage sources (risk_id, source)."""
        if not risks.is_empty():
            self.entries = pl.concat([self.entries, risks.select(self.entries.columns)])
            objs = risks.select("risk_id").join(objects, on="risk_id", how="left").with_columns(
                pl.col("obj").fill_null(""))
            pre = self._prefix_tokens(risks, "risk_id").join(objs, on="risk_id")
            self.prefix = pl.concat([self.prefix, pre.select(self.prefix.columns)])
        self.add_sources(sources)

    def add_sources(self, sources: pl.DataFrame) -> None:
        if not sources.is_empty():
            self.sources = pl.concat([self.sources, sources.select(self.sources.columns)]).unique()

    def find(self, rows: pl.DataFrame, objects: pl.DataFrame, source: str) -> list[Match]:
        """The best existing risk for each row that has one. ``rows`` has ``_row`` + title keys;
        ``objects`` has (``_row``, ``obj``) for rows that name assets or AI systems."""
        if rows.is_empty() or self.entries.is_empty():
            return []
        objs = rows.select("_row").join(objects, on="_row", how="left").with_columns(pl.col("obj").fill_null(""))
        pre = self._prefix_tokens(rows, "_row").join(objs, on="_row")
        pairs = pre.join(self.prefix, on=["obj", "token"]).select("_row", "risk_id", "obj")
        if pairs.is_empty():
            return []
        pairs = pairs.group_by("_row", "risk_id").agg(pl.col("obj").min())
        mine = self.sources.filter(pl.col("source") == source).select("risk_id")
        pairs = pairs.join(mine, on="risk_id", how="anti")
        if pairs.is_empty():
            return []
        cand = (
            pairs.join(rows.select("_row", "tokens", "norm", "digits"), on="_row")
            .join(self.entries.rename({"tokens": "tokens_b", "norm": "norm_b", "digits": "digits_b"}),
                  on="risk_id")
            .filter(pl.col("digits") == pl.col("digits_b"))
            .with_columns(
                inter=pl.col("tokens").list.set_intersection("tokens_b").list.len(),
                union=pl.col("tokens").list.set_union("tokens_b").list.len(),
            )
            .with_columns(jaccard=pl.col("inter") / pl.col("union"))
            .filter(pl.col("jaccard") >= CANDIDATE_JACCARD)
        )
        if cand.is_empty():
            return []
        sure = cand.filter(pl.col("jaccard") >= MERGE_JACCARD).with_columns(
            similarity=pl.col("jaccard"), how=pl.lit("words"))
        maybe = cand.filter(pl.col("jaccard") < MERGE_JACCARD)
        ratios = [difflib.SequenceMatcher(None, a, b).ratio()
                  for a, b in zip(maybe["norm"], maybe["norm_b"], strict=True)]
        maybe = maybe.with_columns(similarity=pl.Series(ratios, dtype=pl.Float64),
                                   how=pl.lit("characters")).filter(pl.col("similarity") >= MERGE_RATIO)
        best = (
            pl.concat([sure, maybe.select(sure.columns)])
            .sort(["similarity", "_row", "risk_id"], descending=[True, False, False])
            .unique("_row", keep="first", maintain_order=True)
            .unique("risk_id", keep="first", maintain_order=True)
        )
        out = []
        for r in best.iter_rows(named=True):
            where = f"same asset or AI system '{r['obj']}'" if r["obj"] else "no asset or AI system"
            out.append(Match(r["_row"], r["risk_id"], round(r["similarity"], 4),
                             f"{where}; title similarity {r['similarity']:.2f} ({r['how']})"))
        return out


def prefix_length(n: int, threshold: float = CANDIDATE_JACCARD) -> int:
    """How many rarest words of an n-word title must be indexed for a Jaccard threshold."""
    return n - math.ceil(threshold * n) + 1
