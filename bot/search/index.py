"""Finds the knowledge base entry for a question typed the way employees type.

The score of an entry is the IDF-weighted share of the question's content words it explains
(exactly, through a compound part, or despite a typo), blended with how close the whole question
is to one of the entry's own phrasings. Words the knowledge base has never seen count against
every entry, which is what makes "Reisepass beantragen" come out as *unknown* instead of a
confident wrong answer.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.knowledge.schema import Entry, KnowledgeBase
from bot.search.textnorm import (
    GENERIC_WORDS,
    OFF_TOPIC_WORDS,
    SUBJECT_WORDS,
    fold,
    refs_in,
    stem,
    terms,
)

Outcome = Literal["answered", "ambiguous", "unknown"]

# Where a word stands says how much it tells about an entry.
W_TITLE = 1.0
W_SYNONYM = 1.0
W_EXAMPLE = 0.7
W_CONTEXT = 0.3  # answer text, target group, topic title
W_COMPOUND_PART = 0.75  # a part of a compound found in the entry's own words

UNKNOWN_SHARE = 0.7  # weight of a short never-seen word relative to the rarest known word
UNKNOWN_SHARE_LONG = 1.0
OFF_TOPIC_SHARE = 1.5  # weight of an off-topic subject relative to the rarest known word
GENERIC_SHARE = 0.35  # request words like "beantragen" say little about the subject
EVIDENCE_HALF = 5.0  # IDF-weighted evidence at which confidence reaches one half
PHRASE_SHARE = 0.2  # share of the final score given to whole-phrase similarity
ANSWER_MIN = 0.55  # below: never answered outright
UNKNOWN_BELOW = 0.42  # below: unknown
CLOSE_RATIO = 0.9  # candidates within this ratio of the best are "about equal"
MAX_CHOICES = 3
MAX_WORD = 40  # longer "words" are treated as unknown without compound or typo search
SHORT_QUERY = 2  # content words up to which an unknown word counts in full
MAX_TERMS = 64  # a 4096-character message is judged by its first 64 content words
CANDIDATES = 25


GENERIC_TERMS = frozenset(stem(w) for w in GENERIC_WORDS)
OFF_TOPIC_TERMS = frozenset(stem(w) for w in OFF_TOPIC_WORDS)
SUBJECT_TERMS = frozenset(stem(w) for w in SUBJECT_WORDS)


@dataclass(frozen=True, slots=True)
class Match:
    entry: Entry
    score: float


@dataclass(frozen=True, slots=True)
class SearchResult:
    question: str
    outcome: Outcome
    matches: tuple[Match, ...]

    @property
    def answered(self) -> bool:
        return self.outcome == "answered"

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None

    @property
    def choices(self) -> tuple[Match, ...]:
        """The candidates worth offering when the outcome is ambiguous."""
        return self.matches[:MAX_CHOICES] if self.outcome == "ambiguous" else ()


@dataclass(frozen=True, slots=True)
class _QueryTerm:
    weight: float
    # alternatives: each is a list of (vocabulary term, similarity) parts that must all match
    readings: tuple[tuple[tuple[str, float], ...], ...]
    generic: bool = False  # only request words like "beantragen" matched
    off_topic: bool = False  # a subject no offer covers ("Urlaubstage", "VPN")


class SearchIndex:
    """Everything that can be computed per knowledge base is computed here, once."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._entries: list[Entry] = list(kb.entries.values())
        self._postings: dict[str, dict[int, float]] = defaultdict(dict)
        self._phrases: list[str] = []
        self._phrase_owner: list[int] = []
        self._phrases_of: list[list[int]] = [[] for _ in self._entries]
        self._links: list[set[int]] = [set() for _ in self._entries]
        self._term_cache: dict[str, _QueryTerm | None] = {}
        topic_titles = {t.id: t.title for t in kb.topics.values()}
        for idx, entry in enumerate(self._entries):
            self._index_entry(idx, entry, topic_titles.get(entry.topic or "", ""))
        self._split_compounds()
        n = len(self._entries)
        self._idf = {t: math.log(1 + n / len(p)) for t, p in self._postings.items()}
        self._unknown_weight = math.log(1 + n)  # as rare as the rarest known word
        self._vocab = list(self._postings)
        self._vocab_set = frozenset(self._vocab)
        self._pos = {e.id: i for i, e in enumerate(self._entries)}
        self._titles = [fold(e.title) for e in self._entries]
        self._link_related(kb)

    # --- building ---------------------------------------------------------------------------

    def _add(self, idx: int, text: str, weight: float) -> None:
        for term in terms(text):
            posting = self._postings[term]
            if posting.get(idx, 0.0) < weight:
                posting[idx] = weight

    def _index_entry(self, idx: int, entry: Entry, topic_title: str) -> None:
        self._add(idx, entry.title, W_TITLE)
        for synonym in entry.synonyms:
            self._add(idx, synonym, W_SYNONYM)
        for example in entry.examples:
            self._add(idx, example, W_EXAMPLE)
        for text in (entry.answer, entry.target_group or "", topic_title):
            self._add(idx, text, W_CONTEXT)
        for phrase in (entry.title, *entry.synonyms, *entry.examples):
            normalised = " ".join(terms(phrase))
            if normalised:
                self._phrases_of[idx].append(len(self._phrases))
                self._phrases.append(normalised)
                self._phrase_owner.append(idx)

    def _split_compounds(self) -> None:
        """Let 'Arbeitszeitkonten' also answer for 'Konto' and 'Arbeitszeit'."""
        vocab = set(self._postings)
        for term in list(self._postings):
            parts = _split(term, vocab)
            if not parts:
                continue
            for idx, weight in list(self._postings[term].items()):
                for part in parts:
                    posting = self._postings[part]
                    if posting.get(idx, 0.0) < weight * W_COMPOUND_PART:
                        posting[idx] = weight * W_COMPOUND_PART

    def _link_related(self, kb: KnowledgeBase) -> None:
        """A service and the measure it implements are one answer, not a reason to ask back."""
        position = self._pos
        for idx, entry in enumerate(self._entries):
            for ref in entry.related_refs:
                other = kb.by_ref.get(ref)
                if other is not None:
                    self._links[idx].add(position[other.id])
                    self._links[position[other.id]].add(idx)

    # --- querying ---------------------------------------------------------------------------

    def search(self, question: str, *, limit: int = 5, pad: bool = True) -> SearchResult:
        """Rank entries for a question and decide answered / ambiguous / unknown.

        ``pad=False`` skips filling the list with the nearest titles when fewer entries
        matched: the chat never shows them, so its hot path need not pay for them.
        """
        for ref in refs_in(question):
            entry = self.kb.by_ref.get(ref)
            if entry is not None:
                rest = [m for m in self._rank(question, limit) if m.entry.id != entry.id]
                ranked = [Match(entry, 1.0), *rest[: limit - 1]]
                if pad:
                    ranked = self._pad(question, ranked, limit)
                return SearchResult(question, "answered", tuple(ranked))
        ranked = self._rank(question, limit)
        outcome = self._decide(ranked)
        if pad:
            ranked = self._pad(question, ranked, limit)
        return SearchResult(question, outcome, tuple(ranked))

    def _pad(self, question: str, ranked: list[Match], limit: int) -> list[Match]:
        """Fill up to ``limit`` with the nearest titles, scored below anything that matched.

        Callers that show "the nearest entries" (reports, JSON) always get some; the outcome
        was decided before padding, so padding never turns *unknown* into an answer.
        """
        want = min(limit, len(self._entries))
        if len(ranked) >= want:
            return ranked
        seen = {m.entry.id for m in ranked}
        floor = min((m.score for m in ranked), default=0.1)
        found = process.extract(
            fold(question[:200]), self._titles, scorer=fuzz.WRatio, limit=want + len(seen)
        )
        extra = [
            Match(self._entries[i], round(min(floor, 0.1) * score / 100, 4))
            for _, score, i in found
            if self._entries[i].id not in seen
        ]
        return ranked + extra[: want - len(ranked)]

    def _rank(self, question: str, limit: int) -> list[Match]:
        words = terms(question)[:MAX_TERMS]
        query = [qt for qt in map(self._query_term, words) if qt is not None]
        if not any(qt.readings and not qt.generic for qt in query):
            return []  # nothing but unknown or request words: no subject to answer about
        # Words the knowledge base has never seen count against every entry, but less than
        # known ones: in chatty questions many of them are incidental ("Nachbarin", "Syrien").
        if len(query) <= SHORT_QUERY:
            # In a question of two or three words an unknown word is the subject, not noise:
            # "Kita-Gebühren", "VPN im Homeoffice", "Wetter morgen".
            query = [
                qt
                if qt.readings or qt.weight >= self._unknown_weight
                else _QueryTerm(self._unknown_weight, ())
                for qt in query
            ]
        total = sum(qt.weight for qt in query)
        coverage: dict[int, float] = defaultdict(float)
        for qt in query:
            best: dict[int, float] = {}
            for reading in qt.readings:
                for idx, value in self._reading_scores(reading).items():
                    if value > best.get(idx, 0.0):
                        best[idx] = value
            for idx, value in best.items():
                coverage[idx] += qt.weight * value / total
        if not coverage:
            return []
        top = sorted(coverage.items(), key=lambda kv: -kv[1])[:CANDIDATES]
        phrase = self._phrase_similarity(" ".join(words), [i for i, _ in top])
        # With an off-topic subject, words shared with an offer cannot rescue a long question.
        rescue = 0.0 if any(qt.off_topic for qt in query) else 1.0
        scored = [
            (idx, _blend(_confidence(cov, cov * total * rescue), phrase.get(idx, 0.0)))
            for idx, cov in top
        ]
        scored.sort(key=lambda kv: (-kv[1], kv[0]))
        return [Match(self._entries[i], round(s, 4)) for i, s in scored[: max(limit, 1)]]

    def _reading_scores(self, reading: tuple[tuple[str, float], ...]) -> dict[int, float]:
        """Per entry, how well it matches all parts of one reading of a query word."""
        if len(reading) == 1:
            term, sim = reading[0]
            return {idx: sim * w for idx, w in self._postings[term].items()}
        sums: dict[int, float] = defaultdict(float)
        for term, sim in reading:
            for idx, w in self._postings[term].items():
                sums[idx] += sim * w / len(reading)
        return sums

    def _query_term(self, term: str) -> _QueryTerm | None:
        cached = self._term_cache.get(term, ...)
        if cached is not ...:
            return cached
        result = self._expand(term)
        if len(self._term_cache) < 50_000:
            self._term_cache[term] = result
        return result

    def _expand(self, term: str) -> _QueryTerm | None:
        if term in OFF_TOPIC_TERMS and not self._named(term):
            # "Urlaubstage", "VPN", "Kita-Gebühren": a subject outside every offer; it weighs
            # like the rarest word, so a shared everyday word cannot carry the question.
            return _QueryTerm(self._unknown_weight * OFF_TOPIC_SHARE, (), off_topic=True)
        if len(term) > MAX_WORD:
            # No German word is this long; splitting it would cost quadratic time for nothing.
            return _QueryTerm(self._unknown_weight, ())
        if term in self._vocab_set:
            # A bare number ("9", "2020") is never the subject of a question on its own.
            weak = term in GENERIC_TERMS or term.isdigit()
            weight = self._weight(term) * (GENERIC_SHARE if term.isdigit() else 1.0)
            return _QueryTerm(weight, (((term, 1.0),),), weak)
        readings: list[tuple[tuple[str, float], ...]] = []
        parts = _split(term, self._vocab_set, partial=True)
        if parts:
            readings.append(tuple((p, 0.9 if len(parts) > 1 else 0.8) for p in parts))
        readings.extend(((v, s),) for v, s in self._fuzzy(term))
        if term.isdigit() and not readings:
            return None  # a stray number says nothing against an entry
        if not readings and term in SUBJECT_TERMS:
            # A work-life-balance subject this knowledge base has no offer for.
            return _QueryTerm(self._unknown_weight * OFF_TOPIC_SHARE, (), off_topic=True)
        if not readings:
            # A long unknown noun ("Anwohnerparkausweis") names a subject the knowledge base
            # does not cover; a short unknown word is more often chat noise.
            share = UNKNOWN_SHARE_LONG if len(term) >= 8 else UNKNOWN_SHARE
            return _QueryTerm(self._unknown_weight * share, ())
        weight = max(sum(self._weight(t) for t, _ in r) / len(r) for r in readings)
        generic = all(t in GENERIC_TERMS for r in readings for t, _ in r)
        return _QueryTerm(weight, tuple(readings), generic)

    def _named(self, term: str) -> bool:
        """Whether some entry lists the word in its title or keywords."""
        return any(w >= W_SYNONYM for w in self._postings.get(term, {}).values())

    def _weight(self, term: str) -> float:
        return self._idf[term] * (GENERIC_SHARE if term in GENERIC_TERMS else 1.0)

    def _fuzzy(self, term: str) -> list[tuple[str, float]]:
        if len(term) < 4 or term.isdigit():
            return []
        cutoff = 0.75 if len(term) <= 5 else 0.8
        found = process.extract(
            term, self._vocab, scorer=OSA.normalized_similarity, score_cutoff=cutoff, limit=3
        )
        # Squared: a one-letter difference may be a typo or another word (Gehalt, Gewalt).
        return [(v, float(s) ** 2) for v, s, _ in found if v[0] == term[0] or s >= 0.85]

    def _phrase_similarity(self, query: str, candidates: Iterable[int]) -> dict[int, float]:
        owners = [idx for idx in candidates if self._phrases_of[idx]]
        if not owners or not query:
            return {}
        # Each entry's phrases are stored contiguously, so one cdist call and one
        # reduceat give every candidate's best phrase without a Python loop over scores.
        ids = [p for idx in owners for p in self._phrases_of[idx]]
        starts = np.cumsum([0] + [len(self._phrases_of[idx]) for idx in owners[:-1]])
        scores = process.cdist(
            [query], [self._phrases[p] for p in ids], scorer=fuzz.token_sort_ratio, dtype=np.uint8
        )[0]
        best = np.maximum.reduceat(scores, starts)
        return {idx: float(b) / 100 for idx, b in zip(owners, best, strict=True)}

    def _decide(self, ranked: list[Match]) -> Outcome:
        if not ranked or ranked[0].score < UNKNOWN_BELOW:
            return "unknown"
        top = ranked[0]
        top_idx = self._position(top.entry)
        rivals = [
            m
            for m in ranked[1:]
            if m.score >= top.score * CLOSE_RATIO
            and self._position(m.entry) not in self._links[top_idx]
        ]
        if top.score >= ANSWER_MIN and not rivals:
            return "answered"
        return "ambiguous"

    def _position(self, entry: Entry) -> int:
        return self._pos[entry.id]


