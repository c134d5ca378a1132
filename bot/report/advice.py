"""Turn a group of unanswered questions into one safe edit for the knowledge base.

A suggestion is pasted by people who trust the report, so it errs on the side of a new entry:
a question becomes an example for an existing entry only when today's search puts that entry
first with a calibrated probability of at least ``SUGGEST_FLOOR``, the question shares a
subject word with the entry's own phrases, and nobody who asked turned the entry down. Texts
with redacted parts, long stories, English sentences and off-topic subjects are never
proposed as examples. Every group is also re-run against the current knowledge base, so a gap
the team has fixed shows as *erledigt* instead of staying open.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot.knowledge.lexicon import BUNDLED_LANGUAGE, load_lexicon
from bot.log.gaps import GapGroup, content_words

logger = logging.getLogger(__name__)

Action = Literal["neu", "beispiel", "pruefen", "erledigt", "themenfremd"]

MAX_PHRASES = 5
"""Example questions proposed per group."""
CHECKED_WORDINGS = 5
"""Wordings of a group re-run against today's knowledge base."""
SUGGEST_FLOOR = 0.6
"""Least probability (bot/search/decide.py, fitted on the train split) that the nearest entry
is right before a question is proposed as its example: the standard the bot applies before it
answers outright (SearchConfig.answer_probability). bench/week.py --sweep prints proposals
right/wrong per floor on a generated fortnight."""
MAX_EXAMPLE_CHARS = 120
MAX_EXAMPLE_WORDS = 16
"""An example longer than this is a story, not a question someone else would type."""

_REDACTED = re.compile(r"\[[A-ZÄÖÜ][A-ZÄÖÜ-]{2,}\]")
_WORD = re.compile(r"[^\W\d_]+")
_ENGLISH = frozenset(
    """
    the is are was do does did how what can could i my you your for to of and where when who
    which please with on it me have has get there any about if we our should would will am
    this that from at or be off need want child leave
    """.split()
)
"""Function words that German questions do not use: two of them and the sentence is English."""
_SLUG_TOKEN = re.compile(r"[a-z]{4,}")
_MAX_ID = 40


class EntryLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...


class MatchLike(Protocol):
    @property
    def entry(self) -> EntryLike: ...


class ResultLike(Protocol):
    @property
    def outcome(self) -> str: ...
    @property
    def matches(self) -> Sequence[MatchLike]: ...


class SearchLike(Protocol):
    """The part of ``bot.search.index.SearchIndex`` the report uses.

    Optional on top: ``probability`` and ``redirect`` on results, ``terms(text)`` and
    ``lexicon`` on the index; without them the advice is simply more cautious.
    """

    def search(self, question: str) -> ResultLike: ...


@dataclass(frozen=True, slots=True)
class Advice:
    """What to do about a group, and the YAML to paste.

    ``entry_id``: the entry to extend (*beispiel*), to check (*pruefen*) or that answers the
    questions now (*erledigt*). ``subject``/``redirect``: the off-topic subject from
    ``suche.yaml`` and the hint the bot gives for it (*themenfremd*).
    """

    action: Action
    entry_id: str | None = None
    entry_title: str | None = None
    snippet: str = ""
    new_id: str | None = None
    examples: tuple[str, ...] = ()
    subject: str | None = None
    redirect: str | None = None
    nearby: tuple[str, ...] = ()
    """Titles of the nearest existing entries, to check before adding a new one."""

    @property
    def answered_now(self) -> bool:
        return self.action == "erledigt"

    @property
    def answer_rated_down(self) -> bool:
        return self.action == "pruefen"

    @property
    def weak(self) -> bool:
        """No entry fits well enough to take the questions as its examples."""
        return self.action in ("neu", "pruefen")


@dataclass(frozen=True, slots=True)
class _Run:
    """One wording re-run against today's knowledge base."""

    text: str
    outcome: str
    entry: Any | None
    probability: float
    redirect: Any | None


