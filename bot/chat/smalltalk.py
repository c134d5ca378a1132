"""Greetings, thanks, goodbyes and requests for a person: answered kindly, never searched.

The phrases are language knowledge, so they are data: the ``gespraech`` section of
``knowledge/sprache/de.yaml``, loaded into the snapshot's :class:`~bot.knowledge.lexicon.Talk`
(and hot-reloaded with it). This module only decides what a whole message is.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.knowledge.lexicon import Lexicon, Talk, talk_words
from bot.search.textnorm import fold

KINDS = ("greeting", "thanks", "bye", "who", "howareyou", "yes", "no")
"""Small-talk kinds; each has its reply as text "smalltalk.<kind>"."""
MAX_PERSON_WORDS = 40  # a request for a person is short; longer messages are questions
SHORT_REQUEST = 3  # content words up to which a word for a person alone asks for one
MAX_CLOSING_WORDS = 8  # thanks with a few words around it; longer messages say more
CLOSINGS = ("thanks", "bye")
_LETTERS = re.compile(r"[a-z]+")  # the words as ``talk_words`` splits them, runs uncollapsed
SLIP_FROM = 5  # letters from which one slip (a wrong, missing, extra or swapped letter) counts
SLIPS_FROM = 9  # ... and two slips: "jemadnem" is "jemandem", "dann" is never "danke"


def spelled(word: str, talk: Talk) -> str:
    """The word of the ``gespraech`` lists a typo means ("sprehcen" -> "sprechen", "persn" ->
    "person"), when exactly one is that close and starts with the same letter; the word itself
    otherwise. Short words are never changed ("dann" is no "danke"), nor words that only add
    an ending to a listed one ("talks", "programme": other words, not slips)."""
    if len(word) < SLIP_FROM:
        return word
    candidates = talk.by_initial.get(word[0], ())
    if word in candidates:
        return word
    slips = 2 if len(word) >= SLIPS_FROM else 1
    found = process.extract(word, candidates, scorer=OSA.distance, score_cutoff=slips, limit=3)
    near = [c for c, _, _ in found if not word.startswith(c)]
    return near[0] if len(near) == 1 else word


def _talk_words(text: str, talk: Talk) -> tuple[str, ...]:
    return tuple(spelled(w, talk) for w in talk_words(fold(text)))


def classify(text: str, talk: Talk) -> str | None:
    """Return the small-talk kind of a whole message, or None for a real question.

    "Hallo, danke!" is small talk (the last phrase decides: thanks); "Hallo, wie beantrage ich
    Elternzeit?" is a question.
    """
    words = [w for w in _talk_words(text, talk) if w not in talk.between]
    kinds = _phrases(words, talk.phrases, talk.longest)
    return kinds[-1] if kinds else None


def closing(
    text: str,
    talk: Talk,
    names_subject: Callable[[str], bool],
    asks_more: Callable[[str], bool],
) -> str | None:
    """Thanks or a goodbye with a few words around it that ask nothing: "danke für die Info",
    "ok danke, dann frag ich mal nach", "alright, thanks anyway". Returns its kind.

    The thanks or goodbye phrase must open or close the message; the other words may neither
    name a subject (``names_subject``) nor ask a follow-up (``asks_more``), and a question mark
    makes it a question ("Danke! Und wer ist zuständig?").
    """
    if "?" in text:
        return None
    words = [w for w in _talk_words(text, talk) if w not in talk.between]
    if not words or len(words) > MAX_CLOSING_WORDS:
        return None
    for size in range(min(talk.longest, len(words)), 0, -1):
        for phrase, rest in (
            (tuple(words[:size]), words[size:]),
            (tuple(words[-size:]), words[:-size]),
        ):
            kind = talk.phrases.get(phrase)
            if kind in CLOSINGS:
                left = " ".join(rest)
                if not left or not (names_subject(left) or asks_more(left)):
                    return kind
    return None


def asks_for_person(
    text: str, lexicon: Lexicon, names_subject: Callable[[str], bool] = lambda _: False
) -> bool:
    """Whether the whole point of a message is to reach a human ("Kann ich mit jemandem
    sprechen?", "I need to speak to a counsellor", "ich will keinen Bot").

    The message must ask for someone: a ``mensch`` phrase (its words in any order), or a word
    for a person (``menschwoerter``) with a word for contact (``kontaktwoerter``), or a word
    for a machine (``botwoerter``), or, in a message of a few words, a word for a person alone
    ("human pls"). And it must name no subject (``names_subject``, the search index's): "…
    über die Pflege meiner Mutter sprechen" is a question for the search, which answers it
    with the handoff button under the card anyway.
    """
    talk = lexicon.talk
    folded = fold(text)
    raw = _LETTERS.findall(folded)  # the stop words are stored as written: "kann", not "kan"
    words = tuple(spelled(w, talk) for w in talk_words(folded))
    if not raw or len(raw) > MAX_PERSON_WORDS or len(raw) != len(words):
        return False
    if talk.person_words.isdisjoint(words):  # most questions: no word of any phrase
        return False
    present = Counter(words)
    phrase = next(
        (p for p in talk.person if all(present[w] >= n for w, n in Counter(p).items())), None
    )
    people = talk.people.intersection(words)
    content = [
        k
        for w, k in zip(raw, words, strict=True)
        if len(w) > 1
        and w not in lexicon.stop_words
        and w not in lexicon.filler_words
        and k not in talk.between
    ]
    asks = (
        phrase is not None
        or (people and not talk.contact.isdisjoint(words))
        or not talk.machines.isdisjoint(words)
        or (people and len(content) <= SHORT_REQUEST)
    )
    if not asks:
        return False
    cue = set(phrase or ()) | talk.people | talk.contact | talk.machines
    rest = " ".join(w for w, k in zip(raw, words, strict=True) if k not in cue)
    return not names_subject(rest)


def _phrases(
    words: Sequence[str], table: Mapping[tuple[str, ...], str], longest: int
) -> list[str] | None:
    """The kinds of the phrases that make up ``words`` exactly, longest phrase first at each
    point ("ja danke" is one phrase, not "ja" + "danke"); None if they do not."""
    if not words:
        return None
    reached: dict[int, list[str]] = {0: []}
    for start in range(len(words)):
        if start not in reached:
            continue
        for size in range(min(longest, len(words) - start), 0, -1):
            kind = table.get(tuple(words[start : start + size]))
            if kind is not None and start + size not in reached:
                reached[start + size] = [*reached[start], kind]
    return reached.get(len(words))
