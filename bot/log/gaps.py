"""Group similar unanswered or badly rated questions so the team sees each gap once.

Normalisation and group ids are deliberately independent of the search engine's text
folding: a group id must stay the same across releases, otherwise groups the team
marked as irrelevant would reappear after every search tuning. What grouping ignores (chat
filler and request words) is the caller's to say: the stop, filler and request words of the
search lexicon (``knowledge/sprache/de.yaml``), passed as ``stop_words``. A group id therefore
changes when a word of its wording joins or leaves those lists; the ignore list keeps the
hash of every member, so an ignored group stays hidden while one of its wordings keeps its
normalised form.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Literal

from rapidfuzz import fuzz, process

Reason = Literal["unknown", "gap", "unhelpful"]

THRESHOLD = 80
"""token_set_ratio needed to join a group."""

_MIN_SHARED = 0.5
"""Share of word stems two questions must have in common (Jaccard, weighted by rarity so
generic words count less). token_set_ratio alone
scores 'Urlaub' 100 against every question containing 'Urlaub', and 'Gleitzeit' close to
'Elternzeit'."""

MIN_SHARED_TERMS = 0.3
"""The same with the search's terms, which hold subject words only (no filler, no request
words, English read as German): sharing one of three such words is sharing the subject.
bench/week.py: 0.5 left "Ferienbetreuung" in four groups, 0.3 makes it one."""
THRESHOLD_TERMS = 60
"""token_set_ratio needed with the search's terms (stems are short, so ratios run lower)."""

_MAX_CANDIDATES = 500
"""Leaders inspected per question at most; bounds the worst case."""

_ID_LENGTH = 10