def advise(
    group: GapGroup,
    search_index: SearchLike | None,
    titles: Mapping[str, str],
    *,
    floor: float | None = None,
    known_ids: Collection[str] = (),
    vocabulary: Vocabulary | None = None,
) -> Advice:
    """The one action for a group: off-topic, done, check an answer, extend or create.

    ``vocabulary``: ``Vocabulary(search_index)``, built once per report by the caller.
    """
    floor = SUGGEST_FLOOR if floor is None else floor
    vocabulary = vocabulary if vocabulary is not None else Vocabulary(search_index)
    runs = _runs(group, search_index)
    lexicon = getattr(search_index, "lexicon", None)
    if runs:
        redirected = [r for r in runs if r.redirect is not None]
        if 2 * len(redirected) > len(runs):
            hint = redirected[0].redirect
            return Advice(
                "themenfremd",
                subject=str(getattr(hint, "subject", "")),
                redirect=str(getattr(hint, "redirect", "")),
            )
        # Answered outright, by an entry nobody turned down, that names the subject itself
        # (today's search also answers "Can I bring my dog?" with the Spielekoffer).
        answered = Counter(
            str(r.entry.id)
            for r in runs
            if r.outcome == "answered"
            and r.entry is not None
            and r.entry.id not in group.rejected
            and vocabulary.shares_subject(r.text, r.entry)
        )
        if answered and 2 * sum(answered.values()) > len(runs):
            entry_id = answered.most_common(1)[0][0]
            return Advice("erledigt", entry_id, _title(entry_id, runs, titles))
    usable = tuple(
        text
        for text, run in _pairs(group, runs)
        if usable_example(text) and (run is None or run.redirect is None)
    )[:MAX_PHRASES]
    if group.unhelpful > group.unknown + group.gaps:
        down = [e for e, _ in group.entry_ids if e in group.rejected] or [
            e for e, _ in group.entry_ids
        ]
        rated = _entry_of(down[0], runs, search_index) if down else None
        # Only an answer about the asked subject can be improved; a wrong match needs an entry.
        if down and (rated is None or vocabulary.shares_subject(group.representative, rated)):
            entry_id = down[0]
            alternative = _new_entry_snippet(
                group, usable, lexicon, known_ids, vocabulary.stop_words, alternative=True
            )
            return Advice(
                "pruefen",
                entry_id,
                titles.get(entry_id),
                alternative[1],
                alternative[0],
                usable,
            )
    first = runs[0] if runs else None
    if (
        first is not None
        and first.entry is not None
        and first.entry.id not in group.rejected
        and first.outcome in ("answered", "ambiguous")
        and first.probability >= floor
        and usable
        and vocabulary.shares_subject(group.representative, first.entry)
    ):
        entry_id = str(first.entry.id)
        title = str(first.entry.title)
        return Advice(
            "beispiel", entry_id, title, _example_snippet(entry_id, title, usable), None, usable
        )
    new_id, snippet = _new_entry_snippet(
        group, usable, lexicon, known_ids, vocabulary.stop_words, alternative=False
    )
    return Advice(
        "neu", snippet=snippet, new_id=new_id, examples=usable, nearby=_nearby(search_index, group)
    )


_FOLLOWUP_ACTIONS: Mapping[str, str] = {
    "contact": "Zuständige Stelle im Quelldokument nachsehen und unter „zustaendig:“ eintragen",
    "status": (
        "Stand im Quelldokument nachsehen; „status:“ und, wenn die Quelle eines nennt, "
        "„umsetzung_bis:“ ergänzen"
    ),
    "target": "„zielgruppe:“ so fassen, wie die Quelle die gefragten Gruppen nennt",
    "more": "Prüfen, ob „antwort:“ oder „hinweis:“ wiedergibt, was die Quelle mehr sagt",
    "difference": (
        "Prüfen, womit die Fragenden das Angebot vergleichen und ob die Quelle den Unterschied "
        "nennt"
    ),
}


def followup_action(kind: str) -> str:
    """What the team does about follow-ups of this kind that an entry could not answer.

    Only what the source document says goes into the entry: where it says nothing, the
    honest answer stays, and the team asks the responsible office for the document.
    """
    return _FOLLOWUP_ACTIONS.get(kind, _FOLLOWUP_ACTIONS["more"])


NEARBY_SCORE = 0.3
"""Least search score for an entry to be named as "verwandt" next to a new-entry proposal."""


def _nearby(search_index: SearchLike | None, group: GapGroup) -> tuple[str, ...]:
    """The entries the bot offered or nearly offered: the team checks them before adding."""
    if search_index is None:
        return ()
    try:
        result = search_index.search(group.representative)
    except Exception:
        return ()
    return tuple(
        str(m.entry.title)
        for m in result.matches[:2]
        if float(getattr(m, "score", 0.0)) >= NEARBY_SCORE
        and getattr(m.entry, "kind", "") != "contact"
    )


def usable_example(text: str) -> bool:
    """A wording that could stand in the knowledge base as somebody's typical question."""
    if _REDACTED.search(text) or len(text) > MAX_EXAMPLE_CHARS:
        return False
    words = _WORD.findall(text.casefold())
    return 0 < len(words) <= MAX_EXAMPLE_WORDS and not looks_english(words)


def looks_english(words: Sequence[str]) -> bool:
    english = sum(w in _ENGLISH for w in words)
    return english >= 2 and english * 3 >= len(words)


