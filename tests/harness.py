"""The one end-to-end harness: the bot against the fake Bot API server on 127.0.0.1.

Two ways to run the bot, one way to talk to it:

* ``running`` / ``start_bot``: the real ``Application`` on this test's event loop, started as
  ``run_polling`` starts it (``post_init`` runs the maintenance loop: hot reload, log flushing,
  heartbeat). Use it whenever the test needs the bot's internals (services, question log).
* ``start_process``: a real ``python -m bot run`` subprocess, for what only a process shows:
  signals, the instance lock, start-up failures, a restart.

Both are a ``BotUnderTest``: ``ask``, ``click``, ``barrier``, ``message_after`` and ``rows``.
Every file lives under the test's own ``tmp_path`` and every port is picked by the OS, so tests
run in parallel (``pytest -n``) without meeting each other.

Waits are bounded and generous: a hung bot fails the test instead of blocking it; nothing
measures how long something took. To show that *nothing else* arrives in a chat, never sleep:
``barrier`` sends ``/hilfe`` and waits for its reply. The bot handles the updates of one chat
one at a time, in order, so by then everything sent to that chat before has been answered.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, Self

import pytest
from fakebotapi import BotMessage, FakeBotApi

from bot.chat.services import Services
from bot.config import DEFAULT_KB, PROJECT_ROOT, Settings
from bot.log.writer import QuestionLog
from bot.runtime.app import ALLOWED_UPDATES, build_application
from bot.search.library import Library

USER = 4242
OTHER = 4343
TEAM = 777

WAIT = 30.0  # safety bound of every wait; generous because CI machines are shared
START_TIMEOUT = 60.0  # a cold interpreter loads the knowledge base and the search index first
EXIT_TIMEOUT = 30.0  # systemd's TimeoutStopSec in docs/operations.md

# How the barrier recognises the reply to its /hilfe: the help text in a private chat, the
# pointer to the private chat in a group (where the bot answers commands with nothing else).
HELP_REPLY = "So fragen Sie mich"
GROUP_REPLY = "Ich beantworte Fragen nur im privaten Chat"
BARRIER_DATA = "barrier"  # callback data no button carries: the bot answers it as a stale menu


async def until(predicate: Callable[[], object], timeout: float = WAIT) -> None:
    """Wait for a condition, polling; the timeout is a safety net, never a measurement."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not reached within the safety bound")
        await asyncio.sleep(0.05)


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


def buttons(message: BotMessage) -> list[tuple[str, str]]:
    """(label, callback data) of every inline button, row by row."""
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


def button(message: BotMessage, prefix: str) -> str:
    """The callback data of the first button whose label starts with ``prefix``."""
    return next(data for label, data in buttons(message) if label.startswith(prefix))


def read_rows(database: Path) -> list[dict[str, Any]]:
    """The question log as the team sees it, read from the SQLite file, oldest first."""
    conn = sqlite3.connect(database)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM questions ORDER BY rowid")]
    finally:
        conn.close()


