"""What the report proposes, against the real Köln knowledge base and its suche.yaml.

Every proposal must be an edit an admin could paste without doing harm: no example question
for an entry somebody rejected, none that is redacted, long, English or off-topic.
"""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date, timedelta
from pathlib import Path

import yaml

from bot.config import DEFAULT_KB
from bot.log.gaps import GapGroup, ProblemQuestion, group_questions
from bot.log.writer import QuestionLog
from bot.report.advice import Vocabulary, advise, gap_stop_words, usable_example
from bot.report.build import build_report, export_csv, report_model
from bot.search.library import Library

DAY = date(2026, 3, 6)


def _write(
    path: Path,
    rows: list[tuple[str, str, str | None]],
    *,
    day: date = DAY,
    feedback: bool | None = None,
    channel: str = "telegram",
    people: int = 1,
    gap: bool = False,
) -> None:
    """(text, outcome, entry) rows; ``people`` different askers take turns."""
    log = QuestionLog(path, b"a" * 32, today=lambda: day, retention_days=3650)
    for number, (text, outcome, entry) in enumerate(rows):
        qid = log.record(
            question=text, outcome=outcome, entry_id=entry, topic=None, score=0.4,
            kb_version="alt", channel=channel, user_id=5000 + number % people,
        )  # fmt: skip
        if feedback is not None:
            log.feedback(qid, feedback)
        if gap:
            log.choice(qid, None)
    log.close()


def _model(path: Path, library: Library, **options: object):  # type: ignore[no-untyped-def]
    snap = library.current
    return report_model(path, search_index=snap.index, knowledge=snap.kb, today=DAY, **options)  # type: ignore[arg-type]


def _group(
    *texts: str, reason: str = "unknown", entry: str | None = None, library: Library | None = None
) -> GapGroup:
    questions = [ProblemQuestion(t, reason, entry, asker=i) for i, t in enumerate(texts)]  # type: ignore[arg-type]
    index = library.current.index if library is not None else None
    stop_words = gap_stop_words(index.lexicon if index is not None else None)
    [group] = group_questions(
        questions, terms=index.terms if index is not None else None, stop_words=stop_words
    )
    return group


def test_unsafe_wordings_never_become_examples() -> None:
    assert usable_example("Gibt es ein Stillzimmer?")
    assert not usable_example("Ich bin [E-MAIL], Tel. [TELEFON] und suche Pflege")
    assert not usable_example("How do I apply for parental leave?")
    assert not usable_example("Mein Sohn kommt in die Schule und " * 8)
    assert not usable_example("x" * 121)


def test_a_rejected_entry_never_gets_the_question(fixture_library: Library) -> None:
    index = fixture_library.current.index
    top = index.search("Darf ich meinen Hund mit ins Büro bringen?").matches[0].entry.id
    group = _group("Darf ich meinen Hund mit ins Büro bringen?", reason="unhelpful", entry=top)
    advice = advise(group, index, {}, vocabulary=Vocabulary(index))
    assert advice.action == "neu"  # a wrong match, not an answer to improve
    assert top not in advice.snippet
    [entry] = yaml.safe_load(advice.snippet)
    assert entry["id"] == "hund-buero"
    assert entry["beispielfragen"] == ["Darf ich meinen Hund mit ins Büro bringen?"]


def test_new_entry_ids_are_german_words_of_the_subject(fixture_library: Library) -> None:
    index = fixture_library.current.index
    group = _group("Hund mit ins Büro nehmen erlaubt?", "Darf mein Hund ins Büro?",
                   library=fixture_library)  # fmt: skip
    advice = advise(group, index, {}, vocabulary=Vocabulary(index))
    assert advice.new_id == "hund-buero"
    english = advise(_group("Can I bring my dog to the office?"), index, {})
    assert english.new_id == "neuer-eintrag"  # never "bring-dog"
    assert "Can I bring" not in english.snippet  # English is never an example question


def test_off_topic_questions_get_their_own_section_with_the_redirect(
    tmp_path: Path, koeln_library: Library
) -> None:
    db = tmp_path / "fragen.db"
    _write(db, [("Wann wird das Gehalt ausgezahlt?", "unknown", None)] * 3, people=3)
    _write(db, [("Jobrad dienstrad leasing", "unknown", None)] * 2, people=2)
    model = _model(db, koeln_library)
    assert not model.gaps
    subjects = {o.subject: o for o in model.off_topic}
    assert set(subjects) == {"Gehalt und Abrechnung", "Dienstalltag"}
    assert "Personalsachbearbeitung" in subjects["Gehalt und Abrechnung"].redirect
    text = build_report(db, search_index=koeln_library.current.index, today=DAY)
    assert "Themenfremde Fragen" in text and "Hinweis des Bots: Fragen zu Gehalt" in text
    assert "beispielfragen" not in text


def test_a_gap_the_knowledge_base_now_answers_is_erledigt(
    tmp_path: Path, koeln_library: Library
) -> None:
    db = tmp_path / "fragen.db"
    # Unanswered under an older knowledge base; today's answers it outright.
    _write(db, [("Wie beantrage ich Elternzeit?", "unknown", None)] * 2, people=2)
    model = _model(db, koeln_library)
    assert [i.advice.action for i in model.done] == ["erledigt"]
    assert model.done[0].advice.entry_id == "beratung-elternzeit"
    assert not model.gaps


