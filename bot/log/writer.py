"""Privacy-preserving log of the questions the bot receives, written on its own thread.

The log exists for one purpose: finding gaps in the knowledge base. What a row holds (and
does not hold) is described in bot/log/questions.py; a keyed pseudonym (HMAC) is stored only
so that ``forget()`` can honour deletion requests, and without the key (bot/log/secret.py) it
cannot be linked to a Telegram account.

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

import functools
import logging
import secrets
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from bot.log import files, handled, questions, tickets
from bot.log import health as loghealth
from bot.log import schema as logschema
from bot.log.health import LogHealth, Losses
from bot.log.questions import Row
from bot.log.secret import MIN_KEY_BYTES, load_or_create_secret, pseudonym, secret_path

__all__ = ["LogHealth", "QuestionLog", "load_or_create_secret", "never_raise", "secret_path"]

logger = logging.getLogger(__name__)

_CLOSE_TIMEOUT_MS = 2000
_MAX_BACKOFF_S = 30.0

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
        self._max_pending = max_pending
        self._clock = clock
        # Shared between callers and the writer, guarded by _cond (held only for dict work).
        self._cond = threading.Condition()
        self._rows: dict[str, Row] = {}
        self._updates: dict[str, Row] = {}
        self._handled = handled.HandledQueue(limit=max_pending)
        self._forget: set[str] = set()
        self._in_flight = 0  # rows and updates taken by a running flush
        self._marks_in_flight = 0
        self._jobs: deque[_Job] = deque()
        self._thread: threading.Thread | None = None
        self._verify = False
        self._dropped = 0
        self._dropped_unsaved = 0
        self._last_error: str | None = None
        self._failures = 0
        self._recreated = 0
        self._vanished_rows = 0
        # The writer thread's own state.
        self._file = files.LogFile(
            self._path, busy_timeout_ms=busy_timeout_ms, clock=clock, on_change=self._changed
        )
        self._unsaved = Losses()  # vanished rows and recreations not yet in log_meta
        self._retry_at = 0.0
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
        language: str = "de",
        followup: str | None = None,
    ) -> str:
        """Log one question; returns a random id for feedback buttons (11 characters).

        ``followup``: the kind of a follow-up about the last card (schema ``FOLLOWUPS``)."""
        question_id = secrets.token_urlsafe(8)
        self._queue_row(question_id, question, outcome, entry_id, topic, score,
                        kb_version, channel, user_id, language, followup)  # fmt: skip
        return question_id

    def feedback(self, question_id: str, helpful: bool) -> None:
        """Store 👍 (True) or 👎 (False); the last click wins."""
        self._queue_update(question_id, {"feedback": 1 if helpful else 0})

    def choice(self, question_id: str, entry_id: str | None) -> None:
        """Store the entry picked under "Meinten Sie …?"; None means "Nichts davon" (a gap)."""
        chosen = questions.short(entry_id)
        self._queue_update(question_id, {"chosen_entry": chosen, "gap": 0 if chosen else 1})

    @never_raise("Update-Kennung konnte nicht vorgemerkt werden", lambda: None)
    def mark_handled(self, update_id: int) -> None:
        """Remember a Telegram update as handled, written with the next flush.

        Called once the update's answer is out. Marking does not wake the writer: the mark
        goes out with the next transaction (another row, or the maintenance loop's flush).
        Marks are best effort: the oldest are dropped beyond ``max_pending``, which at worst
        lets a redelivery be answered again.
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
                wipe_pending=self._file.wipe_pending,
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

    def transact(self, work: Callable[[tickets.Keyed], R]) -> R:
        """Run ``work`` on the writer thread in one transaction, with the pseudonym key and
        today's date: the tickets of the handoff (bot/log/tickets.py) live in this file.

        Unlike the rest of the log this raises ``sqlite3.Error``/``OSError``: a ticket that
        could not be stored must be reported to the person, not dropped. After deletions the
        WAL is wiped, as for /vergessen.
        """
        return self._call(lambda: self._transact_now(work))

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
        language: str = "de",
        followup: str | None = None,
    ) -> None:
        row = questions.build(
            question_id, day=self._today(), question=question, outcome=outcome,
            entry_id=entry_id, topic=topic, score=score, kb_version=kb_version, channel=channel,
            pseudonym=None if user_id is None else pseudonym(self._secret, user_id),
            language=language, followup=followup,
        )  # fmt: skip
        with self._cond:
            self._rows[question_id] = row
            self._enforce_bound()
            self._wake()

    @never_raise("Rückmeldung konnte nicht gespeichert werden", lambda: None)
    def _queue_update(self, question_id: str, changes: Row) -> None:
        if not questions.valid_id(question_id):
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
            + self._in_flight + self._marks_in_flight
        )  # fmt: skip

    def _wake(self) -> None:
        """Under the lock: make sure a writer runs and looks at the queue."""
        if self._thread is None or not self._thread.is_alive():
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

    def _wants_write(self) -> bool:
        """Under the lock: something that should go out now. Marks alone wait for a row or an
        explicit flush (see ``mark_handled``)."""
        return bool(
            self._rows or self._updates or self._forget or self._dropped_unsaved or self._unsaved
        )

    def _due(self) -> bool:
        """Under the lock: background work to do now."""
        now = self._clock()
        return (
            self._verify
            or (self._wants_write() and now >= self._retry_at)
            or (self._file.wipe_pending and now >= self._file.wipe_at)
        )

    def _idle_timeout(self) -> float | None:
        """Under the lock: how long to sleep when nobody wakes the writer (a retry, a wipe)."""
        deadlines = []
        if self._wants_write():
            deadlines.append(self._retry_at)
        if self._file.wipe_pending:
            deadlines.append(self._file.wipe_at)
        if not deadlines:
            return None
        return min(max(min(deadlines) - self._clock(), 0.001), 60.0)

    def _background(self) -> None:
        try:
            with self._cond:
                verify, self._verify = self._verify, False
            if verify:
                self._file.check()
            with self._cond:
                write = self._wants_write() and self._clock() >= self._retry_at
            if write:
                self._flush()
            if self._file.wipe_pending and self._clock() >= self._file.wipe_at:
                self._file.wipe()
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
        self._file.check()
        return self._flush()

    def _purge_now(self) -> int:
        self._flush(auto_purge=False)
        return self._purge()

    def _close_now(self) -> None:
        with self._file.patient(_CLOSE_TIMEOUT_MS):
            self._flush()
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
            loghealth.keep_beside(self._path, unsaved)
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
        self._file.close()
        self._file.wipe_pending = False
        with self._cond:
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
            with logschema.transaction(conn):
                deleted = questions.delete_person(conn, key)
        except (OSError, sqlite3.Error) as exc:
            with self._cond:
                self._forget.add(key)
            self._fail(exc)
            return len(queued) + self._count_stored(key)
        self._file.wipe_soon()
        self._file.wipe()
        return len(queued) + deleted

    def _transact_now(self, work: Callable[[tickets.Keyed], R]) -> R:
        try:
            conn = self._connection()
            with logschema.transaction(conn):
                keyed = tickets.Keyed(conn, self._secret, self._today())
                result = work(keyed)
        except (OSError, sqlite3.Error) as exc:
            self._fail(exc)
            raise
        if keyed.deleted:
            self._file.wipe_soon()
            self._file.wipe()
        return result

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
            self._in_flight = len(rows) + len(updates)
            self._marks_in_flight = len(marks)
        if not (rows or updates or marks or forget or dropped or self._unsaved):
            return 0
        try:
            conn = self._connection()
            # Counted after connecting: connecting may find the file vanished and count that.
            losses = Losses(dropped_rows=dropped) + self._unsaved
            if losses:
                losses = losses + Losses(lost_at=int(time.time()))
            with logschema.transaction(conn):
                questions.write(conn, forget=forget, rows=list(rows.values()), updates=updates)
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
                self._in_flight = self._marks_in_flight = 0
                self._enforce_bound()
            self._fail(exc)
            return 0
        with self._cond:
            self._in_flight = self._marks_in_flight = 0
            self._forget.difference_update(forget)
        self._unsaved = Losses()
        self._recovered()
        if forget:
            self._file.wipe_soon()
        if auto_purge and self._last_purge != self._today():
            self._purge()  # retention holds even if nobody schedules purge()
        if self._file.wipe_pending:
            self._file.wipe()
        return len(rows)

    def _purge(self) -> int:
        today = self._today()
        cutoff = today - self._retention
        with self._cond:
            old = [qid for qid, row in self._rows.items() if str(row["day"]) < cutoff.isoformat()]
            for qid in old:
                del self._rows[qid]
        try:
            conn = self._connection()
            with logschema.transaction(conn):
                deleted = questions.expire(conn, cutoff)
                handled.expire(conn, today)
                expired = tickets.expire(tickets.Keyed(conn, self._secret, today))
        except (OSError, sqlite3.Error) as exc:
            self._fail(exc)
            return len(old)
        self._last_purge = today
        if deleted or expired:
            self._file.wipe_soon()
            self._file.wipe()
        return len(old) + deleted

    def _count_stored(self, key: str) -> int:
        """Best effort while writing fails; the deletion itself is retried later."""
        try:
            return questions.count_person(self._connection(), key)
        except (OSError, sqlite3.Error):
            return 0
        finally:
            self._file.close()  # this connection may be the read-only one; retry with a new one

    # -- the file ----------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """The writer's connection, opened (private files, current schema) when needed."""
        if threading.current_thread() is not self._thread:
            raise RuntimeError("Fragenprotokoll: SQLite nur im Schreib-Thread")
        return self._file.connect()

    def _changed(self, change: files.Change) -> None:
        """The file was deleted or replaced: count it, durably with the next write."""
        self._unsaved = self._unsaved + Losses(vanished_rows=change.lost, recreated=1)
        with self._cond:
            self._recreated += 1
            self._vanished_rows += change.lost
            self._cond.notify()

    def _fail(self, exc: BaseException) -> None:
        with self._cond:
            self._failures += 1
            self._last_error = str(exc)
            failures = self._failures
            pending = self._pending_locked()
        self._retry_at = self._clock() + min(0.25 * 2 ** min(failures, 10), _MAX_BACKOFF_S)
        # Reopen next time: a file that was read-only stays read-only for this connection.
        self._file.close()
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
