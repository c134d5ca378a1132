"""Question log files on disk: private modes, a database deleted under the running bot,
durable loss counts, quick_check and the WAL wipe after /vergessen. All on real files."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.log import schema as logschema
from bot.log.health import Losses, loss_file, quick_check, read_losses
from bot.log.secret import load_or_create_secret, secret_path
from bot.log.writer import QuestionLog

SECRET = b"k" * 32
USER = 987654321
OTHER = 123454321


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "fragen.db"


@pytest.fixture
def make_log(db_path: Path) -> Iterator[Callable[..., QuestionLog]]:
    logs: list[QuestionLog] = []

    def make(**kwargs: object) -> QuestionLog:
        log = QuestionLog(db_path, SECRET, **kwargs)  # type: ignore[arg-type]
        logs.append(log)
        return log

    yield make
    for log in logs:
        log.close()


def ask(log: QuestionLog, text: str, *, user: int | None = USER) -> str:
    return log.record(
        question=text, outcome="answered", entry_id="pflege", topic="pflege", score=0.9,
        kb_version="v1", channel="telegram", user_id=user,
    )  # fmt: skip


def questions(db_path: Path) -> list[str]:
    conn = sqlite3.connect(db_path)
    try:
        return [r[0] for r in conn.execute("SELECT question FROM questions ORDER BY rowid")]
    finally:
        conn.close()


def meta(db_path: Path) -> dict[str, int]:
    conn = sqlite3.connect(db_path)
    try:
        return dict(conn.execute("SELECT key, value FROM log_meta").fetchall())
    finally:
        conn.close()


def modes(folder: Path, pattern: str) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.glob(pattern)}


def file_bytes(db_path: Path) -> bytes:
    return b"".join(
        Path(f"{db_path}{suffix}").read_bytes()
        for suffix in ("", "-wal", "-shm")
        if Path(f"{db_path}{suffix}").exists()
    )


def eventually(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll until the writer got there; the timeout is a safety net, never a measurement."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the writer never got there"
        time.sleep(0.01)


class ReadOnlyConnections:
    """Every new connection of the log refuses to write, like a read-only or full disk."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.on = True
        original = logschema.connect

        def connect(path: Path, *, busy_timeout_ms: int) -> Database:
            db = original(path, busy_timeout_ms=busy_timeout_ms)
            if self.on:
                db.conn.execute("PRAGMA query_only=ON")
            return db

        monkeypatch.setattr(logschema, "connect", connect)


# -- private whatever the umask ---------------------------------------------------------


def test_database_wal_shm_key_and_loss_file_are_private_under_umask_000(
    make_log, db_path: Path, monkeypatch
) -> None:
    previous = os.umask(0)
    try:
        load_or_create_secret(db_path, None)
        log = make_log()
        ask(log, "Frage unter umask 000")
        log.flush()
        assert Path(f"{db_path}-wal").exists() and Path(f"{db_path}-shm").exists()
        found = modes(db_path.parent, "fragen.db*")
        log.close()
        broken = ReadOnlyConnections(monkeypatch)
        ask(log, "Frage, die verloren geht")
        log.close()  # cannot write: the count goes to the side file
        broken.on = False
        found[loss_file(db_path).name] = stat.S_IMODE(loss_file(db_path).stat().st_mode)
    finally:
        os.umask(previous)
    assert found == {
        "fragen.db": 0o600,
        "fragen.db-wal": 0o600,
        "fragen.db-shm": 0o600,
        secret_path(db_path).name: 0o600,
        loss_file(db_path).name: 0o600,
    }


def test_a_report_that_creates_the_file_creates_it_private(db_path: Path) -> None:
    from datetime import date

    from bot.log.stats import store_ignored

    previous = os.umask(0)
    try:
        store_ignored(db_path, "gruppe", {"hash"}, date(2025, 3, 3))
    finally:
        os.umask(previous)
    assert modes(db_path.parent, "fragen.db*") == {"fragen.db": 0o600}


def test_existing_readable_files_are_tightened(make_log, db_path: Path, caplog) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE probe (x)")
    db_path.chmod(0o644)
    log = make_log()
    ask(log, "Frage nach dem Öffnen")
    log.flush()
    conn.close()
    assert set(modes(db_path.parent, "fragen.db*").values()) == {0o600}
    assert "war für andere lesbar" in caplog.text


# -- a database deleted or replaced under the running bot --------------------------------


