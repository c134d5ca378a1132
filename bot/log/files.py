"""The log's file on disk: private whatever the umask, still the one at its path, WAL wiped.

SQLite creates a new database 0644 (minus the umask) and gives ``-wal`` and ``-shm`` the mode of
the database file. Creating the database file 0600 before SQLite opens it therefore makes all
three private, also under ``umask 000``. The identity (device, inode) of the open file shows
when the file was deleted or replaced while the bot runs: an open connection would go on writing
into an unlinked file without any error, and every row from then on would be lost silently.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from bot.log import health as loghealth
from bot.log import schema as logschema

logger = logging.getLogger(__name__)

PRIVATE = 0o600
COMPANIONS = ("-wal", "-shm", "-journal")

_MAX_WIPE_DELAY_S = 2.0

Identity = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Change:
    """The file at the log's path is no longer the one the connection had open."""

    deleted: bool  # False: replaced by another file
    lost: int  # question rows that were in the deleted file


class LogFile:
    """The writer thread's connection to the database file (only that thread uses it).

    ``connect()`` opens the file private and with the current schema, and first checks that
    it is still the file at the path; ``on_change`` hears about a deleted or replaced file
    after one loud log line, and the next connection starts a new file. ``wipe()`` truncates
    the WAL after deletions, retried with back-off while a reader holds the old pages.
    """

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_ms: int,
        clock: Callable[[], float],
        on_change: Callable[[Change], None],
    ) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._clock = clock
        self._on_change = on_change
        self._db: Database | None = None
        self._identity: Identity | None = None
        self._companions: dict[Path, Identity | None] = {}  # this connection's -wal, -shm
        self.wipe_pending = False  # read by other threads for the health snapshot
        self.wipe_at = 0.0
        self._wipe_attempts = 0

    def connect(self) -> sqlite3.Connection:
        self.check()
        if self._db is None:
            prepare(self.path)
            db = logschema.connect(self.path, busy_timeout_ms=self.busy_timeout_ms)
            try:
                logschema.ensure_schema(db)
            except BaseException:
                db.close()
                raise
            self._db = db
            self._identity = identity(self.path)
            self._companions = companion_identities(self.path)  # WAL mode made them
            loghealth.fold_loss_file(db.conn, self.path)
        return self._db.conn

    def close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    @contextlib.contextmanager
    def patient(self, busy_timeout_ms: int) -> Iterator[None]:
        """Reconnect with a longer busy timeout (shutdown is off the hot path), then back."""
        self.close()
        normal, self.busy_timeout_ms = self.busy_timeout_ms, busy_timeout_ms
        try:
            yield
        finally:
            self.busy_timeout_ms = normal
            self.close()

    def check(self) -> None:
        """Notice a file deleted or replaced under the connection, and let go of it."""
        if self._identity is None:
            return
        try:
            current = identity(self.path)
        except OSError:
            return  # cannot tell (e.g. a folder without permission); writing will say more
        if current == self._identity:
            return
        lost = 0
        if self._db is not None and current is None:
            with contextlib.suppress(sqlite3.Error):
                row = self._db.conn.execute(f"SELECT COUNT(*) FROM {logschema.QUESTIONS}")
                lost = int(row.fetchone()[0])
        self.close()
        remove_stale(self.path, self._companions)
        self._identity = None
        self._companions = {}
        if current is None:
            logger.error(
                "Fragenprotokoll %s wurde im laufenden Betrieb gelöscht; neu angelegt. "
                "%d gespeicherte Fragen sind verloren.",
                self.path,
                lost,
            )
        else:
            logger.error(
                "Fragenprotokoll %s wurde im laufenden Betrieb durch eine andere Datei "
                "ersetzt; es wird in die neue Datei geschrieben.",
                self.path,
            )
        self._on_change(Change(deleted=current is None, lost=lost))

    def wipe_soon(self) -> None:
        """A deletion happened: truncate the WAL now and until it worked."""
        self._wipe_attempts = 0
        self.wipe_at = self._clock()
        self.wipe_pending = True

    def wipe(self) -> None:
        """Truncate the WAL so deleted texts do not linger in old page copies.

        A reader that still holds those pages makes the checkpoint busy; it is retried with
        back-off (50 ms doubling up to 2 s) until it succeeds, without waiting for a new write.
        """
        try:
            busy = bool(self.connect().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0])
        except (OSError, sqlite3.Error):
            busy = True
        if busy:
            self._wipe_attempts += 1
            delay = min(0.05 * 2 ** min(self._wipe_attempts, 6), _MAX_WIPE_DELAY_S)
            self.wipe_at = self._clock() + delay
        else:
            self._wipe_attempts = 0
        self.wipe_pending = busy


def prepare(path: Path) -> None:
    """Create the folder and a private empty database file; tighten existing files.

    Existing files lose only their group and other bits (a file an operator made read-only
    stays read-only), with one warning, as for the key file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except FileExistsError:
        pass
    else:
        try:
            os.fchmod(fd, PRIVATE)  # os.open's mode is filtered by the umask, fchmod is not
        finally:
            os.close(fd)
    for target in (path, *companions(path)):
        _tighten(target)


def companions(path: Path) -> list[Path]:
    return [Path(f"{path}{suffix}") for suffix in COMPANIONS]


def identity(path: Path) -> Identity | None:
    """(device, inode) of the file at ``path``, None if there is none."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_dev, info.st_ino


def companion_identities(path: Path) -> dict[Path, Identity | None]:
    return {target: identity(target) for target in companions(path)}


def remove_stale(path: Path, ours: dict[Path, Identity | None]) -> None:
    """Delete the ``-wal``/``-shm`` of a file that was deleted or replaced under an open
    connection, so the file now at ``path`` never replays another file's pages.

    SQLite leaves them behind when it closes a connection to a moved file. Without a main
    file every companion is stale; beside a replacement only the ones this connection had.
    """
    orphaned = not path.exists()
    for target, known in ours.items():
        current = identity(target)
        if current is not None and (orphaned or current == known):
            target.unlink(missing_ok=True)


def _tighten(target: Path) -> None:
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        logger.warning(
            "Datei %s war für andere lesbar (%o); Rechte auf %o gesetzt",
            target,
            mode,
            mode & 0o700,
        )
        target.chmod(mode & 0o700)