def _confidence(coverage: float, evidence: float) -> float:
    """Coverage suits short questions; long ones are judged by their absolute evidence too.

    In "kann man in Teilzeit überhaupt noch Karriere machen oder ist man abgeschrieben" the
    entry explains only part of the words, but two distinctive ones: that is enough.
    """
    return max(coverage, evidence / (evidence + EVIDENCE_HALF))


def _blend(coverage: float, phrase: float) -> float:
    """Phrase similarity only sharpens entries that already explain part of the question."""
    return (1 - PHRASE_SHARE) * coverage + PHRASE_SHARE * phrase * min(1.0, 2 * coverage)


def _split(
    term: str,
    vocab: frozenset[str] | set[str],
    *,
    partial: bool = False,
) -> tuple[str, ...] | None:
    """Split a compound into known words, allowing a linking 's', 'n' or 'en'.

    With ``partial`` the longest known tail of at least five letters is enough: German compounds
    put the head last, so in 'Familienpflegezeit' the known 'pflegezeit' says what it is about.
    """
    if len(term) < 7:
        return None
    best_tail: str | None = None
    for cut in range(3, len(term) - 2):
        head, tail = term[:cut], term[cut:]
        tail_known = _known(tail, vocab)
        if tail_known is None:
            continue
        for left in _heads(head):
            left_known = _known(left, vocab)
            if left_known:
                return (left_known, tail_known)
        if partial and best_tail is None and len(tail) >= 5:
            best_tail = tail_known
    return (best_tail,) if best_tail else None


def _heads(head: str) -> list[str]:
    options = [head]
    for link in ("s", "n", "en", "e"):
        if head.endswith(link) and len(head) - len(link) >= 3:
            options.append(head[: -len(link)])
    return options


def _known(word: str, vocab: frozenset[str] | set[str]) -> str | None:
    if len(word) < 3:
        return None
    if word in vocab:
        return word
    stemmed = stem(word)
    return stemmed if stemmed in vocab else None