@pytest.mark.parametrize("deleted", [("",), ("", "-wal", "-shm")], ids=["db", "db+wal+shm"])
def test_deleted_database_is_recreated_loudly_and_the_loss_counted(
    make_log, db_path: Path, caplog, deleted: tuple[str, ...]
) -> None:
    log = make_log()
    ask(log, "Frage vor dem Löschen")
    ask(log, "Noch eine Frage vor dem Löschen", user=OTHER)
    log.flush()
    for suffix in deleted:
        Path(f"{db_path}{suffix}").unlink()

    ask(log, "Frage nach dem Löschen")
    log.flush()

    assert questions(db_path) == ["Frage nach dem Löschen"]  # not into the unlinked file
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        f"Fragenprotokoll {db_path} wurde im laufenden Betrieb gelöscht; neu angelegt. "
        "2 gespeicherte Fragen sind verloren."
    ]
    health = log.health()
    assert (health.recreated, health.vanished_rows, health.rows_lost) == (1, 2, 2)
    losses = read_losses(db_path)  # durable: what `status` reads from another process
    assert (losses.recreated, losses.vanished_rows, losses.rows) == (1, 2, 2)
    assert losses.lost_at is not None and abs(losses.lost_at - time.time()) < 3600
    assert set(modes(db_path.parent, "fragen.db*").values()) == {0o600}


def test_deleted_database_is_noticed_without_a_write(make_log, db_path: Path) -> None:
    log = make_log()
    ask(log, "Frage vor dem Löschen")
    log.flush()
    db_path.unlink()
    log.health()  # the heartbeat's call asks the writer to look
    eventually(lambda: db_path.exists())
    eventually(lambda: log.health().recreated == 1)
    eventually(lambda: read_losses(db_path).vanished_rows == 1)


def test_replaced_database_is_followed_and_reported(make_log, db_path: Path, caplog) -> None:
    log = make_log()
    ask(log, "Frage in der alten Datei")
    log.flush()
    other = db_path.with_name("neu.db")
    QuestionLog(other, SECRET).close()
    os.replace(other, db_path)  # e.g. a restore over the running bot's file

    ask(log, "Frage in der neuen Datei")
    log.flush()

    assert questions(db_path) == ["Frage in der neuen Datei"]
    assert "durch eine andere Datei ersetzt" in caplog.text
    assert log.health().recreated == 1


# -- losses counted durably ---------------------------------------------------------------


def test_rows_lost_at_close_survive_the_restart(make_log, db_path: Path, monkeypatch) -> None:
    make_log().close()
    broken = ReadOnlyConnections(monkeypatch)
    log = make_log()
    ask(log, "Frage, die nicht geschrieben werden kann")
    log.close()
    assert log.dropped == 1
    assert read_losses(db_path).dropped_rows == 1  # in the side file: the database refused
    assert loss_file(db_path).exists()

    broken.on = False
    make_log().close()  # the next start folds the side file into log_meta
    assert not loss_file(db_path).exists()
    assert meta(db_path)["dropped_rows"] == 1
    assert read_losses(db_path).dropped_rows == 1


def test_a_sound_log_has_no_losses(make_log, db_path: Path) -> None:
    log = make_log()
    ask(log, "Gewöhnliche Frage")
    log.close()
    assert read_losses(db_path) == Losses()
    assert not read_losses(db_path)


# -- quick_check ----------------------------------------------------------------------------


def test_quick_check_finds_pages_corrupted_inside_a_valid_file(make_log, db_path: Path) -> None:
    log = make_log()
    for i in range(300):
        ask(log, f"Frage {i} zur Pflege von Angehörigen " + "und zur Teilzeit " * 10)
    log.close()
    assert quick_check(db_path) == []
    page_size = 4096
    with db_path.open("r+b") as handle:
        pages = handle.seek(0, os.SEEK_END) // page_size
        handle.seek((pages - 2) * page_size)
        handle.write(b"\xff" * page_size)

    findings = quick_check(db_path)
    assert findings and findings != ["ok"]
    reopened = make_log()
    assert reopened.quick_check() == findings


# -- /vergessen leaves nothing in the WAL ------------------------------------------------------


def test_forget_wipes_the_wal_as_soon_as_the_reader_lets_go(make_log, db_path: Path) -> None:
    log = make_log()
    ask(log, "Streng vertrauliche Frage zur Pflege", user=USER)
    ask(log, "Frage der Kollegin", user=OTHER)
    log.flush()
    reader = sqlite3.connect(db_path, isolation_level=None)  # e.g. a report being built
    reader.execute("BEGIN")
    assert reader.execute("SELECT COUNT(*) FROM questions").fetchone() == (2,)

    assert log.forget(USER) == 1
    assert b"Streng vertrauliche" in file_bytes(db_path)  # the reader still needs those pages
    assert log.health().wipe_pending

    reader.execute("COMMIT")
    reader.close()
    eventually(lambda: not log.health().wipe_pending)  # no further question needed
    assert b"Streng vertrauliche" not in file_bytes(db_path)
    assert Path(f"{db_path}-wal").stat().st_size == 0
    assert questions(db_path) == ["Frage der Kollegin"]
