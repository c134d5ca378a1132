"""Operations: one instance per database, a heartbeat for monitoring, online backups."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO


class AlreadyRunning(Exception):
    """Another bot process holds the lock of this database."""


@dataclass
class InstanceLock:
    """An exclusive ``flock`` on ``<database>.lock``, released when the process ends.

    Two bots polling with one token fight over updates (Telegram answers 409 Conflict) and two
    writers on one log are needless contention, so the second start is refused instead.
    """

    path: Path
    _handle: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise AlreadyRunning(
                f"Es läuft bereits ein Bot mit dieser Datenbank ({self.path.name} ist gesperrt). "
                "Bitte den anderen Prozess beenden oder eine andere BOT_DATABASE wählen."
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def heartbeat_path(database: Path) -> Path:
    return database.with_name(database.name + ".status.json")


def write_heartbeat(database: Path, **fields: object) -> None:
    """Atomically record what monitoring wants to know (no personal data, ever)."""
    path = heartbeat_path(database)
    data = {"pid": os.getpid(), "written_at": time.time(), **fields}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def read_heartbeat(database: Path) -> dict[str, object] | None:
    try:
        data = json.loads(heartbeat_path(database).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def backup(database: Path, target: Path) -> int:
    """Copy the log with SQLite's online backup API: consistent while the bot keeps writing."""
    if not database.exists():
        raise FileNotFoundError(f"Datenbank {database} nicht gefunden")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    tmp.unlink(missing_ok=True)
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
    tmp.replace(target)
    return int(pages)