def _runs(group: GapGroup, search_index: SearchLike | None) -> list[_Run]:
    if search_index is None:
        return []
    runs = []
    for text, _ in group.texts[:CHECKED_WORDINGS]:
        try:
            result = search_index.search(text)
        except Exception:
            logger.exception("Bericht: Suche nach dem nächsten Eintrag fehlgeschlagen")
            return []
        outcome = str(result.outcome)
        probability = getattr(result, "probability", None)
        if not isinstance(probability, float | int):
            probability = {"answered": 1.0, "ambiguous": 0.5}.get(outcome, 0.0)
        entry = result.matches[0].entry if result.matches else None
        redirect = getattr(result, "redirect", None)
        runs.append(_Run(text, outcome, entry, float(probability), redirect))
    return runs


def _pairs(group: GapGroup, runs: list[_Run]) -> list[tuple[str, _Run | None]]:
    return [(text, runs[i] if i < len(runs) else None) for i, (text, _) in enumerate(group.texts)]


def _entry_of(entry_id: str, runs: list[_Run], search_index: SearchLike | None) -> Any | None:
    """The entry object behind an id, from the runs or the index's knowledge base."""
    for run in runs:
        if run.entry is not None and run.entry.id == entry_id:
            return run.entry
    entries = getattr(getattr(search_index, "kb", None), "entries", None)
    return entries.get(entry_id) if isinstance(entries, Mapping) else None


def _title(entry_id: str, runs: list[_Run], titles: Mapping[str, str]) -> str | None:
    for run in runs:
        if run.entry is not None and run.entry.id == entry_id:
            return str(run.entry.title)
    return titles.get(entry_id)


class Vocabulary:
    """The search terms each entry names itself (title, keywords, examples), computed once
    per report, and in how many entries each term occurs."""

    def __init__(
        self, search_index: SearchLike | None, *, stop_words: frozenset[str] | None = None
    ) -> None:
        self.terms: Callable[[str], Sequence[str]] | None = getattr(search_index, "terms", None)
        lexicon = getattr(search_index, "lexicon", None)
        self.stop_words = gap_stop_words(lexicon) if stop_words is None else stop_words
        """What grouping ignores (``gap_stop_words``), for the words of a proposed entry."""
        self.generic = frozenset(getattr(lexicon, "request_words", ())) | frozenset(
            getattr(lexicon, "filler_words", ())
        )
        self.own: dict[str, frozenset[str]] = {}
        entries = getattr(getattr(search_index, "kb", None), "entries", None)
        if self.terms is not None and isinstance(entries, Mapping):
            for entry in entries.values():
                self.own[str(entry.id)] = self._phrases(entry)
        self.spread = Counter(t for terms in self.own.values() for t in terms)

    def _phrases(self, entry: Any) -> frozenset[str]:
        assert self.terms is not None
        own = [entry.title, *getattr(entry, "synonyms", ()), *getattr(entry, "examples", ())]
        return frozenset(self.terms(" \n ".join(own)))

    def shares_subject(self, question: str, entry: Any) -> bool:
        """The question's most specific word is one the entry names itself: "Darf mein Hund
        mit ins Büro?" shares "Büro" and "bringen" with the Spielekoffer, but not "Hund" – a
        wrong match to fix with a new entry, not an answer to improve."""
        if self.terms is None:
            return True
        own = self.own.get(str(entry.id)) or self._phrases(entry)
        subject = [t for t in self.terms(question) if t not in self.generic]
        if not subject:
            return False
        rarest = min(subject, key=lambda t: (self.spread[t], -len(t)))
        return rarest in own


def _quote(text: str) -> str:
    """JSON strings are valid double-quoted YAML scalars, escapes included."""
    return json.dumps(text, ensure_ascii=False)


def _example_snippet(entry_id: str, title: str | None, phrases: Sequence[str]) -> str:
    label = f"„{entry_id}“" + (f" ({title})" if title else "")
    lines = [f"# Eintrag {label}: unter „beispielfragen:“ ergänzen", "beispielfragen:"]
    lines += [f"  - {_quote(p)}" for p in phrases]
    return "\n".join(lines)