_FOLD = MappingProxyType(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}))
_PLAIN = MappingProxyType(str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"}))
"""How the lexicon stores words (bot.knowledge.lexicon.fold_word): ä = ae = a."""
_TOKEN = re.compile(r"\d+(?:\.\d+)*|[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class ProblemQuestion:
    """A logged question the knowledge base did not serve well."""

    text: str
    reason: Reason
    entry_id: str | None = None
    asker: int | None = None
    """A number standing for the person within one report only (never the pseudonym), so a
    group can be ranked by how many people asked rather than how often one person retried."""
    day: date | None = None


@dataclass(frozen=True, slots=True)
class GapGroup:
    """Similar problem questions; ``texts`` holds distinct wordings, most frequent first."""

    group_id: str
    texts: tuple[tuple[str, int], ...]
    unknown: int
    gaps: int
    unhelpful: int
    entry_ids: tuple[tuple[str, int], ...]
    member_hashes: frozenset[str]
    people: int = 0
    """Distinct askers (``count`` when the log could not tell them apart)."""
    rejected: frozenset[str] = frozenset()
    """Entries the askers turned down: rated 👎, or shown under "Meinten Sie …?" before
    "Nichts davon". Never propose a question of this group as an example for one of them."""
    first_day: date | None = None
    last_day: date | None = None

    @property
    def count(self) -> int:
        return self.unknown + self.gaps + self.unhelpful

    @property
    def representative(self) -> str:
        return self.texts[0][0]

    def is_ignored(self, ignored: set[str] | frozenset[str]) -> bool:
        return self.group_id in ignored or not self.member_hashes.isdisjoint(ignored)


def normalise(text: str, *, stop_words: Collection[str]) -> str:
    """Case, umlaut and punctuation folding plus stop word removal, for comparing only.

    ``stop_words``: words as the search lexicon stores them (folded, ä = ae = a), e.g.
    ``lexicon.stop_words | lexicon.filler_words | lexicon.request_words``.
    """
    pairs = list(_pairs(text))
    content = [token for token, plain in pairs if not _is_stop(plain, stop_words)]
    return " ".join(content or [token for token, _ in pairs])


def content_words(text: str, *, stop_words: Collection[str]) -> list[tuple[str, str]]:
    """(folded word, word as typed) for each word that is not chat filler or a request."""
    found = []
    for typed in re.findall(r"[^\W_]+", text):
        pairs = list(_pairs(typed))
        if len(pairs) == 1 and not _is_stop(pairs[0][1], stop_words):
            found.append((pairs[0][0], typed))
    return found


def _is_stop(word: str, stop_words: Collection[str]) -> bool:
    """The lexicon lists verbs as infinitives; chat uses the first person as often ("Wie
    beantrage ich …" – "beantragen"). The search matches them by stem; grouping has no
    stemmer (group ids must not move with it), so it allows this one ending."""
    return word in stop_words or (word.endswith("e") and f"{word}n" in stop_words)


def _pairs(text: str) -> Iterator[tuple[str, str]]:
    """(token as grouping keeps it, token as the lexicon spells it), word by word. Both
    transliterations keep letters letters, so the two token lists line up."""
    base = unicodedata.normalize("NFKC", text).casefold()
    plain = base.translate(_PLAIN)
    plain = plain.replace("ae", "a").replace("oe", "o").replace("ue", "u")
    yield from zip(_TOKEN.findall(base.translate(_FOLD)), _TOKEN.findall(plain), strict=True)


def text_hash(normalised: str) -> str:
    """Short stable id of a normalised text (group ids, ignore list)."""
    return hashlib.sha256(normalised.encode()).hexdigest()[:_ID_LENGTH]


def group_questions(
    questions: Iterable[ProblemQuestion],
    *,
    threshold: int = THRESHOLD,
    terms: Callable[[str], Sequence[str]] | None = None,
    stop_words: Collection[str],
) -> list[GapGroup]:
    """Leader clustering: frequent wordings first, each later one joins the most similar
    leader. Unlike single linkage this cannot chain unrelated questions together.

    ``terms``: the search's analyzer (stems, compounds, English words in German), so
    "Hunde im Büro?" and "Darf mein Hund mit ins Büro?" compare as the same subject. It only
    decides who joins whom; group ids stay hashes of ``normalise`` and so survive tuning.
    Groups come most-asked first: by people, then by questions. ``stop_words``: see
    ``normalise``; the same words must be passed wherever group ids are compared.
    """
    min_shared = _MIN_SHARED if terms is None else MIN_SHARED_TERMS
    if terms is not None and threshold == THRESHOLD:
        threshold = THRESHOLD_TERMS
    variants: dict[str, _Variant] = {}
    for question in questions:
        key = normalise(question.text, stop_words=stop_words)
        variant = variants.get(key)
        if variant is None:
            variant = variants[key] = _Variant(key, _match_key(question.text, key, terms))
        variant.add(question)
    ordered = sorted(variants.values(), key=lambda v: (-v.count, v.key))
    frequency = Counter(block for v in ordered for block in v.blocks)
    weight = {b: math.log(1 + len(ordered) / n) for b, n in frequency.items()}
    leaders: list[_Variant] = []
    members: list[list[_Variant]] = []
    postings: dict[str, list[int]] = defaultdict(list)
    for variant in ordered:
        index = _best_leader(variant, leaders, postings, weight, threshold, min_shared)
        if index is None:
            index = len(leaders)
            leaders.append(variant)
            members.append([])
            for block in variant.blocks:
                postings[block].append(index)
        members[index].append(variant)
    if terms is not None:
        leaders, members = _merge_subjects(leaders, members, weight)
    groups = [_group(leader, group) for leader, group in zip(leaders, members, strict=True)]
    groups.sort(key=lambda g: (-g.people, -g.count, g.group_id))
    return groups


SUBJECT_LETTERS = 8
"""A group's main term this long is a subject of its own ("ferienbetreuung", "pflegezeit"):
groups sharing it merge even when the rest of their wording differs."""


def _merge_subjects(
    leaders: list[_Variant], members: list[list[_Variant]], weight: dict[str, float]
) -> tuple[list[_Variant], list[list[_Variant]]]:
    """Second pass: "Ferienbetreuung für Schulkinder?" and "Gibt es Ferienbetreuung für
    Kinder von Beschäftigten?" share too little overall but name the same subject."""
    merged: dict[str, int] = {}
    out_leaders: list[_Variant] = []
    out_members: list[list[_Variant]] = []
    for leader, group in zip(leaders, members, strict=True):
        spread: Counter[str] = Counter()
        for variant in group:
            for term in set(variant.match.split()):
                spread[term] += variant.count
        # Frequent in the group, rare among all problems: "beschaeftigt" is neither.
        subject = max(
            spread, key=lambda t: (spread[t] * weight.get(t[:5], 0.0), len(t), t), default=""
        )
        if len(subject) >= SUBJECT_LETTERS and subject in merged:
            out_members[merged[subject]].extend(group)
            continue
        if len(subject) >= SUBJECT_LETTERS:
            merged[subject] = len(out_leaders)
        out_leaders.append(leader)
        out_members.append(list(group))
    return out_leaders, out_members


def _match_key(text: str, key: str, terms: Callable[[str], Sequence[str]] | None) -> str:
    if terms is None:
        return key
    try:
        found = " ".join(terms(text))
    except Exception:  # a broken analyzer must not cost the team its report
        return key
    return found or key


class _Variant:
    """All questions with the same normalised text."""

    __slots__ = ("askers", "blocks", "count", "days", "entries", "key", "match", "reasons",
                 "rejected", "weight", "wordings")  # fmt: skip

    def __init__(self, key: str, match: str | None = None) -> None:
        self.key = key
        self.match = match or key
        self.blocks = _blocks(self.match)
        self.weight = 0.0
        self.count = 0
        self.wordings: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.entries: Counter[str] = Counter()
        self.rejected: set[str] = set()
        self.askers: set[int] = set()
        self.days: set[date] = set()

    def add(self, question: ProblemQuestion) -> None:
        self.count += 1
        self.wordings[question.text] += 1
        self.reasons[question.reason] += 1
        if question.entry_id:
            self.entries[question.entry_id] += 1
            if question.reason != "unknown":
                self.rejected.add(question.entry_id)
        self.askers.add(question.asker if question.asker is not None else -self.count)
        if question.day is not None:
            self.days.add(question.day)


def _blocks(key: str) -> frozenset[str]:
    """Word stems (5-letter prefixes tolerate German endings); the text itself if none."""
    stems = {token[:5] for token in key.split() if len(token) >= 3 or token[0].isdigit()}
    return frozenset(stems or {key})


def _best_leader(
    variant: _Variant,
    leaders: list[_Variant],
    postings: dict[str, list[int]],
    weight: dict[str, float],
    threshold: int,
    min_shared: float,
) -> int | None:
    """Most similar leader sharing at least half of the (IDF-weighted) word stems, or None.

    Prefix filtering keeps this fast: a leader sharing that much must contain one of the
    rarest stems whose weights add up to more than half, so only those postings are read.
    """
    blocks = variant.blocks
    total = variant.weight = sum(weight[b] for b in blocks)
    rarest: list[str] = []
    remaining = total
    for block in sorted(blocks, key=lambda b: (-weight[b], b)):
        if remaining < min_shared * total:
            break
        rarest.append(block)
        remaining -= weight[block]
    low, high = total * min_shared, total / min_shared
    candidates: list[int] = []
    seen: set[int] = set()
    for block in rarest:
        for index in postings.get(block, ()):
            if index in seen:
                continue
            if len(seen) >= _MAX_CANDIDATES:
                break
            seen.add(index)
            leader = leaders[index]
            other = leader.weight
            if other < low or other > high:
                continue  # too different in size to share enough
            shared = sum(map(weight.__getitem__, blocks & leader.blocks))
            if shared >= min_shared * (total + other - shared):
                candidates.append(index)
    if not candidates:
        return None
    hit = process.extractOne(
        variant.match,
        [leaders[i].match for i in candidates],
        scorer=fuzz.token_set_ratio,
        score_cutoff=threshold,
    )
    return None if hit is None else candidates[hit[2]]


def _group(leader: _Variant, variants: list[_Variant]) -> GapGroup:
    wordings: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    entries: Counter[str] = Counter()
    rejected: set[str] = set()
    askers: set[tuple[int, int]] = set()
    days: set[date] = set()
    for number, variant in enumerate(variants):
        wordings.update(variant.wordings)
        reasons.update(variant.reasons)
        entries.update(variant.entries)
        rejected |= variant.rejected
        # Unknown askers (negative stand-ins) are distinct per variant, known ones across.
        askers |= {(a, number) if a < 0 else (a, -1) for a in variant.askers}
        days |= variant.days
    # The leader's most frequent wording first, so the representative matches the id.
    first = max(leader.wordings.items(), key=lambda item: (item[1], item[0]))[0]
    rest = sorted(
        ((text, n) for text, n in wordings.items() if text != first), key=lambda i: (-i[1], i[0])
    )
    return GapGroup(
        group_id=text_hash(leader.key),
        texts=((first, wordings[first]), *rest),
        unknown=reasons["unknown"],
        gaps=reasons["gap"],
        unhelpful=reasons["unhelpful"],
        entry_ids=tuple(sorted(entries.items(), key=lambda i: (-i[1], i[0]))),
        member_hashes=frozenset(text_hash(v.key) for v in variants),
        people=len(askers),
        rejected=frozenset(rejected),
        first_day=min(days, default=None),
        last_day=max(days, default=None),
    )
