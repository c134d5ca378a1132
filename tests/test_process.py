"""Faults that concern the whole process: real `python -m bot run` subprocesses against the fake
Bot API server (served by this test's event loop on 127.0.0.1), real SQLite files, real signals.

Each test is named in docs/reliability.md next to the guarantee it proves. Waits are bounded and
generous; nothing asserts how long something took.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from botharness import question_update, until
from fakebotapi import FakeBotApi

from bot.config import DEFAULT_KB, PROJECT_ROOT

USER = 5151
START_TIMEOUT = 60.0  # a cold interpreter loads the knowledge base and the search index first
EXIT_TIMEOUT = 30.0  # systemd's TimeoutStopSec in docs/operations.md


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


class BotProcess:
    """One `python -m bot run`; stdout and stderr go to files so a full pipe never blocks it."""

    def __init__(
        self, api: FakeBotApi, workdir: Path, database: Path, token: str | None = None
    ) -> None:
        self.api = api
        self.workdir = workdir
        self.env = bot_env(api, database, token)
        self.proc: asyncio.subprocess.Process | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    async def start(self) -> BotProcess:
        with (
            (self.workdir / "stdout.txt").open("wb") as out,
            (self.workdir / "stderr.txt").open("wb") as err,
        ):
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
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


@pytest.fixture
async def processes() -> AsyncIterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for process in started:
        await process.kill()


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(database)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --- 3. a second instance on the same database ---------------------------------------------


async def test_second_instance_with_same_database_refuses_to_start(
    fake_api: FakeBotApi, tmp_path: Path, processes: list[BotProcess]
) -> None:
    database = tmp_path / "data" / "fragen.db"
    first = BotProcess(fake_api, tmp_path / "first", database)
    processes.append(await first.start())
    await first.wait_polling()
    get_me_before = len(fake_api.calls("getMe"))

    second = BotProcess(fake_api, tmp_path / "second", database)
    processes.append(await second.start())
    code = await second.wait(START_TIMEOUT)

    assert code != 0
    assert "Es läuft bereits ein Bot mit dieser Datenbank" in second.stderr()
    assert "fragen.db.lock" in second.stderr()
    assert "Traceback" not in second.output()
    assert len(fake_api.calls("getMe")) == get_me_before  # refused before talking to Telegram
    # The first instance is untouched and keeps answering.
    assert first.returncode is None
    fake_api.send_text(USER, "Spielekoffer")
    [reply] = await fake_api.wait_for_messages(USER, 1, timeout=30)
    assert "Spielekoffer" in (reply.text or "")


# --- 4. an invalid token ---------------------------------------------------------------------


async def test_invalid_token_fails_fast_with_german_message_and_never_shows_it(
    fake_api: FakeBotApi, tmp_path: Path, processes: list[BotProcess]
) -> None:
    secret_part = "AAWrongSecretPart_0123456789abcdefXYZ"
    wrong = f"7000000001:{secret_part}"
    bot = BotProcess(fake_api, tmp_path / "bot", tmp_path / "fragen.db", token=wrong)
    processes.append(await bot.start())
    code = await bot.wait(START_TIMEOUT)  # the bound only guards against a hang

    output = bot.output()
    assert code != 0
    assert bot.stderr().strip().splitlines()[-1] == (
        "Telegram lehnt das Token ab (TELEGRAM_BOT_TOKEN prüfen)."
    )
    assert wrong not in output and secret_part not in output
    assert "Unclosed client session" not in output  # nothing after the German line
    assert [c.method for c in fake_api.calls()] == ["getMe"]  # one answer of 401 suffices
    assert fake_api.calls("getMe")[0].status == 401


# --- 5. a redelivered update across a restart --------------------------------------------------


async def test_update_redelivered_after_restart_is_answered_and_logged_once(
    fake_api: FakeBotApi, tmp_path: Path, processes: list[BotProcess]
) -> None:
    database = tmp_path / "fragen.db"
    first = BotProcess(fake_api, tmp_path / "first", database)
    processes.append(await first.start())
    await first.wait_polling()
    update = question_update(900_000_001, "Spielekoffer", user=USER)
    fake_api.send_update(update)
    await fake_api.wait_for_messages(USER, 1, timeout=30)
    first.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
    assert await first.wait() == 0

    # Telegram never got the confirmation: the same update comes again to the next process.
    fake_api.send_update(update)
    second = BotProcess(fake_api, tmp_path / "second", database)
    processes.append(await second.start())
    await second.wait_polling()
    fake_api.send_text(USER, "Sabbatical")
    await fake_api.wait_for_messages(USER, 2, timeout=30)
    await until(lambda: not fake_api.pending_updates)  # the redelivery was confirmed, too

    assert fake_api.delivery_count(900_000_001) == 2
    texts = [m.text or "" for m in fake_api.messages(USER)]
    assert len(texts) == 2, texts
    assert "Spielekoffer" in texts[0] and "Sabbatical" in texts[1]
    second.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
    assert await second.wait() == 0
    assert sorted(q for (q,) in query(database, "SELECT question FROM questions")) == [
        "Sabbatical",
        "Spielekoffer",
    ]


# --- SIGTERM while handling updates ------------------------------------------------------------


async def test_sigterm_while_handling_exits_0_and_logs_every_received_question(
    fake_api: FakeBotApi, tmp_path: Path, processes: list[BotProcess]
) -> None:
    database = tmp_path / "fragen.db"
    bot = BotProcess(fake_api, tmp_path / "bot", database)
    processes.append(await bot.start())
    await bot.wait_polling()
    fake_api.delay_next("sendMessage", 1.0, times=20)  # answers are in flight at the signal
    users = range(USER, USER + 12)
    update_ids = [fake_api.send_text(user, "Spielekoffer") for user in users]
    await until(lambda: all(fake_api.delivery_count(u) for u in update_ids))
    await until(lambda: len(fake_api.calls("sendMessage")) >= 1)

    bot.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
    code = await bot.wait()

    assert code == 0, bot.output()
    assert "Traceback" not in bot.output()
    # Every received question was finished: answered, logged, and confirmed to Telegram.
    assert {m.chat_id for m in fake_api.messages()} == set(users)
    assert query(database, "SELECT COUNT(*) FROM questions") == [(len(users),)]
    assert fake_api.pending_updates == []


# --- 8. kill -9 in the middle of writes --------------------------------------------------------

WRITER = """
import sys
from pathlib import Path
from bot.log.writer import QuestionLog

