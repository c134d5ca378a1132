"""Question log: privacy of the stored bytes, deletion, retention and write failures.

The log writes on its own thread. Tests that read the file call ``flush()`` first, and the
default fixture freezes the log's back-off clock, so after a failed write rows are retried
only when the test flushes: every assertion then sees one defined state.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.log import schema as logschema
from bot.log.secret import load_or_create_secret, secret_path
from bot.log.writer import QuestionLog

SECRET = b"k" * 32
USER = 987654321
OTHER = 123454321
DAY = date(2025, 3, 3)


class Clock:
    """Settable "today" for retention tests."""

    def __init__(self, day: date = DAY) -> None:
        self.day = day

    def __call__(self) -> date:
        return self.day


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "log" / "fragen.db"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_log(db_path: Path, clock: Clock) -> Iterator[Callable[..., QuestionLog]]:
    logs: list[QuestionLog] = []

    def make(**kwargs: object) -> QuestionLog:
        kwargs.setdefault("today", clock)
        kwargs.setdefault("clock", lambda: 0.0)  # back-off never ends on its own
        log = QuestionLog(db_path, kwargs.pop("secret", SECRET), **kwargs)  # type: ignore[arg-type]
        logs.append(log)
        return log

    yield make
    for log in logs:
        log.close()


class Trouble:
    """Makes every new connection of the log fail to write, like a read-only or full disk."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pragma: str | None = None
        original = logschema.connect

        def connect(path: Path, *, busy_timeout_ms: int) -> Database:
            db = original(path, busy_timeout_ms=busy_timeout_ms)
            if self.pragma:
                db.conn.execute(self.pragma)
            return db

        monkeypatch.setattr(logschema, "connect", connect)


def ask(log: QuestionLog, text: str = "Wie beantrage ich Elternzeit?", *,
        user: int | None = USER, outcome: str = "answered") -> str:  # fmt: skip
    return log.record(
        question=text, outcome=outcome, entry_id="elternzeit" if outcome == "answered" else None,
        topic="familie", score=0.81, kb_version="2025-03-01", channel="telegram", user_id=user,
    )  # fmt: skip


def file_bytes(db_path: Path) -> bytes:
    return b"".join(
        Path(str(db_path) + suffix).read_bytes()
        for suffix in ("", "-wal", "-shm")
        if Path(str(db_path) + suffix).exists()
    )


def rows(db_path: Path, sql: str = "SELECT * FROM questions ORDER BY rowid") -> list[dict]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


# -- what is stored ---------------------------------------------------------------------


def test_stores_minimal_row_with_keyed_pseudonym(make_log, db_path: Path) -> None:
    log = make_log()
    qid = ask(log, "Ich bin Erika, erika.m@example.de, wie beantrage ich Elternzeit?")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,12}", qid)
    log.flush()
    (row,) = rows(db_path)
    assert row["id"] == qid
    assert row["day"] == DAY.isoformat()
    assert row["question"] == "Ich bin Erika, [E-MAIL], wie beantrage ich Elternzeit?"
    assert (row["outcome"], row["entry_id"], row["topic"]) == ("answered", "elternzeit", "familie")
    assert row["score"] == pytest.approx(0.81)
    assert (row["kb_version"], row["channel"]) == ("2025-03-01", "telegram")
    assert (row["feedback"], row["chosen_entry"], row["gap"]) == (None, None, 0)
    assert re.fullmatch(r"[0-9a-f]{64}", row["pseudonym"])
    assert row["pseudonym"] != hashlib.sha256(str(USER).encode()).hexdigest()
    assert row["language"] == "de"
    assert row["followup"] is None  # a question of its own
    assert set(row) == {
        "id", "day", "question", "outcome", "entry_id", "topic", "score", "kb_version",
        "channel", "feedback", "chosen_entry", "gap", "pseudonym", "language", "followup",
    }  # fmt: skip


