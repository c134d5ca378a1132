"""Persistent dedupe of Telegram updates: which update ids this bot has already handled.

Telegram redelivers an update whose confirmation was lost (for at most 24 hours), also to a
restarted bot. The bot marks an update once its answer is out (bot.runtime.polling.UpdateFlow);
the mark is written with the log's next transaction, so after a restart a redelivered update is
recognised when its answer went out before. Only the update id and the day are stored: no link
to a question row or a person.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from bot.log import schema as logschema

KEEP_DAYS = 2  # Telegram redelivers an unconfirmed update for at most 24 hours

_INSERT = f"INSERT OR IGNORE INTO {logschema.HANDLED} (update_id, day) VALUES (?, ?)"


class HandledQueue:
    """Update ids waiting to be written, oldest first, bounded.

    Not thread-safe on its own: the question log guards it with the same lock as the question
    rows, so the writer takes marks and rows in one step.
    """

    def __init__(self, *, limit: int) -> None:
        self._ids: dict[int, None] = {}
        self._limit = limit

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, update_id: int) -> None:
        """Best effort: beyond the limit the oldest are dropped, which at worst lets a
        redelivery be answered again."""
        self._ids[int(update_id)] = None
        while len(self._ids) > self._limit:
            del self._ids[next(iter(self._ids))]

    def take(self) -> list[int]:
        ids = list(self._ids)
        self._ids.clear()
        return ids

    def put_back(self, ids: list[int]) -> None:
        """Return ids whose write failed, ahead of those queued meanwhile."""
        newer = self.take()
        for update_id in [*ids, *newer]:
            self.add(update_id)

    def queued(self) -> list[int]:
        return list(self._ids)

    def clear(self) -> None:
        self._ids.clear()


def write(conn: sqlite3.Connection, ids: list[int], today: date) -> None:
    """Insert inside the caller's transaction (the one that writes the question rows)."""
    if ids:
        conn.executemany(_INSERT, [(u, today.isoformat()) for u in ids])


def stored(conn: sqlite3.Connection, limit: int) -> list[int]:
    """The most recently handled update ids, oldest first."""
    newest = conn.execute(
        f"SELECT update_id FROM {logschema.HANDLED} ORDER BY day DESC, update_id DESC LIMIT ?",
        (limit,),
    )
    return [int(r[0]) for r in newest][::-1]


def expire(conn: sqlite3.Connection, today: date) -> None:
    """Forget marks older than any redelivery, inside the caller's transaction."""
    cutoff = (today - timedelta(days=KEEP_DAYS)).isoformat()
    conn.execute(f"DELETE FROM {logschema.HANDLED} WHERE day < ?", (cutoff,))
