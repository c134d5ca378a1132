"""Privacy-preserving log of the questions the bot receives.

The log exists for one purpose: finding gaps in the knowledge base. It therefore
stores the redacted question, what the bot did with it and the feedback, but no
user id, chat id, name or time of day. A keyed pseudonym (HMAC) is stored only so
that ``forget()`` can honour deletion requests; without the secret it cannot be
linked to a Telegram account, and no report reads it.

The log is written from the bot's event loop, so no method raises on database
problems and a write never waits longer than the busy timeout: rows that cannot
be written stay in a bounded in-memory queue and are retried later.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import math
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sqlite_utils import Database

from bot.log import schema as logschema
from bot.log.redact import redact

logger = logging.getLogger(__name__)

_QUESTION_ID = re.compile(r"[A-Za-z0-9_-]{1,12}")
_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
_MIN_ENV_SECRET = 32
_MAX_FIELD = 100
_CLOSE_TIMEOUT_MS = 2000
_MAX_BACKOFF_S = 30.0

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
_MARK_HANDLED = f"INSERT OR IGNORE INTO {logschema.HANDLED} (update_id, day) VALUES (?, ?)"
_HANDLED_DAYS = 2  # Telegram redelivers an unconfirmed update for at most 24 hours
_ADD_DROPPED = (
    f"INSERT INTO {logschema.META} (key, value) VALUES ('dropped_rows', ?) "
    "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value"
)

Row = dict[str, str | int | float | None]


class QuestionLog:
    """Buffered, never-raising writer for the question log.

    Rows are written in one ``BEGIN IMMEDIATE`` transaction per flush. A flush happens
    on ``record()`` when ``batch_size`` rows wait or ``flush_interval`` seconds passed
    since the last one; with the defaults every row is written at once. Call
    ``flush()`` periodically (e.g. every few seconds) if you raise the interval, and
    ``close()`` on shutdown.
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
        batch_size: int = 1,
        flush_interval: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("Der Schlüssel für Pseudonyme muss mindestens 16 Bytes lang sein.")
        if retention_days < 1:
            raise ValueError("retention_days muss mindestens 1 sein.")
        self._path = Path(path)
        self._secret = bytes(secret)
        self._retention = timedelta(days=retention_days)
        self._today = today
        self._busy_timeout_ms = busy_timeout_ms
        self._max_pending = max_pending
        self._batch_size = max(1, batch_size)
        self._flush_interval = flush_interval
        self._clock = clock
        self._lock = threading.RLock()
        self._db: Database | None = None
        self._rows: dict[str, Row] = {}
        self._updates: dict[str, Row] = {}
        self._forget: set[str] = set()
        self._handled: dict[int, None] = {}  # Telegram update ids, oldest first
        self._dropped = 0
        self._dropped_unsaved = 0
        self._needs_checkpoint = False
        self._failures = 0
        self._retry_at = 0.0
        self._last_flush = -math.inf
        self._last_purge: date | None = None
        self._last_error: str | None = None
        with self._lock:
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                self._open()
            except (OSError, sqlite3.Error) as exc:
                self._fail(exc)
            else:
                self._purge_locked()

    # -- public API -----------------------------------------------------------------

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
        try:
            row = self._row(question_id, question, outcome, entry_id, topic, score,
                            kb_version, channel, user_id)  # fmt: skip
            with self._lock:
                self._rows[question_id] = row
                self._enforce_bound()
                if self._flush_due():
                    self._flush_locked()
        except Exception:
            logger.exception("Fragenprotokoll: Frage konnte nicht protokolliert werden")
        return question_id

    def feedback(self, question_id: str, helpful: bool) -> None:
        """Store 👍 (True) or 👎 (False); the last click wins."""
        self._update(question_id, {"feedback": 1 if helpful else 0})

    def choice(self, question_id: str, entry_id: str | None) -> None:
        """Store the entry picked under "Meinten Sie …?"; None means "Nichts davon" (a gap)."""
        chosen = _short(entry_id)
        self._update(question_id, {"chosen_entry": chosen, "gap": 0 if chosen else 1})

    def forget(self, user_id: int) -> int:
        """Delete every question of this user (queued or stored); returns how many."""
        try:
            with self._lock:
                pseudonym = self._pseudonym(user_id)
                queued = [qid for qid, row in self._rows.items() if row["pseudonym"] == pseudonym]
                for qid in queued:
                    del self._rows[qid]
                return len(queued) + self._delete_user(pseudonym)
        except Exception:
            logger.exception("Fragenprotokoll: Löschen der eigenen Fragen fehlgeschlagen")
            return 0

    def mark_handled(self, update_id: int) -> None:
        """Remember a Telegram update as handled, written with the next flush.

        The id is written in the same transaction as the question row of the same update (the
        bot marks an update before answering it), so after a restart a redelivered update is
        recognised exactly when its question was logged. Marks are best effort: the oldest are
        dropped beyond ``max_pending``, which at worst lets a redelivery be answered again.
        """
        try:
            with self._lock:
                self._handled[int(update_id)] = None
                while len(self._handled) > self._max_pending:
                    del self._handled[next(iter(self._handled))]
        except Exception:
            logger.exception("Fragenprotokoll: Update-Kennung konnte nicht vorgemerkt werden")

    def handled_updates(self, limit: int = 10_000) -> list[int]:
        """The most recently handled update ids (stored or queued), for the start of the bot."""
        try:
            with self._lock:
                conn = self._open().conn
                stored = [
                    int(r[0])
                    for r in conn.execute(
                        f"SELECT update_id FROM {logschema.HANDLED} "
                        "ORDER BY day DESC, update_id DESC LIMIT ?",
                        (limit,),
                    )
                ]
                return stored[::-1] + list(self._handled)
        except Exception as exc:  # at worst a redelivery is answered again
            logger.warning("Fragenprotokoll: erledigte Updates nicht lesbar (%s)", exc)
            with self._lock:
                return list(self._handled)

    def purge(self) -> int:
        """Apply the retention period; returns the number of question texts deleted.

        Old rows are folded into anonymous daily counts first, so statistics survive
        while texts and pseudonyms disappear. Running it twice changes nothing.
        """
        try:
            with self._lock:
                self._flush_locked(auto_purge=False)
                return self._purge_locked()
        except Exception:
            logger.exception("Fragenprotokoll: Aufbewahrungsfrist konnte nicht angewandt werden")
            return 0

    def flush(self) -> int:
        """Write everything queued now (ignores the retry back-off); returns rows written."""
        try:
            with self._lock:
                return self._flush_locked()
        except Exception:
            logger.exception("Fragenprotokoll: Schreiben fehlgeschlagen")
            return 0

    def close(self) -> None:
        """Final flush (waiting up to 2 s for locks), then release the file."""
        try:
            with self._lock:
                # Shutdown is off the hot path: wait longer for a lock than record() may.
                self._close_db()
                normal_timeout, self._busy_timeout_ms = self._busy_timeout_ms, _CLOSE_TIMEOUT_MS
                try:
                    self._flush_locked()
                finally:
                    self._busy_timeout_ms = normal_timeout
                lost = len(self._rows) + len(self._updates)
                if lost:
                    self._dropped += lost
                    logger.error(
                        "Fragenprotokoll: %d Einträge konnten beim Beenden nicht "
                        "gespeichert werden und gehen verloren (%s)",
                        lost,
                        self._last_error,
                    )
                if self._forget:
                    logger.error(
                        "Fragenprotokoll: %d Löschaufträge konnten nicht ausgeführt werden; "
                        "bitte /vergessen erneut ausführen lassen",
                        len(self._forget),
                    )
                self._rows.clear()
                self._updates.clear()
                self._forget.clear()
                self._handled.clear()
                self._close_db()
        except Exception:
            logger.exception("Fragenprotokoll: Schließen fehlgeschlagen")

    @property
    def pending(self) -> int:
        """Rows, feedback updates, deletions and handled update ids waiting to be written."""
        return len(self._rows) + len(self._updates) + len(self._forget) + len(self._handled)

    @property
    def dropped(self) -> int:
        """Rows lost because the queue overflowed or the file stayed unwritable until close."""
        return self._dropped

    @property
    def last_error(self) -> str | None:
        """Last database error while writing, None once writing works again."""
        return self._last_error

    # -- rows -----------------------------------------------------------------------

    def _row(
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
    ) -> Row:
        if outcome not in logschema.OUTCOMES:
            logger.warning("Fragenprotokoll: unbekanntes Ergebnis %r als 'failed' gespeichert",
                           outcome)  # fmt: skip
            outcome = "failed"
        if channel not in logschema.CHANNELS:
            logger.warning("Fragenprotokoll: unbekannter Kanal %r", channel)
            channel = str(channel)[:16]
        return {
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
            "pseudonym": None if user_id is None else self._pseudonym(user_id),
        }

    def _pseudonym(self, user_id: int) -> str:
        """Keyed, so ids cannot be recovered by hashing all possible Telegram ids."""
        return hmac.new(self._secret, str(user_id).encode(), hashlib.sha256).hexdigest()

    def _update(self, question_id: str, changes: Row) -> None:
        try:
            if not isinstance(question_id, str) or not _QUESTION_ID.fullmatch(question_id):
                return
            with self._lock:
                queued = self._rows.get(question_id)
                if queued is not None:
                    queued.update(changes)
                    return
                self._updates.setdefault(question_id, {}).update(changes)
                self._enforce_bound()
                if self._clock() >= self._retry_at:
                    self._flush_locked()
        except Exception:
            logger.exception("Fragenprotokoll: Rückmeldung konnte nicht gespeichert werden")

    def _enforce_bound(self) -> None:
        while len(self._rows) + len(self._updates) > self._max_pending:
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

    def _flush_due(self) -> bool:
        now = self._clock()
        if now < self._retry_at:
            return False
        return len(self._rows) >= self._batch_size or now - self._last_flush >= self._flush_interval

    # -- database -------------------------------------------------------------------

    def _open(self) -> Database:
        if self._db is None:
            db = logschema.connect(self._path, busy_timeout_ms=self._busy_timeout_ms)
            try:
                logschema.ensure_schema(db)
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db

    def _close_db(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    def _flush_locked(self, *, auto_purge: bool = True) -> int:
        if not (
            self._rows or self._updates or self._forget or self._handled or self._dropped_unsaved
        ):
            if self._needs_checkpoint:
                self._checkpoint()
            return 0
        rows = list(self._rows.values())
        forget = sorted(self._forget)
        handled = list(self._handled)
        try:
            conn = self._open().conn
            _begin(conn)
            try:
                if forget:
                    conn.executemany(
                        f"DELETE FROM {logschema.QUESTIONS} WHERE pseudonym = ?",
                        [(p,) for p in forget],
                    )
                if rows:
                    conn.executemany(_INSERT, rows)
                for question_id, changes in self._updates.items():
                    columns = [c for c in _UPDATABLE if c in changes]
                    assignments = ", ".join(f"{c} = :{c}" for c in columns)
                    conn.execute(
                        f"UPDATE {logschema.QUESTIONS} SET {assignments} WHERE id = :id",
                        {**changes, "id": question_id},
                    )
                if handled:
                    day = self._today().isoformat()
                    conn.executemany(_MARK_HANDLED, [(u, day) for u in handled])
                if self._dropped_unsaved:
                    conn.execute(_ADD_DROPPED, (self._dropped_unsaved,))
                conn.execute("COMMIT")
            finally:
                _rollback(conn)
        except (OSError, sqlite3.Error) as exc:
            self._fail(exc)
            return 0
        self._rows.clear()
        self._updates.clear()
        self._forget.clear()
        self._handled.clear()
        self._dropped_unsaved = 0
        self._recovered()
        if forget:
            self._needs_checkpoint = True
        if auto_purge and self._last_purge != self._today():
            self._purge_locked()  # retention holds even if nobody schedules purge()
        if self._needs_checkpoint:
            self._checkpoint()
        return len(rows)

    def _purge_locked(self) -> int:
        today = self._today()
        cutoff = (today - self._retention).isoformat()
        old = [qid for qid, row in self._rows.items() if str(row["day"]) < cutoff]
        for qid in old:
            del self._rows[qid]
        try:
            conn = self._open().conn
            _begin(conn)
            try:
                conn.execute(_ROLL_UP, {"cutoff": cutoff})
                deleted = conn.execute(
                    f"DELETE FROM {logschema.QUESTIONS} WHERE day < ?", (cutoff,)
                ).rowcount
                conn.execute(
                    f"DELETE FROM {logschema.HANDLED} WHERE day < ?",
                    ((today - timedelta(days=_HANDLED_DAYS)).isoformat(),),
                )
                conn.execute("COMMIT")
            finally:
                _rollback(conn)
        except (OSError, sqlite3.Error) as exc:
            self._fail(exc)
            return len(old)
        self._last_purge = today
        if deleted:
            self._needs_checkpoint = True
            self._checkpoint()
        return len(old) + deleted

    def _delete_user(self, pseudonym: str) -> int:
        try:
            conn = self._open().conn
            _begin(conn)
            try:
                deleted = conn.execute(
                    f"DELETE FROM {logschema.QUESTIONS} WHERE pseudonym = ?", (pseudonym,)
                ).rowcount
                conn.execute("COMMIT")
            finally:
                _rollback(conn)
        except (OSError, sqlite3.Error) as exc:
            self._forget.add(pseudonym)
            self._fail(exc)
            return self._count_stored(pseudonym)
        self._needs_checkpoint = True
        self._checkpoint()
        return deleted

    def _count_stored(self, pseudonym: str) -> int:
        """Best effort while writing fails; the deletion itself is retried later."""
        try:
            conn = self._open().conn
            row = conn.execute(
                f"SELECT COUNT(*) FROM {logschema.QUESTIONS} WHERE pseudonym = ?", (pseudonym,)
            ).fetchone()
            return int(row[0])
        except (OSError, sqlite3.Error):
            return 0
        finally:
            self._close_db()  # this connection may be the read-only one; retry with a new one

    def _checkpoint(self) -> None:
        """Truncate the WAL so deleted texts do not linger in old page copies."""
        try:
            conn = self._open().conn
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            self._needs_checkpoint = bool(busy)
        except (OSError, sqlite3.Error):
            self._needs_checkpoint = True

    def _fail(self, exc: BaseException) -> None:
        self._failures += 1
        self._last_error = str(exc)
        self._retry_at = self._clock() + min(0.25 * 2 ** min(self._failures, 10), _MAX_BACKOFF_S)
        # Reopen next time: a file that was read-only stays read-only for this connection.
        self._close_db()
        if self._failures == 1:
            logger.warning(
                "Fragenprotokoll %s nicht beschreibbar (%s); %d Einträge warten im Speicher",
                self._path,
                exc,
                self.pending,
            )

    def _recovered(self) -> None:
        if self._failures:
            logger.warning("Fragenprotokoll %s wieder beschreibbar", self._path)
        self._failures = 0
        self._retry_at = 0.0
        self._last_error = None
        self._last_flush = self._clock()


def secret_path(db_path: Path) -> Path:
    """Where the pseudonym key lives when none is configured: beside the database."""
    return db_path.with_name(db_path.name + ".key")


def load_or_create_secret(db_path: Path, env_secret: str | None) -> bytes:
    """Return the pseudonym key: the configured value, else a key file created once.

    A configured value of 64 hex digits is used as raw bytes (so a key file can be moved
    into the environment unchanged); other values must have at least 32 characters.
    Changing the key makes earlier pseudonyms unmatchable for ``forget()``.
    """
    if env_secret and env_secret.strip():
        value = env_secret.strip()
        if _HEX_KEY.fullmatch(value):
            return bytes.fromhex(value)
        if len(value) < _MIN_ENV_SECRET:
            raise ValueError(
                f"Der konfigurierte Schlüssel für Pseudonyme ist zu kurz (mindestens "
                f"{_MIN_ENV_SECRET} Zeichen). Erzeugen mit: "
                'python -c "import secrets; print(secrets.token_hex(32))"'
            )
        return value.encode()
    path = secret_path(Path(db_path))
    if not path.exists():
        _create_key_file(path)
    return _read_key_file(path)


def _create_key_file(path: Path) -> None:
    """Write the key to a private temp file and link it into place, so two processes
    starting at once agree on one key and nobody reads a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _read_key_file(path: Path) -> bytes:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        logger.warning("Schlüsseldatei %s war für andere lesbar; Rechte auf 0600 gesetzt", path)
        path.chmod(0o600)
    value = path.read_text(encoding="ascii").strip()
    if not _HEX_KEY.fullmatch(value):
        raise ValueError(f"Die Schlüsseldatei {path} ist beschädigt (erwartet: 64 Hex-Zeichen).")
    return bytes.fromhex(value)


def _begin(conn: sqlite3.Connection) -> None:
    """Take the write lock up front; waits at most the busy timeout."""
    conn.execute("BEGIN IMMEDIATE")


def _rollback(conn: sqlite3.Connection) -> None:
    """Undo an unfinished transaction; a failing rollback must not hide the first error."""
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
