"""One command table (bot/chat/commands.py) for Telegram, the terminal chat and typed aliases."""

from __future__ import annotations

import json

import pytest
from harness import LiveBot as RunningBot
from telegram.ext import CommandHandler

from bot.chat import commands
from bot.chat.commands import COMMANDS
from bot.chat.conversation import Conversation, Reply
from bot.chat.terminal import dispatch
from bot.search.library import Library

PUBLIC = [c for c in COMMANDS if not c.team]


@pytest.fixture
def talk(koeln_library: Library) -> Conversation:
    return Conversation(lambda: koeln_library.current, channel="terminal")


def _same(a: list[Reply], b: list[Reply]) -> bool:
    return [(r.text, r.buttons) for r in a] == [(r.text, r.buttons) for r in b]


def test_names_are_unique_and_every_listed_command_has_a_description(talk: Conversation) -> None:
    names = [n for c in COMMANDS for n in c.names]
    assert len(names) == len(set(names))
    typed = [w for c in COMMANDS for w in c.typed]
    assert len(typed) == len(set(typed))
    menu = talk.command_menu()
    assert [n for n, _ in menu] == [c.name for c in COMMANDS if c.menu]
    assert all(d.strip() for _, d in menu)
    assert not any(c.team and c.menu for c in COMMANDS), "team commands stay out of the menu"


@pytest.mark.parametrize("command", PUBLIC, ids=lambda c: c.name)
def test_the_terminal_runs_every_public_command_and_its_aliases(
    talk: Conversation, command: commands.Command
) -> None:
    first = dispatch(talk, f"/{command.name}", [])
    assert first and first[0].text != talk.unknown_command().text
    for alias in command.aliases:
        assert _same(dispatch(talk, f"/{alias.upper()}", []), first)


@pytest.mark.parametrize(
    ("command", "word"),
    [(c, w) for c in PUBLIC for w in c.typed],
    ids=lambda v: getattr(v, "name", v),
)
def test_a_typed_alias_does_what_its_command_does(
    talk: Conversation, command: commands.Command, word: str
) -> None:
    assert commands.typed(f"{word.capitalize()}?") is command
    assert _same(talk.ask(word), talk.run_command(command.name))


@pytest.mark.parametrize("name", [c.name for c in COMMANDS if c.team] + ["gibtsnicht"])
def test_team_and_unknown_commands_are_unknown_in_the_terminal(
    talk: Conversation, name: str
) -> None:
    assert _same(dispatch(talk, f"/{name}", []), [talk.unknown_command()])


async def test_telegram_registers_every_name_of_the_table(running: RunningBot) -> None:
    registered = {
        name
        for handlers in running.application.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }
    assert registered == {n for c in COMMANDS for n in c.names}
    german, english = [
        c for c in running.api.calls("setMyCommands") if not c.params.get("scope")
    ]  # the English one for English apps
    talk = Conversation(lambda: running.application.bot_data["services"].library.current)
    for call, language in ((german, None), (english, "en")):
        assert call.params.get("language_code") == language
        sent = call.params["commands"]
        sent = sent if isinstance(sent, list) else json.loads(sent)
        assert [(c["command"], c["description"]) for c in sent] == talk.command_menu(language)
