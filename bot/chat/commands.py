"""The one table of chat commands: Telegram's registration and menu, the terminal chat and the
commands typed without their slash ("hilfe", "Themen") all read it.

Descriptions live in the text catalogue under ``command.<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.search.textnorm import fold

CommandAction = Literal[
    "start",
    "menu",
    "help",
    "contacts",
    "privacy",
    "forget",
    "language",
    "statistics",
    "gaps",
    "report",
    "reload",
]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    action: CommandAction
    aliases: tuple[str, ...] = ()  # further slash names, e.g. /englisch next to /english
    typed: tuple[str, ...] = ()  # the same command typed as a whole message, without slash
    menu: bool = True  # listed in Telegram's command menu and in /hilfe
    team: bool = False  # project team only; everyone else gets the unknown-command reply
    english: str | None = None  # the name English chats see in menus and /help (also works)
    language: str | None = None  # the reply language a "language" command switches to

    @property
    def names(self) -> tuple[str, ...]:
        english = (self.english,) if self.english and self.english != self.name else ()
        return (self.name, *self.aliases, *english)

    def shown(self, language: str) -> str:
        """The name to show a chat in ``language``: /topics to English chats, /themen else."""
        return self.english if language == "en" and self.english else self.name


COMMANDS: tuple[Command, ...] = (
    Command("start", "start"),
    Command(
        "themen",
        "menu",
        typed=("themen", "thema", "menü", "übersicht", "start", "alle themen", "topics"),
        english="topics",
    ),
    Command(
        "kontakt",
        "contacts",
        typed=("kontakt", "kontakte", "ansprechpartner", "ansprechstellen", "contact", "contacts"),
        english="contact",
    ),
    Command(
        "hilfe",
        "help",
        typed=("hilfe", "help", "was kannst du", "anleitung", "what can you do"),
        english="help",
    ),
    Command("datenschutz", "privacy", typed=("datenschutz", "privacy"), english="privacy"),
    Command("vergessen", "forget", english="forget"),
    Command(
        "english",
        "language",
        aliases=("englisch",),
        typed=("english", "englisch", "in english", "english please"),
        language="en",
    ),
    Command(
        "deutsch",
        "language",
        aliases=("german",),
        typed=("deutsch", "german", "auf deutsch", "in german"),
        language="de",
    ),
    Command("statistik", "statistics", menu=False, team=True),
    Command("luecken", "gaps", menu=False, team=True),
    Command("bericht", "report", menu=False, team=True),
    Command("neuladen", "reload", menu=False, team=True),
)

_BY_NAME = {name: command for command in COMMANDS for name in command.names}
_BY_TYPED = {fold(word): command for command in COMMANDS for word in command.typed}


def by_name(name: str) -> Command | None:
    """The command behind ``/name`` (case-insensitive), or None."""
    return _BY_NAME.get(name.lower())


def typed(text: str) -> Command | None:
    """The command a whole message names without its slash ("Hilfe?", "themen"), or None."""
    return _BY_TYPED.get(fold(text).strip(" ?!.:/"))
