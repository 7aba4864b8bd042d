"""Proposing Annex A controls for the words registers use in their control columns.

Teams describe their controls in words more often than by reference: "MFA, email filtering,
awareness training". Each such phrase is compared with

1. the shipped vocabulary of common control wordings (``mappings/control-phrases.yaml``: wordings ->
   controls of both standards, with a one-line reason). A phrase that *is* a wording scores 0.95; one
   that contains a wording scores 0.6 + 0.3 x the share of the phrase's words it covers;
2. the official titles of the Annex A controls of ISO/IEC 27001:2022 and ISO/IEC 42001:2023: the
   score is 0.85 x the Jaccard similarity of the phrase's and the title's significant words (words
   such as "information", "security", "management" are left out, as every title has them); a title
   match needs a score of at least :data:`MIN_TITLE_SCORE`.

Words are compared lower case, without punctuation and plurals; a word of five letters or more that
is in neither list is read as the closest listed word when it is nearly the same (``encyption`` ->
``encryption``: difflib ratio 0.85 or more), at 0.9 of the score. Each phrase keeps its best
:data:`MAX_PER_PHRASE` controls. Nothing here writes: :func:`propose` returns proposals, which the
importer stores as suggestions for a person to accept or reject (:mod:`engine.register.suggestions`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl
import yaml

from engine.config import ISO27001, ISO42001, MAPPINGS_DIR
from engine.errors import InputError, Problem

__all__ = ["MAX_PER_PHRASE", "MIN_TITLE_SCORE", "NOISE", "PHRASES_FILE", "PROPOSAL_SCHEMA", "Entry",
           "check_vocabulary", "is_noise", "propose", "tokens", "vocabulary"]

PHRASES_FILE = MAPPINGS_DIR / "control-phrases.yaml"
MIN_TITLE_SCORE = 0.4
MAX_PER_PHRASE = 5
FRAMEWORKS = (ISO27001, ISO42001)

NOISE = frozenset({"n a", "na", "none", "nil", "tbd", "tba", "todo", "to do", "see above", "as above", "various",
                   "other", "others", "x", "control", "controls", "annex", "annex a", "iso", "yes", "no", "see",
                   "etc", "existing", "planned", "see policy", "see notes", "none yet", "not yet", "unknown"})
"""Phrases that say nothing about a control (compared after :func:`tokens`)."""

_FILLER = frozenset("a an the of and or for to in on with by all our its their at from per via".split())
_TITLE_COMMON = _FILLER | frozenset(
    "information security management system systems ai use related other associated process processes "
    "organizational organisational".split())

PROPOSAL_SCHEMA = {"phrase": pl.String, "framework": pl.String, "ref": pl.String, "score": pl.Float64,
                   "method": pl.String, "reason": pl.String}


def _word(w: str) -> str:
    """A word without its plural ending (``backups`` -> ``backup``, ``access`` stays)."""
    if len(w) > 3 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def tokens(text: str) -> tuple[str, ...]:
    """The words of a phrase as they are compared: lower case, punctuation dropped, no plurals."""
    return tuple(_word(w) for w in re.sub(r"[^\w]+", " ", str(text).lower().replace("_", " ")).split())


def is_noise(text: str) -> bool:
    """True for a phrase that names no control (``n/a``, ``none``, ``see above``, a bare number, a
    lone letter such as the halves of ``n/a`` split at its slash)."""
    t = tokens(text)
    return not t or " ".join(t) in NOISE or all(w.isdigit() or len(w) == 1 for w in t)


@dataclass(frozen=True)
class Entry:
    """One wording group of the vocabulary: its wordings (as word tuples), its controls, its reason."""

    words: tuple[tuple[str, ...], ...]
    controls: tuple[tuple[str, str], ...]
    reason: str


def _read_entries(path: Path) -> list[Entry]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError([Problem(str(path), None, None, f"cannot read the vocabulary: {exc}")]) from exc
    problems, out = [], []
    for n, raw in enumerate(doc.get("entries") or [], start=1):
        words = tuple(t for t in (tokens(w) for w in raw.get("words") or []) if t)
        controls = tuple((fw, str(ref)) for fw in FRAMEWORKS for ref in raw.get(fw) or [])
        if not words or not controls or not str(raw.get("reason") or "").strip():
            problems.append(Problem(str(path), n, None, "an entry needs words, controls and a reason", raw))
            continue
        out.append(Entry(words, controls, str(raw["reason"]).strip()))
    if problems:
        raise InputError(problems, f"{path}: the vocabulary has problems")
    return out


@lru_cache(maxsize=4)
def _cached(path: str, mtime: float) -> tuple[Entry, ...]:
    return tuple(_read_entries(Path(path)))


def vocabulary(path: Path = PHRASES_FILE) -> tuple[Entry, ...]:
    """The vocabulary of control wordings (read once, again when the file changes)."""
    return _cached(str(path), path.stat().st_mtime)


def check_vocabulary(catalog: pl.DataFrame, path: Path = PHRASES_FILE) -> list[Problem]:
    """A problem for each control the vocabulary names that the catalogs (framework, ref) lack."""
    known = set(catalog.select("framework", "ref").iter_rows())
    return [Problem(str(path), " ".join(e.words[0]), f"{fw}:{ref}", "no such Annex A control", ref)
            for e in vocabulary(path) for fw, ref in e.controls if (fw, ref) not in known]


def _contains(words: tuple[str, ...], term: tuple[str, ...]) -> bool:
    n = len(term)
    return any(words[i:i + n] == term for i in range(len(words) - n + 1))


class _Matcher:
    """The vocabulary and the titles, indexed for comparing many phrases."""

    def __init__(self, entries: tuple[Entry, ...], titles: pl.DataFrame):
        self.entries = entries
        self.titles = [(fw, ref, title, frozenset(w for w in tokens(title) if w not in _TITLE_COMMON))
                       for fw, ref, title in titles.filter(pl.col("framework").is_in(FRAMEWORKS))
                       .select("framework", "ref", "title").iter_rows()]
        self.by_word: dict[str, list[int]] = {}
        for i, (_, _, _, words) in enumerate(self.titles):
            for w in words:
                self.by_word.setdefault(w, []).append(i)
        known = {w for e in entries for term in e.words for w in term} | set(self.by_word)
        self.known = sorted(known)
        self.known_set = frozenset(known)
        self.fixed: dict[str, str | None] = {}

    def _fix(self, word: str) -> str | None:
        if word not in self.fixed:
            close = difflib.get_close_matches(word, self.known, n=1, cutoff=0.85) if len(word) >= 5 else []
            self.fixed[word] = close[0] if close else None
        return self.fixed[word]

    def words(self, phrase: str) -> tuple[tuple[str, ...], bool]:
        """The phrase's words, misspellings read as the closest known word; and whether any was."""
        out, fuzzy = [], False
        for w in tokens(phrase):
            if w in self.known_set or w in _FILLER:
                out.append(w)
                continue
            fixed = self._fix(w)
            fuzzy |= fixed is not None
            out.append(fixed or w)
        return tuple(out), fuzzy

    def propose(self, phrase: str) -> list[tuple[str, str, str, float, str, str]]:
        words, fuzzy = self.words(phrase)
        content = [w for w in words if w not in _FILLER]
        factor = 0.9 if fuzzy else 1.0
        found: dict[tuple[str, str], tuple[float, str, str]] = {}
        for e in self.entries:
            best = 0.0
            for term in e.words:
                if _contains(words, term):
                    exact = tuple(content) == tuple(w for w in term if w not in _FILLER)
                    share = len(term) / max(len(content), len(term))
                    best = max(best, 0.95 if exact else 0.6 + 0.3 * share)
            for fw, ref in e.controls if best else ():
                score = round(best * factor, 2)
                if score > found.get((fw, ref), (0.0, "", ""))[0]:
                    found[(fw, ref)] = (score, "vocabulary", e.reason)
        self._titles(set(content), factor, found)
        ranked = sorted(found.items(), key=lambda kv: (-kv[1][0], kv[0]))[:MAX_PER_PHRASE]
        return [(phrase, fw, ref, s, m, why) for (fw, ref), (s, m, why) in ranked]

    def _titles(self, words: set[str], factor: float,
                found: dict[tuple[str, str], tuple[float, str, str]]) -> None:
        significant = {w for w in words if w not in _TITLE_COMMON}
        for i in sorted({i for w in significant for i in self.by_word.get(w, [])}):
            fw, ref, title, title_words = self.titles[i]
            shared = significant & title_words
            score = round(0.85 * len(shared) / len(significant | title_words) * factor, 2)
            if score >= MIN_TITLE_SCORE and score > found.get((fw, ref), (0.0, "", ""))[0]:
                found[(fw, ref)] = (score, "title", f"the phrase shares {', '.join(sorted(shared))!r} with the "
                                                    f"control's title '{title}'")


def propose(phrases: list[str], titles: pl.DataFrame, entries: tuple[Entry, ...] | None = None) -> pl.DataFrame:
    """Controls proposed for each distinct phrase: (phrase, framework, ref, score, method, reason).

    ``titles`` holds the Annex A controls (framework, ref, title); ``entries`` the vocabulary
    (default: :func:`vocabulary`). A phrase with no match has no row."""
    matcher = _Matcher(vocabulary() if entries is None else entries, titles)
    rows = [r for p in dict.fromkeys(phrases) if not is_noise(p) for r in matcher.propose(p)]
    return pl.DataFrame(rows, schema=PROPOSAL_SCHEMA, orient="row")
