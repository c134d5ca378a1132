"""Faults of a real network and of real admins: what must hold, shown against real parts.

Each test names the case of docs/reliability.md it proves.
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
from botharness import TEAM, USER, RunningBot
from fakebotapi import FakeBotApi

from bot import actions

ROOT = Path(__file__).resolve().parent.parent


async def _until(predicate: Any, timeout: float = 10.0) -> None:
    """Poll a condition with a generous bound (no timing assertions, only a cap)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.05)


# --- 1. Telegram unreachable ---------------------------------------------------------------


async def test_outage_messages_are_answered_once_after_recovery(running: RunningBot) -> None:
    await running.ask("Gleitzeit")
    await running.api.stop_http()
    running.api.send_text(USER, "Spielekoffer")
    running.api.send_text(USER + 1, "Sabbatical")
    await asyncio.sleep(1.5)  # the bot polls into a closed port meanwhile
    await running.api.start_http()
    await running.api.wait_for_messages(USER, 2, timeout=30)
    await running.api.wait_for_messages(USER + 1, 1, timeout=30)
    await asyncio.sleep(0.5)
    assert len(running.api.messages(USER)) == 2
    assert len(running.api.messages(USER + 1)) == 1
    assert sorted(r["question"] for r in running.rows()) == ["Gleitzeit", "Sabbatical",
                                                              "Spielekoffer"]


# --- 2. 429 ----------------------------------------------------------------------------------


async def test_429_answer_arrives_once_and_is_logged_once(running: RunningBot) -> None:
    running.api.fail_next("sendMessage", 429, retry_after=1)
    reply = await running.ask("Spielekoffer")
    assert "Spielekoffer" in (reply.text or "")
    await asyncio.sleep(0.3)
    assert len(running.api.messages(USER)) == 1
    assert [r["question"] for r in running.rows()] == ["Spielekoffer"]


# --- 5. the same update twice ----------------------------------------------------------------


async def test_redelivered_update_is_answered_and_logged_once(running: RunningBot) -> None:
    update_id = running.api.send_text(USER, "Gleitzeit")
    await running.api.wait_for_messages(USER, 1)
    first = running.api.messages(USER)[0].message
    running.api.send_update({"update_id": update_id, "message": {
        "message_id": 1, "date": first["date"], "chat": first["chat"],
        "from": {"id": USER, "is_bot": False, "first_name": "T"}, "text": "Gleitzeit"}})
    await _until(lambda: not running.api.pending_updates)
    await asyncio.sleep(0.3)
    assert len(running.api.messages(USER)) == 1
    assert len(running.rows()) == 1


# --- 6. an exception inside a handler --------------------------------------------------------


