"""The question rows: what one row holds, and the SQL that writes, folds and deletes them.

A row holds the redacted question, what the bot did with it and the feedback, but no user
id, chat id, name or time of day; the keyed pseudonym is there only for ``/vergessen``.
Everything here runs inside the writer's transactions (see bot/log/writer.py).
"""

from __future__ import annotations

import logging
import math
import re
import sqlite3
from datetime import date

from bot.log import schema as logschema
from bot.log.redact import redact

logger = logging.getLogger(__name__)

Row = dict[str, str | int | float | None]

_ID = re.compile(r"[A-Za-z0-9_-]{1,12}")
_MAX_FIELD = 100
_COLUMNS = (
    "id", "day", "question", "outcome", "entry_id", "topic", "score", "kb_version",
    "channel", "feedback", "chosen_entry", "gap", "pseudonym", "language", "followup",
)  # fmt: skip
_INSERT = (
    f"INSERT OR IGNORE INTO {logschema.QUESTIONS} ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _COLUMNS)})"
)
_UPDATABLE = ("feedback", "chosen_entry", "gap")
_ROLL_UP = f"""
INSERT INTO {logschema.DAILY} (day, topic, entry_id, outcome, questions, helpful, unhelpful,
                               chosen, gaps, english)
SELECT day, COALESCE(topic, ''),
       COALESCE(CASE WHEN outcome = 'answered' THEN entry_id ELSE chosen_entry END, ''),
       outcome, COUNT(*), SUM(IFNULL(feedback = 1, 0)), SUM(IFNULL(feedback = 0, 0)),
       SUM(chosen_entry IS NOT NULL), SUM(gap), SUM(language = 'en')
FROM {logschema.QUESTIONS} WHERE day < :cutoff AND followup IS NULL
GROUP BY 1, 2, 3, 4
ON CONFLICT (day, topic, entry_id, outcome) DO UPDATE SET
    questions = questions + excluded.questions,
    helpful = helpful + excluded.helpful,
    unhelpful = unhelpful + excluded.unhelpful,
    chosen = chosen + excluded.chosen,
    gaps = gaps + excluded.gaps,
    english = english + excluded.english
"""
_ROLL_UP_FOLLOWUPS = f"""
INSERT INTO {logschema.FOLLOWUP_COUNTS} (day, entry_id, kind, outcome, questions)
SELECT day, COALESCE(entry_id, ''), followup, outcome, COUNT(*)
FROM {logschema.QUESTIONS} WHERE day < :cutoff AND followup IS NOT NULL
GROUP BY 1, 2, 3, 4
ON CONFLICT (day, entry_id, kind, outcome) DO UPDATE SET
    questions = questions + excluded.questions
"""
_DELETE_PERSON = f"DELETE FROM {logschema.QUESTIONS} WHERE pseudonym = ?"


def build(
    question_id: str,
    *,
    day: date,
    question: str,
    outcome: str,
    entry_id: str | None,
    topic: str | None,
    score: float | None,
    kb_version: str,
    channel: str,
    pseudonym: str | None,
    language: str = "de",
    followup: str | None = None,
) -> Row:
    """A row as stored: redacted text, known outcome, channel and language, bounded fields.

    ``followup``: the kind of a follow-up about the last card (``FOLLOWUPS``), None for a
    question of its own."""
    if outcome not in logschema.OUTCOMES:
        logger.warning("Fragenprotokoll: unbekanntes Ergebnis %r als 'failed' gespeichert",
                       outcome)  # fmt: skip
        outcome = "failed"
    if channel not in logschema.CHANNELS:
        logger.warning("Fragenprotokoll: unbekannter Kanal %r", channel)
        channel = str(channel)[:16]
    if followup is not None and followup not in logschema.FOLLOWUPS:
        logger.warning("Fragenprotokoll: unbekannte Art der Nachfrage %r als 'more' gespeichert",
                       followup)  # fmt: skip
        followup = "more"
    return {
        "id": question_id,
        "day": day.isoformat(),
        "question": redact(question or ""),
        "outcome": outcome,
        "entry_id": short(entry_id),
        "topic": short(topic),
        "score": _finite(score),
        "kb_version": short(kb_version) or "",
        "channel": channel,
        "feedback": None,
        "chosen_entry": None,
        "gap": 0,
        "pseudonym": pseudonym,
        "language": language if language in logschema.LANGUAGES else "de",
        "followup": followup,
    }


def valid_id(question_id: object) -> bool:
    """Ids come back from button data, which a client can forge."""
    return isinstance(question_id, str) and bool(_ID.fullmatch(question_id))


def write(
    conn: sqlite3.Connection, *, forget: list[str], rows: list[Row], updates: dict[str, Row]
) -> None:
    """Deletions first (a person's later questions survive), then new rows, then feedback."""
    if forget:
        conn.executemany(_DELETE_PERSON, [(p,) for p in forget])
    if rows:
        conn.executemany(_INSERT, rows)
    for question_id, changes in updates.items():
        columns = [c for c in _UPDATABLE if c in changes]
        assignments = ", ".join(f"{c} = :{c}" for c in columns)
        conn.execute(
            f"UPDATE {logschema.QUESTIONS} SET {assignments} WHERE id = :id",
            {**changes, "id": question_id},
        )


def expire(conn: sqlite3.Connection, cutoff: date) -> int:
    """Fold rows older than ``cutoff`` into anonymous daily counts (follow-ups into their
    own), then delete them."""
    conn.execute(_ROLL_UP, {"cutoff": cutoff.isoformat()})
    conn.execute(_ROLL_UP_FOLLOWUPS, {"cutoff": cutoff.isoformat()})
    deleted = conn.execute(
        f"DELETE FROM {logschema.QUESTIONS} WHERE day < ?", (cutoff.isoformat(),)
    ).rowcount
    return int(deleted)


def delete_person(conn: sqlite3.Connection, pseudonym: str) -> int:
    return int(conn.execute(_DELETE_PERSON, (pseudonym,)).rowcount)


def count_person(conn: sqlite3.Connection, pseudonym: str) -> int:
    row = conn.execute(
        f"SELECT COUNT(*) FROM {logschema.QUESTIONS} WHERE pseudonym = ?", (pseudonym,)
    ).fetchone()
    return int(row[0])


def short(value: str | None) -> str | None:
    if value is None:
        return None
    text = str(value).strip()[:_MAX_FIELD]
    return text or None


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