def _new_entry_snippet(
    group: GapGroup,
    phrases: Sequence[str],
    lexicon: Any,
    known_ids: Collection[str],
    stop_words: frozenset[str],
    *,
    alternative: bool,
) -> tuple[str, str]:
    """(id, YAML) of a complete new entry; only the facts are left as TODO."""
    words = subject_words(group, lexicon, stop_words=stop_words)
    entry_id = _unique("-".join(w for w, _ in words[:2]) or "neuer-eintrag", known_ids)
    intro = "# Oder, falls die Frage etwas anderes meint, ein neuer Eintrag" if alternative else (
        "# Neuer Eintrag"
    )  # fmt: skip
    lines = [
        f"{intro} – in massnahmen.yaml unter „massnahmen:“ (ein Beratungsangebot in "
        "beratungsangebote.yaml) einfügen und die TODO ausfüllen:",
        f"- id: {entry_id}",
        '  titel: "TODO"',
        "  thema: TODO  # id eines Themas aus themen.yaml",
        '  antwort: "TODO"',
        '  zielgruppe: "TODO"',
        "  status: TODO  # geplant, pruefung, umsetzung oder verfuegbar",
        "  zustaendig: [TODO]  # ids aus kontakte.yaml",
    ]
    if words:
        lines.append("  stichworte:")
        lines += [f"    - {_quote(original)}" for _, original in words[:3]]
    if phrases:
        lines.append("  beispielfragen:")
        lines += [f"    - {_quote(p)}" for p in phrases]
    else:
        lines.append("  beispielfragen: []  # TODO: zwei, drei typische Fragen formulieren")
    return entry_id, "\n".join(lines)


def gap_stop_words(lexicon: Any = None) -> frozenset[str]:
    """The words gap grouping and proposed entries leave out: the lexicon's stop, filler and
    request words (``knowledge/sprache/de.yaml``). Without a lexicon (a report run without a
    search index) those of the bundled language file, which the bot uses too unless a
    knowledge base brings its own; pass the bot's lexicon where group ids must agree."""
    if lexicon is None:
        lexicon, _ = load_lexicon(BUNDLED_LANGUAGE.parent, language=BUNDLED_LANGUAGE)
    names = ("stop_words", "filler_words", "request_words")
    return frozenset(w for name in names for w in getattr(lexicon, name, ()))


def subject_words(
    group: GapGroup, lexicon: Any = None, *, stop_words: frozenset[str] | None = None
) -> list[tuple[str, str]]:
    """The group's subject as (id part, word as typed), most telling first.

    German words only: request words ("beantragen"), filler and English words are left out,
    so "how do I get my child into kita" becomes ``kita``, not ``you-have-english``.
    """
    stop_words = gap_stop_words(lexicon) if stop_words is None else stop_words
    generic = {
        _lexicon_fold(w)
        for name in ("request_words", "filler_words", "stop_words")
        for w in getattr(lexicon, name, ())
    }
    english = set(getattr(lexicon, "expansions", {})) | _ENGLISH
    spread: Counter[str] = Counter()
    typed: dict[str, str] = {}
    order: dict[str, int] = {}
    nouns: set[str] = set()
    texts = [(t, n) for t, n in group.texts if usable_example(t)] or [
        (_REDACTED.sub(" ", t), n)
        for t, n in group.texts
        if not looks_english(_WORD.findall(t.casefold()))
    ]
    for text, n in texts:
        seen = set()
        opening = next(iter(re.findall(r"[^\W_]+", text)), "")
        for position, (token, original) in enumerate(content_words(text, stop_words=stop_words)):
            # German nouns are capitalised, where people bother; a sentence's first word only
            # counts when it is long ("Ferienbetreuung …", not "Zahlt …"). The first content
            # word is not the first word after filler ("Darf ich meinen Hund …").
            first = position == 0 and original == opening
            if original[:1].isupper() and (not first or len(token) >= 8):
                nouns.add(token)
            if (
                not _SLUG_TOKEN.fullmatch(token)
                or token in seen
                or _lexicon_fold(token) in generic
                or original.casefold() in english
            ):
                continue
            seen.add(token)
            spread[token] += n
            typed.setdefault(token, original[:1].upper() + original[1:])
            order.setdefault(token, len(order))
    # Frequent first; among equals nouns (capitalised, else longer words) before verbs.
    ranked = sorted(spread, key=lambda t: (-spread[t], t not in nouns, -len(t), order[t]))
    # The two most frequent words in the order people write them, then the third.
    chosen = sorted(ranked[:2], key=lambda t: order[t]) + ranked[2:3]
    return [(t[:_MAX_ID], typed[t]) for t in chosen]


def _lexicon_fold(word: str) -> str:
    """The lexicon stores words with umlauts folded to plain vowels (bot.knowledge.lexicon)."""
    word = word.casefold().replace("ä", "a").replace("ö", "o").replace("ü", "u")
    return word.replace("ß", "ss").replace("ae", "a").replace("oe", "o").replace("ue", "u")


def _unique(entry_id: str, known: Collection[str]) -> str:
    entry_id = entry_id[:_MAX_ID].strip("-") or "neuer-eintrag"
    if entry_id not in known:
        return entry_id
    number = 2
    while f"{entry_id}-{number}" in known:
        number += 1
    return f"{entry_id}-{number}"