def test_a_fixed_knowledge_base_closes_the_gap(tmp_path: Path) -> None:
    kb_dir = tmp_path / "kb"
    shutil.copytree(DEFAULT_KB, kb_dir)
    db = tmp_path / "fragen.db"
    _write(db, [("Gibt es eine Sauna?", "unknown", None)] * 4, people=4)
    before, _ = Library.open(kb_dir)
    assert before is not None
    [gap] = _model(db, before).gaps
    assert gap.advice.action == "neu"
    [entry] = yaml.safe_load(gap.advice.snippet)
    # The admin pastes the skeleton into massnahmen.yaml and fills in the TODOs.
    entry.update(
        titel="Sauna im Stadthaus", thema="arbeitsorganisation",
        antwort="Eine Sauna ist nicht vereinbart.", zielgruppe="alle Beschäftigten",
        status="pruefung", zustaendig=["dienststellen"],
    )  # fmt: skip
    path = kb_dir / "massnahmen.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["massnahmen"].append(entry)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    after, problems = Library.open(kb_dir)
    assert after is not None, [str(p) for p in problems]
    model = _model(db, after)
    assert not model.gaps
    assert [i.advice.entry_id for i in model.done] == [entry["id"]]


def test_groups_are_ranked_by_people_not_by_repetitions(
    tmp_path: Path, koeln_library: Library
) -> None:
    db = tmp_path / "fragen.db"
    _write(db, [("Zuschuss zum Fitnessstudio?", "unknown", None)] * 6, people=1)
    _write(db, [("Wo kann ich im Rathaus stillen?", "unknown", None)] * 3, people=3)
    model = _model(db, koeln_library)
    assert [(i.group.people, i.group.count) for i in model.gaps] == [(3, 3), (1, 6)]
    first_screen = build_report(
        db, search_index=koeln_library.current.index, knowledge=koeln_library.current.kb,
        today=DAY,
    ).split("\nÜberblick\n")[0]  # fmt: skip
    assert "Nächste Schritte" in first_screen
    assert first_screen.index("rathaus-stillen") < first_screen.index("zuschuss-fitnessstudio")


def test_terminal_traffic_is_counted_apart(tmp_path: Path, koeln_library: Library) -> None:
    db = tmp_path / "fragen.db"
    _write(db, [("Wie geht Elternzeit?", "answered", "beratung-elternzeit")] * 6)
    _write(db, [("testfrage", "unknown", None)] * 4, channel="terminal")
    model = _model(db, koeln_library)
    assert model.stats.questions == 6 and not model.gaps
    assert model.stats.other_channels == (("terminal", 4),)
    everything = _model(db, koeln_library, channel="alle")
    assert everything.stats.questions == 10
    terminal = _model(db, koeln_library, channel="terminal")
    assert terminal.stats.questions == 4 and terminal.stats.other_channels == (("telegram", 6),)
    assert "Nicht mitgezählt: 4 Fragen aus Terminal-Chat" in build_report(db, today=DAY)


def test_topics_count_answered_questions_only(tmp_path: Path, koeln_library: Library) -> None:
    db = tmp_path / "fragen.db"
    log = QuestionLog(db, b"a" * 32, today=lambda: DAY, retention_days=3650)
    for outcome, entry, topic in [("answered", "gleitzeit", "arbeitszeit")] * 5 + [
        ("unknown", "telearbeit", "arbeitsort")
    ] * 7:
        log.record(question="x", outcome=outcome, entry_id=entry, topic=topic, score=0.3,
                   kb_version="v", channel="telegram", user_id=1)  # fmt: skip
    log.close()
    assert _model(db, koeln_library).topics == (("arbeitszeit", 5),)


def test_csv_outcomes_are_german(tmp_path: Path) -> None:
    db = tmp_path / "fragen.db"
    _write(db, [("Wie geht Elternzeit?", "answered", "x"), ("Hund?", "unknown", None)])
    rows = list(csv.DictReader(io.StringIO(export_csv(db)[1:]), delimiter=";"))
    assert {r["ergebnis"] for r in rows} == {"beantwortet", "unbeantwortet"}
    report = build_report(db, fmt="csv", today=DAY)
    assert ";answered;" not in report and ";beantwortet;" in report


def test_what_changed_since_the_week_before(tmp_path: Path, koeln_library: Library) -> None:
    db = tmp_path / "fragen.db"
    earlier = DAY - timedelta(days=7)
    _write(db, [("Wie geht Elternzeit?", "answered", "beratung-elternzeit")] * 5, day=earlier)
    _write(db, [("Wie geht Elternzeit?", "answered", "beratung-elternzeit")] * 8)
    _write(db, [("Wo kann ich im Rathaus stillen?", "unknown", None)] * 2, people=2)
    model = _model(db, koeln_library)
    assert model.change is not None
    assert (model.change.before.questions, model.change.now.questions) == (5, 10)
    assert model.change.new_gaps == 1
    text = build_report(db, search_index=koeln_library.current.index, today=DAY)
    assert "Seit der Vorwoche" in text and "Fragen 5 → 10" in text


def test_html_is_readable_at_a_glance(tmp_path: Path, koeln_library: Library) -> None:
    db = tmp_path / "fragen.db"
    for text in ("Gibt es eine Sauna?", "Wo ist die Bibliothek?", "Zuschuss zur Brille?",
                 "Fahrrad im Keller abstellen?", "Zuschuss zum Fitnessstudio?"):  # fmt: skip
        _write(db, [(text, "unknown", None)] * 2, people=2)
    _write(db, [("Wie geht Elternzeit?", "answered", "beratung-elternzeit")] * 6, feedback=True)
    html = build_report(
        db, fmt="html", search_index=koeln_library.current.index,
        knowledge=koeln_library.current.kb, today=DAY,
    )  # fmt: skip
    assert html.index("Nächste Schritte") < html.index("Fragen je Kalenderwoche")
    assert "<span>hilfreich (👍)</span>" in html and "<span>nicht hilfreich (👎)</span>" in html
    assert html.count('<details class="gap" open>') == 3  # the three next steps
    assert html.count('<details class="gap">') == 2  # the rest folded
    assert "white-space:pre-wrap" in html
