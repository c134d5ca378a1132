"""Read side of the question log: aggregates, problem questions, export rows.

Everything is read in one transaction, so a purge running at the same time (which moves
rows from ``questions`` into ``daily_counts``) can neither double-count nor hide them.
Nothing here returns pseudonyms: the problem rows only rank them, so that one person asking
five times counts as one person.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.log import files
from bot.log import schema as logschema
from bot.log.gaps import ProblemQuestion, Reason

READ_TIMEOUT_MS = 5000
"""Reports run outside the hot path and may wait for a writer a little longer."""

_FACTS = f"""
WITH facts AS (
    SELECT day, outcome, NULLIF(topic, '') AS topic, NULLIF(entry_id, '') AS entry,
           questions AS n, helpful, unhelpful, chosen, gaps, english
    FROM {logschema.DAILY} WHERE day BETWEEN :since AND :until AND :with_daily
    UNION ALL
    SELECT day, outcome, topic,
           CASE WHEN outcome = 'answered' THEN entry_id ELSE chosen_entry END,
           1, IFNULL(feedback = 1, 0), IFNULL(feedback = 0, 0), chosen_entry IS NOT NULL, gap,
           language = 'en'
    FROM {logschema.QUESTIONS} WHERE day BETWEEN :since AND :until AND followup IS NULL
    AND (:channel IS NULL OR channel = :channel)
)
"""
"""Questions of their own: follow-ups about the last card are read apart (``_FOLLOWUPS``)."""
_FOLLOWUPS = f"""
WITH follow AS (
    SELECT entry_id AS entry, kind, outcome, questions AS n
    FROM {logschema.FOLLOWUP_COUNTS} WHERE day BETWEEN :since AND :until AND :with_daily
    UNION ALL
    SELECT COALESCE(entry_id, ''), followup, outcome, 1
    FROM {logschema.QUESTIONS} WHERE day BETWEEN :since AND :until AND followup IS NOT NULL
    AND (:channel IS NULL OR channel = :channel)
)
SELECT NULLIF(entry, ''), kind, outcome, SUM(n) FROM follow
GROUP BY 1, 2, 3 ORDER BY SUM(n) DESC, 1, 2, 3
"""
_CHANNEL = "(:channel IS NULL OR channel = :channel)"

DAILY_CHANNEL = "telegram"
"""Daily counts (questions past retention) carry no channel; they count as this one, where
nearly all traffic comes from."""


@dataclass(frozen=True, slots=True)
class EntryStats:
    entry_id: str
    questions: int
    helpful: int
    unhelpful: int


@dataclass(frozen=True, slots=True)
class FollowupStats:
    """Follow-ups about one entry's card of one kind and outcome ('answered' or 'unknown')."""

    entry_id: str | None
    kind: str
    outcome: str
    questions: int


@dataclass(frozen=True)
class LogStats:
    """Aggregates for one period; ``problems`` are the texts still within retention.

    Everything but ``followups`` counts questions of their own: a follow-up about the last
    card ("und wer ist da zuständig?") is counted only in ``followups``.
    """

    since: date | None
    until: date | None
    daily: dict[date, dict[str, int]] = field(default_factory=dict)
    daily_chosen: dict[date, int] = field(default_factory=dict)
    gaps: int = 0
    helpful: int = 0
    unhelpful: int = 0
    topics: tuple[tuple[str, int], ...] = ()
    entries: tuple[EntryStats, ...] = ()
    problems: tuple[ProblemQuestion, ...] = ()
    dropped_rows: int = 0
    english: int = 0  # questions answered in English
    channel: str | None = None
    """Only questions from this channel (None: all)."""
    other_channels: tuple[tuple[str, int], ...] = ()
    """Questions of the period from the channels left out, e.g. terminal tests."""
    followups: tuple[FollowupStats, ...] = ()
    """Follow-ups about the last card, by entry, kind and outcome; most frequent first."""

    @property
    def totals(self) -> dict[str, int]:
        result = dict.fromkeys(logschema.OUTCOMES, 0)
        for counts in self.daily.values():
            for outcome, n in counts.items():
                result[outcome] = result.get(outcome, 0) + n
        return result

    @property
    def questions(self) -> int:
        return sum(self.totals.values())

    @property
    def chosen(self) -> int:
        """Ambiguous questions where the user picked an entry under "Meinten Sie …?"."""
        return sum(self.daily_chosen.values())


@contextmanager
def open_log(db_path: Path, *, create: bool = False) -> Iterator[Database | None]:
    """The log database with current schema, or None when the file does not exist
    (a report must not create an empty log at a mistyped path)."""
    path = Path(db_path)
    if not create and not path.exists():
        yield None
        return
    if create:
        files.prepare(path)  # private like the writer's, whoever creates the file first
    db = logschema.connect(path, busy_timeout_ms=READ_TIMEOUT_MS)
    try:
        logschema.ensure_schema(db)
        yield db
    finally:
        db.close()


