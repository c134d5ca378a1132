"""Faults that concern the whole process: real `python -m bot run` subprocesses against the fake
Bot API server (served by this test's event loop on 127.0.0.1), real SQLite files, real signals.

Each test is named in docs/reliability.md next to the guarantee it proves. The processes come
from the harness in tests/harness.py (and tests/opskit.py for a umask or without root's powers
over file permissions): waits are bounded and generous; nothing asserts how long something
took. Every test also scans the processes' output: no message text, name or id of a user.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sqlite3
import stat
import sys
from pathlib import Path
from typing import Any

import aiohttp
from fakebotapi import FakeBotApi
from harness import START_TIMEOUT, TEAM, USER, WAIT, StartProcess, question_update, until
from opskit import (  # noqa: F401 (fixtures)
    StartPlain,
    run_cli,
    scan_logs,
    status_of,
    umask_000,
    until_cli_status,
    until_status,
    without_root_powers,
)

from bot.config import DEFAULT_KB, PROJECT_ROOT
from bot.knowledge.schema import load_knowledge
from bot.log.writer import QuestionLog
from bot.runtime.liveness import CONFLICT, TOKEN_REJECTED
from bot.runtime.ops import heartbeat_path


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(database)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def card_question() -> str:
    """A question the bundled knowledge base answers with one card however it grows: the
    title of an entry (a word like "Sabbatical" turns ambiguous once a second entry names it)."""
    return load_knowledge(DEFAULT_KB).entries["arbeitszeitkonten"].title


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
    title = card_question()
    await second.ask(title)
    await until(lambda: not fake_api.pending_updates)  # the redelivery was confirmed, too

    assert fake_api.delivery_count(900_000_001) == 2
    texts = [m.text or "" for m in fake_api.messages(USER)]
    assert len(texts) == 2, texts
    assert "Spielekoffer" in texts[0] and texts[1].startswith(title)
    second.signal(signal.SIGTERM)
    assert await second.wait() == 0
    assert sorted(q for (q,) in query(database, "SELECT question FROM questions")) == sorted(
        [title, "Spielekoffer"]
    )


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


# --- liveness: a revoked token, an update nobody can parse, 409 Conflict -----------------------


async def test_token_revoked_while_running_exits_1_with_one_german_line(
    fake_api: FakeBotApi, start_process: StartProcess
) -> None:
    bot = await start_process()
    await bot.wait_polling()
    await bot.ask("Spielekoffer")

    fake_api.revoke_token()  # BotFather's /revoke: the running bot's token gets 401 from now on
    code = await bot.wait(START_TIMEOUT)  # the bound only guards against a bot that stays up

    assert code == 1
    assert bot.stderr().strip().splitlines()[-1] == TOKEN_REJECTED
    assert bot.output().count("Telegram lehnt das Token ab") == 1
    assert "Traceback" not in bot.output() and "Unclosed" not in bot.output()
    status = await status_of(bot.database)
    assert any(TOKEN_REJECTED.rstrip(".") in p for p in status.problems), status.problems


async def test_update_the_library_cannot_parse_is_skipped_and_the_others_answered(
    fake_api: FakeBotApi, start_process: StartProcess
) -> None:
    bot = await start_process()
    await bot.wait_polling()
    secret = "Vertrauliche Frage von Erika Mustermann zur Pflege"
    unreadable = question_update(900_000_011, secret, user=USER + 1)
    del unreadable["message"]["date"]  # python-telegram-bot cannot build a Message without it
    unreadable["message"]["from"].update(first_name="Erika", username="erika_mustermann")
    chatless = question_update(900_000_012, secret + " (ohne Chat)", user=USER + 1)
    del chatless["message"]["chat"]
    fake_api.send_update(question_update(900_000_010, "Spielekoffer", user=USER))
    fake_api.send_update(unreadable)
    fake_api.send_update(chatless)
    title = card_question()
    fake_api.send_update(question_update(900_000_013, title, user=USER + 2))
    polls_before = len(fake_api.calls("getUpdates"))

    [first] = await fake_api.wait_for_messages(USER, 1, timeout=WAIT)
    [last] = await fake_api.wait_for_messages(USER + 2, 1, timeout=WAIT)
    await until(lambda: not fake_api.pending_updates)  # the unreadable ones are confirmed, too

    assert "Spielekoffer" in (first.text or "") and (last.text or "").startswith(title)
    assert fake_api.messages(USER + 1) == []
    # No polling storm: a handful of getUpdates, not hundreds per second.
    assert len(fake_api.calls("getUpdates")) - polls_before < 20
    lines = [line for line in bot.stderr().splitlines() if "900000011" in line]
    assert len(lines) == 1 and "Update 900000011 übersprungen" in lines[0], lines
    assert "Mustermann" not in bot.output() and "Erika" not in bot.output()
    bot.signal(signal.SIGTERM)
    assert await bot.wait() == 0


async def test_conflict_409_says_in_german_that_another_process_polls_with_this_token(
    fake_api: FakeBotApi, start_process: StartProcess
) -> None:
    bot = await start_process()
    await bot.wait_polling()
    url = f"{fake_api.base_url}{fake_api.token}/getUpdates"

    async with aiohttp.ClientSession() as session:

        async def other_instance() -> None:
            while True:  # a second bot somewhere else, long polling with the same token
                async with session.post(url, data={"timeout": "1"}) as response:
                    await response.read()

        poller = asyncio.create_task(other_instance())
        try:
            await until(lambda: CONFLICT in bot.stderr())
            await until_status(bot.database, "409 Conflict")
            # enough failed polls that "once a minute at most" is tested, however slow the host
            await until(lambda: sum(c.status == 409 for c in fake_api.calls("getUpdates")) >= 3)
        finally:
            poller.cancel()
    conflicts = [c for c in fake_api.calls("getUpdates") if c.status == 409]
    # Said once a minute at most, not for every failed poll:
    assert 1 <= bot.stderr().count(CONFLICT) <= 2 < len(conflicts)
    assert "Fehler bei der Verarbeitung" not in bot.stderr()
    answer = await bot.ask("Spielekoffer")  # alone again, it serves
    assert "Spielekoffer" in (answer.text or "")


# --- no silent loss: answers in the send queue survive kill -9 ----------------------------------


async def test_kill_9_during_a_burst_loses_no_answer_and_repeats_none_twice(
    fake_api: FakeBotApi, tmp_path: Path, start_process: StartProcess
) -> None:
    queued = {"BOT_RATE_LIMIT": "30"}  # production's send rate: answers wait in the queue
    first = await start_process("first", env=queued)
    await first.wait_polling()
    users = range(50_000, 50_100)
    for user in users:
        fake_api.send_text(user, "Spielekoffer")
    await until(lambda: len(fake_api.messages()) >= 15)

    first.signal(signal.SIGKILL)  # while most answers still wait to be sent
    await first.wait()
    answered_before = len(fake_api.messages())
    second = await start_process("second", env=queued)
    await until(lambda: all(fake_api.messages(user) for user in users))
    await until(lambda: not fake_api.pending_updates)
    await asyncio.gather(*(second.barrier(user) for user in users[:5]))

    assert answered_before < len(users)  # the kill hit the burst
    counts = {user: len(fake_api.messages(user)) - (user in users[:5]) for user in users}
    assert set(counts.values()) <= {1, 2}, counts  # every answer arrives, at most once again
    second.signal(signal.SIGTERM)
    assert await second.wait() == 0


# --- one instance, really ---------------------------------------------------------------------


async def test_lock_holds_through_links_and_no_deleted_side_file_undoes_it(
    fake_api: FakeBotApi, tmp_path: Path, start_process: StartProcess
) -> None:
    database = tmp_path / "data" / "fragen.db"
    first = await start_process("first", database=database)
    await first.wait_polling()
    symlink = tmp_path / "symlink.db"
    symlink.symlink_to(database)
    hardlink = tmp_path / "hardlink.db"
    os.link(database, hardlink)

    for name, path in (("symlink", symlink), ("hardlink", hardlink)):
        other = await start_process(name, database=path)
        assert await other.wait(START_TIMEOUT) != 0
        assert "Es läuft bereits ein Bot mit dieser Datenbank" in other.stderr(), name
    # Whatever lies beside the database (heartbeat, a lock file of an older version), gone:
    (database.parent / "fragen.db.lock").touch()
    for side in database.parent.iterdir():
        if side != database and not side.name.endswith(("-wal", "-shm")):
            side.unlink()
    third = await start_process("third", database=database)
    assert await third.wait(START_TIMEOUT) != 0
    assert "Es läuft bereits ein Bot mit dieser Datenbank" in third.stderr()

    assert first.returncode is None
    assert "Spielekoffer" in ((await first.ask("Spielekoffer")).text or "")


# --- private files ----------------------------------------------------------------------------


async def test_database_wal_shm_key_heartbeat_and_folder_are_private_under_umask_000(
    fake_api: FakeBotApi, tmp_path: Path, start_plain: StartPlain
) -> None:
    database = tmp_path / "data" / "fragen.db"
    bot = await start_plain(database=database, env={"BOT_LOG_SECRET": ""}, preexec=umask_000)
    await bot.wait_polling()
    await bot.ask("Spielekoffer")
    expected = {"fragen.db", "fragen.db-wal", "fragen.db-shm", "fragen.db.key"}
    expected.add(heartbeat_path(database).name)
    await until(lambda: expected <= {p.name for p in database.parent.iterdir()})

    modes = {
        p.name: stat.S_IMODE(p.lstat().st_mode)
        for p in database.parent.iterdir()
        if not p.name.startswith(".")  # a heartbeat being written (created 0600 as well)
    }
    assert set(modes.values()) == {0o600}, {n: oct(m) for n, m in modes.items()}
    assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700
    bot.signal(signal.SIGTERM)
    assert await bot.wait() == 0


# --- the question log's file vanishes under the running bot -------------------------------------


async def test_vanished_database_is_recreated_the_team_is_told_and_status_is_red(
    fake_api: FakeBotApi, tmp_path: Path, start_process: StartProcess
) -> None:
    database = tmp_path / "fragen.db"
    bot = await start_process(env={"BOT_TEAM_IDS": str(TEAM)})
    await bot.wait_polling()
    await bot.ask("/hilfe", user=TEAM)  # the team member has a chat with the bot
    await bot.ask("Spielekoffer")
    await until(lambda: query(database, "SELECT COUNT(*) FROM questions") == [(1,)])

    database.unlink()
    await until_status(database, "fehlt, obwohl der Bot läuft")
    await bot.ask("Sabbatical")
    notice = await bot.message_after(TEAM, 1, "Frageprotokoll neu angelegt")

    assert "1 gespeicherte Frage ist verloren" in (notice.text or "")
    assert "wurde im laufenden Betrieb gelöscht; neu angelegt" in bot.stderr()
    await until(lambda: query(database, "SELECT question FROM questions") == [("Sabbatical",)])
    red = await until_status(database, "mit einer gelöschten Datenbank verloren")
    assert any("1× im laufenden Betrieb neu angelegt" in p for p in red.problems)
    # Acknowledged by an operator, the loss no longer turns the check red: all is well again.
    result = await run_cli(fake_api, database, "status", "--quittieren", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert "Alles in Ordnung." in result.stdout
    bot.signal(signal.SIGTERM)
    assert await bot.wait() == 0


# --- rows that cannot be written: pending, then lost at shutdown --------------------------------


async def test_unwritable_log_turns_status_red_and_a_loss_at_shutdown_stays_red(
    fake_api: FakeBotApi, tmp_path: Path, start_process: StartProcess
) -> None:
    database = tmp_path / "fragen.db"
    bot = await start_process()
    await bot.wait_polling()
    await bot.ask("Gleitzeit")
    await until(lambda: query(database, "SELECT COUNT(*) FROM questions") == [(1,)])
    blocker = sqlite3.connect(database, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # e.g. a report holding the write lock
    try:
        await bot.ask("Spielekoffer")  # answered at once; its row waits in memory
        await until_cli_status(
            fake_api,
            database,
            r"Frageprotokoll nicht beschreibbar \(database is locked\)",
            cwd=tmp_path,
        )
        bot.signal(signal.SIGTERM)
        assert await bot.wait() == 0
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()

    after = await status_of(database)
    assert any("1 Fragen konnten nicht protokolliert werden" in p for p in after.problems)
    result = await run_cli(fake_api, database, "status", "--quittieren", "--json", cwd=tmp_path)
    assert result.code == 1  # the bot does not run; the loss is acknowledged
    problems = result.json()["problems"]
    assert not any("protokolliert" in p for p in problems)
    assert any(p.startswith("Bot läuft nicht: beendet am") for p in problems), problems


# --- status: serving, killed, hung, deaf, heartbeat unwritable -----------------------------------


async def test_status_is_green_while_serving_and_red_as_json_once_killed(
    fake_api: FakeBotApi, tmp_path: Path, start_process: StartProcess
) -> None:
    bot = await start_process()
    await bot.wait_polling()
    await bot.ask("Spielekoffer")
    await until_status(bot.database, ".", present=False)  # the first heartbeat is written

    green = await run_cli(fake_api, bot.database, "status", cwd=tmp_path)
    assert green.code == 0, green.stderr
    assert green.stdout.strip().endswith("Alles in Ordnung.")
    bot.signal(signal.SIGKILL)
    await bot.wait()
    red = await run_cli(fake_api, bot.database, "status", "--json", cwd=tmp_path)

    assert red.code == 1
    data = red.json()
    assert data["ok"] is False and data["bot"]["running"] is False
    assert any(p.startswith("Bot läuft nicht mehr") for p in data["problems"]), data["problems"]
    assert data["database"]["questions"] == 1 and data["database"]["quick_check"] == "ok"


async def test_status_is_red_while_telegram_is_unreachable_and_green_again_after(
    fake_api: FakeBotApi, start_process: StartProcess
) -> None:
    bot = await start_process()
    await bot.wait_polling()
    await until_status(bot.database, ".", present=False)
    await fake_api.stop_http()
    red = await until_status(bot.database, "Telegram nicht erreichbar")
    await fake_api.start_http()
    await until_status(bot.database, "Telegram", present=False)
    assert any("Abfragen nacheinander gescheitert" in p for p in red.problems)


async def test_status_is_red_when_the_bot_hangs(
    fake_api: FakeBotApi, start_process: StartProcess
) -> None:
    bot = await start_process()
    await bot.wait_polling()
    await until_status(bot.database, ".", present=False)
    bot.signal(signal.SIGSTOP)  # alive, holding its lock, doing nothing
    try:
        red = await until_status(bot.database, "Letztes Lebenszeichen vor")
    finally:
        bot.signal(signal.SIGCONT)
    assert any("der Bot hängt" in p for p in red.problems)


async def test_status_is_red_when_the_heartbeat_cannot_be_written(
    fake_api: FakeBotApi, start_process: StartProcess
) -> None:
    bot = await start_process()
    await bot.wait_polling()
    beat = heartbeat_path(bot.database)
    await until(beat.exists)
    while not beat.is_dir():  # in the way of the next write, as a full disk would be
        beat.unlink(missing_ok=True)
        try:
            beat.mkdir()
        except FileExistsError:
            continue
    await until_status(bot.database, "aber sein Lebenszeichen")
    await until(lambda: "nicht schreibbar (IsADirectoryError)" in bot.stderr())
    beat.rmdir()
    await until_status(bot.database, ".", present=False)


async def test_status_is_red_for_pages_corrupted_inside_a_valid_file(
    fake_api: FakeBotApi, tmp_path: Path, start_process: StartProcess
) -> None:
    database = tmp_path / "fragen.db"
    bot = await start_process()
    await bot.wait_polling()
    await bot.ask("Spielekoffer")
    bot.signal(signal.SIGTERM)
    assert await bot.wait() == 0
    log = QuestionLog(database, bytes.fromhex("ab" * 32))
    for i in range(300):  # enough pages to damage one in the middle
        log.record(question=f"Frage {i} zur Pflege " + "und Teilzeit " * 10, outcome="answered",
                   entry_id="x", topic="y", score=1.0, kb_version="v", channel="terminal",
                   user_id=i)  # fmt: skip
    log.close()
    with database.open("r+b") as handle:
        pages = handle.seek(0, os.SEEK_END) // 4096
        handle.seek((pages - 2) * 4096)
        handle.write(b"\xff" * 4096)

    status = await status_of(database)
    assert any(re.search(r"beschädigt \(PRAGMA quick_check: ", p) for p in status.problems)


# --- the knowledge folder unreadable for the bot ------------------------------------------------


async def test_unreadable_knowledge_reaches_the_team_and_status_without_a_traceback(
    fake_api: FakeBotApi, tmp_path: Path, start_plain: StartPlain
) -> None:
    kb = Path(shutil.copytree(DEFAULT_KB, tmp_path / "kb"))
    env = {"BOT_KNOWLEDGE_DIR": str(kb), "BOT_TEAM_IDS": str(TEAM)}
    database = tmp_path / "fragen.db"
    bot = await start_plain(env=env, preexec=without_root_powers)  # permissions bind, also root
    await bot.wait_polling()
    await bot.ask("/hilfe", user=TEAM)

    async def status() -> str:
        result = await run_cli(fake_api, database, "status", cwd=tmp_path, env=env,
                               preexec=without_root_powers)  # fmt: skip
        assert result.code == 1 and "Traceback" not in result.stdout + result.stderr
        return result.stderr

    try:
        (kb / "massnahmen.yaml").chmod(0)
        file_report = await bot.message_after(
            TEAM, 1, r"massnahmen.yaml: Datei nicht lesbar \(keine Leserechte für den Bot\)"
        )
        answer = await bot.ask("Spielekoffer")  # the last good version keeps answering
        assert "keine Leserechte für den Bot" in await status()

        (kb / "massnahmen.yaml").chmod(0o644)
        kb.chmod(0)
        folder_report = await bot.message_after(
            TEAM, 2, r"Ordner der Wissensbasis nicht lesbar \(keine Leserechte für den Bot\)"
        )
        assert "Ordner der Wissensbasis nicht lesbar" in await status()
    finally:
        kb.chmod(0o755)
        (kb / "massnahmen.yaml").chmod(0o644)
    for report in (file_report, folder_report):
        assert (report.text or "").startswith("⚠️ Wissensbasis fehlerhaft")
    assert (answer.text or "").startswith(load_knowledge(kb).entries["spielekoffer"].title)


# --- backup -----------------------------------------------------------------------------------


async def test_backup_that_fails_leaves_no_part_file_and_a_good_one_is_private(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    broken = tmp_path / "kaputt.db"
    broken.write_bytes(b"kein SQLite, nur Text " * 1000)
    target = tmp_path / "sicherung" / "fragen.db"
    failed = await run_cli(fake_api, broken, "backup", str(target), cwd=tmp_path)
    assert failed.code == 1
    assert failed.stderr.startswith("Fehler: Sicherung fehlgeschlagen")
    assert list(target.parent.iterdir()) == []  # no .part file, no journal

    good = tmp_path / "fragen.db"
    log = QuestionLog(good, b"k" * 32)
    log.record(question="Gleitzeit", outcome="answered", entry_id="gleitzeit", topic="x",
               score=1.0, kb_version="v", channel="terminal", user_id=1)  # fmt: skip
    log.close()
    done = await run_cli(fake_api, good, "backup", str(target), cwd=tmp_path, preexec=umask_000)
    assert done.code == 0, done.stderr
    assert [p.name for p in target.parent.iterdir()] == ["fragen.db"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert query(target, "SELECT question FROM questions") == [("Gleitzeit",)]
