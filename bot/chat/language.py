"""Which language each chat is answered in: German, or English for international staff.

English when the user chose it with /english, or when Telegram says the user's app speaks
English (``language_code`` "en", "en-GB", …) and the user did not choose /deutsch. Held in this
process's memory only, like the follow-up memory: never written anywhere, forgotten on restart.
"""

from __future__ import annotations

from collections import OrderedDict

from bot.knowledge.model import LANGUAGES

GERMAN = "de"
ENGLISH = "en"
MAX_CHATS = 50_000


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

    def of(self, chat: int | None) -> str:
        return self._chosen.get(chat) or self._heard.get(chat) or self.default


def _put(table: OrderedDict[int | None, str], chat: int | None, value: str, limit: int) -> None:
    table.pop(chat, None)
    table[chat] = value
    while len(table) > limit:
        table.popitem(last=False)
