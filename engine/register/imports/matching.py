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

import polars as pl

MERGE_JACCARD = 0.8
CANDIDATE_JACCARD = 0.5
MERGE_RATIO = 0.9

STOPWORDS = frozenset(
    "a an the of to in on for and or by with from at is are be been being as into via due its it this that "
    "their there than then which who whose may might could can will would should our your".split()
)


def _normalise_words(words: pl.Expr) -> pl.Expr:
    """Spelling folds and a light suffix strip on a flat column of lower-case words."""
    w = words.str.replace(r"is(e|ed|es|ing|ation|ations)$", "iz$1").str.replace(r"our(s?)$", "or$1")
    long = w.str.len_chars() > 4
    return (pl.when(long & w.str.contains(r"(?:ing|ed|es)$")).then(w.str.replace(r"(?:ing|ed|es)$", ""))
            .when(long & w.str.contains(r"[^s]s$")).then(w.str.replace(r"s$", ""))
            .otherwise(w))


def with_title_keys(frame: pl.DataFrame, title: str = "title") -> pl.DataFrame:
    """Add ``tokens`` (normalised words in title order, each once), ``norm`` (them joined) and
    ``digits`` (words holding a digit, sorted, joined) for matching.

    Spelling folds run once per distinct word of the run, and each title's words are then mapped
    through that vocabulary as a list, so 100,000 titles take a fraction of a second."""
    words = frame.select(pl.col(title).fill_null("").str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", " ")
                         .str.strip_chars().str.split(" ").alias("w"))["w"]
    vocab = (pl.DataFrame({"w": words.explode().unique().drop_nulls()})
             .filter((pl.col("w") != "") & ~pl.col("w").is_in(list(STOPWORDS)))
             .with_columns(pl.when(pl.col("w").str.contains(r"\d")).then(pl.col("w"))
                           .otherwise(_normalise_words(pl.col("w"))).alias("stem")))
    tokens = words.list.eval(pl.element().replace_strict(vocab["w"], vocab["stem"], default=None,
                                                         return_dtype=pl.String)
                             .drop_nulls().unique(maintain_order=True))
    digits = tokens.list.eval(pl.element().filter(pl.element().str.contains(r"\d")).sort()).list.join(" ")
    return frame.with_columns(tokens.alias("tokens"), tokens.list.join(" ").alias("norm"), digits.alias("digits"))


def _ranks(entries: pl.DataFrame) -> pl.DataFrame:
    """Every word of the run ranked by how many titles hold it, rarest first."""
    words = entries.select(pl.col("tokens").explode().alias("token")).drop_nulls()
    counts = words.group_by("token").len("n").sort(["n", "token"])
    return counts.with_row_index("rank").select("token", "rank")


def _prefix_index(entries: pl.DataFrame, ranks: pl.DataFrame) -> pl.DataFrame:
    """(key, block, obj, token) for the prefix words of each title, in each of its blocks.

    A block is an asset/AI system name ('' for none) plus the title's numbers, since both must
    agree for a merge; only titles of one block are ever compared."""
    ex = (entries.select("key", pl.col("tokens").alias("token")).explode("token").drop_nulls("token")
          .join(ranks, on="token", how="left")
          .with_columns(pos=pl.col("rank").rank("ordinal").over("key"), n=pl.len().over("key")))
    keep = pl.col("n") - (pl.col("n") * CANDIDATE_JACCARD).ceil().cast(pl.UInt32) + 1
    ex = ex.filter(pl.col("pos") <= keep).select("key", "token")
    blocks = (entries.select("key", "digits", pl.col("objs").alias("obj")).explode("obj")
              .with_columns(pl.col("obj").fill_null(""))
              .with_columns(block=pl.col("obj") + "\x1f" + pl.col("digits")))
    # each distinct block as a number, so a long title's block text is not copied onto every one of its words
    ids = blocks.select(pl.col("block").unique()).with_row_index("block_id")
    blocks = blocks.join(ids, on="block").select("key", pl.col("block_id").alias("block"), "obj")
    return ex.join(blocks, on="key")


def candidate_pairs(entries: pl.DataFrame) -> pl.DataFrame:
    """Pairs of the same risk: (key, other, obj, similarity, how).

    ``entries`` has ``key`` (unique), ``file`` (-1 for a risk already stored, else the index of the
    file in the run), ``tokens``/``norm``/``digits`` (from :func:`with_title_keys`) and ``objs``
    (names of its assets and AI systems, lower case; ``[""]`` for none). Each entry of a file is
    paired with stored risks and with entries of earlier files that pass the rule of this module.
    """
    out_schema = {"key": pl.Int64, "other": pl.Int64, "obj": pl.String, "similarity": pl.Float64,
                  "how": pl.String}
    fresh = entries.filter(pl.col("file") >= 0)
    if fresh.is_empty():
        return pl.DataFrame(schema=out_schema)
    idx = _prefix_index(entries, _ranks(entries))
    files = entries.select("key", "file")
    left = idx.join(fresh.select("key"), on="key", how="semi")
    pairs = (left.join(idx.select("block", "token", pl.col("key").alias("other")), on=["block", "token"])
             .filter(pl.col("key") != pl.col("other"))
             .join(files, on="key").join(files.rename({"key": "other", "file": "other_file"}), on="other")
             .filter(pl.col("other_file") < pl.col("file"))
             .group_by("key", "other").agg(pl.col("obj").min()))
    if pairs.is_empty():
        return pl.DataFrame(schema=out_schema)
    keys = entries.select("key", "tokens", "norm")
    cand = (pairs.join(keys, on="key")
            .join(keys.rename({"key": "other", "tokens": "tokens_b", "norm": "norm_b"}), on="other")
            .with_columns(inter=pl.col("tokens").list.set_intersection("tokens_b").list.len(),
                          union=pl.col("tokens").list.set_union("tokens_b").list.len())
            .with_columns(jaccard=pl.col("inter") / pl.col("union"))
            .filter(pl.col("jaccard") >= CANDIDATE_JACCARD))
    sure = cand.filter(pl.col("jaccard") >= MERGE_JACCARD).select(
        "key", "other", "obj", pl.col("jaccard").alias("similarity"), pl.lit("words").alias("how"))
    maybe = cand.filter(pl.col("jaccard") < MERGE_JACCARD)
    ratios = [difflib.SequenceMatcher(None, a, b).ratio() for a, b in zip(maybe["norm"], maybe["norm_b"], strict=True)]
    maybe = maybe.select("key", "other", "obj", pl.Series("similarity", ratios, dtype=pl.Float64),
                         pl.lit("characters").alias("how")).filter(pl.col("similarity") >= MERGE_RATIO)
    return pl.concat([sure, maybe]).cast(out_schema)  # type: ignore[arg-type]


def reason(obj: str, similarity: float, how: str) -> str:
    """The recorded reason of a merge decision."""
    where = f"same asset or AI system '{obj}'" if obj else "no asset or AI system"
    return f"{where}; title similarity {similarity:.2f} ({how})"
