"""Operations: one instance per database, a heartbeat for monitoring, online backups.

Every file made here is private (0600) whatever the umask: the heartbeat says nothing personal,
but there is no reason for others to read it, and a backup holds the question texts.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.log import files as logfiles

logger = logging.getLogger("vereinbar")

PRIVATE = 0o600


class AlreadyRunning(Exception):
    """Another bot process holds the lock of this database."""


@dataclass
class InstanceLock:
    """An exclusive ``flock`` on the database file itself, found through its resolved path.

    Two bots polling with one token fight over updates (Telegram answers 409 Conflict) and two
    writers on one log are needless contention, so the second start is refused. The lock sits
    on the file the question log writes, not on a side file: a symlinked or hard-linked path
    leads to the same file and the same lock, and there is no ``.lock`` file whose deletion
    would let a second bot in. ``flock`` and SQLite's own (POSIX) locks do not interact on
    the local disks SQLite's WAL mode needs anyway. The file is created 0600 if missing (an
    empty file is an empty database). With ``BOT_QUESTION_LOG=0`` there is no database and a
    side file ``<database>.lock`` is locked instead (``side_file``).
    """

    database: Path
    side_file: bool = False
    _fd: int | None = None
    _identity: tuple[int, int] | None = None
    _old: list[int] = field(default_factory=list)  # earlier files, kept locked until release

    @property
    def path(self) -> Path:
        target = self.database.resolve()
        return target.with_name(target.name + ".lock") if self.side_file else target

    def acquire(self) -> None:
        """Lock or raise ``AlreadyRunning`` (German message); OSError if the file cannot be
        created or opened."""
        path = self.path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # private whatever the umask
        for _ in range(10):  # the file may be replaced between open and lock: lock the new one
            _create_private(path, database=not self.side_file)
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                os.close(fd)
                raise AlreadyRunning(
                    f"Es läuft bereits ein Bot mit dieser Datenbank ({path} ist gesperrt). "
                    "Bitte den anderen Prozess beenden oder eine andere BOT_DATABASE wählen."
                ) from exc
            info = os.fstat(fd)
            if logfiles.identity(path) == (info.st_dev, info.st_ino):
                self._fd, self._identity = fd, (info.st_dev, info.st_ino)
                return
            os.close(fd)
        raise OSError(f"{path} wird fortwährend ersetzt")

    def verify(self) -> str | None:
        """Follow a file that was deleted and created anew (the question log recreates a
        vanished database): lock the new one too. Returns why this process must stop when
        another one got there first, else None."""
        if self._fd is None:
            return None
        path = self.path
        try:
            current = logfiles.identity(path)
        except OSError:
            return None
        if current is None or current == self._identity:
            return None  # gone for now: the log creates it anew with its next write
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return (
                f"Ein anderer Bot hat die neu angelegte Datenbank {path} gesperrt; dieser "
                "beendet sich, damit nur einer antwortet."
            )
        info = os.fstat(fd)
        # The old descriptor stays open: closing it would drop SQLite's POSIX locks on that
        # file, which a connection may still hold for a moment.
        self._old.append(self._fd)
        self._fd, self._identity = fd, (info.st_dev, info.st_ino)
        logger.warning("Sperre auf die neu angelegte Datenbank %s übertragen", path)
        return None

    def release(self) -> None:
        for fd in [*self._old, *([] if self._fd is None else [self._fd])]:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fd, self._identity, self._old = None, None, []


def lock_held(database: Path) -> bool | None:
    """Whether a bot holds the lock of this database (the file or its side file): True,
    False, or None when there is nothing to ask. Call it before opening the database with
    SQLite in this process (closing this probe's descriptor would drop SQLite's locks)."""
    found: bool | None = None
    target = database.resolve()
    for path in (target, target.with_name(target.name + ".lock")):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            continue
        else:
            found = False
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    return found


def _create_private(path: Path, *, database: bool) -> None:
    if database:
        logfiles.prepare(path)  # folder, private empty database, existing files tightened
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(_open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL))


def _open_private(path: Path, flags: int) -> int:
    """``os.open`` with mode 0600 whatever the umask (``fchmod`` is not filtered by it)."""
    fd = os.open(path, flags | os.O_CLOEXEC, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)
    except BaseException:
        os.close(fd)
        raise
    return fd


# --- heartbeat --------------------------------------------------------------------------------

HEARTBEAT_SECONDS = 2.0
"""How often the running bot writes its heartbeat; ``status`` judges its age in these units."""


def heartbeat_path(database: Path) -> Path:
    target = database.resolve()
    return target.with_name(target.name + ".status.json")


def write_heartbeat(database: Path, **fields: object) -> None:
    """Atomically record what monitoring wants to know (no personal data, ever); 0600."""
    path = heartbeat_path(database)
    data = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "written_at": time.time(),
        "interval": HEARTBEAT_SECONDS,
        **fields,
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = _open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def read_heartbeat(database: Path) -> dict[str, object] | None:
    data, _ = heartbeat_state(database)
    return data


def heartbeat_state(database: Path) -> tuple[dict[str, object] | None, str | None]:
    """The heartbeat, or None and why not: ``"fehlt"`` or what made it unreadable."""
    path = heartbeat_path(database)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, "fehlt"
    except OSError as exc:
        return None, f"nicht lesbar ({type(exc).__name__})"
    try:
        data = json.loads(text)
    except ValueError:
        return None, "nicht lesbar (kein JSON)"
    if not isinstance(data, dict):
        return None, "nicht lesbar (kein JSON-Objekt)"
    return data, None


# --- backup -------------------------------------------------------------------------------------


def backup(database: Path, target: Path) -> int:
    """Copy the log with SQLite's online backup API: consistent while the bot keeps writing.

    The copy is made as ``<target>.part`` (0600: it holds the question texts) and renamed only
    when ``PRAGMA integrity_check`` passed; on any failure the ``.part`` file goes again.
    """
    if not database.exists():
        raise FileNotFoundError(f"Datenbank {database} nicht gefunden")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    leftovers = [tmp, *(Path(f"{tmp}{suffix}") for suffix in logfiles.COMPANIONS)]
    for path in leftovers:
        path.unlink(missing_ok=True)
    try:
        os.close(_open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            dest = sqlite3.connect(tmp)
            try:
                source.backup(dest)
                pages = dest.execute("PRAGMA page_count").fetchone()[0]
                if dest.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                    raise sqlite3.DatabaseError("Sicherung fehlerhaft (integrity_check)")
            finally:
                dest.close()
        finally:
            source.close()
        os.replace(tmp, target)
    except BaseException:
        for path in leftovers:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        raise
    return int(pages)
