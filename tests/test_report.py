"""Reports on the question log: rendering, grouping of gaps, suppression, ignoring."""

from __future__ import annotations

import csv
import io
import random
import re
import sqlite3
import time
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from bot.knowledge.lexicon import BUNDLED_LANGUAGE, Lexicon, fold_word, load_lexicon
from bot.log.gaps import ProblemQuestion, group_questions, normalise
from bot.log.writer import QuestionLog
from bot.report.advice import gap_stop_words
from bot.report.build import (
    build_report,
    export_csv,
    gap_groups,
    group_id_of,
    ignore_group,
    report_model,
    team_summary,
    unignore_group,
)

SECRET = b"r" * 32
MONDAY = date(2025, 3, 3)


class Clock:
    def __init__(self, day: date = MONDAY) -> None:
        self.day = day

    def __call__(self) -> date:
        return self.day


class FakeIndex:
    """Stands in for bot.search.index.SearchIndex: knows one entry, about parental leave."""

    def search(self, question: str) -> SimpleNamespace:
        if "elternzeit" in question.lower():
            entry = SimpleNamespace(id="elternzeit", title="Elternzeit", kind="measure")
            return SimpleNamespace(
                outcome="ambiguous",
                matches=[SimpleNamespace(entry=entry, score=0.5)],
                probability=0.7,
            )
        if "kantine" in question.lower():
            entry = SimpleNamespace(id="kantine", title="Kantine", kind="contact")
            return SimpleNamespace(
                outcome="answered", matches=[SimpleNamespace(entry=entry, score=0.9)]
            )
        return SimpleNamespace(outcome="unknown", matches=[])


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "fragen.db"


def write(db_path: Path, questions: list[tuple[str, str]], *, day: date = MONDAY,
          feedback: bool | None = None, user: int = 42) -> list[str]:  # fmt: skip
    """Log (text, outcome) pairs on one day; ambiguous ones get "Nichts davon"."""
    log = QuestionLog(db_path, SECRET, today=Clock(day), retention_days=3650)
    ids = []
    for text, outcome in questions:
        qid = log.record(
            question=text, outcome=outcome,
            entry_id="elternzeit" if outcome == "answered" else None,
            topic="familie" if outcome == "answered" else None, score=0.5, kb_version="v1",
            channel="telegram", user_id=user,
        )  # fmt: skip
        if outcome == "ambiguous":
            log.choice(qid, None)
        if feedback is not None:
            log.feedback(qid, feedback)
        ids.append(qid)
    log.close()
    return ids


def csv_rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


# -- empty log --------------------------------------------------------------------------


@pytest.mark.parametrize("create", [False, True])
def test_empty_log_renders_everything(db_path: Path, create: bool) -> None:
    if create:
        QuestionLog(db_path, SECRET).close()
    text = build_report(db_path)
    assert "Fragen gesamt:    0" in text
    assert "Keine Fragen im Zeitraum." in text
    html = build_report(db_path, fmt="html")
    assert html.count('<img src="data:image/png;base64,') == 2
    assert csv_rows(build_report(db_path, fmt="csv"))[0]["abschnitt"] == "zeitraum"
    assert "keine Fragen" in team_summary(db_path)[0]
    assert "Keine offenen Lücken" in gap_groups(db_path)[0]
    assert csv_rows(export_csv(db_path)) == []
    assert db_path.exists() == create  # a report never creates a log file


# -- grouping ---------------------------------------------------------------------------


def test_similar_unanswered_questions_form_one_group(db_path: Path) -> None:
    write(db_path, [
        ("Wie beantrage ich Elternzeit?", "unknown"),
        ("Elternzeit beantragen", "unknown"),
        ("wie beantrage ich elternzeit", "ambiguous"),
        ("Kann ich meinen Hund mit ins Büro bringen?", "unknown"),
        ("Wie beantrage ich Elternzeit?", "answered"),
    ])  # fmt: skip
    report = build_report(db_path, search_index=FakeIndex())
    groups = re.findall(r"\[([0-9a-f]{10})\] 1 Person(?:, (\d+) Fragen)? –", report)
    assert [int(n or 1) for _, n in groups] == [3, 1]
    assert "unbeantwortet 2, „Nichts davon“ 1" in report
    assert "Vorschlag: Beispielfragen ergänzen bei „Elternzeit“ (elternzeit)" in report
    assert "Kann ich meinen Hund mit ins Büro bringen?" in report  # a single question shows


