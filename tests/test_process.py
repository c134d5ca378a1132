"""Faults that concern the whole process: real `python -m bot run` subprocesses against the fake
Bot API server (served by this test's event loop on 127.0.0.1), real SQLite files, real signals.

Each test is named in docs/reliability.md next to the guarantee it proves. The processes come
from the harness in tests/harness.py: waits are bounded and generous; nothing asserts how long
something took.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

from fakebotapi import FakeBotApi
from harness import START_TIMEOUT, USER, StartProcess, question_update, until

from bot.config import PROJECT_ROOT


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(database)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --- 3. a second instance on the same database ---------------------------------------------


async def test_second_instance_with_same_database_refuses_to_start(
    fake_api: FakeBotApi, tmp_path: Path, start_process: StartProcess
) -> None:
    database = tmp_path / "data" / "fragen.db"
    first = await start_process("first", database=database)
    await first.wait_polling()
    get_me_before = len(fake_api.calls("getMe"))

    second = await start_process("second", database=database)
    code = await second.wait(START_TIMEOUT)

    assert code != 0
    assert "Es läuft bereits ein Bot mit dieser Datenbank" in second.stderr()
    assert f"{database} ist gesperrt" in second.stderr()
    assert "Traceback" not in second.output()
    assert len(fake_api.calls("getMe")) == get_me_before  # refused before talking to Telegram
    # The first instance is untouched and keeps answering.
    assert first.returncode is None
    fake_api.send_text(USER, "Spielekoffer")
    [reply] = await fake_api.wait_for_messages(USER, 1, timeout=30)
    assert "Spielekoffer" in (reply.text or "")


# --- 4. an invalid token ---------------------------------------------------------------------


async def test_invalid_token_fails_fast_with_german_message_and_never_shows_it(
    fake_api: FakeBotApi, start_process: StartProcess
) -> None:
    secret_part = "AAWrongSecretPart_0123456789abcdefXYZ"
    wrong = f"7000000001:{secret_part}"
    bot = await start_process(token=wrong)
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
    fake_api: FakeBotApi, tmp_path: Path, start_process: StartProcess
) -> None:
    database = tmp_path / "fragen.db"
    first = await start_process("first", database=database)
    await first.wait_polling()
    update = question_update(900_000_001, "Spielekoffer", user=USER)
    fake_api.send_update(update)
    await fake_api.wait_for_messages(USER, 1, timeout=30)
    first.signal(signal.SIGTERM)
    assert await first.wait() == 0

    # Telegram never got the confirmation: the same update comes again to the next process.
    fake_api.send_update(update)
    second = await start_process("second", database=database)
    await second.wait_polling()
    await second.ask("Sabbatical")
    await until(lambda: not fake_api.pending_updates)  # the redelivery was confirmed, too

    assert fake_api.delivery_count(900_000_001) == 2
    texts = [m.text or "" for m in fake_api.messages(USER)]
    assert len(texts) == 2, texts
    assert "Spielekoffer" in texts[0] and "Sabbatical" in texts[1]
    second.signal(signal.SIGTERM)
    assert await second.wait() == 0
    assert sorted(q for (q,) in query(database, "SELECT question FROM questions")) == [
        "Sabbatical",
        "Spielekoffer",
    ]


# --- SIGTERM while handling updates ------------------------------------------------------------


async def test_sigterm_while_handling_exits_0_and_logs_every_received_question(
    fake_api: FakeBotApi, tmp_path: Path, start_process: StartProcess
) -> None:
    database = tmp_path / "fragen.db"
    bot = await start_process(database=database)
    await bot.wait_polling()
    fake_api.delay_next("sendMessage", 1.0, times=20)  # answers are in flight at the signal
    users = range(USER, USER + 12)
    update_ids = [fake_api.send_text(user, "Spielekoffer") for user in users]
    await until(lambda: all(fake_api.delivery_count(u) for u in update_ids))
    await until(lambda: len(fake_api.calls("sendMessage")) >= 1)

    bot.signal(signal.SIGTERM)
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