log = QuestionLog(Path(sys.argv[1]), b"k" * 32)
for i in range(1_000_000):  # bounded; the test kills it long before
    qid = log.record(question=f"Frage {i} zur Gleitzeit", outcome="answered",
                     entry_id="gleitzeit", topic="arbeitszeit", score=0.9, kb_version="v1",
                     channel="telegram", user_id=i % 7)
    if i % 3 == 0:
        log.feedback(qid, True)
    log.flush()  # the writer thread commits; flush() waits for it
    if log.pending == 0:  # written in a committed transaction
        print(qid, flush=True)
"""


async def test_kill_9_during_writes_keeps_database_intact_and_every_committed_row(
    tmp_path: Path,
) -> None:
    database = tmp_path / "fragen.db"
    writer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WRITER,
        str(database),
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert writer.stdout is not None
    reported: list[str] = []
    try:
        while len(reported) < 400:
            line = await asyncio.wait_for(writer.stdout.readline(), 30)
            assert line.endswith(b"\n"), "writer ended early"
            reported.append(line.decode().strip())
    finally:
        writer.send_signal(signal.SIGKILL)  # mid-write: it never stops writing on its own
        rest = await asyncio.wait_for(writer.stdout.read(), 30)
        await writer.wait()
    # Lines that were complete before the kill count as reported, too.
    reported += [line.decode() for line in rest.split(b"\n")[:-1]]

    assert writer.returncode == -signal.SIGKILL
    assert query(database, "PRAGMA integrity_check") == [("ok",)]
    stored = {qid for (qid,) in query(database, "SELECT id FROM questions")}
    assert set(reported) <= stored
    assert query(database, "PRAGMA user_version")[0][0] >= 1
