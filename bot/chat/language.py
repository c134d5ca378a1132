"""Which language each chat is answered in: German, or English for international staff.

English when the user chose it with /english, or when Telegram says the user's app speaks
English (``language_code`` "en", "en-GB", …) and the user did not choose /deutsch. Held in this
process's memory only, like the follow-up memory: never written anywhere, forgotten on restart.
"""

from __future__ import annotations

import re
from collections import OrderedDict

from bot.knowledge.model import LANGUAGES
from bot.search.textnorm import fold

GERMAN = "de"
ENGLISH = "en"
MAX_CHATS = 50_000


ENGLISH_SHARE = 0.3  # of a question's words; "Elternzeit for my son" is English enough
_WORDS = re.compile(r"[a-z']+")


def looks_english(text: str, markers: frozenset[str]) -> bool:
    """Whether a question is written in English: at least two of its words, and a good share
    of them, are words only English has (the lexicon's ``englische_merkwoerter``; "die",
    "was" or "will" are German too and never listed there)."""
    words = _WORDS.findall(fold(text))
    hits = sum(w in markers for w in words)
    return hits >= 2 and hits >= ENGLISH_SHARE * len(words)


def from_telegram(language_code: str | None) -> str | None:
    """The catalogue language for Telegram's IETF tag of the user's app, None for German."""
    return ENGLISH if (language_code or "").lower().startswith(ENGLISH) else None


class LanguageChoice:
    """Per chat: the language chosen with a command, else the one the app speaks, else
    ``default`` (German in Telegram; the terminal chat may start in English).

    Bounded to ``max_chats`` per kind (the longest-idle chat goes first). Not locked: the bot
    calls it from its event loop only.
    """

    def __init__(self, *, default: str = GERMAN, max_chats: int = MAX_CHATS) -> None:
        if default not in LANGUAGES:
            raise ValueError(f"unknown language {default!r} (known: {', '.join(LANGUAGES)})")
        self.default = default
        self._max_chats = max_chats
        self._chosen: OrderedDict[int | None, str] = OrderedDict()
        self._heard: OrderedDict[int | None, str] = OrderedDict()

    def hear(self, chat: int | None, language_code: str | None) -> None:
        """What Telegram says about the user's app, noted with every update."""
        language = from_telegram(language_code)
        if language is None:
            self._heard.pop(chat, None)
        else:
            _put(self._heard, chat, language, self._max_chats)

    def choose(self, chat: int | None, language: str) -> None:
        """/english or /deutsch: wins over what the app speaks."""
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        _put(self._chosen, chat, language, self._max_chats)

    def chosen(self, chat: int | None) -> str | None:
        """The language chosen with /english or /deutsch, None if the chat never chose."""
        return self._chosen.get(chat)

    def of(self, chat: int | None) -> str:
        return self._chosen.get(chat) or self._heard.get(chat) or self.default


def _put(table: OrderedDict[int | None, str], chat: int | None, value: str, limit: int) -> None:
    table.pop(chat, None)
    table[chat] = value
    while len(table) > limit:
        table.popitem(last=False)
