"""German compound splitting against a general noun lexicon and the knowledge base's own words.

Employees write compounds the knowledge base never uses ("Kitaplatzsuche", "Gleitzeitmodell").
Both halves carry meaning, so a compound is split into its parts, and every part the knowledge
base knows counts. The general lexicon is the lemma list of the maintained ``german-nouns``
package (Wiktionary, about 100,000 nouns); only the lemma column is read, as folded words, which
keeps it at a few MB instead of the package's own 240 MB index. ``compound-split`` (CharSplit)
was measured too: good splits, but 345 MB of RSS for its n-gram tables (docs/performance.md).
"""

from __future__ import annotations

import csv
import importlib.resources
from collections.abc import Callable, Collection
from dataclasses import dataclass

LINKS = ("s", "es", "n", "en", "e", "er")
"""Linking elements (Fugenelemente) allowed between two parts: Arbeit-s-zeit, Kind-er-garten."""
MIN_PART = 3
MAX_WORD = 40


@dataclass(frozen=True, slots=True)
class NounLexicon:
    """Folded lemmas of general German nouns (immutable, shared by all snapshots)."""

    words: frozenset[str]
    stems: frozenset[str] = frozenset()
    """The same nouns stemmed, so that stemmed query terms ("kitaplatzsuch") split too."""

    def with_stems(self, stem: Callable[[str], str]) -> NounLexicon:
        return NounLexicon(self.words, frozenset(stem(w) for w in self.words))

    @classmethod
    def load(cls, fold: Callable[[str], str]) -> NounLexicon:
        """Read the lemmas of ``german-nouns``; an empty lexicon if the package is missing."""
        try:
            source = importlib.resources.files("german_nouns") / "nouns.csv"
            with source.open(encoding="utf-8") as handle:
                reader = csv.reader(handle)
                next(reader, None)
                words = {fold(row[0]) for row in reader if row and row[0][:1].isalpha()}
        except (ModuleNotFoundError, FileNotFoundError):
            return cls(frozenset())
        return cls(frozenset(w for w in words if len(w) >= MIN_PART and w.isalpha()))


class CompoundSplitter:
    """Splits folded words into parts; ``known`` are the stems of the knowledge base."""

    def __init__(
        self,
        nouns: NounLexicon,
        known: Collection[str],
        stem: Callable[[str], str],
    ) -> None:
        self._nouns = nouns.words | nouns.stems
        self._known = known
        self._stem = stem
        self._cache: dict[str, tuple[str, ...]] = {}

    def is_noun(self, word: str) -> bool:
        """Whether a folded (or stemmed) word is a general German noun."""
        return word in self._nouns

    def _kb_part(self, part: str) -> bool:
        # Snowball keeps "konto" but stems "konten" to "kont": accept the one-letter-shorter
        # form too, so both halves of "Arbeitszeitkonto" meet the entries' "Arbeitszeitkonten".
        return (
            part in self._known
            or self._stem(part) in self._known
            or (len(part) >= 5 and part[:-1] in self._known)
        )

    def _part_score(self, part: str) -> int:
        """2: the knowledge base knows it; 1: a general noun; 0: not a word."""
        if len(part) < MIN_PART:
            return 0
        if self._kb_part(part):
            return 2
        return 1 if part in self._nouns else 0

    def _segment(self, word: str) -> list[str] | None:
        """Fewest parts covering the word (ties: more parts the knowledge base knows)."""
        n = len(word)
        # best[i]: (parts, -kb_parts, split) for word[:i]
        best: list[tuple[int, int, list[str]] | None] = [None] * (n + 1)
        best[0] = (0, 0, [])
        for end in range(MIN_PART, n + 1):
            for start in range(0, end - MIN_PART + 1):
                prev = best[start]
                if prev is None:
                    continue
                piece = word[start:end]
                options = [piece]
                if end < n:  # a linking element may end every part but the last
                    options += [piece[: -len(k)] for k in LINKS if piece.endswith(k)]
                for part in options:
                    score = self._part_score(part)
                    if not score:
                        continue
                    candidate = (prev[0] + 1, prev[1] - (score == 2), [*prev[2], part])
                    current = best[end]
                    if current is None or candidate[:2] < current[:2]:
                        best[end] = candidate
                    break
        final = best[n]
        return final[2] if final and final[0] > 1 else None

    def parts(self, word: str) -> tuple[str, ...]:
        """The parts of a compound, as knowledge-base stems where it knows them; () when the
        word does not split.

        A part the knowledge base does not know as a whole is split again ("Kitaplatz" is a
        general noun; "Kita" and "Platz" are what the entries say); parts it knows in no form
        are kept as they are, so callers can tell how much of the word is explained.
        """
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        result = tuple(dict.fromkeys(self._atoms(word, depth=0)))
        if len(self._cache) < 50_000:
            self._cache[word] = result
        return result

    def _as_known(self, part: str) -> str:
        if part in self._known:
            return part
        stemmed = self._stem(part)
        return stemmed if stemmed in self._known or len(part) < 5 else part[:-1]

    def _atoms(self, word: str, depth: int) -> list[str]:
        if len(word) > MAX_WORD:
            return []
        if depth and self._kb_part(word):
            return [self._as_known(word)]
        segments = None if len(word) < 2 * MIN_PART or depth > 3 else self._segment(word)
        if segments is None:
            return [self._stem(word)] if depth else []
        atoms: list[str] = []
        for part in segments:
            atoms.extend(self._atoms(part, depth + 1))
        return atoms