def test_yaml_snippets_are_valid(db_path: Path) -> None:
    write(db_path, [("Wie beantrage ich \"Elternzeit\"?", "unknown"),
                    ("Hund mit ins Büro?", "unknown")])  # fmt: skip
    rows = csv_rows(build_report(db_path, fmt="csv", search_index=FakeIndex()))
    snippets = {r["bezeichnung"]: r["wert"] for r in rows if r["kennzahl"] == "yaml"}
    parsed = {gid: yaml.safe_load(s) for gid, s in snippets.items()}
    existing = parsed[group_id_of('Wie beantrage ich "Elternzeit"?')]
    assert existing == {"beispielfragen": ['Wie beantrage ich "Elternzeit"?']}
    (new,) = parsed[group_id_of("Hund mit ins Büro?")]
    assert new["id"] == "hund-buero"
    assert new["stichworte"] == ["Hund", "Büro"]
    assert new["beispielfragen"] == ["Hund mit ins Büro?"]


def test_gap_answered_by_todays_knowledge_base_is_marked(db_path: Path) -> None:
    write(db_path, [("Gibt es eine Kantine?", "unknown")])
    report = build_report(db_path, search_index=FakeIndex())
    assert "Erledigt: 1 frühere Lücke beantwortet die Wissensbasis inzwischen." in report
    assert "„Gibt es eine Kantine?“ – 1× → Kantine" in report
    assert "Neuer Eintrag" not in report
    assert "Keine offenen Lücken" in report


def test_search_errors_do_not_break_the_report(db_path: Path) -> None:
    class Broken:
        def search(self, question: str) -> SimpleNamespace:
            raise RuntimeError("kaputt")

    write(db_path, [("Gibt es eine Kantine?", "unknown")])
    assert "Gibt es eine Kantine?" in build_report(db_path, search_index=Broken())


def test_thumbs_down_questions_are_listed_with_their_entry(db_path: Path) -> None:
    write(db_path, [("Elternzeit für Väter?", "answered")], feedback=False)
    report = build_report(db_path)
    assert "👎 1" in report
    assert "Elternzeit für Väter?" in report
    assert "Antworttext prüfen" in report
    assert "elternzeit" in gap_groups(db_path)[0]


def test_grouping_leaves_out_the_stop_filler_and_request_words_of_the_lexicon() -> None:
    """The words come from the caller's lexicon, stored as the lexicon folds them (ä = a)."""
    lexicon = Lexicon(
        stop_words=frozenset({"gibt", "es", "fur", "wie", "ich"}),
        filler_words=frozenset({"stadt"}),
        request_words=frozenset({"beantragen"}),
    )
    words = gap_stop_words(lexicon)
    assert normalise("Gibt es bei der Stadt für Väter Elternzeit?", stop_words=words) == (
        "bei der vaeter elternzeit"
    )
    assert normalise("Gibt es bei der Stadt für Väter Elternzeit?", stop_words=frozenset()) == (
        "gibt es bei der stadt fuer vaeter elternzeit"
    )
    # A verb in the first person counts like the infinitive the lexicon lists.
    assert normalise("Wie beantrage ich Elternzeit?", stop_words=words) == "elternzeit"
    questions = [ProblemQuestion("Wie beantrage ich Elternzeit?", "unknown"),
                 ProblemQuestion("Elternzeit beantragen", "unknown")]  # fmt: skip
    assert len(group_questions(questions, stop_words=words)) == 1
    assert group_id_of("Elternzeit beantragen", lexicon=lexicon) == group_id_of(
        "Wie beantrage ich Elternzeit", lexicon=lexicon
    )
    assert group_id_of("Elternzeit beantragen", lexicon=Lexicon()) != group_id_of(
        "Elternzeit beantragen", lexicon=lexicon
    )


def test_every_typed_word_is_compared_in_the_lexicons_spelling() -> None:
    """The lexicon's spelling (ä = a) and the kept one (ä = ae) are read side by side."""
    rng = random.Random(7)
    alphabet = "aeouäöüßÄÖÜẞ 0123456789.-–_/'\"„“!?\u00ad\u200bxyzAEOUéæø"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        kept = normalise(text, stop_words=frozenset())
        assert kept == normalise(text.upper(), stop_words=frozenset()), text
        # Each word is recognised in the lexicon's spelling, however it was typed.
        spelled = re.findall(r"\d+(?:\.\d+)*|[a-z0-9]+", fold_word(text))
        assert len(spelled) == len(kept.split()), text
        for word in set(spelled):
            left = [w for w in spelled if w != word and not (w.endswith("e") and f"{w}n" == word)]
            expected = len(left) or len(spelled)  # nothing left: everything stays
            assert len(normalise(text, stop_words={word}).split()) == expected, (text, word)


def test_without_a_lexicon_the_bundled_language_file_says_what_grouping_leaves_out() -> None:
    bundled, _ = load_lexicon(BUNDLED_LANGUAGE.parent, language=BUNDLED_LANGUAGE)
    assert bundled is not None
    assert gap_stop_words() == gap_stop_words(bundled) != frozenset()
    question = "Gibt es Betriebssport mit Yoga?"
    assert group_id_of(question) == group_id_of(question, lexicon=bundled)


