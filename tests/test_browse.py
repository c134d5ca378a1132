"""Browsing the log with Datasette never serves a pseudonym, whatever the log file is called."""

from __future__ import annotations

import re
import sqlite3
import stat
from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import cli
from bot.config import PROJECT_ROOT
from bot.log.writer import QuestionLog
from bot.report import browse

DAY = date(2026, 3, 2)


def _log(path: Path) -> str:
    """A log with answered, rated and unanswered questions; returns one stored pseudonym."""
    log = QuestionLog(path, b"b" * 32, today=lambda: DAY, retention_days=3650)
    for user, (text, outcome) in enumerate(
        [("Wie geht Elternzeit?", "answered"), ("Hund im Büro?", "unknown"),
         ("Gleitzeit", "ambiguous")] * 3
    ):  # fmt: skip
        qid = log.record(
            question=text, outcome=outcome, entry_id="gleitzeit", topic="arbeitszeit",
            score=0.5, kb_version="v1", channel="telegram", user_id=900_000 + user,
        )  # fmt: skip
        if outcome == "answered":
            log.feedback(qid, user % 2 == 0)
    log.close()
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("SELECT pseudonym FROM questions").fetchone()[0])
    finally:
        conn.close()


def test_the_copy_holds_neither_pseudonyms_nor_ids(tmp_path: Path) -> None:
    pseudonym = _log(tmp_path / "protokoll.db")  # not called fragen.db on purpose
    copy, metadata = browse.prepare(tmp_path / "protokoll.db", tmp_path / "sicher")
    assert copy.name == "fragenprotokoll.db"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert stat.S_IMODE(metadata.stat().st_mode) == 0o600
    conn = sqlite3.connect(copy)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables == {"fragen", "tageszahlen"}
        columns = {r[1] for t in tables for r in conn.execute(f"PRAGMA table_info({t})")}
        assert "pseudonym" not in columns and "id" not in columns
        assert conn.execute("SELECT COUNT(*) FROM fragen").fetchone()[0] == 9
        outcomes = {r[0] for r in conn.execute("SELECT DISTINCT ergebnis FROM fragen")}
        assert outcomes == {"beantwortet", "unbeantwortet", "Rückfrage"}
    finally:
        conn.close()
    assert pseudonym.encode() not in copy.read_bytes()  # not even in free pages


def test_docs_datasette_yml_is_the_metadata_browse_serves() -> None:
    text = (PROJECT_ROOT / "docs" / "datasette.yml").read_text(encoding="utf-8")
    assert yaml.safe_load(text) == browse.METADATA


def test_browse_prepares_the_copy_from_the_cli(tmp_path: Path) -> None:
    _log(tmp_path / "irgendwie.db")
    result = CliRunner().invoke(
        cli, ["browse", "--db", str(tmp_path / "irgendwie.db"), "--nur-vorbereiten",
              str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "fragenprotokoll.db").exists()
    missing = CliRunner().invoke(cli, ["browse", "--db", str(tmp_path / "nicht-da.db")])
    assert missing.exit_code == 1 and "Kein Fragenprotokoll" in missing.output
    assert not (tmp_path / "nicht-da.db").exists()


async def test_datasette_never_serves_the_pseudonym(tmp_path: Path) -> None:
    datasette_app = pytest.importorskip("datasette.app")
    pseudonym = _log(tmp_path / "protokoll.db")
    copy, _ = browse.prepare(tmp_path / "protokoll.db", tmp_path / "sicher")
    ds = datasette_app.Datasette(
        [str(copy)], immutables=[], metadata=browse.METADATA,
        settings={"default_allow_sql": False},
    )  # fmt: skip
    await ds.invoke_startup()
    pages = ["/", "/fragenprotokoll", "/fragenprotokoll/fragen", "/fragenprotokoll/tageszahlen"]
    pages += [f"/fragenprotokoll/{q}" for q in browse.METADATA["databases"][browse.NAME]["queries"]]
    pages += [p + ".json" for p in pages[1:]]
    seen = ""
    for page in pages:
        response = await ds.client.get(page)
        assert response.status_code == 200, page
        seen += response.text
    assert "Wie geht Elternzeit?" in seen  # the pages were real
    assert pseudonym not in seen and "pseudonym" not in seen
    raw = await ds.client.get("/fragenprotokoll.json?sql=select+*+from+sqlite_master")
    assert raw.status_code in (400, 403)  # no free SQL
    assert not re.search(r"CREATE TABLE \w+ \(.*pseudonym", raw.text)
