"""The real Application running against the fake Bot API server, for end-to-end tests."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from fakebotapi import BotMessage, FakeBotApi

from bot.config import DEFAULT_KB, Settings
from bot.log.writer import QuestionLog
from bot.runtime.app import build_application
from bot.search.library import Library

USER = 4242
TEAM = 777


@dataclass
class RunningBot:
    api: FakeBotApi
    application: Any
    log: QuestionLog
    kb_dir: Path
    log_path: Path

    async def ask(self, text: str, user: int = USER) -> BotMessage:
        before = len(self.api.messages(user))
        self.api.send_text(user, text)
        return (await self.api.wait_for_messages(user, before + 1))[-1]

    def rows(self) -> list[dict[str, Any]]:
        """The question log as the team sees it, read from the SQLite file."""
        self.log.flush()
        return list(sqlite_utils.Database(self.log_path)["questions"].rows)

    async def click(self, message: BotMessage, data: str, user: int = USER) -> BotMessage:
        before = len(self.api.messages(user))
        self.api.send_callback(user, data, message.message_id)
        return (await self.api.wait_for_messages(user, before + 1))[-1]


def buttons(message: BotMessage) -> list[tuple[str, str]]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


def button(message: BotMessage, prefix: str) -> str:
    return next(data for label, data in buttons(message) if label.startswith(prefix))


@pytest.fixture
async def running(fake_api: FakeBotApi, tmp_path: Path) -> AsyncIterator[RunningBot]:
    kb_dir = tmp_path / "kb"
    shutil.copytree(DEFAULT_KB, kb_dir)
    settings = Settings(
        token=fake_api.token,
        base_url=fake_api.base_url,
        knowledge_dir=kb_dir,
        database=tmp_path / "log.db",
        team_ids=frozenset({TEAM}),
        rate_limit=0,
    )
    library, _ = Library.open(kb_dir)
    assert library is not None
    log = QuestionLog(settings.database, b"k" * 32)
    application = build_application(settings, library, log)
    # The same sequence as Application.run_polling, minus the signal handling.
    async with application:
        await application.post_init(application)
        await application.updater.start_polling(poll_interval=0, timeout=1)
        await application.start()
        yield RunningBot(fake_api, application, log, kb_dir, settings.database)
        await application.updater.stop()
        await application.stop()
        await application.post_stop(application)


def question_update(update_id: int, text: str, user: int = USER) -> dict[str, Any]:
    """A private text message as Telegram delivers it, with a fixed update_id."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id % 100_000,
            "date": 0,
            "chat": {"id": user, "type": "private", "first_name": "T"},
            "from": {"id": user, "is_bot": False, "first_name": "T"},
            "text": text,
        },
    }


async def until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait for a condition, polling; the timeout is a safety net, never a measurement."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not reached within the safety bound")
        await asyncio.sleep(0.05)