def read_stats(
    db_path: Path,
    *,
    since: date | None = None,
    until: date | None = None,
    channel: str | None = None,
) -> LogStats:
    """All numbers and problem texts a report needs, from one consistent snapshot.

    ``channel``: count only questions from there ("telegram": the employees; "terminal":
    admins trying things out); the daily counts of purged days go with DAILY_CHANNEL.
    """
    with open_log(db_path) as db:
        if db is None:
            return LogStats(since=since, until=until, channel=channel)
        params: dict[str, str | int | None] = {
            "since": since.isoformat() if since else "0000-01-01",
            "until": until.isoformat() if until else "9999-12-31",
            "channel": channel,
            "with_daily": int(channel in (None, DAILY_CHANNEL)),
        }
        with _snapshot(db.conn) as conn:
            return _read(conn, params, since, until)


def read_ignored(db_path: Path) -> set[str]:
    """Text hashes and group ids the team marked as irrelevant."""
    with open_log(db_path) as db:
        if db is None:
            return set()
        rows = db.conn.execute(f"SELECT text_hash, group_id FROM {logschema.IGNORED}")
        return {value for row in rows for value in row}


def store_ignored(db_path: Path, group_id: str, text_hashes: set[str], today: date) -> int:
    """Remember an ignored group by all its member texts, so it stays hidden when a
    different wording becomes the most frequent one; returns the number of new hashes."""
    rows = [(h, group_id, today.isoformat()) for h in sorted(text_hashes | {group_id})]
    with open_log(db_path, create=True) as db:
        assert db is not None
        conn = db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            before = conn.total_changes
            conn.executemany(
                f"INSERT OR IGNORE INTO {logschema.IGNORED} (text_hash, group_id, since) "
                "VALUES (?, ?, ?)",
                rows,
            )
            added = conn.total_changes - before
            conn.execute("COMMIT")
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
    return added


def remove_ignored(db_path: Path, group_id: str) -> int:
    """Show an ignored group again; returns the number of hashes removed."""
    with open_log(db_path) as db:
        if db is None:
            return 0
        cursor = db.conn.execute(
            f"DELETE FROM {logschema.IGNORED} WHERE group_id = ? OR text_hash = ?",
            (group_id, group_id),
        )
        return cursor.rowcount


def export_rows(db_path: Path) -> Iterator[dict[str, Any]]:
    """Daily counts and redacted question rows, oldest first; never pseudonyms or ids."""
    with open_log(db_path) as db:
        if db is None:
            return
        with _snapshot(db.conn) as conn:
            yield from _dicts(
                conn.execute(
                    f"SELECT 'tageszahl' AS art, day AS tag, NULLIF(topic, '') AS thema, "
                    f"NULLIF(entry_id, '') AS eintrag, NULL AS gewaehlter_eintrag, "
                    f"outcome AS ergebnis, questions AS anzahl, helpful AS hilfreich, "
                    f"unhelpful AS nicht_hilfreich, chosen AS eintrag_gewaehlt, "
                    f"gaps AS nichts_davon, NULL AS frage, NULL AS score, NULL AS kb_version, "
                    f"NULL AS kanal, NULL AS nachfrage "
                    f"FROM {logschema.DAILY} ORDER BY day, topic, entry_id, outcome"
                )
            )
            yield from _dicts(
                conn.execute(
                    f"SELECT 'nachfragen_tageszahl' AS art, day AS tag, NULL AS thema, "
                    f"NULLIF(entry_id, '') AS eintrag, NULL AS gewaehlter_eintrag, "
                    f"outcome AS ergebnis, questions AS anzahl, 0 AS hilfreich, "
                    f"0 AS nicht_hilfreich, 0 AS eintrag_gewaehlt, 0 AS nichts_davon, "
                    f"NULL AS frage, NULL AS score, NULL AS kb_version, NULL AS kanal, "
                    f"kind AS nachfrage "
                    f"FROM {logschema.FOLLOWUP_COUNTS} ORDER BY day, entry_id, kind, outcome"
                )
            )
            yield from _dicts(
                conn.execute(
                    f"SELECT 'frage' AS art, day AS tag, topic AS thema, entry_id AS eintrag, "
                    f"chosen_entry AS gewaehlter_eintrag, outcome AS ergebnis, 1 AS anzahl, "
                    f"IFNULL(feedback = 1, 0) AS hilfreich, "
                    f"IFNULL(feedback = 0, 0) AS nicht_hilfreich, "
                    f"chosen_entry IS NOT NULL AS eintrag_gewaehlt, gap AS nichts_davon, "
                    f"question AS frage, score, kb_version, channel AS kanal, "
                    f"followup AS nachfrage FROM {logschema.QUESTIONS} ORDER BY day, rowid"
                )
            )


