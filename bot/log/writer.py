"""Privacy-preserving log of the questions the bot receives, written on its own thread.

The log exists for one purpose: finding gaps in the knowledge base. It therefore
stores the redacted question, what the bot did with it and the feedback, but no
user id, chat id, name or time of day. A keyed pseudonym (HMAC) is stored only so
that ``forget()`` can honour deletion requests; without the secret it cannot be
linked to a Telegram account, and no report reads it.

Only the log's writer thread touches SQLite. What the bot calls while it handles an update
(``record``, ``feedback``, ``choice``, ``mark_handled``) puts the change into a bounded
in-memory queue and returns, so the event loop never waits for a lock that a retention purge
or a slow disk holds. The writer takes everything queued in one ``BEGIN IMMEDIATE``
transaction (rows that arrive during a commit go into the next one). Methods that need the
database's answer (``forget``, ``handled_updates``, ``flush``, ``purge``, ``quick_check``,
``close``) hand their work to the writer and wait: call them from a worker thread
(``asyncio.to_thread``) or a synchronous program. Rows that cannot be written stay queued
and are retried with back-off; no public method raises on database problems.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import re
import secrets
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlite_utils import Database

from bot.log import files, handled
from bot.log import health as loghealth
from bot.log import schema as logschema
from bot.log.health import LogHealth, Losses
from bot.log.redact import redact
from bot.log.secret import MIN_KEY_BYTES, load_or_create_secret, pseudonym, secret_path

__all__ = ["LogHealth", "QuestionLog", "load_or_create_secret", "never_raise", "secret_path"]

logger = logging.getLogger(__name__)

_QUESTION_ID = re.compile(r"[A-Za-z0-9_-]{1,12}")
_MAX_FIELD = 100
_CLOSE_TIMEOUT_MS = 2000
_MAX_BACKOFF_S = 30.0
_MAX_WIPE_DELAY_S = 2.0

_COLUMNS = (
    "id", "day", "question", "outcome", "entry_id", "topic", "score", "kb_version",
    "channel", "feedback", "chosen_entry", "gap", "pseudonym",
)  # fmt: skip
_INSERT = (
    f"INSERT OR IGNORE INTO {logschema.QUESTIONS} ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _COLUMNS)})"
)
_UPDATABLE = ("feedback", "chosen_entry", "gap")
_ROLL_UP = f"""
INSERT INTO {logschema.DAILY} (day, topic, entry_id, outcome, questions, helpful, unhelpful,
                               chosen, gaps)
SELECT day, COALESCE(topic, ''),
       COALESCE(CASE WHEN outcome = 'answered' THEN entry_id ELSE chosen_entry END, ''),
       outcome, COUNT(*), SUM(IFNULL(feedback = 1, 0)), SUM(IFNULL(feedback = 0, 0)),
       SUM(chosen_entry IS NOT NULL), SUM(gap)
FROM {logschema.QUESTIONS} WHERE day < :cutoff
GROUP BY 1, 2, 3, 4
ON CONFLICT (day, topic, entry_id, outcome) DO UPDATE SET
    questions = questions + excluded.questions,
    helpful = helpful + excluded.helpful,
    unhelpful = unhelpful + excluded.unhelpful,
    chosen = chosen + excluded.chosen,
    gaps = gaps + excluded.gaps
