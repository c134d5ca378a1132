"""Group similar unanswered or badly rated questions so the team sees each gap once.

Normalisation and group ids are deliberately independent of the search engine's text
folding: a group id must stay the same across releases, otherwise groups the team
marked as irrelevant would reappear after every search tuning.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
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

_MAX_CANDIDATES = 500
"""Leaders inspected per question at most; bounds the worst case."""

_ID_LENGTH = 10

_STOP_WORDS = frozenset(
    """
    a ab aber alle also am an auch auf aus bei beim bin bis bitte bzw da das dass dem den der
    des die dies diese diesen dieser doch du ein eine einem einen einer es fuer gibt gibts habe
    haben hallo hat hier ich ihr ihre im in ins ist ja kann koennen man mein meine meinem meinen
    meiner mich mir mit moechte muss nach nicht noch nur ob oder sich sie sind so soll sollte um
    und uns von vom vor was welche welcher welches wenn wer werde werden wie wir wird wo zu zum zur
    danke dank gruss gruesse frage fragen info infos information informationen bekomme bekommen
    kriege kriegen brauche brauchen suche suchen finde finden weiss wissen geht gilt machen mache
    beantrage beantragen antrag beachten zustaendig zustaendigkeit anspruch dauert lange moeglich
    stadt eigentlich gerne mal
    """.split()
)
"""Chat filler and generic request words: grouping is about the subject of a question."""
_FOLD = MappingProxyType(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}))
_TOKEN = re.compile(r"\d+(?:\.\d+)*|[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class ProblemQuestion:
    """A logged question the knowledge base did not serve well."""

    text: str
    reason: Reason
    entry_id: str | None = None


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

    @property
    def count(self) -> int:
        return self.unknown + self.gaps + self.unhelpful

    @property
    def representative(self) -> str:
        return self.texts[0][0]

    def is_ignored(self, ignored: set[str] | frozenset[str]) -> bool:
        return self.group_id in ignored or not self.member_hashes.isdisjoint(ignored)


def normalise(text: str) -> str:
    """Case, umlaut and punctuation folding plus stop word removal, for comparing only."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    tokens = _TOKEN.findall(folded)
    content = [t for t in tokens if t not in _STOP_WORDS]
    return " ".join(content or tokens)


def text_hash(normalised: str) -> str:
    """Short stable id of a normalised text (group ids, ignore list)."""
    return hashlib.sha256(normalised.encode()).hexdigest()[:_ID_LENGTH]


def group_questions(
    questions: Iterable[ProblemQuestion], *, threshold: int = THRESHOLD
) -> list[GapGroup]:
    """Leader clustering: frequent wordings first, each later one joins the most similar
    leader. Unlike single linkage this cannot chain unrelated questions together."""
    variants: dict[str, _Variant] = {}
    for question in questions:
        key = normalise(question.text)
        variant = variants.get(key)
        if variant is None:
            variant = variants[key] = _Variant(key)
        variant.add(question)
    ordered = sorted(variants.values(), key=lambda v: (-v.count, v.key))
    frequency = Counter(block for v in ordered for block in v.blocks)
    weight = {b: math.log(1 + len(ordered) / n) for b, n in frequency.items()}
    leaders: list[_Variant] = []
    members: list[list[_Variant]] = []
    postings: dict[str, list[int]] = defaultdict(list)
    for variant in ordered:
        index = _best_leader(variant, leaders, postings, weight, threshold)
        if index is None:
            index = len(leaders)
            leaders.append(variant)
            members.append([])
            for block in variant.blocks:
                postings[block].append(index)
        members[index].append(variant)
    groups = [_group(leader, group) for leader, group in zip(leaders, members, strict=True)]
    groups.sort(key=lambda g: (-g.count, g.group_id))
    return groups


class _Variant:
    """All questions with the same normalised text."""

    __slots__ = ("blocks", "count", "entries", "key", "reasons", "weight", "wordings")

    def __init__(self, key: str) -> None:
        self.key = key
        self.blocks = _blocks(key)
        self.weight = 0.0
        self.count = 0
        self.wordings: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.entries: Counter[str] = Counter()

    def add(self, question: ProblemQuestion) -> None:
        self.count += 1
        self.wordings[question.text] += 1
        self.reasons[question.reason] += 1
        if question.entry_id:
            self.entries[question.entry_id] += 1


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
        if remaining < _MIN_SHARED * total:
            break
        rarest.append(block)
        remaining -= weight[block]
    low, high = total * _MIN_SHARED, total / _MIN_SHARED
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
            if shared >= _MIN_SHARED * (total + other - shared):
                candidates.append(index)
    if not candidates:
        return None
    hit = process.extractOne(
        variant.key,
        [leaders[i].key for i in candidates],
        scorer=fuzz.token_set_ratio,
        score_cutoff=threshold,
    )
    return None if hit is None else candidates[hit[2]]


def _group(leader: _Variant, variants: list[_Variant]) -> GapGroup:
    wordings: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    entries: Counter[str] = Counter()
    for variant in variants:
        wordings.update(variant.wordings)
        reasons.update(variant.reasons)
        entries.update(variant.entries)
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
    )
