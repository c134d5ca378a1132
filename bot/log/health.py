"""How the question log is doing, for the heartbeat, the team and ``python -m bot status``.

Two views: ``LogHealth`` is the running writer's in-memory snapshot (cheap, never touches
SQLite); ``read_losses`` and ``quick_check`` read the files from another process. Losses are
counted durably: in ``log_meta`` when the database can be written, otherwise in a small side
file beside it (``fragen.db.lost``), which the next writer folds into ``log_meta``. So a loss
cannot disappear with a restart.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from bot.log import schema as logschema

logger = logging.getLogger(__name__)

DROPPED = "dropped_rows"  # never written: queue overflow, or still unwritable at shutdown
VANISHED = "vanished_rows"  # were in a database file deleted while the bot ran
RECREATED = "recreated"  # times the file vanished or was replaced under a running bot
LOST_AT = "lost_at"  # wall-clock seconds of the latest loss
_COUNTERS = (DROPPED, VANISHED, RECREATED)


@dataclass(frozen=True, slots=True)
class LogHealth:
    """Snapshot of a running question log."""

    pending: int  # rows, updates, deletions and update marks not yet written
    dropped: int  # rows lost in this run (queue overflow, unwritable at close)
    recreated: int  # times in this run the database file vanished and was created anew
    vanished_rows: int  # question rows that were in the vanished file(s)
    writable: bool  # the last write succeeded
    last_error: str | None
    wipe_pending: bool  # a deletion still lingers in the WAL because a reader holds it

    @property
    def rows_lost(self) -> int:
        return self.dropped + self.vanished_rows


@dataclass(frozen=True, slots=True)
class Losses:
    """Durable loss counts of one database (``log_meta`` plus the side file)."""

    dropped_rows: int = 0
    vanished_rows: int = 0
    recreated: int = 0
    lost_at: int | None = None

    @property
    def rows(self) -> int:
        return self.dropped_rows + self.vanished_rows

    def __add__(self, other: Losses) -> Losses:
        times = [t for t in (self.lost_at, other.lost_at) if t is not None]
        return Losses(
            self.dropped_rows + other.dropped_rows,
            self.vanished_rows + other.vanished_rows,
            self.recreated + other.recreated,
            max(times) if times else None,
        )

    def __bool__(self) -> bool:
        return bool(self.dropped_rows or self.vanished_rows or self.recreated)


def add_losses(conn: sqlite3.Connection, losses: Losses) -> None:
    """Add to the counters in ``log_meta``, inside the caller's transaction."""
    values = {DROPPED: losses.dropped_rows, VANISHED: losses.vanished_rows,
              RECREATED: losses.recreated}  # fmt: skip
    for key, value in values.items():
        if value:
            conn.execute(
                f"INSERT INTO {logschema.META} (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value",
                (key, value),
            )
    if losses.lost_at is not None:
        conn.execute(
            f"INSERT INTO {logschema.META} (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = MAX(value, excluded.value)",
            (LOST_AT, int(losses.lost_at)),
        )


def loss_file(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lost")


def write_loss_file(db_path: Path, losses: Losses) -> None:
    """Add ``losses`` to the side file (private, replaced atomically); raises OSError."""
    total = read_loss_file(db_path) + losses
    target = loss_file(db_path)
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            json.dump(_as_dict(total), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def keep_beside(db_path: Path, losses: Losses) -> None:
    """The database could not take the counts: keep them in the side file, or say so."""
    try:
        write_loss_file(db_path, losses + Losses(lost_at=int(time.time())))
    except OSError as exc:
        logger.error(
            "Fragenprotokoll: Verluste (%d Fragen) konnten nirgends vermerkt werden (%s)",
            losses.rows,
            exc,
        )


def fold_loss_file(conn: sqlite3.Connection, db_path: Path) -> None:
    """Move counts that an earlier run could only keep beside the file into ``log_meta``."""
    losses = read_loss_file(db_path)
    if not losses:
        return
    try:
        with logschema.transaction(conn):
            add_losses(conn, losses)
    except sqlite3.Error:
        return  # stays in the side file; the next start tries again
    loss_file(db_path).unlink(missing_ok=True)


def read_loss_file(db_path: Path) -> Losses:
    try:
        data = json.loads(loss_file(db_path).read_text(encoding="ascii"))
    except FileNotFoundError:
        return Losses()
    except (OSError, ValueError):
        return Losses(dropped_rows=1)  # unreadable: something was lost, the count is unknown
    return _from_dict(data if isinstance(data, dict) else {})


def read_losses(db_path: Path) -> Losses:
    """Durable counts for ``status``: ``log_meta`` (read-only) plus the side file."""
    stored = Losses()
    if db_path.exists():
        with contextlib.suppress(sqlite3.Error):
            conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=2)
            try:
                rows = conn.execute(f"SELECT key, value FROM {logschema.META}").fetchall()
            finally:
                conn.close()
            stored = _from_dict(dict(rows))
    return stored + read_loss_file(db_path)


def quick_check(db_path: Path) -> list[str]:
    """``PRAGMA quick_check`` on the file, read-only: [] when it is sound, else SQLite's
    findings (pages corrupted inside a file that still opens are found here)."""
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=2)
        try:
            return check(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return [str(exc)]


def check(conn: sqlite3.Connection) -> list[str]:
    found = [str(r[0]) for r in conn.execute("PRAGMA quick_check")]
    return [] if found == ["ok"] else found


def _as_dict(losses: Losses) -> dict[str, int]:
    values = {DROPPED: losses.dropped_rows, VANISHED: losses.vanished_rows,
              RECREATED: losses.recreated}  # fmt: skip
    if losses.lost_at is not None:
        values[LOST_AT] = losses.lost_at
    return values


def _from_dict(data: dict[str, object]) -> Losses:
    def number(key: str) -> int:
        value = data.get(key)
        return value if isinstance(value, int) and value > 0 else 0

    lost_at = data.get(LOST_AT)
    return Losses(
        number(DROPPED),
        number(VANISHED),
        number(RECREATED),
        lost_at if isinstance(lost_at, int) else None,
    )