"""
_DELETE_USER = f"DELETE FROM {logschema.QUESTIONS} WHERE pseudonym = ?"

Row = dict[str, str | int | float | None]
P = ParamSpec("P")
R = TypeVar("R")


def never_raise(what: str, fallback: Callable[[], R]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """The log is essential but not vital: an unexpected error is logged as ``what`` and
    ``fallback()`` returned, so neither a bug nor a broken disk takes an answer down with it.
    (Expected database errors are handled inside: rows stay queued and are retried.)"""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return func(*args, **kwargs)
            except Exception:
                logger.exception("Fragenprotokoll: %s", what)
                return fallback()

        return guarded

    return decorate


@dataclass
class _Job:
    """Work the writer thread runs for a waiting caller."""

    run: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)
    last: bool = False  # the writer thread ends after it (close)


class QuestionLog:
    """Queueing, never-raising writer for the question log, with its own writer thread.

    The thread starts with the log and ends with ``close()``; a log used after ``close()``
    starts a new one. Call ``close()`` on shutdown: it writes what is queued (waiting up to
    2 s for locks) and counts durably whatever could not be written.
    """

    def __init__(
        self,
        path: Path,
        secret: bytes,
        *,
        retention_days: int = 90,
        today: Callable[[], date] = date.today,
        busy_timeout_ms: int = 100,
        max_pending: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if len(secret) < MIN_KEY_BYTES:
            raise ValueError("Der Schlüssel für Pseudonyme muss mindestens 16 Bytes lang sein.")
        if retention_days < 1:
            raise ValueError("retention_days muss mindestens 1 sein.")
        self._path = Path(path)
        self._secret = bytes(secret)
        self._retention = timedelta(days=retention_days)
        self._today = today
        self._busy_timeout_ms = busy_timeout_ms
        self._max_pending = max_pending
        self._clock = clock
        # Shared between callers and the writer, guarded by _cond (held only for dict work).
        self._cond = threading.Condition()
        self._rows: dict[str, Row] = {}
        self._updates: dict[str, Row] = {}
        self._handled = handled.HandledQueue(limit=max_pending)
        self._forget: set[str] = set()
        self._in_flight = 0  # rows, updates and marks taken by a running flush
        self._jobs: deque[_Job] = deque()
        self._thread: threading.Thread | None = None
        self._verify = False
        self._dropped = 0
        self._dropped_unsaved = 0
        self._last_error: str | None = None
        self._failures = 0
        self._recreated = 0
        self._vanished_rows = 0
        self._wipe_pending = False
        # The writer thread's own state.
        self._db: Database | None = None
        self._identity: files.Identity | None = None
        self._companions: dict[Path, files.Identity | None] = {}  # our -wal and -shm
        self._unsaved = Losses()  # vanished rows and recreations not yet in log_meta
        self._retry_at = 0.0
        self._wipe_at = 0.0
        self._wipe_attempts = 0
        self._last_purge: date | None = None
        try:
            self._call(self._start)
        except BaseException:  # SchemaTooNewError: never write into a newer file
            self._call(self._close_now, last=True)
            raise

    # -- public API, called while handling an update: queue and return ----------------------

    def record(
        self,
        *,
        question: str,
        outcome: str,
        entry_id: str | None,
        topic: str | None,
        score: float | None,
        kb_version: str,
        channel: str,
        user_id: int | None,
    ) -> str:
        """Log one question; returns a random id for feedback buttons (11 characters)."""
        question_id = secrets.token_urlsafe(8)
        self._queue_row(question_id, question, outcome, entry_id, topic, score,
                        kb_version, channel, user_id)  # fmt: skip
        return question_id

    def feedback(self, question_id: str, helpful: bool) -> None:
        """Store 👍 (True) or 👎 (False); the last click wins."""
        self._queue_update(question_id, {"feedback": 1 if helpful else 0})

    def choice(self, question_id: str, entry_id: str | None) -> None:
        """Store the entry picked under "Meinten Sie …?"; None means "Nichts davon" (a gap)."""
        chosen = _short(entry_id)
        self._queue_update(question_id, {"chosen_entry": chosen, "gap": 0 if chosen else 1})

    @never_raise("Update-Kennung konnte nicht vorgemerkt werden", lambda: None)
    def mark_handled(self, update_id: int) -> None:
        """Remember a Telegram update as handled, written with the next flush.

        Marking does not wake the writer: the mark goes out with the question row that the
        same update logs next (or with an earlier transaction if another row is written in
        between), so after a restart a redelivered update is recognised once its question was
        logged. Marks are best effort: the oldest are dropped beyond ``max_pending``, which at
        worst lets a redelivery be answered again.
        """
        with self._cond:
            self._handled.add(update_id)

    def health(self) -> LogHealth:
        """Snapshot for the heartbeat and the team; never waits. Also asks the writer to check
        that the database file is still the one it writes to (deleted files are recreated)."""
        with self._cond:
            if self._thread is not None:
                self._verify = True
                self._cond.notify()
            return LogHealth(
                pending=self._pending_locked(),
                dropped=self._dropped,
                recreated=self._recreated,
                vanished_rows=self._vanished_rows,
                writable=self._failures == 0,
                last_error=self._last_error,
                wipe_pending=self._wipe_pending,
            )

    @property
    def pending(self) -> int:
        """Rows, feedback updates, deletions and handled update ids waiting to be written."""
        with self._cond:
            return self._pending_locked()

    @property
    def dropped(self) -> int:
        """Rows lost in this run: the queue overflowed or the file stayed unwritable until close."""
        with self._cond:
            return self._dropped

    @property
    def last_error(self) -> str | None:
        """Last database error while writing, None once writing works again."""
        with self._cond:
            return self._last_error

    # -- public API that waits for the writer (not on the event loop) ------------------------

    @never_raise("Löschen der eigenen Fragen fehlgeschlagen", lambda: 0)
    def forget(self, user_id: int) -> int:
        """Delete every question of this user (queued or stored); returns how many.

        The texts are also wiped from the WAL as soon as no reader holds the old pages.
        """
        key = pseudonym(self._secret, user_id)
        return self._call(lambda: self._forget_now(key))

    @never_raise("erledigte Updates nicht lesbar", list[int])
    def handled_updates(self, limit: int = 10_000) -> list[int]:
        """The most recently handled update ids (stored or queued), for the start of the bot."""
        return self._call(lambda: self._handled_now(limit))

    @never_raise("Aufbewahrungsfrist konnte nicht angewandt werden", lambda: 0)
    def purge(self) -> int:
        """Apply the retention period; returns the number of question texts deleted.

        Old rows are folded into anonymous daily counts first, so statistics survive
        while texts and pseudonyms disappear. Running it twice changes nothing.
        """
        return self._call(self._purge_now)

    @never_raise("Schreiben fehlgeschlagen", lambda: 0)
    def flush(self) -> int:
        """Write everything queued now (ignores the retry back-off); returns rows written."""
        return self._call(self._flush_now)

    @never_raise("Prüfung der Datenbank fehlgeschlagen", lambda: ["Prüfung nicht möglich"])
    def quick_check(self) -> list[str]:
        """``PRAGMA quick_check`` of the open file: [] when sound, else SQLite's findings."""
        return self._call(self._quick_check_now)

    @never_raise("Schließen fehlgeschlagen", lambda: None)
    def close(self) -> None:
        """Final flush (waiting up to 2 s for locks), then release the file and the thread."""
        with self._cond:
            thread = self._thread
            if thread is None and not self._pending_locked():
                return
        self._call(self._close_now, last=True)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    # -- queueing (caller side) --------------------------------------------------------------

    @never_raise("Frage konnte nicht protokolliert werden", lambda: None)
    def _queue_row(
        self,
        question_id: str,
        question: str,
        outcome: str,
        entry_id: str | None,
        topic: str | None,
        score: float | None,
        kb_version: str,
        channel: str,
        user_id: int | None,
    ) -> None:
        if outcome not in logschema.OUTCOMES:
            logger.warning("Fragenprotokoll: unbekanntes Ergebnis %r als 'failed' gespeichert",
                           outcome)  # fmt: skip
            outcome = "failed"
        if channel not in logschema.CHANNELS:
            logger.warning("Fragenprotokoll: unbekannter Kanal %r", channel)
            channel = str(channel)[:16]
        row: Row = {
            "id": question_id,
            "day": self._today().isoformat(),
            "question": redact(question or ""),
            "outcome": outcome,
            "entry_id": _short(entry_id),
            "topic": _short(topic),
            "score": _finite(score),
            "kb_version": _short(kb_version) or "",
            "channel": channel,
            "feedback": None,
            "chosen_entry": None,
            "gap": 0,
            "pseudonym": None if user_id is None else pseudonym(self._secret, user_id),
        }
        with self._cond:
            self._rows[question_id] = row
            self._enforce_bound()
            self._wake()

    @never_raise("Rückmeldung konnte nicht gespeichert werden", lambda: None)
    def _queue_update(self, question_id: str, changes: Row) -> None:
        if not isinstance(question_id, str) or not _QUESTION_ID.fullmatch(question_id):
            return
        with self._cond:
            queued = self._rows.get(question_id)
            if queued is not None:
                queued.update(changes)
                return
            self._updates.setdefault(question_id, {}).update(changes)
            self._enforce_bound()
            self._wake()

    def _enforce_bound(self) -> None:
        """Drop the oldest queued rows beyond ``max_pending`` (under the lock)."""
        while len(self._rows) + len(self._updates) + self._in_flight > self._max_pending and (
            self._rows or self._updates
        ):
            queue = self._rows or self._updates
            del queue[next(iter(queue))]
            self._dropped += 1
            self._dropped_unsaved += 1
            if self._dropped == 1 or self._dropped % 1000 == 0:
                logger.error(
                    "Fragenprotokoll: Warteschlange voll, bisher %d Einträge verworfen (%s)",
                    self._dropped,
                    self._last_error,
                )

    def _pending_locked(self) -> int:
        return (
            len(self._rows) + len(self._updates) + len(self._forget) + len(self._handled)
            + self._in_flight
        )  # fmt: skip

    def _wake(self) -> None:
        """Under the lock: make sure a writer runs and looks at the queue."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"fragenprotokoll:{self._path.name}", daemon=True
            )
            self._thread.start()
        self._cond.notify()

    def _call(self, run: Callable[[], R], *, last: bool = False) -> R:
        """Run ``run`` on the writer thread and wait for its result (or exception)."""
        if threading.current_thread() is self._thread:
            return run()
        job = _Job(run, last=last)
        with self._cond:
            self._jobs.append(job)
            self._wake()
        result: R = job.future.result()
        return result

    # -- the writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._due():
                    self._cond.wait(self._idle_timeout())
                job = self._jobs.popleft() if self._jobs else None
            if job is None:
                self._background()
                continue
            try:
                job.future.set_result(job.run())
            except BaseException as exc:  # delivered to the waiting caller
                job.future.set_exception(exc)
            if job.last:
                return

    def _queued(self) -> bool:
        """Under the lock: is there anything for the database?"""
        return bool(
            self._rows or self._updates or self._forget or len(self._handled)
            or self._dropped_unsaved or self._unsaved
        )  # fmt: skip

    def _due(self) -> bool:
        """Under the lock: background work to do now."""
        now = self._clock()
        return (
            self._verify
            or (self._queued() and now >= self._retry_at and self._has_wakers())
            or (self._wipe_pending and now >= self._wipe_at)
        )

    def _has_wakers(self) -> bool:
        """Marks alone wait for a row (or an explicit flush), see ``mark_handled``."""
        return bool(
            self._rows or self._updates or self._forget or self._dropped_unsaved or self._unsaved
        )

    def _idle_timeout(self) -> float | None:
        now = self._clock()
        deadlines = []
        if self._queued() and self._has_wakers():
            deadlines.append(self._retry_at)
        if self._wipe_pending:
            deadlines.append(self._wipe_at)
        if not deadlines:
            return None
        return min(max(min(deadlines) - now, 0.001), 60.0)

    def _background(self) -> None:
        try:
            with self._cond:
                verify, self._verify = self._verify, False
            if verify:
                self._check_file()
            with self._cond:
                write = self._queued() and self._clock() >= self._retry_at
            if write:
                self._flush()
            with self._cond:
                wipe = self._wipe_pending and self._clock() >= self._wipe_at
            if wipe:
                self._checkpoint()
        except Exception as exc:  # a bug must not spin or end the writer
            logger.exception("Fragenprotokoll: Schreibvorgang fehlgeschlagen")
            self._fail(exc)

    def _start(self) -> None:
        try:
            self._connection()
        except (OSError, sqlite3.Error) as exc:
            self._fail(exc)
            return
        with self._cond:  # the first job after the start; nobody waits for it
            self._jobs.appendleft(_Job(self._startup_purge))

    @never_raise("Aufbewahrungsfrist konnte nicht angewandt werden", lambda: None)
    def _startup_purge(self) -> None:
        self._purge()

    def _flush_now(self) -> int:
        self._check_file()
        return self._flush()

    def _purge_now(self) -> int:
        self._flush(auto_purge=False)
        return self._purge()

    def _close_now(self) -> None:
        # Shutdown is off the hot path: wait longer for a lock than a normal write may.
        self._close_db()
        normal_timeout, self._busy_timeout_ms = self._busy_timeout_ms, _CLOSE_TIMEOUT_MS
        try:
            self._flush()
        finally:
            self._busy_timeout_ms = normal_timeout
        with self._cond:
            lost = len(self._rows) + len(self._updates)
            self._dropped += lost
            unsaved = Losses(dropped_rows=self._dropped_unsaved + lost) + self._unsaved
            forgets = len(self._forget)
            self._rows.clear()
            self._updates.clear()
            self._forget.clear()
            self._handled.clear()
            self._dropped_unsaved = 0
        self._unsaved = Losses()
        if unsaved:
            self._save_losses_elsewhere(unsaved)
        if lost:
            logger.error(
                "Fragenprotokoll: %d Einträge konnten beim Beenden nicht "
                "gespeichert werden und gehen verloren (%s)",
                lost,
                self._last_error,
            )
        if forgets:
            logger.error(
                "Fragenprotokoll: %d Löschaufträge konnten nicht ausgeführt werden; "
                "bitte /vergessen erneut ausführen lassen",
                forgets,
            )
        self._close_db()
        with self._cond:
            self._wipe_pending = False
            self._thread = None  # a later call starts a new writer
            if self._jobs:
                self._wake()

    def _forget_now(self, key: str) -> int:
        with self._cond:
            queued = [qid for qid, row in self._rows.items() if row["pseudonym"] == key]
            for qid in queued:
                del self._rows[qid]
                self._updates.pop(qid, None)
        try:
            conn = self._connection()
            with _transaction(conn):
                deleted = int(conn.execute(_DELETE_USER, (key,)).rowcount)
        except (OSError, sqlite3.Error) as exc:
            with self._cond:
                self._forget.add(key)
            self._fail(exc)
            return len(queued) + self._count_stored(key)
        self._wipe_soon()
        self._checkpoint()
        return len(queued) + deleted

    def _handled_now(self, limit: int) -> list[int]:
        try:
            stored = handled.stored(self._connection(), limit)
        except (OSError, sqlite3.Error) as exc:  # at worst a redelivery is answered again
            logger.warning("Fragenprotokoll: erledigte Updates nicht lesbar (%s)", exc)
            stored = []
        with self._cond:
            return stored + self._handled.queued()

    def _quick_check_now(self) -> list[str]:
        try:
            return loghealth.check(self._connection())
        except (OSError, sqlite3.Error) as exc:
            return [str(exc)]

    def _flush(self, *, auto_purge: bool = True) -> int:
        with self._cond:
            rows, self._rows = self._rows, {}
            updates, self._updates = self._updates, {}
            marks = self._handled.take()
            dropped, self._dropped_unsaved = self._dropped_unsaved, 0
            forget = sorted(self._forget)
            self._in_flight = len(rows) + len(updates) + len(marks)
        losses = Losses(dropped_rows=dropped) + self._unsaved
        if not (rows or updates or marks or forget or losses):
            return 0
        if losses:
            losses = losses + Losses(lost_at=int(time.time()))
        try:
            conn = self._connection()
            with _transaction(conn):
                if forget:
                    conn.executemany(_DELETE_USER, [(p,) for p in forget])
                if rows:
                    conn.executemany(_INSERT, list(rows.values()))
                for question_id, changes in updates.items():
                    columns = [c for c in _UPDATABLE if c in changes]
                    assignments = ", ".join(f"{c} = :{c}" for c in columns)
                    conn.execute(
                        f"UPDATE {logschema.QUESTIONS} SET {assignments} WHERE id = :id",
                        {**changes, "id": question_id},
                    )
                handled.write(conn, marks, self._today())
                if losses:
                    loghealth.add_losses(conn, losses)
        except (OSError, sqlite3.Error) as exc:
            with self._cond:
                self._rows = {**rows, **self._rows}  # the older rows first, as they came
                for question_id, changes in self._updates.items():
                    updates.setdefault(question_id, {}).update(changes)
                self._updates = updates
                self._handled.put_back(marks)
                self._dropped_unsaved += dropped
                self._in_flight = 0
                self._enforce_bound()
            self._fail(exc)
            return 0
        with self._cond:
            self._in_flight = 0
            self._forget.difference_update(forget)
        self._unsaved = Losses()
        self._recovered()
        if forget:
            self._wipe_soon()
        if auto_purge and self._last_purge != self._today():
            self._purge()  # retention holds even if nobody schedules purge()
        if self._wipe_pending:
            self._checkpoint()
        return len(rows)

    def _purge(self) -> int:
        today = self._today()
        cutoff = (today - self._retention).isoformat()
        with self._cond:
            old = [qid for qid, row in self._rows.items() if str(row["day"]) < cutoff]
            for qid in old:
                del self._rows[qid]
        try:
            conn = self._connection()
            with _transaction(conn):
                conn.execute(_ROLL_UP, {"cutoff": cutoff})
                deleted = int(
                    conn.execute(
                        f"DELETE FROM {logschema.QUESTIONS} WHERE day < ?", (cutoff,)
                    ).rowcount
                )
                handled.expire(conn, today)
        except (OSError, sqlite3.Error) as exc:
            self._fail(exc)
            return len(old)
        self._last_purge = today
        if deleted:
            self._wipe_soon()
            self._checkpoint()
        return len(old) + deleted

    def _count_stored(self, key: str) -> int:
        """Best effort while writing fails; the deletion itself is retried later."""
        try:
            row = (
                self._connection()
                .execute(f"SELECT COUNT(*) FROM {logschema.QUESTIONS} WHERE pseudonym = ?", (key,))
                .fetchone()
            )
            return int(row[0])
        except (OSError, sqlite3.Error):
            return 0
        finally:
            self._close_db()  # this connection may be the read-only one; retry with a new one

    # -- the file ----------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """The writer's connection, opened (private files, current schema) when needed."""
        if threading.current_thread() is not self._thread:
            raise RuntimeError("Fragenprotokoll: SQLite nur im Schreib-Thread")
        self._check_file()
        if self._db is None:
            files.prepare(self._path)
            db = logschema.connect(self._path, busy_timeout_ms=self._busy_timeout_ms)
            try:
                logschema.ensure_schema(db)
            except BaseException:
                db.close()
                raise
            self._db = db
            self._identity = files.identity(self._path)
            self._companions = files.companion_identities(self._path)  # WAL mode made them
            self._fold_loss_file(db.conn)
        return self._db.conn

    def _check_file(self) -> None:
        """Notice a database deleted or replaced under the running bot, and start a new one.

        An open connection would go on writing into the unlinked file without any error, so
        every row from then on would be lost silently.
        """
        if self._identity is None:
            return
        try:
            current = files.identity(self._path)
        except OSError:
            return  # cannot tell (e.g. a folder without permission); writing will say more
        if current == self._identity:
            return
        lost = 0
        if self._db is not None and current is None:
            with contextlib.suppress(sqlite3.Error):
                row = self._db.conn.execute(f"SELECT COUNT(*) FROM {logschema.QUESTIONS}")
                lost = int(row.fetchone()[0])
        self._close_db()
        files.remove_stale(self._path, self._companions)
        self._identity = None
        self._companions = {}
        if current is None:
            logger.error(
                "Fragenprotokoll %s wurde im laufenden Betrieb gelöscht; neu angelegt. "
                "%d gespeicherte Fragen sind verloren.",
                self._path,
                lost,
            )
        else:
            logger.error(
                "Fragenprotokoll %s wurde im laufenden Betrieb durch eine andere Datei "
                "ersetzt; es wird in die neue Datei geschrieben.",
                self._path,
            )
        self._unsaved = self._unsaved + Losses(vanished_rows=lost, recreated=1)
        with self._cond:
            self._recreated += 1
            self._vanished_rows += lost
            self._cond.notify()

    def _fold_loss_file(self, conn: sqlite3.Connection) -> None:
        """Move counts that a previous run could only save beside the file into log_meta."""
        losses = loghealth.read_loss_file(self._path)
        if not losses:
            return
        try:
            with _transaction(conn):
                loghealth.add_losses(conn, losses)
        except sqlite3.Error:
            return  # stays in the side file; the next start tries again
        loghealth.loss_file(self._path).unlink(missing_ok=True)

    def _save_losses_elsewhere(self, losses: Losses) -> None:
        """The database could not take the counts: keep them in the side file, or say so."""
        stamped = losses + Losses(lost_at=int(time.time()))
        try:
            loghealth.write_loss_file(self._path, stamped)
        except OSError as exc:
            logger.error(
                "Fragenprotokoll: Verluste (%d Fragen) konnten nirgends vermerkt werden (%s)",
                losses.rows,
                exc,
            )

    def _checkpoint(self) -> None:
        """Truncate the WAL so deleted texts do not linger in old page copies.

        A reader that still holds those pages makes the checkpoint busy; it is retried with
        back-off (50 ms doubling up to 2 s) until it succeeds, without waiting for a new write.
        """
        try:
            busy = bool(self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0])
        except (OSError, sqlite3.Error):
            busy = True
        if busy:
            self._wipe_attempts += 1
            delay = min(0.05 * 2 ** min(self._wipe_attempts, 6), _MAX_WIPE_DELAY_S)
            self._wipe_at = self._clock() + delay
        else:
            self._wipe_attempts = 0
        with self._cond:
            self._wipe_pending = busy

    def _wipe_soon(self) -> None:
        self._wipe_attempts = 0
        self._wipe_at = self._clock()
        with self._cond:
            self._wipe_pending = True

    def _close_db(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    def _fail(self, exc: BaseException) -> None:
        with self._cond:
            self._failures += 1
            self._last_error = str(exc)
            failures = self._failures
            pending = self._pending_locked()
        self._retry_at = self._clock() + min(0.25 * 2 ** min(failures, 10), _MAX_BACKOFF_S)
        # Reopen next time: a file that was read-only stays read-only for this connection.
        self._close_db()
        if failures == 1:
            logger.warning(
                "Fragenprotokoll %s nicht beschreibbar (%s); %d Einträge warten im Speicher",
                self._path,
                exc,
                pending,
            )

    def _recovered(self) -> None:
        with self._cond:
            failures, self._failures = self._failures, 0
            self._last_error = None
        if failures:
            logger.warning("Fragenprotokoll %s wieder beschreibbar", self._path)
        self._retry_at = 0.0


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """Take the write lock up front (waits at most the busy timeout); roll back on errors
    without letting a failing rollback hide the first error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")


def _short(value: str | None) -> str | None:
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
