"""The wiring in bot/runtime: who reaches the team handlers, what the error log names, reloads."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fakebotapi import FakeBotApi
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.chat import actions
from bot.chat.conversation import reload_message
from bot.config import Settings
from bot.runtime.app import build_application
from bot.search.library import Library, reload_knowledge
from handlers import buttons, errors, start, team

TEAM = 777
OTHER = 4242


def command(text: str, user: int) -> dict[str, Any]:
    name = text.split()[0]
    return {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": user, "type": "private", "first_name": "T"},
            "from": {"id": user, "is_bot": False, "first_name": "T"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(name)}],
        },
    }


def click(data: str, user: int) -> dict[str, Any]:
    return {
        "update_id": 2,
        "callback_query": {
            "id": "1",
            "chat_instance": "1",
            "from": {"id": user, "is_bot": False, "first_name": "T"},
            "data": data,
        },
    }


App = Application[Any, Any, Any, Any, Any, Any]


def settings(api: FakeBotApi, tmp_path: Path, team: frozenset[int]) -> Settings:
    return Settings(
        token=api.token, base_url=api.base_url, database=tmp_path / "log.db", team_ids=team
    )


@pytest.fixture
async def application(
    fake_api: FakeBotApi, tmp_path: Path, koeln_library: Library
) -> AsyncIterator[App]:
    """Initialised (getMe answered by the fake server), never polling."""
    application = build_application(
        settings(fake_api, tmp_path, frozenset({TEAM})), koeln_library, None
    )
    async with application:
        yield application


def first_match(application: App, data: dict[str, Any]) -> Any:
    """The callback PTB would run for this update in handler group 0 (first match wins)."""
    update = Update.de_json(data, application.bot)
    for handler in application.handlers[0]:
        check = handler.check_update(update)
        if check is not None and check is not False:
            return handler.callback
    return None


@pytest.mark.parametrize(
    ("text", "callback"),
    [
        ("/statistik", team.statistics),
        ("/luecken", team.gaps),
        ("/luecken 30", team.gaps),
        ("/neuladen", team.reload),
        ("/statistik@vereinbar_test_bot", team.statistics),
    ],
)
def test_team_commands_reach_the_team_and_fall_through_for_everyone_else(
    application: App, text: str, callback: Any
) -> None:
    assert first_match(application, command(text, TEAM)) is callback
    assert first_match(application, command(text, OTHER)) is start.unknown_command


async def test_nobody_is_team_when_no_team_is_configured(
    fake_api: FakeBotApi, tmp_path: Path, koeln_library: Library
) -> None:
    application = build_application(settings(fake_api, tmp_path, frozenset()), koeln_library, None)
    async with application:
        assert first_match(application, command("/statistik", TEAM)) is start.unknown_command


def test_ignore_buttons_are_recognised_by_the_actions_codec_and_only_for_the_team(
    application: App,
) -> None:
    ignore = actions.encode("ignore", "0123456789")
    assert first_match(application, click(ignore, TEAM)) is team.ignore_group
    assert first_match(application, click(ignore, OTHER)) is buttons.button
    for forged in ("x|", "x|0123456789|extra", "x|../etc", actions.encode("menu")):
        assert first_match(application, click(forged, TEAM)) is buttons.button


def _deepest() -> None:
    raise RuntimeError("simulated bug")


def _middle() -> None:
    _deepest()


async def test_error_log_names_the_frame_that_raised_not_the_dispatcher(
    fake_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        _middle()

    application = fake_api.builder().build()
    application.add_handler(MessageHandler(filters.TEXT, handler))
    application.add_error_handler(errors.on_error)  # type: ignore[arg-type]
    group = command("/x", OTHER)
    group["message"]["chat"] = {"id": -100, "type": "group", "title": "G"}  # no apology sent
    async with application:
        await application.process_update(Update.de_json(group, application.bot))

    [record] = [r for r in caplog.records if r.getMessage().startswith("Fehler bei")]
    assert record.getMessage().startswith(
        "Fehler bei der Verarbeitung: RuntimeError in _deepest (test_runtime.py:"
    )


def test_where_without_traceback() -> None:
    assert errors.where(None) == "?"
    assert errors.where(RuntimeError("never raised")) == "?"


def test_reload_keeps_the_last_good_version_and_says_which_file_is_broken(
    koeln_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    library, _ = Library.open(koeln_copy)
    assert library is not None
    good = library.current.kb.version
    path = koeln_copy / "massnahmen.yaml"
    original = path.read_text(encoding="utf-8")
    path.write_text("massnahmen: [\n  - id: kaputt", encoding="utf-8")
    caplog.set_level(logging.INFO)

    broken = reload_knowledge(library)

    assert (broken.swapped, broken.version) == (False, good)
    assert library.current.kb.version == good
    text = reload_message(broken.swapped, broken.problems, broken.version)
    assert "Wissensbasis fehlerhaft" in text and "massnahmen.yaml" in text
    assert "bleibt aktiv" in caplog.text

    path.write_text(original.replace("Spielekoffer", "Spielekiste", 1), encoding="utf-8")
    restored = reload_knowledge(library)
    assert restored.swapped and library.current.kb.version == restored.version != good
    assert reload_message(True, restored.problems, restored.version).startswith("✅")