class BotUnderTest:
    """What a test does with a bot, however it runs: talk to it through the fake server."""

    def __init__(self, api: FakeBotApi, database: Path) -> None:
        self.api = api
        self.database = database

    async def ask(self, text: str, user: int = USER) -> BotMessage:
        """Send a private message and return the bot's next message in that chat."""
        before = len(self.api.messages(user))
        self.api.send_text(user, text)
        return (await self.api.wait_for_messages(user, before + 1, timeout=WAIT))[-1]

    async def click(self, message: BotMessage, data: str, user: int = USER) -> BotMessage:
        """Press a button of ``message`` and return the bot's next message (or edit)."""
        before = len(self.api.messages(user))
        self.api.send_callback(user, data, message.message_id)
        return (await self.api.wait_for_messages(user, before + 1, timeout=WAIT))[-1]

    async def message_after(self, chat: int, before: int, pattern: str) -> BotMessage:
        """The first message to ``chat`` after the first ``before`` ones matching a regex."""

        def found() -> list[BotMessage]:
            return [m for m in self.api.messages(chat)[before:] if re.search(pattern, m.text or "")]

        await until(lambda: bool(found()))
        return found()[0]

    async def barrier(
        self, chat: int = USER, *, group_of: int | None = None, press: BotMessage | None = None
    ) -> list[BotMessage]:
        """Wait until the bot has handled everything sent to ``chat`` so far; return the
        messages it sent there up to then (the barrier's own reply not included).

        Sends ``/hilfe`` (in a group, from the member ``group_of``) and waits for its reply.
        A user the bot currently slows down gets no reply, so for one pass ``press``: a bot
        message in the chat whose stale button press ends the barrier when the bot answers
        the callback query (button presses are never slowed down). That press then turns
        the message into the stale menu, after the returned snapshot.
        """
        if press is not None:
            return await self._button_barrier(chat, press)
        before = len(self.api.messages(chat))
        if group_of is None:
            self.api.send_text(chat, "/hilfe")
            reply = HELP_REPLY
        else:
            self.api.send_text(group_of, "/hilfe", chat_type="group", chat_id=chat)
            reply = GROUP_REPLY
        message = await self.message_after(chat, before, "^" + re.escape(reply))
        messages = self.api.messages(chat)
        return messages[: messages.index(message)]

    async def _button_barrier(self, chat: int, press: BotMessage) -> list[BotMessage]:
        update_id = self.api.send_callback(chat, BARRIER_DATA, press.message_id, check_button=False)
        [update] = [u for u in self.api.pending_updates if u["update_id"] == update_id]
        query_id = update["callback_query"]["id"]

        def answered() -> list[Any]:
            return [
                c
                for c in self.api.calls("answerCallbackQuery")
                if c.params.get("callback_query_id") == query_id
            ]

        await until(answered)
        arrived = answered()[0].time
        return [m for m in self.api.messages(chat) if m.time < arrived]

    def rows(self) -> list[dict[str, Any]]:
        """The question log as the team sees it, read from the SQLite file."""
        return read_rows(self.database)


# --- the Application in this event loop ------------------------------------------------------


class LiveBot(BotUnderTest):
    """The real Application polling the fake server from this test's event loop."""

    def __init__(
        self, api: FakeBotApi, application: Any, log: QuestionLog, kb_dir: Path, database: Path
    ) -> None:
        super().__init__(api, database)
        self.application = application
        self.services: Services = application.bot_data["services"]
        self.log = log
        self.kb_dir = kb_dir
        self._stopped = False

    @property
    def log_path(self) -> Path:
        """The question log's file (the name tests of the older harness use)."""
        return self.database

    def rows(self) -> list[dict[str, Any]]:
        self.log.flush()  # what the maintenance loop would write a moment later
        return super().rows()

    async def settled(self, updates: int) -> None:
        """Until ``updates`` updates passed the gatekeeper and Telegram got every confirmation."""
        await until(
            lambda: self.services.updates_handled >= updates and not self.api.pending_updates
        )

    async def stop(self) -> None:
        """Stop as ``run_polling`` does after a signal; the files stay (a restart may follow)."""
        if self._stopped:
            return
        self._stopped = True
        application = self.application
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
            await application.post_stop(application)
        await application.shutdown()
        await application.post_shutdown(application)


class StartBot(Protocol):
    def __call__(
        self, log_options: dict[str, Any] | None = None, **overrides: Any
    ) -> Awaitable[LiveBot]: ...


