"""Finds the knowledge base entry for a question typed the way employees type.

The score of an entry is the IDF-weighted share of the question's content words it explains
(exactly, through a compound part, or despite a typo), blended with how close the whole question
is to one of the entry's own phrasings. Words the knowledge base has never seen count against
every entry, which is what makes "Reisepass beantragen" come out as *unknown* instead of a
confident wrong answer.
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.knowledge.lexicon import Lexicon, OffTopic
from bot.knowledge.schema import Entry, KnowledgeBase
from bot.search.compounds import CompoundSplitter, NounLexicon
from bot.search.config import SearchConfig
from bot.search.decide import Features, Outcome, decide, vector
from bot.search.textnorm import Analyzer, fold, refs_in, same_word

if TYPE_CHECKING:
    from bot.search.semantic import SemanticIndex

MAX_CHOICES = SearchConfig().max_choices
MIN_FOREIGN_NOUN = 4  # shorter "nouns" are mostly verb forms and particles ("hat", "amp")


@dataclass(frozen=True, slots=True)
class Match:
    entry: Entry
    score: float


@dataclass(frozen=True, slots=True)
class SearchResult:
    question: str
    outcome: Outcome
    matches: tuple[Match, ...]
    probability: float = 0.0
    """Estimated probability that the first match is right (bot/search/decide.py)."""
    redirect: OffTopic | None = None
    """An off-topic subject named in the question, with where to turn instead."""
    suggestions: tuple[Match, ...] = ()
    """For *unknown*: entries near the floor, worth a "Vielleicht meinten Sie …?"."""
    missing: bool = False
    """The question names a subject this organisation has no offer for (fehlende_themen)."""

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
    off_topic: OffTopic | None = None  # a subject no offer covers ("Urlaubstage", "VPN")
    missing: bool = False  # a work-life-balance subject this knowledge base has no offer for


@dataclass(slots=True)
class _Ranking:
    matches: list[Match]
    features: dict[int, Features]
    redirect: OffTopic | None = None
    missing: bool = False  # the question names a subject this organisation has no offer for
    terms: int = 0  # the question's content words (the same for every entry)
    unknown: float = 1.0  # share of the question's weight no entry knows
    # Each candidate's lexical evidence: the embedding may lift another candidate to first
    # place, and the decision must then see that entry's own coverage and phrase match.
    coverage: dict[int, float] = field(default_factory=dict)
    phrase: dict[int, float] = field(default_factory=dict)


class SearchIndex:
    """Everything that can be computed per knowledge base is computed here, once.

    ``lexicon``: the language knowledge (knowledge/sprache/de.yaml + the organisation's
    suche.yaml); without one, the bundled language file is used with no organisation words.
    ``nouns``: the general noun lexicon for compound splitting, shared across reloads.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        lexicon: Lexicon | None = None,
        *,
        config: SearchConfig = SearchConfig(),  # noqa: B008 - frozen, safe as a default
        nouns: NounLexicon | None = None,
        semantic: SemanticIndex | None = None,
    ) -> None:
        self.kb = kb
        self.semantic = semantic
        self.config = config
        self.lexicon = lexicon if lexicon is not None else default_lexicon()
        self.analyzer = Analyzer(self.lexicon)
        self._entries: list[Entry] = list(kb.entries.values())
        self._postings: dict[str, dict[int, float]] = defaultdict(dict)
        self._phrases_of: list[list[str]] = [[] for _ in self._entries]  # normalised phrases
        self._links: list[set[int]] = [set() for _ in self._entries]
        self._term_cache: dict[str, _QueryTerm | None] = {}
        topic_titles = {t.id: f"{t.title} {t.title_en or ''}" for t in kb.topics.values()}
        for idx, entry in enumerate(self._entries):
            self._index_entry(idx, entry, topic_titles.get(entry.topic or "", ""))
        self._splitter = CompoundSplitter(
            nouns if nouns is not None else default_nouns(),
            frozenset(self._postings),
            self.analyzer.stem,
        )
        self._split_compounds()
        n = len(self._entries)
        self._idf = {t: math.log(1 + n / len(p)) for t, p in self._postings.items()}
        self._unknown_weight = math.log(1 + n)  # as rare as the rarest known word
        self._vocab = list(self._postings)
        self._vocab_set = frozenset(self._vocab)
        self._pos = {e.id: i for i, e in enumerate(self._entries)}
        self._titles = [fold(e.title) for e in self._entries]
        self._link_related(kb)

    def with_semantic(self, semantic: SemanticIndex | None) -> SearchIndex:
        """The same lexical index with another semantic signal: attaching the embeddings
        once they are ready must not rebuild (or re-split) anything."""
        twin = copy.copy(self)
        twin.semantic = semantic
        return twin

    def named_missing(self) -> list[tuple[str, str]]:
        """(word, entry id) for each subject listed as missing that an entry names in its title
        or keywords: the entry wins, so the word is not missing at all (``check`` says so)."""
        found = []
        for term in sorted(self.analyzer.missing_terms):
            owners = [
                i for i, w in self._postings.get(term, {}).items() if w >= self.config.w_synonym
            ]
            if owners:
                found.append((term, self._entries[min(owners)].id))
        return found

    def named_off_topic(self) -> list[tuple[str, str, str]]:
        """(word, subject, entry id) for each off-topic word that an entry names in its title
        or keywords, in any form ``_outside`` would read as that word ("befördert" ~
        "Beförderung"): the entry wins over the redirect, so questions about the subject get
        that entry instead of the hint (``check`` warns, the admin decides which side is
        right)."""
        an = self.analyzer
        found = []
        for term, postings in sorted(self._postings.items()):
            owners = [i for i, w in postings.items() if w >= self.config.w_synonym]
            group = an.off_topic_terms.get(term) or an.off_topic_prefix(term) if owners else None
            if group is None:
                continue
            # the admin's own word, not its stem: "beförderung", not "beforder"
            forms = sorted(w for w in group.words if same_word(an.stem(w), term))
            found.append(
                (forms[0] if forms else term, group.subject, self._entries[min(owners)].id)
            )
        return found

    def names_subject(self, text: str) -> bool:
        """Whether a text names something an entry is about: one of its search terms (English
        read through the glossary, request words aside) is in an entry's title or keywords.
        "… über die Pflege meiner Mutter sprechen" does; "… mit jemandem sprechen" does not.
        A subject outside the offers (off-topic, missing) counts as one too."""
        an = self.analyzer
        for term in an.terms(text):
            if term in an.request_terms:
                continue
            query = self._query_term(term)
            if query is None:
                continue
            if query.off_topic is not None or query.missing:
                return True  # a subject all the same: its redirect or "no offer" is the reply
            if query.generic:
                continue
            # through typos and compound parts too: "Telearbeitsantrag" names "Telearbeit"
            if any(t and self._named(t) for reading in query.readings for t, _ in reading):
                return True
        return False

    def foreign_nouns(self, text: str) -> list[str]:
        """The nouns of a text that no entry knows in any form: "Müllabfuhr" in "wann kommt
        die Müllabfuhr?" names a subject of its own, "stehen" in "bis wann soll das stehen"
        names none. The conversation asks this before it reads a question as a follow-up."""
        found = []
        for term in self.analyzer.terms(text):
            if term in self.analyzer.request_terms or len(term) < MIN_FOREIGN_NOUN:
                continue
            if term in self._vocab_set or not self._splitter.is_noun(term):
                continue
            query = self._query_term(term)
            if query is not None and any(t for reading in query.readings for t, _ in reading):
                continue  # a typo or compound of an entry's word
            found.append(term)
        return found

    def terms(self, text: str) -> list[str]:
        """The search terms of a text, as this index sees them (for reports and baselines)."""
        return self.analyzer.terms(text)

    # --- building ---------------------------------------------------------------------------

    def _add(self, idx: int, text: str, weight: float) -> None:
        for term in self.analyzer.terms(text):
            posting = self._postings[term]
            if posting.get(idx, 0.0) < weight:
                posting[idx] = weight

    def _index_entry(self, idx: int, entry: Entry, topic_title: str) -> None:
        """German and English wording alike: an English question finds either."""
        c = self.config
        titles = (entry.title, *([entry.title_en] if entry.title_en else []))
        self._add(idx, entry.title, c.w_title)
        self._add(idx, entry.title_en or "", c.w_title * c.english_title_share)
        for synonym in entry.synonyms:
            self._add(idx, synonym, c.w_synonym)
        for example in entry.examples:
            self._add(idx, example, c.w_example)
        for text in (entry.answer, entry.target_group or "", topic_title):
            self._add(idx, text, c.w_context)
        for text in (entry.answer_en or "", entry.target_group_en or ""):
            self._add(idx, text, c.w_context * c.english_context_share)
        for synonym in entry.synonyms_en:
            self._add(idx, synonym, c.w_synonym * c.english_keyword_share)
        for example in entry.examples_en:
            self._add(idx, example, c.w_example * c.english_keyword_share)
        english = (*entry.synonyms_en, *entry.examples_en)
        for phrase in (*titles, *entry.synonyms, *entry.examples, *english):
            normalised = " ".join(self.analyzer.terms(phrase))
            if normalised:
                self._phrases_of[idx].append(normalised)

    def _split_compounds(self) -> None:
        """Let 'Arbeitszeitkonten' also answer for 'Konto' and 'Arbeitszeit'."""
        share = self.config.w_compound_part
        for term in list(self._postings):
            parts = [p for p in self._splitter.parts(term) if p != term]
            for idx, weight in list(self._postings[term].items()):
                for part in parts:
                    posting = self._postings[part]
                    if posting.get(idx, 0.0) < weight * share:
                        posting[idx] = weight * share

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
        limit = max(limit, self.config.max_choices)
        for ref in refs_in(question):
            entry = self.kb.by_ref.get(ref)
            if entry is not None:
                rest = [m for m in self._rank(question, limit).matches if m.entry.id != entry.id]
                ranked = [Match(entry, 1.0), *rest[: limit - 1]]
                if pad:
                    ranked = self._pad(question, ranked, limit)
                return SearchResult(question, "answered", tuple(ranked), 1.0)
        ranking = self._rank(question, limit)
        outcome, probability = self._decide(ranking)
        if self.semantic is not None and outcome != "answered":
            # Only when the words alone are not enough: the embedding costs 10–70 ms of CPU.
            ranking = self._fuse(question, ranking, limit)
            outcome, probability = self._decide(ranking)
        if ranking.redirect is not None and outcome == "ambiguous":
            # "VPN geht nicht im Homeoffice": the redirect to IT beats choices among offers.
            outcome = "unknown"
        if ranking.missing and outcome == "answered":
            # A subject the organisation has no offer for is never answered with an offer that
            # merely resembles it (knowledge/README.md, fehlende_themen): choices at most.
            outcome = "ambiguous"
        ranked = ranking.matches[:limit]
        suggestions: tuple[Match, ...] = ()
        if outcome == "unknown" and ranking.redirect is None:
            floor = self.config.suggest_floor
            suggestions = tuple(m for m in ranked[: self.config.max_choices] if m.score >= floor)
        if pad:
            ranked = self._pad(question, ranked, limit)
        return SearchResult(
            question,
            outcome,
            tuple(ranked),
            probability,
            ranking.redirect,
            suggestions,
            missing=ranking.missing,
        )

    def words_suffice(self, question: str) -> bool:
        """Whether the words alone answer outright, so the semantic signal would not be asked."""
        if refs_in(question):
            return True
        return self._decide(self._rank(question, self.config.max_choices))[0] == "answered"

    def prepare(self, question: str) -> None:
        """Embed the question now if ``search`` would (blocking, thread-safe): callers on an
        event loop run this in a worker thread so the loop never waits for the model."""
        if self.semantic is not None and not self.words_suffice(question):
            self.semantic.question_vector(question)

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

    def _rank(self, question: str, limit: int) -> _Ranking:
        c = self.config
        words = self.analyzer.terms(question)[: c.max_terms]
        query = [qt for qt in map(self._query_term, words) if qt is not None]
        redirect = next((qt.off_topic for qt in query if qt.off_topic is not None), None)
        if not any(qt.readings and not qt.generic for qt in query):
            # nothing but unknown or request words: no subject to answer about
            return _Ranking([], {}, redirect, missing=any(qt.missing for qt in query))
        # Words the knowledge base has never seen count against every entry, but less than
        # known ones: in chatty questions many of them are incidental ("Nachbarin", "Syrien").
        if len(query) <= c.short_query:
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
            return _Ranking([], {}, redirect, missing=any(qt.missing for qt in query))
        top = sorted(coverage.items(), key=lambda kv: -kv[1])[: c.candidates]
        phrase = self._phrase_similarity(" ".join(words), [i for i, _ in top])
        # With an off-topic subject, words shared with an offer cannot rescue a long question.
        blocked = redirect is not None or any(qt.missing for qt in query)
        rescue = 0.0 if blocked else 1.0
        unknown = sum(qt.weight for qt in query if not qt.readings) / total
        scored = [
            (
                idx,
                _blend(
                    _confidence(cov, cov * total * rescue, c.evidence_half),
                    phrase.get(idx, 0.0),
                    c.phrase_share,
                ),
            )
            for idx, cov in top
        ]
        scored.sort(key=lambda kv: (-kv[1], kv[0]))
        # Always the full candidate list, whatever the caller shows: the runner-up and the
        # fusion with the embedding must see the same entries in the chat as in --fit.
        kept = scored[: max(limit, c.candidates, 1)]
        missing = any(qt.missing for qt in query)
        features = {
            idx: Features(
                score=s,
                coverage=coverage[idx],
                phrase=phrase.get(idx, 0.0),
                terms=len(query),
                unknown=unknown,
                off_topic=redirect is not None,
                missing=missing,
            )
            for idx, s in kept[:1]
        }
        return _Ranking(
            [Match(self._entries[i], round(s, 4)) for i, s in kept],
            features,
            redirect,
            missing=missing,
            terms=len(query),
            unknown=unknown,
            coverage={idx: coverage[idx] for idx, _ in kept},
            phrase=phrase,
        )

    def _fuse(self, question: str, ranking: _Ranking, limit: int) -> _Ranking:
        """(1 - w) * lexical + w * cosine over every entry the embedding scores."""
        assert self.semantic is not None
        cosines = self.semantic.scores(question)
        w = self.config.semantic_weight
        lexical = {self._pos[m.entry.id]: m.score for m in ranking.matches}
        # Cosines of one question lie close together (0.8–0.9): scaled to [0, 1] per question
        # they rank as sharply as the lexical score does. The raw top cosine stays a feature.
        low, high = min(cosines.values(), default=0.0), max(cosines.values(), default=1.0)
        span = (high - low) or 1.0
        fused = sorted(
            (
                (
                    (1 - w) * lexical.get(self._pos[eid], 0.0) + w * (cos - low) / span,
                    self._pos[eid],
                )
                for eid, cos in cosines.items()
                if eid in self._pos
            ),
            key=lambda kv: (-kv[0], kv[1]),
        )[: max(limit, self.config.candidates, 1)]
        if not fused:
            return ranking
        top = fused[0][1]
        by_id = {self._pos[eid]: cos for eid, cos in cosines.items() if eid in self._pos}
        ordered = sorted(by_id.values(), reverse=True)
        # the margin to the first *different* offer: a measure and its own service score alike
        links = self._links[top]
        others = [cos for idx, cos in by_id.items() if idx != top and idx not in links]
        features = Features(
            score=fused[0][0],
            coverage=ranking.coverage.get(top, 0.0),
            phrase=ranking.phrase.get(top, 0.0),
            terms=ranking.terms,
            unknown=ranking.unknown,
            off_topic=ranking.redirect is not None,
            missing=ranking.missing,
            semantic=by_id.get(top, 0.0),
            semantic_margin=by_id.get(top, 0.0) - max(others, default=0.0),
            lexical=lexical.get(top, 0.0),
            agree_lexical=bool(ranking.matches) and self._pos[ranking.matches[0].entry.id] == top,
            agree_semantic=bool(ordered) and by_id.get(top, 0.0) >= ordered[0],
        )
        matches = [Match(self._entries[i], round(score, 4)) for score, i in fused]
        return _Ranking(
            matches, {top: features}, ranking.redirect, ranking.missing, ranking.terms,
            ranking.unknown,
        )  # fmt: skip

    def _reading_scores(self, reading: tuple[tuple[str, float], ...]) -> dict[int, float]:
        """Per entry, how well it matches all parts of one reading of a query word."""
        if len(reading) == 1:
            term, sim = reading[0]
            return {idx: sim * w for idx, w in self._postings.get(term, {}).items()}
        sums: dict[int, float] = defaultdict(float)
        for term, sim in reading:
            for idx, w in self._postings.get(term, {}).items():
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
        c = self.config
        an = self.analyzer
        off_topic, missing = self._outside(term)
        if off_topic is not None:
            # "Urlaubstage", "VPN", "Kita-Gebühren": a subject outside every offer; it weighs
            # like the rarest word, so a shared everyday word cannot carry the question.
            return _QueryTerm(self._unknown_weight * c.off_topic_share, (), off_topic=off_topic)
        if missing:
            return _QueryTerm(self._unknown_weight * c.off_topic_share, (), missing=True)
        if len(term) > c.max_word:
            # No German word is this long; splitting it would cost quadratic time for nothing.
            return _QueryTerm(self._unknown_weight, ())
        if term in self._vocab_set:
            # A bare number ("9", "2020") is never the subject of a question on its own.
            weak = term in an.request_terms or term.isdigit()
            weight = self._weight(term) * (c.generic_share if term.isdigit() else 1.0)
            return _QueryTerm(weight, (((term, 1.0),),), weak)
        readings: list[tuple[tuple[str, float], ...]] = []
        compound = self._compound_reading(term)
        if compound:
            readings.append(compound)
        readings.extend(((v, s),) for v, s in self._fuzzy(term))
        if term.isdigit() and not readings:
            return None  # a stray number says nothing against an entry
        if not readings:
            # A long unknown noun ("Anwohnerparkausweis") names a subject the knowledge base
            # does not cover; a short unknown word is more often chat noise.
            share = c.unknown_share_long if len(term) >= 8 else c.unknown_share
            return _QueryTerm(self._unknown_weight * share, ())
        weight = max(
            sum(self._weight(t) if t else self._unknown_weight for t, _ in r) / len(r)
            for r in readings
        )
        generic = all(t in an.request_terms for r in readings for t, _ in r if t)
        return _QueryTerm(weight, tuple(readings), generic)

    def _outside(self, term: str) -> tuple[OffTopic | None, bool]:
        """Whether a term names an off-topic subject or one this organisation lacks: as a
        whole, through a compound part ("Beförderungsrichtlinie", "Jobsharingmodell") or as
        another form of the same stem ("befördert" ~ "Beförderung"), unless an entry names it."""
        an = self.analyzer
        if len(term) > self.config.max_word or self._named(term):
            return None, False
        candidates = [term]
        if term not in self._vocab_set:
            candidates += [p for p in self._splitter.parts(term) if not self._named(p)]
        for candidate in candidates:
            group = an.off_topic_terms.get(candidate) or an.off_topic_prefix(candidate)
            if group is not None:
                return group, False
            if candidate in an.missing_terms:
                return None, True
        return None, False

    def _compound_reading(self, term: str) -> tuple[tuple[str, float], ...]:
        """All parts of a compound must match; a part the knowledge base lacks in every form
        stays in the reading as ("", 0), so "Kitaplatzsuche" is explained by two of three."""
        parts = self._splitter.parts(term)
        reading: list[tuple[str, float]] = []
        for part in parts:
            if part in self.analyzer.stop_terms:
                continue
            if part in self._vocab_set:
                reading.append((part, self.config.compound_similarity))
                continue
            near = self._fuzzy(part)
            reading.append(
                (near[0][0], near[0][1] * self.config.compound_similarity) if near else ("", 0.0)
            )
        return tuple(reading) if any(t for t, _ in reading) else ()

    def _named(self, term: str) -> bool:
        """Whether some entry lists the word in its title or keywords."""
        return any(w >= self.config.w_synonym for w in self._postings.get(term, {}).values())

    def _weight(self, term: str) -> float:
        share = self.config.generic_share if term in self.analyzer.request_terms else 1.0
        return self._idf[term] * share

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
        choices = list(chain.from_iterable(self._phrases_of[idx] for idx in owners))
        starts = np.cumsum([0] + [len(self._phrases_of[idx]) for idx in owners[:-1]])
        scores = process.cdist([query], choices, scorer=fuzz.token_sort_ratio, dtype=np.uint8)[0]
        best = np.maximum.reduceat(scores, starts)
        return {idx: float(b) / 100 for idx, b in zip(owners, best, strict=True)}

    def rivals(self, ranked: list[Match]) -> list[Match]:
        """Runner-ups close to the best that are genuinely different offers."""
        if not ranked:
            return []
        top = ranked[0]
        links = self._links[self._pos[top.entry.id]]
        return [
            m
            for m in ranked[1:]
            if m.score >= top.score * self.config.close_ratio and self._pos[m.entry.id] not in links
        ]

    def explain(self, question: str) -> list[float] | None:
        """The decision's feature vector for a question (bench/accuracy.py --fit uses it);
        the fused one when the semantic signal would be asked."""
        ranking = self._rank(question, self.config.candidates)
        if not ranking.matches:
            return None
        if self.semantic is not None and self._decide(ranking)[0] != "answered":
            ranking = self._fuse(question, ranking, self.config.candidates)
        return vector(*self._decision_inputs(ranking)[:3])

    def _decision_inputs(self, ranking: _Ranking) -> tuple[Features, float, bool, int]:
        ranked = ranking.matches
        top = ranked[0]
        features = ranking.features[self._pos[top.entry.id]]
        links = self._links[self._pos[top.entry.id]]
        different = [m for m in ranked[1:] if self._pos[m.entry.id] not in links]
        runner = different[0].score if different else 0.0
        linked = any(self._pos[m.entry.id] in links for m in ranked[1:3])
        # Fused scores are dominated by cosines that all lie close together; there the
        # model's margins decide, not the lexical "within 90 % of the best" rule.
        rivals = 0 if features.semantic is not None else len(self.rivals(ranked))
        return features, runner, linked, rivals

    def _decide(self, ranking: _Ranking) -> tuple[Outcome, float]:
        if not ranking.matches:
            return "unknown", 0.0
        features, runner, linked, rivals = self._decision_inputs(ranking)
        return decide(
            features, runner_up=runner, linked_runner_up=linked, rivals=rivals, config=self.config
        )


def _confidence(coverage: float, evidence: float, half: float) -> float:
    """Coverage suits short questions; long ones are judged by their absolute evidence too.

    In "kann man in Teilzeit überhaupt noch Karriere machen oder ist man abgeschrieben" the
    entry explains only part of the words, but two distinctive ones: that is enough.
    """
    return max(coverage, evidence / (evidence + half))


def _blend(coverage: float, phrase: float, share: float) -> float:
    """Phrase similarity only sharpens entries that already explain part of the question."""
    return (1 - share) * coverage + share * phrase * min(1.0, 2 * coverage)


@cache
def default_lexicon() -> Lexicon:
    """The bundled language file without organisation words (for tools and tests that do not
    pass their own); read once per process, immutable."""
    from bot.knowledge.lexicon import BUNDLED_LANGUAGE, load_lexicon

    lexicon, problems = load_lexicon(Path("/nonexistent"), language=BUNDLED_LANGUAGE)
    if lexicon is None:
        raise RuntimeError("; ".join(map(str, problems)))
    return lexicon


@cache
def default_nouns() -> NounLexicon:
    """The general noun lexicon, read once per process (immutable, ~0.5 s)."""
    return NounLexicon.load(fold).with_stems(Analyzer(Lexicon()).stem)