def test_the_ignore_button_finds_the_group_with_the_bots_own_lexicon(db_path: Path) -> None:
    """A knowledge base with its own language file lists other words: the ids /luecken shows
    are computed with them, so hiding a group must look it up with them too."""
    own = Lexicon(stop_words=frozenset({"gibt", "es", "mit"}), filler_words=frozenset({"yoga"}))
    write(db_path, [("Gibt es Betriebssport mit Yoga?", "unknown")])
    (item,) = report_model(db_path, lexicon=own, today=MONDAY).gaps
    assert item.group.group_id == group_id_of("Betriebssport", lexicon=own)
    assert item.group.group_id != group_id_of("Gibt es Betriebssport mit Yoga?")  # bundled
    assert ignore_group(db_path, item.group.group_id, lexicon=own) == 1
    hidden = report_model(db_path, lexicon=own, today=MONDAY)
    assert (hidden.gaps, hidden.ignored_groups) == ((), 1)


def test_looking_up_a_group_with_other_stop_words_finds_no_wordings(db_path: Path) -> None:
    own = Lexicon(stop_words=frozenset({"gibt", "es", "mit"}), filler_words=frozenset({"yoga"}))
    write(db_path, [("Gibt es Betriebssport mit Yoga?", "unknown")])
    shown = group_id_of("Betriebssport", lexicon=own)
    assert ignore_group(db_path, shown) == 0  # the bundled words group it under another id


# -- small counts -----------------------------------------------------------------------


def test_small_counts_are_suppressed_but_texts_shown(db_path: Path) -> None:
    write(db_path, [("Wie beantrage ich Elternzeit?", "answered")] * 3
          + [("Gibt es Betriebssport?", "unknown")] * 7)  # fmt: skip
    report = build_report(db_path)
    assert re.search(r"beantwortet:\s+<5", report)
    assert re.search(r"unbeantwortet:\s+7", report)
    assert re.search(r"KW 10/2025\s+10\s+<5\s+0\s+7", report)
    assert "Antwortquote:     30 %" in report
    assert "Gibt es Betriebssport? (7×)" in report
    csv_report = csv_rows(build_report(db_path, fmt="csv"))
    assert {"abschnitt": "ueberblick", "bezeichnung": "", "titel": "",
            "kennzahl": "beantwortet", "wert": "<5"} in csv_report  # fmt: skip
    assert "<5" in team_summary(db_path, today=MONDAY)[0]


# -- ignoring ---------------------------------------------------------------------------


def test_ignored_groups_are_hidden_and_stay_hidden(db_path: Path) -> None:
    write(db_path, [("Wo ist die Kantine?", "unknown"), ("Elternzeit beantragen", "unknown")])
    gid = group_id_of("Wo ist die Kantine?")
    assert gid in build_report(db_path)
    assert gid not in build_report(db_path, ignored={gid})

    assert ignore_group(db_path, gid) == 1
    report = build_report(db_path)
    assert "Wo ist die Kantine?" not in report
    assert "1 Gruppen als irrelevant ausgeblendet." in report
    assert "Elternzeit beantragen" in report

    # Another wording becomes the most frequent one: the group keeps its "ignored" state.
    write(db_path, [("Kantine wo?", "unknown")] * 3 + [("Wo ist die Kantine", "unknown")])
    assert "Kantine" not in build_report(db_path)
    assert "Kantine" not in gap_groups(db_path)[0]

    assert unignore_group(db_path, gid) == 1
    assert "Kantine wo?" in build_report(db_path)


def test_ignore_group_rejects_malformed_ids(db_path: Path) -> None:
    with pytest.raises(ValueError, match="Gruppen-ID"):
        ignore_group(db_path, "'; DROP TABLE questions")


# -- html and csv -----------------------------------------------------------------------