@pytest.fixture
async def start_bot(fake_api: FakeBotApi, tmp_path: Path) -> AsyncIterator[StartBot]:
    """Start the real Application against the fake server; call again for a restart on the
    same files. ``overrides`` replace ``Settings`` fields, ``log_options`` go to the log."""
    started: list[LiveBot] = []

    async def start(log_options: dict[str, Any] | None = None, **overrides: Any) -> LiveBot:
        kb_dir = tmp_path / "kb"
        if not kb_dir.exists():
            shutil.copytree(DEFAULT_KB, kb_dir)
        settings = Settings(
            **{
                "token": fake_api.token,
                "base_url": fake_api.base_url,
                "knowledge_dir": kb_dir,
                "database": tmp_path / "fragen.db",
                "team_ids": frozenset({TEAM}),
                "rate_limit": 0,
                **overrides,
            }
        )
        library, problems = Library.open(settings.knowledge_dir)
        assert library is not None, [str(p) for p in problems]
        log = QuestionLog(settings.database, b"k" * 32, **(log_options or {}))
        application = build_application(settings, library, log)
        # The same sequence as Application.run_polling, minus the signal handling; a short
        # poll timeout keeps the shutdown fast.
        await application.initialize()
        bot = LiveBot(fake_api, application, log, settings.knowledge_dir, settings.database)
        started.append(bot)
        await application.post_init(application)
        await application.updater.start_polling(
            poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES
        )
        await application.start()
        return bot

    yield start
    await fake_api.start_http()  # a test that failed mid-outage must not slow the teardown
    for bot in started:
        await bot.stop()


@pytest.fixture
async def running(start_bot: StartBot) -> LiveBot:
    """The bot, started with the defaults: a private copy of the Köln knowledge base."""
    return await start_bot()


# --- python -m bot run ---------------------------------------------------------------------


def bot_env(api: FakeBotApi, database: Path, token: str | None = None) -> dict[str, str]:
    """The environment of a production start, pointed at the fake server and a private file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=token or api.token,
        TELEGRAM_BASE_URL=api.base_url,
        BOT_DATABASE=str(database),
        BOT_KNOWLEDGE_DIR=str(DEFAULT_KB),
        BOT_LOG_SECRET="ab" * 32,
        BOT_RATE_LIMIT="0",
        PYTHONPATH=str(PROJECT_ROOT),
        PYTHONUNBUFFERED="1",
    )
    return env


class BotProcess(BotUnderTest):
    """One `python -m bot run`; stdout and stderr go to files so a full pipe never blocks it."""

    def __init__(
        self,
        api: FakeBotApi,
        workdir: Path,
        database: Path,
        *,
        token: str | None = None,
        args: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(api, database)
        self.workdir = workdir
        self.args = list(args)
        self.env = {**bot_env(api, database, token), **(env or {})}
        self.proc: asyncio.subprocess.Process | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    async def start(self) -> Self:
        with (
            (self.workdir / "stdout.txt").open("wb") as out,
            (self.workdir / "stderr.txt").open("wb") as err,
        ):
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                *self.args,
                cwd=self.workdir,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        return self

    async def wait_polling(self) -> None:
        """Until this process has asked for updates (it then holds the lock and is serving)."""
        before = len(self.api.calls("getUpdates"))
        await until(
            lambda: len(self.api.calls("getUpdates")) > before or self.returncode is not None,
            START_TIMEOUT,
        )
        assert self.returncode is None, self.output()

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    async def wait(self, timeout: float = EXIT_TIMEOUT) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), timeout)

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.returncode

    def output(self) -> str:
        return "".join(
            (self.workdir / name).read_text(encoding="utf-8", errors="replace")
            for name in ("stdout.txt", "stderr.txt")
        )

    def stderr(self) -> str:
        return (self.workdir / "stderr.txt").read_text(encoding="utf-8", errors="replace")

    async def kill(self) -> None:
        """Teardown: end this process (by its own pid) if a failed test left it running."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


class StartProcess(Protocol):
    def __call__(
        self,
        name: str = "bot",
        *,
        database: Path | None = None,
        token: str | None = None,
        args: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> Awaitable[BotProcess]: ...


@pytest.fixture
async def start_process(fake_api: FakeBotApi, tmp_path: Path) -> AsyncIterator[StartProcess]:
    """Start `python -m bot run` in ``tmp_path/name`` (its working directory, with its output
    files), on ``database`` (default ``tmp_path/fragen.db``); killed at teardown if still up."""
    started: list[BotProcess] = []

    async def start(
        name: str = "bot",
        *,
        database: Path | None = None,
        token: str | None = None,
        args: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> BotProcess:
        process = BotProcess(
            fake_api,
            tmp_path / name,
            database or tmp_path / "fragen.db",
            token=token,
            args=args,
            env=env,
        )
        started.append(process)
        return await process.start()

    yield start
    for process in started:
        await process.kill()
