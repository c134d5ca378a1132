"""Greetings, thanks, goodbyes and requests for a person: answered kindly, never searched.

The phrases are language knowledge, so they are data: the ``gespraech`` section of
``knowledge/sprache/de.yaml``, loaded into the snapshot's :class:`~bot.knowledge.lexicon.Talk`
(and hot-reloaded with it). This module only decides what a whole message is.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

from bot.knowledge.lexicon import Lexicon, Talk, talk_words
from bot.search.textnorm import fold

KINDS = ("greeting", "thanks", "bye", "who", "howareyou", "yes", "no")
"""Small-talk kinds; each has its reply as text "smalltalk.<kind>"."""
MAX_PERSON_WORDS = 40  # a request for a person is short; longer messages are questions
_LETTERS = re.compile(r"[a-z]+")  # the words as ``talk_words`` splits them, runs uncollapsed


def classify(text: str, talk: Talk) -> str | None:
    """Return the small-talk kind of a whole message, or None for a real question.

    "Hallo, danke!" is small talk (the last phrase decides: thanks); "Hallo, wie beantrage ich
    Elternzeit?" is a question.
    """
    words = [w for w in talk_words(fold(text)) if w not in talk.between]
    kinds = _phrases(words, talk.phrases, talk.longest)
    return kinds[-1] if kinds else None


def asks_for_person(text: str, lexicon: Lexicon) -> bool:
    """Whether the whole point of a message is to reach a human ("Kann ich mit jemandem
    sprechen?", "I need to speak to a counsellor").

    One ``mensch`` phrase must be in it (its words in any order), and what remains may only be
    stop and filler words, ``zwischenwoerter`` or small talk: a message that also names a
    subject ("… über die Pflege meiner Mutter sprechen") is a question for the search.
    """
    talk = lexicon.talk
    folded = fold(text)
    raw = _LETTERS.findall(folded)  # the stop words are stored as written: "kann", not "kan"
    words = talk_words(folded)
    if not raw or len(raw) > MAX_PERSON_WORDS or len(raw) != len(words):
        return False
    if talk.person_words.isdisjoint(words):  # most questions: no word of any phrase
        return False
    ignorable = [
        len(w) < 2 or w in lexicon.stop_words or w in lexicon.filler_words or k in talk.between
        for w, k in zip(raw, words, strict=True)
    ]
    present = Counter(words)
    for phrase in talk.person:
        needed = Counter(phrase)
        if any(present[w] < n for w, n in needed.items()):
            continue
        rest: list[str] = []
        for word, skip in zip(words, ignorable, strict=True):
            if needed[word] > 0:
                needed[word] -= 1
            elif not skip:
                rest.append(word)
        if not rest or _phrases(rest, talk.phrases, talk.longest):
            return True
    return False


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