EXPORT_COLUMNS = (
    "art", "tag", "thema", "eintrag", "gewaehlter_eintrag", "ergebnis", "anzahl", "hilfreich",
    "nicht_hilfreich", "eintrag_gewaehlt", "nichts_davon", "frage", "score", "kb_version", "kanal",
    "nachfrage",
)  # fmt: skip


@contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def _dicts(cursor: sqlite3.Cursor) -> Iterator[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


def _read(
    conn: sqlite3.Connection,
    params: dict[str, str | int | None],
    since: date | None,
    until: date | None,
) -> LogStats:
    daily: dict[date, dict[str, int]] = {}
    daily_chosen: dict[date, int] = {}
    gaps = helpful = unhelpful = english = 0
    facts = conn.execute(
        _FACTS + "SELECT day, outcome, SUM(n), SUM(chosen), SUM(gaps), SUM(helpful), "
        "SUM(unhelpful), SUM(english) FROM facts GROUP BY day, outcome",
        params,
    )
    for day_text, outcome, n, chosen, day_gaps, day_helpful, day_unhelpful, day_english in facts:
        day = date.fromisoformat(day_text)
        daily.setdefault(day, {})[outcome] = int(n)
        daily_chosen[day] = daily_chosen.get(day, 0) + int(chosen)
        gaps += int(day_gaps)
        helpful += int(day_helpful)
        unhelpful += int(day_unhelpful)
        english += int(day_english)
    # Only questions that were answered (or where the user picked an entry) count for a
    # topic: an unanswered one carries the topic of its nearest entry, which says nothing.
    topics = tuple(
        (str(topic), int(n))
        for topic, n in conn.execute(
            _FACTS + "SELECT topic, SUM(n) AS n FROM facts WHERE topic IS NOT NULL "
            "AND entry IS NOT NULL GROUP BY topic ORDER BY n DESC, topic",
            params,
        )
    )
    entries = tuple(
        EntryStats(str(entry), int(n), int(up), int(down))
        for entry, n, up, down in conn.execute(
            _FACTS + "SELECT entry, SUM(n) AS n, SUM(helpful), SUM(unhelpful) FROM facts "
            "WHERE entry IS NOT NULL GROUP BY entry ORDER BY n DESC, entry",
            params,
        )
    )
    # The asker is a rank among this report's problem rows, never the pseudonym itself:
    # it tells people apart for "how many asked" and means nothing outside this read.
    problems = tuple(
        ProblemQuestion(
            text, _reason(outcome, gap), entry, None if asker is None else int(asker),
            date.fromisoformat(day),
        )
        for text, outcome, gap, entry, asker, day in conn.execute(
            f"SELECT question, outcome, gap, COALESCE(chosen_entry, entry_id), "
            f"CASE WHEN pseudonym IS NULL THEN NULL "
            f"ELSE DENSE_RANK() OVER (ORDER BY pseudonym) END, day "
            f"FROM {logschema.QUESTIONS} WHERE day BETWEEN :since AND :until "
            f"AND {_CHANNEL} AND followup IS NULL "
            f"AND (outcome = 'unknown' OR gap = 1 OR feedback = 0)",
            params,
        )
    )  # fmt: skip
    other_channels = tuple(
        (str(name), int(n))
        for name, n in conn.execute(
            f"SELECT channel, COUNT(*) FROM {logschema.QUESTIONS} "
            f"WHERE day BETWEEN :since AND :until AND :channel IS NOT NULL "
            f"AND channel != :channel GROUP BY channel ORDER BY channel",
            params,
        )
    )
    followups = tuple(
        FollowupStats(None if entry is None else str(entry), str(kind), str(outcome), int(n))
        for entry, kind, outcome, n in conn.execute(_FOLLOWUPS, params)
    )
    dropped = conn.execute(
        f"SELECT value FROM {logschema.META} WHERE key = 'dropped_rows'"
    ).fetchone()
    return LogStats(
        since=since,
        until=until,
        daily=daily,
        daily_chosen=daily_chosen,
        gaps=gaps,
        helpful=helpful,
        unhelpful=unhelpful,
        topics=topics,
        entries=entries,
        problems=problems,
        dropped_rows=int(dropped[0]) if dropped else 0,
        english=english,
        channel=params["channel"] if isinstance(params["channel"], str) else None,
        other_channels=other_channels,
        followups=followups,
    )


def _reason(outcome: str, gap: int) -> Reason:
    if outcome == "unknown":
        return "unknown"
    if gap:
        return "gap"
    return "unhelpful"
