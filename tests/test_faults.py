"""Production faults and bad input, shown with real parts: the real Application polling the fake
Bot API server over HTTP on 127.0.0.1, the real question log in a SQLite file under tmp_path and
real YAML files of a copy of the Köln knowledge base.

Each test is named in docs/reliability.md next to the guarantee it proves. The bot runs in the
harness of tests/harness.py: waits are bounded and generous, nothing asserts how long something
took, and "no further message" is shown with its barrier, never with a sleep. The subprocess
cases (second instance, invalid token, restart, SIGTERM, kill -9) are in tests/test_process.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Callable
from html import escape, unescape
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fakebotapi import BotMessage, FakeBotApi
from harness import OTHER, TEAM, USER, LiveBot, StartBot, question_update, until
from opskit import scan_logs, until_cli_status  # noqa: F401 (scan_logs: every test's logs)
from telegram.error import NetworkError

from bot.chat.cards import split_message
from bot.chat.conversation import STALE, Conversation
from bot.cli import cli
from bot.config import DEFAULT_KB
from bot.log import schema as logschema
from bot.log.writer import QuestionLog
from bot.runtime.ops import InstanceLock, read_heartbeat
from bot.search.index import SearchIndex
from bot.search.library import Library

UNKNOWN_COMMAND = "Diesen Befehl kenne ich nicht. /hilfe zeigt, was ich kann."
APOLOGY = "Entschuldigung, da ist bei mir etwas schiefgegangen."
SLOW_DOWN = "Das sind gerade sehr viele Nachrichten auf einmal."


# --- 1. Telegram unreachable -------------------------------------------------------------------


def failures(caplog: pytest.LogCaptureFixture, logger: str, message: str = "") -> int:
    """How many network errors ``logger`` has reported so far (with ``message`` at the start)."""
    return sum(
        1
        for r in caplog.records
        if r.name == logger
        and r.getMessage().startswith(message)
        and (r.exc_info is None or isinstance(r.exc_info[1], NetworkError))
    )


async def test_outage_while_polling_answers_and_logs_each_message_once_after_recovery(
    running: LiveBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await running.ask("Gleitzeit")
    await running.api.stop_http()
    running.api.send_text(USER, "Spielekoffer")
    running.api.send_text(OTHER, "Sabbatical")
    running.api.send_text(USER, "Oma braucht Pflege")
    # The poll in flight is cut, the next one is refused: the bot keeps polling a closed port.
    await until(lambda: failures(caplog, "telegram.ext.Updater") >= 2)
    assert running.application.updater.running and running.application.running  # no crash

    await running.api.start_http()
    await running.api.wait_for_messages(USER, 3, timeout=60)
    await running.api.wait_for_messages(OTHER, 1, timeout=60)
    await running.settled(4)

    assert [m.method for m in running.api.messages(USER)] == ["sendMessage"] * 3
    assert len(running.api.messages(OTHER)) == 1
    assert sorted(r["question"] for r in running.rows()) == [
        "Gleitzeit",
        "Oma braucht Pflege",
        "Sabbatical",
        "Spielekoffer",
    ]


async def test_outage_while_sending_delivers_the_answer_once_and_logs_it_once(
    running: LiveBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    running.api.delay_next("sendMessage", 2.0)  # the answer is on the wire when Telegram goes away
    running.api.send_text(USER, "Spielekoffer")
    await until(lambda: len(running.api.calls("sendMessage")) == 1)
    await running.api.stop_http()  # cuts the request in flight; new connections are refused
    # Until the send in flight failed and its first retry was refused.
    await until(lambda: failures(caplog, "vereinbar", "Telegram nicht erreichbar") >= 2)
    await running.api.start_http()

    [answer] = await running.api.wait_for_messages(USER, 1, timeout=60)
    await running.settled(1)

    assert "Spielekoffer" in (answer.text or "")
    assert len(await running.barrier()) == 1  # no apology, no duplicate
    assert [(r["question"], r["outcome"]) for r in running.rows()] == [("Spielekoffer", "answered")]


# --- 2. 429 Too Many Requests ------------------------------------------------------------------


async def test_429_with_retry_after_delivers_the_answer_once_after_the_wait(
    running: LiveBot,
) -> None:
    running.api.fail_next("sendMessage", 429, retry_after=1)
    answer = await running.ask("Spielekoffer")

    assert "Spielekoffer" in (answer.text or "")
    assert [c.status for c in running.api.calls("sendMessage")] == [429, 200]
    assert len(await running.barrier()) == 1
    assert [r["outcome"] for r in running.rows()] == ["answered"]


# --- 5. the same update twice ------------------------------------------------------------------


async def test_update_redelivered_after_confirmation_is_answered_and_logged_once(
    running: LiveBot,
) -> None:
    update = question_update(800_000_001, "Spielekoffer", user=USER)
    running.api.send_update(update)
    await running.api.wait_for_messages(USER, 1)
    await until(lambda: not running.api.pending_updates)  # confirmed to "Telegram"

    running.api.send_update(update)  # e.g. Telegram lost the confirmation
    await running.ask("Sabbatical")
    await until(lambda: not running.api.pending_updates)

    assert running.api.delivery_count(800_000_001) == 2
    assert len(running.api.messages(USER)) == 2
    assert sorted(r["question"] for r in running.rows()) == ["Sabbatical", "Spielekoffer"]


async def test_update_redelivered_to_a_restarted_bot_is_answered_and_logged_once(
    start_bot: StartBot,
    fake_api: FakeBotApi,
) -> None:
    first = await start_bot()
    update = question_update(800_000_002, "Spielekoffer", user=USER)
    fake_api.send_update(update)
    await fake_api.wait_for_messages(USER, 1)
    await first.stop()  # a restart: memory is gone, the database stays

    second = await start_bot()
    fake_api.send_update(update)
    await second.ask("Sabbatical")
    await until(lambda: not fake_api.pending_updates)

    assert fake_api.delivery_count(800_000_002) == 2
    assert len(fake_api.messages(USER)) == 2
    assert sorted(r["question"] for r in second.rows()) == ["Sabbatical", "Spielekoffer"]


def test_handled_update_ids_are_written_with_the_question_row(tmp_path: Path) -> None:
    """The mark and the question row share one transaction; the table holds no link to either
    the question or the person, and a version-1 file is migrated in place."""
    database = tmp_path / "fragen.db"
    conn = sqlite3.connect(database, isolation_level=None)
    db = logschema.connect(database, busy_timeout_ms=100)
    logschema._migrate_v1(db)  # a log written by the previous version
    db.conn.execute("PRAGMA user_version=1")
    db.close()

    log = QuestionLog(database, b"k" * 32)
    log.mark_handled(41)
    log.record(
        question="Spielekoffer",
        outcome="answered",
        entry_id="spielekoffer",
        topic="familienservice",
        score=1.0,
        kb_version="v",
        channel="telegram",
        user_id=USER,
    )
    log.flush()  # the writer thread writes in the background; wait for it
    assert log.pending == 0  # row and mark went out together
    log.mark_handled(42)  # e.g. a button click: written with the next flush
    log.flush()
    log.close()

    assert conn.execute("PRAGMA user_version").fetchone()[0] == logschema.SCHEMA_VERSION
    columns = [r[1] for r in conn.execute(f"PRAGMA table_info({logschema.HANDLED})")]
    assert columns == ["update_id", "day"]
    assert QuestionLog(database, b"k" * 32).handled_updates() == [41, 42]
    conn.close()


# --- 6. an exception inside a handler ----------------------------------------------------------


async def test_exception_in_a_handler_apologises_logs_failed_and_keeps_serving(
    running: LiveBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    search = SearchIndex.search

    def buggy_search(self: SearchIndex, question: str, *args: Any, **kwargs: Any) -> Any:
        if "Sollbruchstelle" in question:
            raise RuntimeError("simulated bug")
        return search(self, question, *args, **kwargs)

    monkeypatch.setattr(SearchIndex, "search", buggy_search)

    reply = await running.ask("Sollbruchstelle bei der Gleitzeit")
    assert (reply.text or "").startswith(APOLOGY)
    assert "RuntimeError" not in (reply.text or "") and "simulated" not in (reply.text or "")
    other = await running.ask("Spielekoffer", user=OTHER)
    again = await running.ask("Spielekoffer")
    assert "Spielekoffer" in (other.text or "") and "Spielekoffer" in (again.text or "")

    assert [(r["question"], r["outcome"]) for r in running.rows()] == [
        ("Sollbruchstelle bei der Gleitzeit", "failed"),
        ("Spielekoffer", "answered"),
        ("Spielekoffer", "answered"),
    ]
    assert "Fehler bei der Verarbeitung: RuntimeError" in caplog.text
    assert "Sollbruchstelle" not in caplog.text  # the process log holds no message text


async def test_failed_send_after_logging_is_not_logged_twice(running: LiveBot) -> None:
    running.api.fail_next("sendMessage", 400, description="Bad Request: can't parse entities")
    reply = await running.ask("Spielekoffer")

    assert (reply.text or "").startswith(APOLOGY)
    assert [(r["question"], r["outcome"]) for r in running.rows()] == [("Spielekoffer", "answered")]


# --- 7. the database locked, read-only or full ---------------------------------------------------


class Trouble:
    """New connections of the question log get a PRAGMA that makes writes fail."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pragma: str | None = None
        original = logschema.connect

        def connect(path: Path, *, busy_timeout_ms: int) -> Any:
            db = original(path, busy_timeout_ms=busy_timeout_ms)
            if self.pragma:
                db.conn.execute(self.pragma)
            return db

        monkeypatch.setattr(logschema, "connect", connect)