async def test_handler_exception_apologises_logs_failed_and_keeps_serving(
    running: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = running.application.bot_data["services"].library.current.index
    original = index.search

    def broken(question: str, **kwargs: Any) -> Any:
        if "kaputt" in question:
            raise RuntimeError("simulated bug")
        return original(question, **kwargs)

    monkeypatch.setattr(index, "search", broken)
    reply = await running.ask("mach mal kaputt")
    assert "etwas schiefgegangen" in (reply.text or "")
    answer = await running.ask("Spielekoffer", user=USER + 5)
    assert "Spielekoffer" in (answer.text or "")
    outcomes = {r["question"]: r["outcome"] for r in running.rows()}
    assert outcomes["mach mal kaputt"] == "failed"
    assert outcomes["Spielekoffer"] == "answered"


# --- 7. the database locked or read-only -----------------------------------------------------


async def test_locked_database_does_not_stop_answers_and_rows_follow(
    running: RunningBot,
) -> None:
    blocker = sqlite3.connect(running.log_path, timeout=0.1, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # a long report or admin session holding the write lock
    try:
        reply = await running.ask("Spielekoffer")
        assert "Spielekoffer" in (reply.text or "")
        assert running.log.pending >= 1
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert [r["question"] for r in running.rows()] == ["Spielekoffer"]
    assert running.log.dropped == 0


# --- 9. knowledge base edits gone wrong while running ----------------------------------------

BROKEN_EDITS = {
    "syntax error": ("massnahmen.yaml", "massnahmen:\n  - id: x\n   titel: [\n"),
    "unknown field": ("zusatz.yaml", "themen:\n  - id: neu\n    titel: Neu\n    farbe: rot\n"),
    "duplicate id": ("zusatz.yaml", "kontakte:\n  - id: amt-personal\n    name: X\n"
                                    "    antwort: Doppelt.\n"),
    "python tag": ("zusatz.yaml", "themen: !!python/object/apply:os.system ['true']\n"),
    "alias bomb": ("zusatz.yaml", 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
                                  "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                                  "c: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"),
    "half written": ("massnahmen.yaml", None),
}


@pytest.mark.parametrize("case", list(BROKEN_EDITS))
async def test_broken_edit_keeps_last_good_version_and_team_gets_file_and_line(
    running: RunningBot, case: str
) -> None:
    name, content = BROKEN_EDITS[case]
    path = running.kb_dir / name
    if content is None:
        text = path.read_text(encoding="utf-8")
        content = text[: len(text) // 2]  # an editor that died while saving
    path.write_text(content, encoding="utf-8")
    reply = await running.ask("/neuladen", user=TEAM)
    assert "fehlerhaft" in (reply.text or "")
    assert f"{name}" in (reply.text or "")
    answer = await running.ask("Spielekoffer")
    assert "Spielekoffer" in (answer.text or "")


async def test_huge_file_and_deleted_folder_are_rejected(running: RunningBot) -> None:
    with (running.kb_dir / "riesig.yaml").open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # 50 MB, sparse: refused by size, never parsed
    reply = await running.ask("/neuladen", user=TEAM)
    assert "riesig.yaml" in (reply.text or "") and "zu groß" in (reply.text or "")
    for path in running.kb_dir.iterdir():
        path.unlink()
    running.kb_dir.rmdir()
    running.api.send_text(TEAM, "/neuladen")
    await _until(lambda: any("nicht gefunden" in (m.text or "")
                             for m in running.api.messages(TEAM)))
    answer = await running.ask("Spielekoffer")
    assert "Spielekoffer" in (answer.text or "")


# --- 10. hostile or odd messages ----------------------------------------------------------------

ODD_MESSAGES = [
    "x" * 4096,
    "Elternzeit\x00\x00 bitte",
    "Pfle\u200bge\u200d für Oma",
    "\u202eegelfP\u202c",
    "😀😀😀🙈",
    "'; DROP TABLE questions; --",
    "<b>Elternzeit</b> & <i>Kita</i> *fett* _kursiv_ `code` [link](http://x)",
    "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichen" * 20,
]


@pytest.mark.parametrize("text", ODD_MESSAGES, ids=range(len(ODD_MESSAGES)))
async def test_odd_message_gets_a_valid_answer(running: RunningBot, text: str) -> None:
    reply = await running.ask(text)
    assert reply.text  # the fake server accepted the HTML, so it was well-formed
    errors = [c for c in running.api.calls("sendMessage") if not c.ok]
    assert errors == []


async def test_flood_from_one_user_is_slowed_without_slowing_others(
    running: RunningBot,
) -> None:
    services = running.application.bot_data["services"]
    limit = services.rate.per_minute
    for i in range(limit + 30):
        running.api.send_text(USER, f"Frage {i} zur Gleitzeit")
    running.api.send_text(USER + 9, "Spielekoffer")
    other = await running.api.wait_for_messages(USER + 9, 1, timeout=30)
    assert "Spielekoffer" in (other[0].text or "")
    await _until(lambda: not running.api.pending_updates, timeout=30)
    await asyncio.sleep(0.5)
    texts = [m.text or "" for m in running.api.messages(USER)]
    assert len(texts) == limit + 1
    assert sum("sehr viele Nachrichten" in t for t in texts) == 1


# --- 11. non-team users ----------------------------------------------------------------------


@pytest.mark.parametrize("data", ["x|0123456789", "f|abc|gleitzeit|1", "c|zzz|nicht-da",
                                  "n|", "t|../../etc", "\u00ff" * 70])
async def test_forged_callbacks_reveal_nothing(running: RunningBot, data: str) -> None:
    menu = await running.ask("/themen")
    running.api.send_callback(USER, data, menu.message_id, check_button=False)
    await _until(lambda: running.api.calls("answerCallbackQuery"))
    texts = " ".join(m.text or "" for m in running.api.messages(USER))
    assert "Reisepass" not in texts and "Fragen gesamt" not in texts
    assert actions.decode(data) is None or data.startswith(("x|", "f|", "c|"))


# --- 3, 4 and SIGTERM: the real process ------------------------------------------------------


def _env(api: FakeBotApi, tmp_path: Path, token: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_"))}
    env.update(TELEGRAM_BOT_TOKEN=token or api.token, TELEGRAM_BASE_URL=api.base_url,
               BOT_DATABASE=str(tmp_path / "log.db"), BOT_RATE_LIMIT="0",
               BOT_KNOWLEDGE_DIR=str(ROOT / "knowledge" / "koeln"), NO_PROXY="127.0.0.1")
    return env


@pytest.fixture
async def bot_process(fake_api: FakeBotApi, tmp_path: Path,
                      ) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=_env(fake_api, tmp_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await _until(lambda: fake_api.calls("getUpdates"), timeout=30)
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_second_instance_on_same_database_refuses_to_start(
    fake_api: FakeBotApi, tmp_path: Path, bot_process: asyncio.subprocess.Process
) -> None:
    second = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=_env(fake_api, tmp_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _out, err = await asyncio.wait_for(second.communicate(), 60)
    assert second.returncode != 0
    assert "Es läuft bereits ein Bot mit dieser Datenbank" in err.decode()
    assert bot_process.returncode is None  # the first one keeps running


async def test_invalid_token_fails_fast_without_leaking_it(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    wrong = "123456789:" + "W" * 35
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=_env(fake_api, tmp_path, wrong),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    output = (out + err).decode()
    assert proc.returncode != 0
    assert "Telegram lehnt das Token ab" in output
    assert wrong not in output and "W" * 35 not in output
    assert "Traceback" not in output


async def test_sigterm_finishes_and_logs_what_was_received(
    fake_api: FakeBotApi, tmp_path: Path, bot_process: asyncio.subprocess.Process
) -> None:
    for i in range(20):
        fake_api.send_text(1000 + i, "Spielekoffer")
    await _until(lambda: len(fake_api.messages()) >= 1, timeout=30)
    bot_process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(bot_process.wait(), 30)
    assert bot_process.returncode == 0
    answered = {m.chat_id for m in fake_api.messages()}
    conn = sqlite3.connect(tmp_path / "log.db")
    try:
        rows = conn.execute("SELECT COUNT(*) FROM questions").fetchone()[0]
    finally:
        conn.close()
    assert rows >= len(answered) >= 1


# --- 8. kill -9 in the middle of writes ------------------------------------------------------

WRITER = """
import sys
from pathlib import Path
from bot.questionlog import QuestionLog
log = QuestionLog(Path(sys.argv[1]), b"k" * 32)
i = 0
while True:
    qid = log.record(question=f"frage {i}", outcome="answered", entry_id="gleitzeit",
                     topic="arbeitszeit", score=0.9, kb_version="v", channel="terminal",
                     user_id=i)
    if log.pending == 0:
        print(qid, flush=True)
    i += 1
"""


async def test_kill_9_during_writes_loses_no_committed_row(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(db), cwd=ROOT, stdout=asyncio.subprocess.PIPE)
    committed: list[str] = []
    assert proc.stdout is not None
    while len(committed) < 300:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        committed.append(line.decode().strip())
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {r[0] for r in conn.execute("SELECT id FROM questions")}
    finally:
        conn.close()
    assert set(committed) <= stored
