"""Schema and connection settings of the question log database.

One place decides how the log file is opened (WAL, busy timeout, secure delete)
and how its schema evolves, so the writer (bot/log/writer.py) and the readers
(report, statistics) always agree on both.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlite_utils import Database

SCHEMA_VERSION = 5

QUESTIONS = "questions"
DAILY = "daily_counts"
IGNORED = "ignored_groups"
META = "log_meta"
HANDLED = "handled_updates"
TICKETS = "tickets"
TICKET_MESSAGES = "ticket_messages"
TICKET_COUNTS = "ticket_counts"
FOLLOWUP_COUNTS = "followup_counts"

OUTCOMES = ("answered", "ambiguous", "unknown", "smalltalk", "person", "failed")
CONVERSATIONAL = ("smalltalk", "person")
"""Outcomes that asked the knowledge base nothing (small talk, a request for a person): left out
of the answer rate's base."""
CHANNELS = ("telegram", "terminal")
LANGUAGES = ("de", "en")
FOLLOWUPS = ("contact", "status", "target", "more", "difference")
"""Kinds of follow-up questions about the last card (bot/chat/context.py ``FollowupKind``)."""


class SchemaTooNewError(RuntimeError):
    """The file was written by a newer version; refusing avoids corrupting it."""


def connect(path: Path, *, busy_timeout_ms: int) -> Database:
    """Open the log with the settings every connection needs.

    ``isolation_level=None`` leaves transaction control to the caller so writes can use
    ``BEGIN IMMEDIATE`` and never upgrade a read lock (which fails instantly under load).
    """
    conn = sqlite3.connect(
        str(path), timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        conn.execute("PRAGMA secure_delete=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return Database(conn, execute_plugins=False, recursive_triggers=False)
    except BaseException:
        conn.close()
        raise


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` takes the write lock up front (waiting at most the busy timeout);
    rolls back on errors without letting a failing rollback hide the first error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")


def ensure_schema(db: Database) -> None:
    """Switch to WAL and migrate to ``SCHEMA_VERSION`` (idempotent, safe for two processes)."""
    if _user_version(db) == SCHEMA_VERSION:
        _enable_wal(db)
        return
    _enable_wal(db)
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        version = _user_version(db)
        if version > SCHEMA_VERSION:
            raise SchemaTooNewError(
                f"Das Fragenprotokoll hat Schema-Version {version}, "
                f"diese Programmversion kennt nur bis {SCHEMA_VERSION}."
            )
        for target, migrate in enumerate(_MIGRATIONS, start=1):
            if version < target:
                migrate(db)
                db.conn.execute(f"PRAGMA user_version={target}")
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


def schema_version(db: Database) -> int:
    """Version stored in the file (0 = empty file)."""
    return _user_version(db)


def _user_version(db: Database) -> int:
    return int(db.conn.execute("PRAGMA user_version").fetchone()[0])


def _enable_wal(db: Database) -> None:
    mode = db.conn.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        db.conn.execute("PRAGMA journal_mode=WAL")


def _migrate_v1(db: Database) -> None:
    """Initial schema: question rows (short-lived), daily counts (kept), ignored groups."""
    db[QUESTIONS].create(  # type: ignore[union-attr]
        {
            "id": str,
            "day": str,
            "question": str,
            "outcome": str,
            "entry_id": str,
            "topic": str,
            "score": float,
            "kb_version": str,
            "channel": str,
            "feedback": int,
            "chosen_entry": str,
            "gap": int,
            "pseudonym": str,
        },
        pk="id",
        not_null={"day", "question", "outcome", "kb_version", "channel", "gap"},
        defaults={"gap": 0},
        if_not_exists=True,
    )
    db[QUESTIONS].create_index(["day"], if_not_exists=True)  # type: ignore[union-attr]
    db[QUESTIONS].create_index(["pseudonym"], if_not_exists=True)  # type: ignore[union-attr]
    db[DAILY].create(  # type: ignore[union-attr]
        {
            "day": str,
            "topic": str,
            "entry_id": str,
            "outcome": str,
            "questions": int,
            "helpful": int,
            "unhelpful": int,
            "chosen": int,
            "gaps": int,
        },
        pk=("day", "topic", "entry_id", "outcome"),
        not_null={"day", "topic", "entry_id", "outcome"},
        defaults={"questions": 0, "helpful": 0, "unhelpful": 0, "chosen": 0, "gaps": 0},
        if_not_exists=True,
    )
    db[IGNORED].create(  # type: ignore[union-attr]
        {"text_hash": str, "group_id": str, "since": str},
        pk="text_hash",
        not_null={"group_id", "since"},
        if_not_exists=True,
    )
    db[META].create(  # type: ignore[union-attr]
        {"key": str, "value": int}, pk="key", not_null={"value"}, if_not_exists=True
    )


def _migrate_v2(db: Database) -> None:
    """Ids of handled Telegram updates, so a redelivery after a restart is not answered twice.

    Only the update id and the day: no link to a question row or a person. Kept two days, as
    Telegram redelivers unconfirmed updates for at most 24 hours.
    """
    db[HANDLED].create(  # type: ignore[union-attr]
        {"update_id": int, "day": str}, pk="update_id", not_null={"day"}, if_not_exists=True
    )
    db[HANDLED].create_index(["day"], if_not_exists=True)  # type: ignore[union-attr]


def _migrate_v3(db: Database) -> None:
    """Tickets of the handoff to the counselling office (bot/log/tickets.py).

    A ticket row lives only while the exchange does: it holds the pseudonym (for /vergessen),
    the employee's chat id sealed with the log key (never in clear), the counselling group and
    the day it expires. ``ticket_messages`` maps the bot's messages in that group to their
    ticket, so a counsellor's reply finds its way back; it goes with its ticket (cascade).
    ``ticket_counts`` keeps only anonymous counts per day and event, for the report.
    """
    conn = db.conn
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {TICKETS} (
            number INTEGER PRIMARY KEY AUTOINCREMENT,
            pseudonym TEXT NOT NULL,
            chat TEXT NOT NULL,
            group_chat INTEGER NOT NULL,
            thread INTEGER,
            opened TEXT NOT NULL,
            expires TEXT NOT NULL,
            answered INTEGER NOT NULL DEFAULT 0
        )"""
    )
    conn.execute(f"CREATE INDEX IF NOT EXISTS {TICKETS}_pseudonym ON {TICKETS} (pseudonym)")
    conn.execute(f"CREATE INDEX IF NOT EXISTS {TICKETS}_expires ON {TICKETS} (expires)")
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {TICKET_MESSAGES} (
            group_chat INTEGER NOT NULL,
            message_id INTEGER NOT NULL,
            ticket INTEGER NOT NULL REFERENCES {TICKETS} (number) ON DELETE CASCADE,
            PRIMARY KEY (group_chat, message_id)
        )"""
    )
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS {TICKET_MESSAGES}_ticket ON {TICKET_MESSAGES} (ticket)"
    )
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {TICKET_COUNTS} (
            day TEXT NOT NULL,
            event TEXT NOT NULL,
            n INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, event)
        )"""
    )


def _migrate_v4(db: Database) -> None:
    """The language each question was answered in, and the daily count of English ones.

    Rows from before were all answered in German. The language is a preference of the chat,
    stored like the channel: with the question, never with a person.
    """
    db[QUESTIONS].add_column("language", str, not_null_default="de")  # type: ignore[union-attr]
    db[DAILY].add_column("english", int, not_null_default=0)  # type: ignore[union-attr]


def _migrate_v5(db: Database) -> None:
    """Whether a question was a follow-up about the last card, and of which kind (FOLLOWUPS).

    NULL is a question of its own: rows from before were logged without the kind, so they stay
    questions of their own. Past retention, follow-ups are folded into ``followup_counts``
    (day, entry, kind, outcome: anonymous like ``daily_counts``), so the fresh-question counts
    of ``daily_counts`` never include them.
    """
    db[QUESTIONS].add_column("followup", str)  # type: ignore[union-attr]
    db.conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {FOLLOWUP_COUNTS} (
            day TEXT NOT NULL,
            entry_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            outcome TEXT NOT NULL,
            questions INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, entry_id, kind, outcome)
        )"""
    )


_MIGRATIONS: tuple[Callable[[Database], None], ...] = (
    _migrate_v1,
    _migrate_v2,
    _migrate_v3,
    _migrate_v4,
    _migrate_v5,
)