async def ask_many(bot: LiveBot, count: int) -> list[BotMessage]:
    """One question each from ``count`` new users; all answers."""
    users = range(20_000, 20_000 + count)
    for user in users:
        bot.api.send_text(user, "Spielekoffer")
    for user in users:
        await bot.api.wait_for_messages(user, 1, timeout=30)
    return [bot.api.messages(user)[0] for user in users]


async def test_database_locked_by_a_long_transaction_answers_flow_rows_follow(
    running: LiveBot,
) -> None:
    await running.ask("Gleitzeit")
    blocker = sqlite3.connect(running.database, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # e.g. a long report or backup holding the write lock
    try:
        answers = await ask_many(running, 5)
        assert all("Spielekoffer" in (a.text or "") for a in answers)
        await until(lambda: running.log.pending >= 5 and running.log.last_error is not None)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await until(lambda: running.log.pending == 0)  # the maintenance loop writes them

    assert [r["question"] for r in running.rows()] == ["Gleitzeit"] + ["Spielekoffer"] * 5
    assert running.log.dropped == 0


@pytest.mark.parametrize(
    "pragma", ["PRAGMA query_only=ON", "PRAGMA max_page_count={pages}"], ids=["read-only", "full"]
)
async def test_database_read_only_or_full_answers_flow_rows_follow(
    running: LiveBot,
    monkeypatch: pytest.MonkeyPatch,
    pragma: str,
) -> None:
    await running.ask("Gleitzeit")
    running.log.flush()  # written before the trouble starts (the writer thread may still hold it)
    pages = sqlite3.connect(running.database).execute("PRAGMA page_count").fetchone()[0]
    trouble = Trouble(monkeypatch)
    trouble.pragma = pragma.format(pages=pages)
    running.log.close()  # the next write opens a connection that cannot write

    for i in range(20):
        running.api.send_text(30_000 + i, f"Spielekoffer {i} " + "bitte " * 60)  # fills pages
    for i in range(20):
        [answer] = await running.api.wait_for_messages(30_000 + i, 1, timeout=30)
        assert answer.text and not answer.text.startswith(APOLOGY)
    # rows wait in memory, in order
    await until(lambda: running.log.pending > 0 and running.log.last_error is not None)

    trouble.pragma = None
    await until(lambda: running.log.pending == 0)

    assert len(running.rows()) == 21 and running.log.dropped == 0


async def test_database_unwritable_too_long_counts_the_loss(
    start_bot: StartBot,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    trouble = Trouble(monkeypatch)
    trouble.pragma = "PRAGMA query_only=ON"
    bot = await start_bot(log_options={"max_pending": 3})
    answers = await ask_many(bot, 5)
    assert all("Spielekoffer" in (a.text or "") for a in answers)  # answers never wait for it
    assert bot.log.dropped == 2

    trouble.pragma = None
    await until(lambda: bot.log.pending == 0)
    assert len(bot.rows()) == 3
    conn = sqlite3.connect(bot.database)
    assert conn.execute("SELECT value FROM log_meta WHERE key = 'dropped_rows'").fetchone() == (2,)
    conn.close()

    # ...and monitoring sees it: the heartbeat carries the count, `status` exits 1.
    await until(lambda: (read_heartbeat(bot.database) or {}).get("log_dropped") == 2)
    for name in [n for n in os.environ if n.startswith(("BOT_", "TELEGRAM_"))]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["status", "--kb", str(bot.kb_dir), "--db", str(bot.database)])
    assert result.exit_code == 1
    assert "2 Fragen konnten nicht protokolliert werden" in result.output


# --- 9. knowledge base edits gone wrong while running -------------------------------------------


def _edit(kb: Path, file: str, old: str, new: str) -> None:
    path = kb / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")


def _edit_first(kb: Path, file: str, pattern: str, new: str) -> None:
    """Like ``_edit`` on the first line matching ``pattern``: no wording of the bundled
    knowledge base to keep in step with."""
    path = kb / file
    text, count = re.subn(pattern, new, path.read_text(encoding="utf-8"), count=1, flags=re.M)
    assert count == 1, pattern
    path.write_text(text, encoding="utf-8")


def _write(kb: Path, file: str, text: str) -> None:
    (kb / file).write_text(text, encoding="utf-8")


def _half(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text[: text.index('antwort: "', len(text) // 2) + 60]


ALIAS_BOMB = (
    "\n".join(
        [f"lol0: &l0 [{', '.join(['lol'] * 9)}]"]
        + [f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    )
    + "\n"
)  # nine levels: 9**10 strings if anything expanded it
MARKER = "pwned.txt"

BAD_EDITS: dict[str, tuple[Callable[[Path], None], str]] = {
    "syntax-error": (
        lambda kb: _edit_first(kb, "massnahmen.yaml", r"^    thema: (\S+)$", r"    thema: [\1"),
        r"massnahmen.yaml, Zeile \d+: YAML-Syntaxfehler",
    ),
    "unknown-field": (
        lambda kb: _edit_first(kb, "massnahmen.yaml", r"^(    titel: .*)$", r"\1\n    farbe: blau"),
        r"massnahmen.yaml, Zeile \d+: Eintrag '[a-z0-9-]+': unbekanntes Feld 'farbe'",
    ),
    "duplicate-id": (
        lambda kb: _edit(kb, "massnahmen.yaml", "  - id: spielekoffer\n", "  - id: gleitzeit\n"),
        r"massnahmen.yaml, Zeile \d+: Eintrag 'gleitzeit': id doppelt vergeben \(zuerst in "
        r".*massnahmen.yaml, Zeile \d+\)",
    ),
    "python-tag": (
        lambda kb: _write(
            kb,
            "zusatz.yaml",
            f"massnahmen: !!python/object/apply:os.system\n  - touch {kb / MARKER}\n",
        ),
        r"zusatz.yaml, Zeile 1: YAML-Tag 'tag:yaml.org,2002:python/object/apply:os.system' ist "
        r"nicht erlaubt",
    ),
    "alias-bomb": (
        lambda kb: _write(kb, "zusatz.yaml", ALIAS_BOMB),
        r"zusatz.yaml, Zeile 1: Anker \(&name\) sind nicht erlaubt",
    ),
    "50-MB-file": (
        lambda kb: _write(kb, "zusatz.yaml", "massnahmen:\n" + "  - id: x\n" * 5_000_000),
        r"zusatz.yaml: Datei ist zu groß \(48828 KB, höchstens 976 KB erlaubt\)",
    ),
    "deleted-folder": (lambda kb: shutil.rmtree(kb), r"kb: Ordner der Wissensbasis nicht gefunden"),
    "half-written": (  # the editor's write stopped inside an answer text
        lambda kb: _write(kb, "massnahmen.yaml", _half(DEFAULT_KB / "massnahmen.yaml")),
        r"massnahmen.yaml, Zeile \d+: YAML-Syntaxfehler",
    ),
    "yaml-is-a-folder": (  # 9 counselling entries would silently be gone
        lambda kb: _replace_by_folder(kb / "beratungsangebote.yaml"),
        r"beratungsangebote.yaml: ist ein Ordner, keine Datei",
    ),
    "dangling-link": (
        lambda kb: (kb / "zusatz.yaml").symlink_to(kb / "gibt-es-nicht.yaml"),
        r"zusatz.yaml: ist keine lesbare Datei",
    ),
    "5000-char-title": (
        lambda kb: _edit_first(
            kb, "massnahmen.yaml", r"^    titel: .*$", f'    titel: "{"Titel " * 833}xx"'
        ),
        r"massnahmen.yaml, Zeile \d+: Eintrag '[a-z0-9-]+': Feld 'titel' ist zu lang "
        r"\(5000 Zeichen, höchstens 100\)",
    ),
    "60-kB-answer": (
        lambda kb: _edit_first(
            kb,
            "massnahmen.yaml",
            r'^    antwort: "',
            '    antwort: "' + "Eine lange Antwort. " * 3000,
        ),
        r"Eintrag '[a-z0-9-]+': Feld 'antwort' ist zu lang \(\d{5} Zeichen, höchstens 2500\)",
    ),
}


def _replace_by_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize("kind", list(BAD_EDITS))
async def test_broken_knowledge_edit_is_rejected_and_last_good_version_keeps_answering(
    running: LiveBot,
    kind: str,
) -> None:
    edit, expected = BAD_EDITS[kind]
    good = running.services.library.current
    await running.ask("Spielekoffer")

    edit(running.kb_dir)
    before = len(running.api.messages(TEAM))
    running.api.send_text(TEAM, "/neuladen")
    # (The hot reload may report the same edit on its own; any report naming it will do.)
    report = await running.message_after(TEAM, before, expected)

    assert (report.text or "").startswith(
        "⚠️ Wissensbasis fehlerhaft – es antwortet weiter die letzte gültige Version"
    )
    answer = await running.ask("Spielekoffer")
    assert (answer.text or "").startswith(good.kb.entries["spielekoffer"].title)
    assert running.services.library.current is good
    assert not (running.kb_dir / MARKER).exists()

    # Once the admin repairs the folder, the bot takes the good files again.
    shutil.rmtree(running.kb_dir, ignore_errors=True)
    shutil.copytree(DEFAULT_KB, running.kb_dir)
    before = len(running.api.messages(TEAM))
    running.api.send_text(TEAM, "/neuladen")
    await running.message_after(TEAM, before, "✅ Wissensbasis neu geladen")
    assert running.services.library.current.kb.version == good.kb.version


# --- 10. hostile or odd messages -----------------------------------------------------------------

ODD_MESSAGES = {
    "4096-chars": ("Wie funktioniert Gleitzeit bei der Stadt? " * 100)[:4096],
    "nul-zero-width-rtl": "Gleit\x00zeit\u200b und \u202eKita\u202c \u200fPflege\u200e?",
    "only-emoji": "👶🍼🏠❤️👨‍👩‍👧",
    "sql": "'; DROP TABLE questions; -- Gleitzeit\" OR 1=1; --",
    "html-markdown": "<b>Gleitzeit</b> & <script>alert(1)</script> *fett* _kursiv_ `code` [a](b)",
    "html-entities": "&lt;Kita&gt; &amp; &#0; &#x110000; &bogus; </b></i>",
    "long-word": "Elternzeit" * 409,
    "control-only": "\x00\x01\x02\u200b\u202e",
    "bidi-arabic": "مرحبا Kita שלום",
}


async def test_odd_messages_are_answered_with_parsable_replies_and_logged(
    running: LiveBot,
) -> None:
    users = {name: USER + i for i, name in enumerate(ODD_MESSAGES)}
    for name, text in ODD_MESSAGES.items():
        running.api.send_text(users[name], text)
    for name in ODD_MESSAGES:
        [reply] = await running.api.wait_for_messages(users[name], 1, timeout=30)
        assert reply.text and not reply.text.startswith(APOLOGY), name
    await running.settled(len(ODD_MESSAGES))
    answered = await asyncio.gather(*(running.barrier(u) for u in users.values()))

    assert all(c.status == 200 for c in running.api.calls("sendMessage"))  # every reply parsed
    assert all(len(before) == 1 for before in answered)
    rows = running.rows()  # the table survived the SQL fragment; stored as plain text
    assert all(r["outcome"] != "failed" for r in rows)
    stored = [r["question"] for r in rows]
    assert "'; DROP TABLE questions; -- Gleitzeit\" OR 1=1; --" in stored
    assert not any("\x00" in q or "\u200b" in q or "\u202e" in q for q in stored)
    assert all(len(q) <= 500 for q in stored)
    # Messages without a single letter or digit get a hint and are not logged.
    assert len(rows) == len(ODD_MESSAGES) - 2


async def test_burst_of_500_from_one_user_is_slowed_kindly_once_other_user_still_answered(
    running: LiveBot,
) -> None:
    for i in range(250):
        running.api.send_text(USER, f"Gleitzeit {i}")
    running.api.send_text(OTHER, "Spielekoffer")
    for i in range(250, 500):
        running.api.send_text(USER, f"Gleitzeit {i}")

    [other] = await running.api.wait_for_messages(OTHER, 1, timeout=60)
    await running.settled(501)
    limit = running.services.settings.user_rate
    await running.api.wait_for_messages(USER, limit + 1, timeout=60)
    # USER is slowed down and gets no /hilfe reply; a button press passes the barrier.
    before = await running.barrier(press=running.api.messages(USER)[0])

    assert "Spielekoffer" in (other.text or "")
    texts = [m.text or "" for m in before]
    assert len(texts) == limit + 1
    assert sum(t.startswith(SLOW_DOWN) for t in texts) == 1
    assert texts[limit].startswith(SLOW_DOWN)
    rows = running.rows()
    assert len(rows) == limit + 1  # the dropped messages are not logged as questions either


# --- 11. non-team users and forged buttons -------------------------------------------------------


async def test_team_commands_reveal_nothing_to_others(running: LiveBot) -> None:
    await running.ask("Reisepass beantragen", user=OTHER)  # an open question the team could see
    unknown = await running.ask("/gibtsnicht")
    replies = [
        await running.ask(command)
        for command in (
            "/statistik",
            "/luecken",
            "/neuladen",
            "/statistik@vereinbar_test_bot",
            "/luecken 30",
        )
    ]

    assert unknown.text == UNKNOWN_COMMAND
    for reply in replies:
        assert (reply.text, reply.reply_markup) == (unknown.text, unknown.reply_markup)
    assert running.api.calls("sendPhoto") == [] and running.api.calls("sendDocument") == []
    assert running.api.messages(TEAM) == []
    assert not any("Reisepass" in (m.text or "") for m in running.api.messages(USER))


FORGED = [
    "x|0123456789",
    "x|" + "a" * 40,
    "c|AAAAAAAAAAA|gibt-es-nicht",
    "c|AAAAAAAAAAA",
    "f|AAAAAAAAAAA|gleitzeit|2",
    "f|AAAAAAAAAAA|gibt-es-nicht|1",
    "t|statistik",
    "e|../../etc/passwd",
    "m|extra",
    "\x00\xff\xfe|garbage",
    bytes(range(1, 64)).decode("latin-1"),
    "x" * 200,
]


async def test_forged_callback_data_gets_the_stale_menu_and_reveals_nothing(
    running: LiveBot,
) -> None:
    gap = await running.ask("Wie hoch ist der Kölner Dom", user=OTHER)
    menu = await running.ask("/themen")
    for data in FORGED:
        running.api.send_callback(USER, data, menu.message_id, check_button=False)
    await until(lambda: len(running.api.calls("answerCallbackQuery")) == len(FORGED))
    before = await running.barrier()

    toasts = [c.params.get("text") for c in running.api.calls("answerCallbackQuery")]
    assert toasts == ["Menü veraltet"] * len(FORGED)
    shown = {m.text for m in before[1:]}
    assert shown <= {STALE}
    assert running.api.messages(TEAM) == [] and running.api.calls("sendPhoto") == []
    conn = sqlite3.connect(running.database)
    assert conn.execute("SELECT COUNT(*) FROM ignored_groups").fetchone() == (0,)
    conn.close()
    assert "weiß ich leider nichts" in (gap.text or "")


async def test_forged_feedback_for_a_guessed_question_id_changes_nothing(running: LiveBot) -> None:
    await running.ask("Spielekoffer", user=OTHER)
    menu = await running.ask("/themen")
    running.api.send_callback(
        USER, "f|AAAAAAAAAAA|spielekoffer|0", menu.message_id, check_button=False
    )
    await until(lambda: len(running.api.calls("answerCallbackQuery")) == 1)

    [row] = running.rows()
    assert row["feedback"] is None  # someone else's question stays untouched


def test_stale_reply_is_the_same_for_every_forged_kind() -> None:
    library, _ = Library.open(DEFAULT_KB)
    assert library is not None
    conversation = Conversation(lambda: library.current)
    replies = {conversation.press(data) for data in FORGED}
    assert {(r.text, r.notice) for r in replies} == {(STALE, "Menü veraltet")}


# --- 12. knowledge: a reload that drops entries, limits, HTML over several messages -------------


async def test_reload_that_drops_entries_tells_the_team_which(running: LiveBot) -> None:
    await running.ask("/hilfe", user=TEAM)
    good = running.services.library.current
    before = len(running.api.messages(TEAM))

    (running.kb_dir / "beratungsangebote.yaml").unlink()  # still a valid knowledge base
    notice = await running.message_after(TEAM, before, "Einträge sind nicht mehr enthalten")

    assert running.services.library.current is not good  # the smaller version serves now
    assert (notice.text or "").startswith("ℹ️ Wissensbasis neu geladen")
    gone = [e for e in good.kb.entries.values() if Path(e.file).name == "beratungsangebote.yaml"]
    assert f"{len(gone)} Einträge" in (notice.text or "")
    assert all(f"({e.id})" in (notice.text or "") for e in gone)


def test_check_enforces_field_lengths_and_the_size_of_a_card(
    make_kb: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    long_detail = "x" * 290  # each detail within its limit, together too much for one card
    contacts = "".join(
        f"""\
  - id: stelle-{n}
    name: "Stelle {n}"
    antwort: "Berät."
    web: "{long_detail}"
    adresse: "{long_detail}"
"""
        for n in range(3)
    )
    kb = make_kb(
        organisation=MINIMAL_ORGANISATION + contacts,
        massnahmen=f"""\
        massnahmen:
          - id: gleitzeit
            titel: "{"Titel " * 30}"
            thema: arbeitszeit
            antwort: "Kurz."
            zielgruppe: "alle"
            status: geplant
            zustaendig: [beratung]
          - id: teilzeit
            titel: "Teilzeit"
            thema: arbeitszeit
            antwort: "{"Antwort. " * 260}"
            zielgruppe: "alle"
            status: geplant
            zustaendig: [stelle-0, stelle-1, stelle-2]
        """,
    )
    for name in [n for n in os.environ if n.startswith(("BOT_", "TELEGRAM_"))]:
        monkeypatch.delenv(name)
    result = CliRunner().invoke(cli, ["check", "--kb", str(kb), "--ohne-selbsttest"])

    assert result.exit_code == 1
    assert "Feld 'titel' ist zu lang (180 Zeichen, höchstens 100)" in result.output
    assert re.search(
        r"Eintrag 'teilzeit': die Antwortkarte wird mit etwa \d+ Zeichen zu lang für eine "
        r"Telegram-Nachricht \(höchstens 4096\)",
        result.output,
    ), result.output
    assert "Traceback" not in result.output


MINIMAL_ORGANISATION = """\
organisation:
  name: "Stadt Musterstadt"
  beratung: beratung
  quelle: "Testquelle"
themen:
  - id: arbeitszeit
    titel: "Arbeitszeit"
kontakte:
  - id: beratung
    name: "Beratungsstelle Vereinbarkeit"
    antwort: "Berät alle Beschäftigten persönlich."
"""


async def test_long_html_is_split_into_parts_telegram_accepts(running: LiveBot) -> None:
    await running.ask("/hilfe")
    before = len(running.api.messages(USER))
    title = "Ein sehr langer Titel mit Umlauten äöü & Zeichen <> " * 100  # 5,300 characters
    text = (
        f"<b>{escape(title)}</b>\n"
        + "Absatz mit <i>Betonung über Zeilen\nhinweg</i> " * 60
        + '\n<a href="https://www.stadt-koeln.de/leben-in-koeln/">ein Link mit mehreren Wörtern</a>'
    )

    parts = split_message(text)
    for part in parts:  # the fake server parses each part as Telegram does; BadRequest if not
        await running.application.bot.send_message(USER, part)

    sent = running.api.messages(USER)[before:]
    assert len(sent) == len(parts) >= 2
    assert all(m.message["text"] for m in sent)

    def visible(html: str) -> str:
        return "".join(unescape(re.sub(r"<[^>]+>", "", html)).split())

    assert "".join("".join((m.text or "").split()) for m in sent) == visible(text)


# --- 13. liveness and privacy inside the process ------------------------------------------------


async def test_no_log_line_carries_message_text_or_identifiers(
    running: LiveBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    search = SearchIndex.search
    secret = "Mein Geheimnis zur Elternzeit"

    def leaky_search(self: SearchIndex, question: str, *args: Any, **kwargs: Any) -> Any:
        if "Geheimnis" in question:
            raise ValueError(f"kann {question!r} nicht suchen")  # the message quotes the text
        return search(self, question, *args, **kwargs)

    monkeypatch.setattr(SearchIndex, "search", leaky_search)
    reply = await running.ask(secret, user=OTHER)
    assert (reply.text or "").startswith(APOLOGY)
    # What python-telegram-bot itself logged for a batch it could not parse (issue 14):
    batch = [question_update(5, secret, user=OTHER)]
    ptb = logging.getLogger("telegram.Bot")
    ptb.critical("Error while parsing updates! Received data was %r", batch)
    logging.getLogger("telegram.ext.Updater").critical(
        "Something went wrong processing the data received from Telegram.",
        exc_info=KeyError(secret),
    )

    assert "Fehler bei der Verarbeitung: ValueError" in caplog.text
    assert "Error while parsing updates! Received data was ‹…›" in caplog.text
    assert "Geheimnis" not in caplog.text and str(OTHER) not in caplog.text


async def test_hung_maintenance_and_stalled_polling_turn_status_red(
    running: LiveBot, tmp_path: Path
) -> None:
    lock = InstanceLock(running.database)  # what run_bot holds: status sees a bot up
    lock.acquire()
    try:
        application = running.application
        liveness = application.bot_data["liveness"]
        application.bot_data["maintenance"].cancel()  # the loop is stuck in a round...
        liveness.maintenance_since = time.time() - 120  # ...that began two minutes ago
        await until_cli_status(running.api, running.database, "Wartung hängt seit", cwd=tmp_path)

        await application.updater.stop()  # nobody asks Telegram any more...
        liveness.poll_active_at -= 300  # ...for five minutes now
        red = await until_cli_status(
            running.api, running.database, "Abfrage neuer Nachrichten steht seit", cwd=tmp_path
        )
    finally:
        lock.release()
    assert "Der Bot beendet sich" in red.stderr