def test_file_never_contains_user_id_name_or_plain_hash(make_log, db_path: Path) -> None:
    log = make_log()
    for i in range(50):
        ask(log, f"Frage Nummer {i} zur Elternzeit")
    # The name and @username reach the log only if typed into the question (the bot passes
    # neither); redaction removes them there too.
    ask(log, "Hallo, hier ist Erika Mustermann (@erika_m), Tel. 0221/123456. Gruß Erika",
        user=USER)  # fmt: skip
    log.flush()
    data = file_bytes(db_path)
    assert Path(str(db_path) + "-wal").exists()
    for secret in (str(USER), "Erika", "Mustermann", "erika_m", "0221/123456", "123456"):
        assert secret.encode() not in data
    for plain in (hashlib.sha256(str(USER).encode()).hexdigest(),
                  hashlib.md5(str(USER).encode()).hexdigest()):  # fmt: skip
        assert plain.encode() not in data


def test_pseudonym_depends_on_secret(tmp_path: Path) -> None:
    pseudonyms = []
    for name, secret in (("a.db", b"a" * 32), ("b.db", b"b" * 32)):
        log = QuestionLog(tmp_path / name, secret, today=Clock())
        ask(log)
        log.close()
        pseudonyms.append(rows(tmp_path / name)[0]["pseudonym"])
    assert pseudonyms[0] != pseudonyms[1]


def test_terminal_questions_have_no_pseudonym(make_log, db_path: Path) -> None:
    log = make_log()
    ask(log, user=None)
    log.flush()
    assert rows(db_path)[0]["pseudonym"] is None


def test_invalid_values_never_raise(make_log, db_path: Path) -> None:
    log = make_log()
    log.record(question="x" * 10_000, outcome="weird", entry_id="e" * 500, topic=None,
               score=float("nan"), kb_version="", channel="telegram", user_id=1)  # fmt: skip
    log.feedback("not a valid id!!", True)
    log.choice("", None)
    log.flush()
    (row,) = rows(db_path)
    assert row["outcome"] == "failed"
    assert len(row["question"]) <= 500
    assert len(row["entry_id"]) <= 100
    assert row["score"] is None


def test_schema_version_is_the_latest(make_log, db_path: Path) -> None:
    make_log().flush()
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == logschema.SCHEMA_VERSION == 5
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"questions", "daily_counts", "ignored_groups", "log_meta", "handled_updates"} <= tables
    conn.close()


