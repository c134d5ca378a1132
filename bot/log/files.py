"""The log's files on disk: private whatever the umask, and which file is actually open.

SQLite creates a new database 0644 (minus the umask) and gives ``-wal`` and ``-shm`` the mode of
the database file. Creating the database file 0600 before SQLite opens it therefore makes all
three private, also under ``umask 000``. The identity (device, inode) of the open file lets the
writer notice that the file was deleted or replaced while the bot runs: an open connection keeps
writing into an unlinked file without any error.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

logger = logging.getLogger(__name__)

PRIVATE = 0o600
COMPANIONS = ("-wal", "-shm", "-journal")

Identity = tuple[int, int]


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
