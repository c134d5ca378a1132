"""Follow-ups about the last card and requests to the counselling office in the report.

Real SQLite files written by the real question log (and, end to end, by the conversation on
the bundled knowledge bases), read by the real report builder.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from chatkit import assert_telegram_html

from bot.chat.conversation import Conversation
from bot.config import DEFAULT_KB
from bot.log import schema as logschema
from bot.log.tickets import TicketStore
from bot.log.writer import QuestionLog
from bot.report.build import build_report, export_csv, team_summary
from bot.search.library import Library

SECRET = b"f" * 32
MONDAY = date(2025, 3, 3)
TITLES = {"gleitzeit": "Gleitzeit", "elternzeit": "Elternzeit"}
GROUP = -1001234


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "fragen.db"


def open_log(db_path: Path, day: date = MONDAY, retention_days: int = 3650) -> QuestionLog:
    return QuestionLog(db_path, SECRET, today=lambda: day, retention_days=retention_days)


def fresh(log: QuestionLog, n: int, outcome: str = "answered", text: str = "Gibt es Gleitzeit?",
          entry: str | None = "gleitzeit") -> None:  # fmt: skip
    for user in range(n):
        log.record(question=text, outcome=outcome, entry_id=entry, topic="arbeitszeit",
                   score=0.8, kb_version="v", channel="telegram", user_id=100 + user)  # fmt: skip


def followups(
    log: QuestionLog,
    n: int,
    kind: str,
    outcome: str,
    *,
    entry: str = "gleitzeit",
    text: str = "und wer ist da zuständig?",
    channel: str = "telegram",
) -> None:
    for user in range(n):
        log.record(question=text, outcome=outcome, entry_id=entry, topic="arbeitszeit",
                   score=None, kb_version="v", channel=channel, user_id=200 + user,
                   followup=kind)  # fmt: skip


def csv_rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


def overview(report: str, label: str) -> str:
    match = re.search(rf"^  {re.escape(label)}:\s+(.+)$", report, re.MULTILINE)
    assert match, label
    return match[1]


# -- fresh questions and follow-ups apart -------------------------------------------------------


def test_follow_ups_are_not_counted_as_fresh_questions(db_path: Path) -> None:
    log = open_log(db_path)
    fresh(log, 6)
    followups(log, 7, "contact", "unknown")
    followups(log, 5, "target", "answered", text="und für Beamte?")
    log.close()
    report = build_report(db_path, titles=TITLES, today=MONDAY)
    assert overview(report, "Fragen gesamt") == "6"
    assert overview(report, "unbeantwortet") == "0"
    assert overview(report, "Antwortquote") == "100 %"
    assert overview(report, "Nachfragen") == (
        "12 zur letzten Antwort, davon 7 unbeantwortet (nicht mitgezählt)"
    )
    assert re.search(r"KW 10/2025\s+6\s+6\s+0\s+0", report)
    assert re.search(r"^  Gleitzeit\s+6\s+0\s+0$", report, re.MULTILINE)  # entry table
    # An unanswered follow-up is no gap group of fresh questions …
    assert "(0 Fragen in 0 Gruppen" in report
    assert "Keine offenen Lücken bei neuen Fragen." in report
    # … but a content gap of its entry, on the first screen and in its own section.
    line = "Zu „Gleitzeit“ (gleitzeit) fragten 7 nach der Zuständigkeit – die Quelle nennt keine."
    first_screen = report.split("Überblick")[0]
    assert f"  {line} → Zuständige Stelle im Quelldokument nachsehen" in first_screen
    section = report.split("Nachfragen zur letzten Antwort (12)")[1].split("Offene Lücken")[0]
    assert re.search(r"^  Zuständigkeit\s+7\s+7$", section, re.MULTILINE)
    assert re.search(r"^  Zielgruppe\s+5\s+0$", section, re.MULTILINE)
    assert re.search(r"^  Unterschied\s+0\s+0$", section, re.MULTILINE)
    assert f"  {line}\n    Vorschlag: Zuständige Stelle" in section
    assert "nach der Zielgruppe" not in section  # answered follow-ups are no gap


def test_the_summary_html_and_csv_show_follow_ups_apart(db_path: Path) -> None:
    log = open_log(db_path)
    fresh(log, 5)
    fresh(log, 5, "unknown", "Wo parke ich mein Fahrrad?", None)
    followups(log, 6, "status", "unknown", text="ab wann?")
    followups(log, 2, "contact", "unknown", entry="elternzeit")
    log.close()
    summary, _png = team_summary(db_path, today=MONDAY, titles=TITLES)
    assert "Fragen: 10" in summary
    assert "Antwortquote: 50 %" in summary
    assert "Unbeantwortet: 10" not in summary and "Unbeantwortet: 5" in summary
    assert "Nachfragen (nicht mitgezählt): 8 zur letzten Antwort, davon 8 unbeantwortet" in summary
    assert "Nachfragen ohne Antwort: 2 Einträge – Details mit /bericht" in summary

    html = build_report(db_path, fmt="html", titles=TITLES, today=MONDAY)
    assert "<h2>Nachfragen zur letzten Antwort</h2>" in html
    assert html.count('<img src="data:image/png;base64,') == 3  # weeks, topics, follow-ups
    assert 'alt="Nachfragen nach Art"' in html
    assert (
        "Zu „Gleitzeit“ (gleitzeit) fragten 6 nach dem Stand (seit/ab wann) – die Quelle nennt "
        "keinen Stand und kein Datum." in html
    )
    assert "Zu „Elternzeit“ (elternzeit) fragten &lt;5 nach der Zuständigkeit" in html
    assert "<b>8</b><span>Nachfragen (nicht mitgezählt)</span>" in html
    # The one fresh unknown question is the only gap group.
    assert "Wo parke ich mein Fahrrad?" in html and "ab wann?" not in html

    rows = {(r["abschnitt"], r["bezeichnung"], r["kennzahl"]): r for r in csv_rows(
        build_report(db_path, fmt="csv", titles=TITLES, today=MONDAY))}  # fmt: skip
    assert rows[("ueberblick", "", "fragen")]["wert"] == "10"
    assert rows[("ueberblick", "", "nachfragen")]["wert"] == "8"
    assert rows[("ueberblick", "", "nachfragen_unbeantwortet")]["wert"] == "8"
    assert rows[("nachfrage", "status", "fragen")]["titel"] == "Stand, seit/ab wann"
    assert rows[("nachfrage", "status", "unbeantwortet")]["wert"] == "6"
    assert rows[("nachfrage_luecke", "gleitzeit", "art")]["wert"] == "Stand, seit/ab wann"
    assert rows[("nachfrage_luecke", "gleitzeit", "unbeantwortet")]["wert"] == "6"
    assert rows[("nachfrage_luecke", "elternzeit", "unbeantwortet")]["wert"] == "<5"

    export = csv_rows(export_csv(db_path))
    kinds = [(r["frage"], r["nachfrage"]) for r in export if r["frage"] == "ab wann?"]
    assert kinds == [("ab wann?", "Stand, seit/ab wann")] * 6
    assert {r["nachfrage"] for r in export if r["frage"] == "Gibt es Gleitzeit?"} == {""}


def test_a_report_without_follow_ups_says_so_and_draws_no_empty_chart(db_path: Path) -> None:
    log = open_log(db_path)
    fresh(log, 5)
    log.close()
    report = build_report(db_path, titles=TITLES, today=MONDAY)
    assert "Nachfragen zur letzten Antwort (0)\n  Keine." in report
    assert "Keine offenen Lücken – die Wissensbasis beantwortet alles" in report
    html = build_report(db_path, fmt="html", titles=TITLES, today=MONDAY)
    assert html.count('<img src="data:image/png;base64,') == 2


def test_follow_ups_survive_the_purge_apart_from_fresh_questions(db_path: Path) -> None:
    log = open_log(db_path, retention_days=30)
    fresh(log, 6)
    followups(log, 5, "contact", "unknown")
    log.close()
    before = build_report(db_path, titles=TITLES, today=MONDAY)
    open_log(db_path, MONDAY + timedelta(days=40), retention_days=30).close()  # purges
    assert sqlite3.connect(db_path).execute("SELECT COUNT(*) FROM questions").fetchone()[0] == 0
    after = build_report(db_path, titles=TITLES, today=MONDAY)
    for report in (before, after):
        assert overview(report, "Fragen gesamt") == "6"
        assert overview(report, "Nachfragen").startswith("5 zur letzten Antwort, davon 5 ")
        assert "Zu „Gleitzeit“ (gleitzeit) fragten 5 nach der Zuständigkeit" in report
    export = csv_rows(export_csv(db_path))
    assert [(r["art"], r["eintrag"], r["nachfrage"], r["anzahl"]) for r in export] == [
        ("tageszahl", "gleitzeit", "", "6"),
        ("nachfragen_tageszahl", "gleitzeit", "Zuständigkeit", "5"),
    ]


def test_follow_ups_from_another_channel_are_left_out(db_path: Path) -> None:
    log = open_log(db_path)
    fresh(log, 5)
    followups(log, 6, "contact", "unknown", channel="terminal")
    log.close()
    report = build_report(db_path, titles=TITLES, today=MONDAY)
    assert overview(report, "Nachfragen").startswith("0 zur letzten Antwort")
    everything = build_report(db_path, titles=TITLES, today=MONDAY, channel="alle")
    assert overview(everything, "Nachfragen").startswith("6 zur letzten Antwort")


def test_a_migrated_version_4_log_reports_its_old_rows_as_fresh_questions(db_path: Path) -> None:
    db = logschema.connect(db_path, busy_timeout_ms=100)
    for migrate in (logschema._migrate_v1, logschema._migrate_v2, logschema._migrate_v3,
                    logschema._migrate_v4):  # fmt: skip
        migrate(db)
    db.conn.execute("PRAGMA user_version=4")
    for number in range(5):
        db.conn.execute(
            "INSERT INTO questions (id, day, question, outcome, entry_id, topic, score, "
            "kb_version, channel, gap) VALUES (?, ?, 'Gleitzeit?', 'answered', 'gleitzeit', "
            "'arbeitszeit', 0.7, 'v', 'telegram', 0)",
            (f"q{number}", MONDAY.isoformat()),
        )
    db.close()
    report = build_report(db_path, titles=TITLES, today=MONDAY)  # the reader migrates
    assert overview(report, "Fragen gesamt") == "5"
    assert overview(report, "Nachfragen").startswith("0 zur letzten Antwort")
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == logschema.SCHEMA_VERSION == 5
    assert conn.execute("SELECT COUNT(*) FROM questions WHERE followup IS NULL").fetchone()[0] == 5
    conn.close()


# -- requests to the counselling office -------------------------------------------------------


def test_the_report_counts_requests_to_the_counselling_office_in_its_period(
    db_path: Path,
) -> None:
    earlier = open_log(db_path, MONDAY - timedelta(days=10))
    store = TicketStore(earlier, group_chat=GROUP)
    for user in range(5):  # before the period: not counted
        store.delivered(store.open(300 + user), 10 + user)
    earlier.close()
    log = open_log(db_path)
    store = TicketStore(log, group_chat=GROUP)
    fresh(log, 5)
    for user in range(7):
        number = store.open(400 + user)
        store.delivered(number, 100 + user)
        if user < 6:
            store.relayed(number, to="employee")
            store.relayed(number, to="employee")  # a second answer is no second request
        if user < 5:
            assert store.close(number)
    log.close()
    since = MONDAY - timedelta(days=2)
    report = build_report(db_path, since=since, until=MONDAY, titles=TITLES, today=MONDAY)
    assert overview(report, "Anfragen an die Beratungsstelle") == (
        "geöffnet 7 · von der Beratungsstelle beantwortet 6 · abgeschlossen 5"
    )
    whole = build_report(db_path, titles=TITLES, today=MONDAY)
    assert "Anfragen an die Beratungsstelle: geöffnet 12 ·" in whole
    html = build_report(db_path, fmt="html", since=since, until=MONDAY, today=MONDAY)
    assert "<h2>Anfragen an die Beratungsstelle</h2>" in html
    assert "geöffnet 7 · von der Beratungsstelle beantwortet 6 · abgeschlossen 5" in html
    rows = {(r["abschnitt"], r["kennzahl"]): r["wert"] for r in csv_rows(
        build_report(db_path, fmt="csv", since=since, until=MONDAY, today=MONDAY))}  # fmt: skip
    assert rows[("beratungsstelle", "anfragen_geoeffnet")] == "7"
    assert rows[("beratungsstelle", "anfragen_beantwortet")] == "6"
    assert rows[("beratungsstelle", "anfragen_abgeschlossen")] == "5"
    summary, _png = team_summary(db_path, days=3, today=MONDAY)
    assert "Anfragen an die Beratungsstelle: geöffnet 7 ·" in summary
    # Counts only: no ticket number, chat or pseudonym reaches any rendering.
    sealed = [r[0] for r in sqlite3.connect(db_path).execute("SELECT chat FROM tickets")]
    assert len(sealed) == 7
    for text in (report, html, summary):
        assert "406" not in text and all(chat not in text for chat in sealed)
    # The terminal channel has no counselling office: no such line there.
    terminal = build_report(db_path, titles=TITLES, today=MONDAY, channel="terminal")
    assert "Anfragen an die Beratungsstelle" not in terminal


def test_small_request_counts_are_suppressed(db_path: Path) -> None:
    log = open_log(db_path)
    store = TicketStore(log, group_chat=GROUP)
    store.delivered(store.open(500), 1)
    log.close()
    report = build_report(db_path, today=MONDAY)
    assert overview(report, "Anfragen an die Beratungsstelle") == (
        "geöffnet <5 · von der Beratungsstelle beantwortet 0 · abgeschlossen 0"
    )


# -- end to end: the conversation writes, the report reads -----------------------------------


def test_follow_ups_the_source_cannot_answer_reach_the_report(
    tmp_path: Path, koeln_library: Library
) -> None:
    koeln, herne = tmp_path / "koeln.db", tmp_path / "herne.db"
    log = open_log(koeln)
    talk = Conversation(lambda: koeln_library.current, log)
    for user in (11, 12):
        for question in ("gibt es noch eine Kernarbeitszeit?", "und für Beamte?",
                         "und wer ist da zuständig?"):  # fmt: skip
            (reply,) = talk.ask(question, user_id=user)
            assert_telegram_html(reply.text)
    log.close()
    stored = [
        tuple(r)
        for r in sqlite3.connect(koeln).execute(
            "SELECT question, outcome, entry_id, followup FROM questions ORDER BY rowid"
        )
    ]
    assert stored[:3] == [
        ("gibt es noch eine Kernarbeitszeit?", "answered", "gleitzeit", None),
        ("und für Beamte?", "unknown", "gleitzeit", "target"),
        ("und wer ist da zuständig?", "answered", "gleitzeit", "contact"),
    ]
    kb = koeln_library.current.kb
    report = build_report(koeln, knowledge=kb, today=MONDAY)
    title = kb.entries["gleitzeit"].title
    assert (
        f"Zu „{title}“ (gleitzeit) fragten <5 nach der Zielgruppe – die Quelle nennt die "
        "gefragte Gruppe nicht. → „zielgruppe:“ so fassen, wie die Quelle die gefragten Gruppen "
        "nennt." in report
    )
    assert overview(report, "Fragen gesamt") == "<5"
    assert overview(report, "Nachfragen") == (
        "<5 zur letzten Antwort, davon <5 unbeantwortet (nicht mitgezählt)"
    )
    assert "nach der Zuständigkeit" not in report  # Gleitzeit names who is responsible

    library, problems = Library.open(DEFAULT_KB.parent / "herne")
    assert library is not None, problems
    log = open_log(herne)
    talk = Conversation(lambda: library.current, log)
    talk.ask("Büro für Vielfalt", user_id=11)
    talk.ask("ab wann?", user_id=11)
    log.close()
    ((kind, outcome, entry),) = sqlite3.connect(herne).execute(
        "SELECT followup, outcome, entry_id FROM questions WHERE followup IS NOT NULL"
    )
    assert (kind, outcome, entry) == ("status", "unknown", "buero-vielfalt")
    report = build_report(herne, knowledge=library.current.kb, today=MONDAY)
    assert "(buero-vielfalt) fragten <5 nach dem Stand (seit/ab wann)" in report


def test_the_browse_copy_names_the_kind_of_a_follow_up(db_path: Path, tmp_path: Path) -> None:
    from bot.report import browse

    log = open_log(db_path)
    fresh(log, 1)
    followups(log, 1, "difference", "unknown", text="was ist der Unterschied?")
    log.close()
    copy, _metadata = browse.prepare(db_path, tmp_path / "sicher")
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("SELECT frage, nachfrage FROM fragen ORDER BY frage").fetchall() == [
            ("Gibt es Gleitzeit?", None),
            ("was ist der Unterschied?", "Unterschied"),
        ]
    finally:
        conn.close()