def _version_4_log(db_path: Path) -> None:
    """A log as version 4 wrote it: a question, a purged day, a ticket count."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = logschema.connect(db_path, busy_timeout_ms=100)
    for migrate in (logschema._migrate_v1, logschema._migrate_v2, logschema._migrate_v3,
                    logschema._migrate_v4):  # fmt: skip
        migrate(db)
    db.conn.execute("PRAGMA user_version=4")
    db.conn.execute(
        "INSERT INTO questions (id, day, question, outcome, entry_id, topic, score, kb_version, "
        "channel, gap, pseudonym, language) VALUES ('old1', ?, 'Gibt es Gleitzeit?', 'answered', "
        "'gleitzeit', 'arbeitszeit', 0.8, 'v', 'telegram', 0, 'p', 'en')",
        (DAY.isoformat(),),
    )
    db.conn.execute(
        "INSERT INTO daily_counts (day, topic, entry_id, outcome, questions, english) "
        "VALUES ('2024-11-04', 'familie', 'elternzeit', 'answered', 7, 2)"
    )
    db.conn.execute("INSERT INTO ticket_counts (day, event, n) VALUES (?, 'opened', 3)",
                    (DAY.isoformat(),))  # fmt: skip
    db.close()


def test_a_version_4_log_is_migrated_in_place_keeping_its_rows(make_log, db_path: Path) -> None:
    _version_4_log(db_path)
    log = make_log(retention_days=3650)
    log.record(question="und wer ist da zuständig?", outcome="unknown", entry_id="gleitzeit",
               topic="arbeitszeit", score=None, kb_version="v", channel="telegram",
               user_id=USER, followup="contact")  # fmt: skip
    log.flush()
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 5
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "followup_counts" in tables
    conn.close()
    old, new = rows(db_path)
    # The old row is kept as it was: a question of its own (its kind was never recorded).
    assert (old["id"], old["question"], old["language"], old["followup"]) == (
        "old1", "Gibt es Gleitzeit?", "en", None,
    )  # fmt: skip
    assert (new["question"], new["outcome"], new["followup"]) == (
        "und wer ist da zuständig?", "unknown", "contact",
    )  # fmt: skip
    assert new["pseudonym"] != str(USER) and str(USER).encode() not in file_bytes(db_path)
    (daily,) = rows(db_path, "SELECT * FROM daily_counts")
    assert (daily["questions"], daily["english"]) == (7, 2)
    assert rows(db_path, "SELECT day, event, n FROM ticket_counts") == [
        {"day": DAY.isoformat(), "event": "opened", "n": 3}
    ]
    log.close()
    make_log().close()  # opening it again migrates nothing twice
    assert len(rows(db_path)) == 2


def test_a_follow_up_of_an_unknown_kind_is_kept_as_more(make_log, db_path: Path) -> None:
    log = make_log()
    log.record(question="und sonst?", outcome="answered", entry_id="gleitzeit", topic=None,
               score=None, kb_version="v", channel="telegram", user_id=USER,
               followup="gossip")  # fmt: skip
    log.flush()
    assert rows(db_path)[0]["followup"] == "more"


def test_purged_follow_ups_are_counted_apart_from_questions_of_their_own(
    make_log, db_path: Path, clock: Clock
) -> None:
    log = make_log(retention_days=30)
    ask(log)
    for kind, outcome in (("contact", "unknown"), ("contact", "unknown"), ("target", "answered")):
        log.record(question="und wer?", outcome=outcome, entry_id="gleitzeit", topic="arbeitszeit",
                   score=None, kb_version="v", channel="telegram", user_id=USER,
                   followup=kind)  # fmt: skip
    log.flush()
    clock.day = DAY + timedelta(days=31)
    assert log.purge() == 4
    assert rows(db_path) == []
    daily = rows(db_path, "SELECT entry_id, outcome, questions FROM daily_counts")
    assert daily == [{"entry_id": "elternzeit", "outcome": "answered", "questions": 1}]
    follow = rows(
        db_path, "SELECT day, entry_id, kind, outcome, questions FROM followup_counts ORDER BY kind"
    )
    assert follow == [
        {"day": DAY.isoformat(), "entry_id": "gleitzeit", "kind": "contact", "outcome": "unknown",
         "questions": 2},
        {"day": DAY.isoformat(), "entry_id": "gleitzeit", "kind": "target", "outcome": "answered",
         "questions": 1},
    ]  # fmt: skip
    assert log.purge() == 0  # folding twice changes nothing
    assert rows(db_path, "SELECT SUM(questions) AS n FROM followup_counts") == [{"n": 3}]


# -- feedback and choices ---------------------------------------------------------------


def test_feedback_and_choice(make_log, db_path: Path) -> None:
    log = make_log()
    helpful = ask(log)
    ambiguous = ask(log, "Teilzeit?", outcome="ambiguous")
    nothing = ask(log, "Hund im Büro?", outcome="ambiguous")
    log.feedback(helpful, False)
    log.feedback(helpful, True)  # the last click wins
    log.choice(ambiguous, "teilzeit")
    log.choice(nothing, None)
    log.feedback("unbekannt123", True)  # unknown ids are ignored
    log.flush()
    stored = {r["id"]: r for r in rows(db_path)}
    assert stored[helpful]["feedback"] == 1
    assert (stored[ambiguous]["chosen_entry"], stored[ambiguous]["gap"]) == ("teilzeit", 0)
    assert (stored[nothing]["chosen_entry"], stored[nothing]["gap"]) == (None, 1)


# -- forget -----------------------------------------------------------------------------


def test_forget_removes_only_the_callers_rows(make_log, db_path: Path) -> None:
    log = make_log()
    for i in range(3):
        ask(log, f"Meine geheime Frage {i} zur Pflege", user=USER)
    ask(log, "Frage der Kollegin zur Teilzeit", user=OTHER)
    ask(log, "Frage aus dem Terminal", user=None)
    log.flush()
    assert log.forget(USER) == 3
    remaining = rows(db_path)
    assert [r["question"] for r in remaining] == [
        "Frage der Kollegin zur Teilzeit", "Frage aus dem Terminal",
    ]  # fmt: skip
    assert b"geheime Frage" not in file_bytes(db_path)
    assert log.forget(USER) == 0


def test_forget_includes_queued_rows(make_log, db_path: Path, monkeypatch) -> None:
    trouble = Trouble(monkeypatch)
    trouble.pragma = "PRAGMA query_only=ON"
    log = make_log()
    ask(log, user=USER)
    ask(log, user=OTHER)
    assert log.pending == 2
    assert log.forget(USER) == 1
    trouble.pragma = None
    log.flush()
    assert len(rows(db_path)) == 1


def test_forget_while_unwritable_is_retried(make_log, db_path: Path, monkeypatch) -> None:
    log = make_log()
    ask(log, "Alte Frage zur Pflege", user=USER)
    log.flush()
    trouble = Trouble(monkeypatch)
    trouble.pragma = "PRAGMA query_only=ON"
    log.close()  # new connection gets the trouble
    assert log.forget(USER) == 1  # counted from the file, deletion queued
    assert log.pending == 1
    trouble.pragma = None
    log.flush()
    assert rows(db_path) == []
    assert b"Alte Frage" not in file_bytes(db_path)


# -- retention --------------------------------------------------------------------------


def test_purge_keeps_counts_and_removes_texts(make_log, db_path: Path, clock: Clock) -> None:
    log = make_log(retention_days=90)
    old = [ask(log, f"Uralte Frage {i} zur Kinderbetreuung") for i in range(6)]
    log.feedback(old[0], True)
    log.feedback(old[1], False)
    ask(log, "Uralte Frage ohne Antwort", outcome="unknown")
    gap = ask(log, "Uralte Rückfrage", outcome="ambiguous")
    log.choice(gap, None)
    clock.day = DAY + timedelta(days=60)
    ask(log, "Neuere Frage zur Gleitzeit")
    log.flush()
    clock.day = DAY + timedelta(days=91)

    assert log.purge() == 8
    assert [r["question"] for r in rows(db_path)] == ["Neuere Frage zur Gleitzeit"]
    data = file_bytes(db_path)
    assert b"Uralte" not in data
    assert b"Kinderbetreuung" not in data
    counts = rows(db_path, "SELECT * FROM daily_counts ORDER BY outcome, entry_id")
    assert [
        (c["day"], c["outcome"], c["entry_id"], c["questions"], c["helpful"], c["unhelpful"],
         c["gaps"]) for c in counts
    ] == [
        (DAY.isoformat(), "ambiguous", "", 1, 0, 0, 1),
        (DAY.isoformat(), "answered", "elternzeit", 6, 1, 1, 0),
        (DAY.isoformat(), "unknown", "", 1, 0, 0, 0),
    ]  # fmt: skip
    assert "pseudonym" not in counts[0]

    assert log.purge() == 0  # idempotent
    assert rows(db_path, "SELECT * FROM daily_counts ORDER BY outcome, entry_id") == counts


def test_retention_applies_without_explicit_purge(make_log, db_path: Path, clock: Clock) -> None:
    log = make_log(retention_days=30)
    ask(log, "Vergessene alte Frage")
    log.flush()
    clock.day = DAY + timedelta(days=31)
    ask(log, "Heutige Frage")
    log.flush()  # a write, not a purge: the first write of a new day applies the retention
    assert [r["question"] for r in rows(db_path)] == ["Heutige Frage"]


# -- write failures ---------------------------------------------------------------------


def test_read_only_database_queues_and_recovers(make_log, db_path: Path, monkeypatch) -> None:
    make_log().close()
    trouble = Trouble(monkeypatch)
    trouble.pragma = "PRAGMA query_only=ON"
    log = make_log()
    first = ask(log, "Frage während Störung 1")
    second = ask(log, "Frage während Störung 2", outcome="ambiguous")
    log.feedback(first, True)
    log.choice(second, None)
    assert log.pending == 2
    assert log.flush() == 0
    assert log.last_error
    assert rows(db_path) == []

    trouble.pragma = None
    assert log.flush() == 2
    assert log.pending == 0
    assert log.last_error is None
    stored = {r["id"]: r for r in rows(db_path)}
    assert stored[first]["feedback"] == 1
    assert stored[second]["gap"] == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_file_permissions(make_log, db_path: Path) -> None:
    make_log().close()
    for suffix in ("", "-wal", "-shm"):
        target = Path(str(db_path) + suffix)
        if target.exists():
            target.chmod(0o444)
    log = make_log()
    ask(log)
    assert log.pending == 1
    for suffix in ("", "-wal", "-shm"):
        target = Path(str(db_path) + suffix)
        if target.exists():
            target.chmod(0o644)
    assert log.flush() == 1


def test_disk_full_queues_and_recovers(make_log, db_path: Path, monkeypatch) -> None:
    log = make_log()
    ask(log)
    log.flush()
    pages = rows(db_path, "PRAGMA page_count")[0]["page_count"]
    trouble = Trouble(monkeypatch)
    trouble.pragma = f"PRAGMA max_page_count={pages}"
    log.close()
    for i in range(200):
        ask(log, f"Lange Frage {i} " + "zur Vereinbarkeit von Familie und Beruf " * 8)
    log.flush()
    assert log.pending > 0
    assert "full" in (log.last_error or "")
    trouble.pragma = None
    log.flush()
    assert log.pending == 0
    assert len(rows(db_path)) == 201


def test_locked_database_loses_no_rows(make_log, db_path: Path) -> None:
    log = make_log(busy_timeout_ms=50)
    ask(log)
    log.flush()
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    ids = [ask(log, f"Frage {i} während Sperre") for i in range(20)]
    assert log.flush() == 0
    assert log.pending == 20 and "locked" in (log.last_error or "")
    log.feedback(ids[0], False)
    blocker.execute("ROLLBACK")
    blocker.close()
    assert log.flush() == 20
    stored = {r["id"]: r for r in rows(db_path)}
    assert len(stored) == 21
    assert stored[ids[0]]["feedback"] == 0


def test_feedback_for_written_row_waits_when_unwritable(make_log, db_path, monkeypatch) -> None:
    log = make_log()
    qid = ask(log)
    log.flush()
    trouble = Trouble(monkeypatch)
    trouble.pragma = "PRAGMA query_only=ON"
    log.close()
    log.feedback(qid, True)
    assert log.pending == 1
    trouble.pragma = None
    log.flush()
    assert rows(db_path)[0]["feedback"] == 1


def test_bounded_queue_counts_dropped_rows(make_log, db_path: Path, monkeypatch) -> None:
    trouble = Trouble(monkeypatch)
    trouble.pragma = "PRAGMA query_only=ON"
    log = make_log(max_pending=5)
    for i in range(8):
        ask(log, f"Frage {i}")
    assert (log.pending, log.dropped) == (5, 3)
    trouble.pragma = None
    assert log.flush() == 5
    assert [r["question"] for r in rows(db_path)] == [f"Frage {i}" for i in range(3, 8)]
    assert rows(db_path, "SELECT value FROM log_meta WHERE key='dropped_rows'") == [{"value": 3}]


def test_close_counts_rows_it_could_not_write(make_log, monkeypatch) -> None:
    trouble = Trouble(monkeypatch)
    trouble.pragma = "PRAGMA query_only=ON"
    log = make_log()
    ask(log)
    log.close()
    assert (log.pending, log.dropped) == (0, 1)


def test_reader_does_not_block_writer(make_log, db_path: Path) -> None:
    from bot.report.build import build_report

    log = make_log(busy_timeout_ms=50)
    ask(log)
    log.flush()
    reader = sqlite3.connect(db_path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT COUNT(*) FROM questions").fetchone()[0] == 1
    reports: list[str] = []

    def report() -> None:
        for _ in range(3):
            reports.append(build_report(db_path))

    thread = threading.Thread(target=report)
    thread.start()
    for i in range(300):
        ask(log, f"Frage {i} beim Lesen")
    log.flush()
    thread.join()
    assert log.pending == 0 and log.last_error is None
    assert reader.execute("SELECT COUNT(*) FROM questions").fetchone()[0] == 1  # snapshot
    reader.execute("COMMIT")
    assert reader.execute("SELECT COUNT(*) FROM questions").fetchone()[0] == 301
    reader.close()
    assert len(reports) == 3


def test_unopenable_path_does_not_raise(tmp_path: Path) -> None:
    blocker = tmp_path / "datei"
    blocker.write_text("kein Ordner")
    log = QuestionLog(blocker / "fragen.db", SECRET)
    qid = ask(log)
    assert qid
    assert log.pending == 1
    assert log.forget(USER) == 1
    log.close()


# -- secret -----------------------------------------------------------------------------


def test_secret_file_created_once_private(db_path: Path) -> None:
    first = load_or_create_secret(db_path, None)
    second = load_or_create_secret(db_path, "")
    assert first == second
    assert len(first) == 32
    key = secret_path(db_path)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert list(key.parent.glob("*.tmp")) == []


def test_secret_from_environment(db_path: Path) -> None:
    assert load_or_create_secret(db_path, "ab" * 32) == bytes.fromhex("ab" * 32)
    phrase = "ein langer geheimer Satz für die Pseudonyme"
    assert load_or_create_secret(db_path, phrase) == phrase.encode()
    assert not secret_path(db_path).exists()
    with pytest.raises(ValueError, match="zu kurz"):
        load_or_create_secret(db_path, "kurz")


def test_damaged_secret_file_is_an_error(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    secret_path(db_path).write_text("kaputt")
    with pytest.raises(ValueError, match="beschädigt"):
        load_or_create_secret(db_path, None)


# -- the writer thread ------------------------------------------------------------------


class StatementThreads:
    """Notes the thread of every SQL statement that the log's connections run."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: set[str] = set()
        original = logschema.connect

        def connect(path: Path, *, busy_timeout_ms: int) -> Database:
            db = original(path, busy_timeout_ms=busy_timeout_ms)
            db.conn.set_trace_callback(lambda _sql: self.names.add(threading.current_thread().name))
            return db

        monkeypatch.setattr(logschema, "connect", connect)