def test_html_is_self_contained_and_escaped(db_path: Path) -> None:
    write(db_path, [('<script>alert("x")</script> Elternzeit?', "unknown"),
                    ("<img src=https://evil.example/x.png>", "unknown")])  # fmt: skip
    html = build_report(db_path, fmt="html", titles={"familie": "Familie & Beruf"})
    assert html.startswith("<!DOCTYPE html>")
    assert html.count('<img src="data:image/png;base64,') == 2
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert "<img src=https" not in html
    assert not re.search(r"""<[^>]*(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "<link" not in html
    assert "default-src 'none'" in html


def test_exports_contain_no_pseudonyms(db_path: Path) -> None:
    write(db_path, [("Wie beantrage ich Elternzeit?", "answered")], user=987654321)
    pseudonym = sqlite3.connect(db_path).execute("SELECT pseudonym FROM questions").fetchone()[0]
    export = export_csv(db_path)
    rows = csv_rows(export)
    assert "pseudonym" not in rows[0]
    assert "id" not in rows[0]
    assert rows[0]["frage"] == "Wie beantrage ich Elternzeit?"
    for text in (export, build_report(db_path, fmt="csv"), build_report(db_path),
                 build_report(db_path, fmt="html")):  # fmt: skip
        assert pseudonym not in text
        assert "987654321" not in text


# -- periods and retention --------------------------------------------------------------


def test_purged_days_still_count(db_path: Path) -> None:
    write(db_path, [("Alte Frage", "answered")] * 6, day=MONDAY)
    log = QuestionLog(db_path, SECRET, today=Clock(MONDAY + timedelta(days=100)))
    log.close()  # opening the log applied the 90-day retention
    report = build_report(db_path)
    assert re.search(r"KW 10/2025\s+6\s+6", report)
    assert "Alte Frage" not in report
    rows = csv_rows(export_csv(db_path))
    assert [(r["art"], r["anzahl"], r["frage"]) for r in rows] == [("tageszahl", "6", "")]


def test_period_filter(db_path: Path) -> None:
    write(db_path, [("Frage im März", "unknown")], day=MONDAY)
    write(db_path, [("Frage im April", "unknown")], day=MONDAY + timedelta(days=35))
    report = build_report(db_path, since=MONDAY + timedelta(days=30))
    assert "Frage im April" in report
    assert "Frage im März" not in report
    assert "ab 02.04.2025" in report


def test_requests_for_a_person_are_counted_and_left_out_of_the_answer_rate(
    db_path: Path,
) -> None:
    """Asking for a human is no question the knowledge base failed: its own line in the
    report, like small talk outside the answer rate's base."""
    write(db_path, [("Elternzeit?", "answered")] * 6 + [("Gibt es Yoga?", "unknown")] * 6
          + [("Kann ich mit jemandem sprechen?", "person")] * 5)  # fmt: skip
    report = build_report(db_path)
    assert re.search(r"Mensch gewünscht:\s+5", report), report[:1500]
    assert "Antwortquote:     50 %" in report  # 6 of 12, not of 17
    csv_report = csv_rows(build_report(db_path, fmt="csv"))
    assert {"abschnitt": "ueberblick", "bezeichnung": "", "titel": "",
            "kennzahl": "Mensch gewünscht", "wert": "5"} in csv_report  # fmt: skip


def test_summary_counts_last_days(db_path: Path) -> None:
    write(db_path, [("Frage", "answered")] * 8 + [("Hund?", "unknown")] * 2,
          day=MONDAY - timedelta(days=40))  # fmt: skip
    write(db_path, [("Elternzeit?", "answered")] * 6, feedback=True)
    summary = team_summary(db_path, days=30, titles={"familie": "Familie"}, today=MONDAY)[0]
    assert "Fragen: 6" in summary
    assert "Antwortquote: 100 %" in summary
    assert "👍 6" in summary
    assert "Familie (6)" in summary


# -- size -------------------------------------------------------------------------------


def test_ten_thousand_rows(db_path: Path) -> None:
    rnd = random.Random(7)
    subjects = ["Elternzeit", "Teilzeit", "Homeoffice", "Kita-Platz", "Sabbatical", "Pflege",
                "Gleitzeit", "Jobticket", "Mentoring", "Wiedereinstieg"]  # fmt: skip
    templates = ["Wie beantrage ich {}?", "Gibt es {} bei der Stadt?", "{}", "Infos zu {}"]
    clock = Clock()
    log = QuestionLog(db_path, SECRET, today=clock)
    for i in range(10_000):
        clock.day = MONDAY + timedelta(days=i % 80)
        outcome = rnd.choice(["answered", "answered", "ambiguous", "unknown", "smalltalk"])
        text = rnd.choice(templates).format(rnd.choice(subjects))
        if rnd.random() < 0.2:
            text += f" ({rnd.randint(1, 3000)})"
        qid = log.record(question=text, outcome=outcome, entry_id="e" + str(i % 30),
                         topic="t" + str(i % 8), score=0.5, kb_version="v1",
                         channel="telegram", user_id=i % 500)  # fmt: skip
        if outcome == "ambiguous":
            log.choice(qid, None if rnd.random() < 0.5 else "e1")
        elif rnd.random() < 0.1:
            log.feedback(qid, rnd.random() < 0.7)
    log.close()
    assert log.dropped == 0
    started = time.perf_counter()
    for fmt in ("text", "csv", "html"):
        assert build_report(db_path, fmt=fmt, search_index=FakeIndex())
    team_summary(db_path, today=MONDAY + timedelta(days=80))[0]
    gap_groups(db_path)[0]
    assert len(csv_rows(export_csv(db_path))) == 10_000
    assert time.perf_counter() - started < 20
    assert "Fragen gesamt:    10.000" in build_report(db_path)