def test_only_the_writer_thread_touches_sqlite(make_log, clock: Clock, monkeypatch) -> None:
    statements = StatementThreads(monkeypatch)
    log = make_log()
    qid = ask(log)
    log.feedback(qid, True)
    log.mark_handled(5)
    ask(log, user=OTHER)
    log.flush()
    assert log.forget(USER) == 1
    assert log.handled_updates() == [5]
    clock.day = DAY + timedelta(days=100)
    assert log.purge() == 1
    assert log.quick_check() == []
    log.close()
    assert statements.names == {"fragenprotokoll:fragen.db"}


def test_record_returns_while_a_purge_holds_the_writer(make_log, db_path: Path, clock) -> None:
    """The 1.19 s freeze: a purge that cannot finish (here another connection holds the write
    lock) keeps the writer busy, and record(), feedback() and mark_handled() still return."""
    log = make_log(busy_timeout_ms=30_000)
    ask(log, "Uralte Frage")
    log.flush()
    clock.day = DAY + timedelta(days=91)
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    purge = threading.Thread(target=log.purge)
    purge.start()
    try:
        ids = [ask(log, f"Frage {i} während des Löschlaufs") for i in range(50)]
        log.feedback(ids[0], True)
        log.mark_handled(7)
        assert purge.is_alive()  # every call above returned while the writer was stuck
        assert log.pending >= 51
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        purge.join()
    log.flush()
    stored = rows(db_path)
    assert [r["question"] for r in stored] == [
        f"Frage {i} während des Löschlaufs" for i in range(50)
    ]
    assert stored[0]["feedback"] == 1
    assert log.handled_updates() == [7]


def test_a_log_used_after_close_starts_a_new_writer(make_log, db_path: Path) -> None:
    before = set(threading.enumerate())
    log = make_log()
    ask(log, "Vor dem Schließen")
    log.close()
    ask(log, "Nach dem Schließen")
    log.close()
    assert [r["question"] for r in rows(db_path)] == ["Vor dem Schließen", "Nach dem Schließen"]
    assert set(threading.enumerate()) <= before  # close() ended each writer


def test_never_raise_logs_and_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    from bot.log.writer import never_raise

    @never_raise("Probe fehlgeschlagen", lambda: -1)
    def broken() -> int:
        raise KeyError("kaputt")

    assert broken() == -1
    assert "Fragenprotokoll: Probe fehlgeschlagen" in caplog.text
    assert "KeyError" in caplog.text


def test_old_import_paths_still_work() -> None:
    from bot.log import secret, writer

    assert writer.load_or_create_secret is secret.load_or_create_secret
    assert writer.secret_path is secret.secret_path
