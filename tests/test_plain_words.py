"""Plain words: the status said once and explained, labels without numbers and cut at words."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from chatkit import RecordingLog, buttons
from conftest import MINIMAL_KB

from bot.chat import actions
from bot.chat.cards import MAX_LABEL, shorten, status_text
from bot.chat.conversation import Conversation, Reply
from bot.config import DEFAULT_KB
from bot.knowledge.schema import Entry, KnowledgeBase, load_knowledge
from bot.search.library import Library

BUNDLED = [DEFAULT_KB, DEFAULT_KB.parent / "herne"]
REF = re.compile(r"\b\d{1,2}\.\d{1,2}(\.\d{1,2})+\b")
YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def _library(directory: Path) -> Library:
    library, problems = Library.open(directory)
    assert library is not None, problems
    return library


def _every_reply(talk: Conversation, kb: KnowledgeBase) -> list[Reply]:
    qid = secrets.token_urlsafe(8)
    replies = [talk.menu(), talk.contacts(), *(talk.topic(t) for t in kb.topics)]
    for entry in kb.entries.values():
        replies.append(talk.press(actions.encode("choice", qid, entry.id)))
    return replies


@pytest.mark.parametrize("directory", BUNDLED, ids=["koeln", "herne"])
def test_no_button_label_carries_a_measure_number_or_exceeds_the_width(directory: Path) -> None:
    library = _library(directory)
    talk = Conversation(lambda: library.current, RecordingLog())
    for reply in _every_reply(talk, library.current.kb):
        for button in buttons(reply):
            assert not REF.search(button.label), button.label
            assert len(button.label) <= MAX_LABEL, button.label


def _words(text: str) -> set[str]:
    return set(re.findall(r"[\w-]+", text))


@pytest.mark.parametrize("directory", BUNDLED, ids=["koeln", "herne"])
@pytest.mark.parametrize("limit", [60, 48, 40, 30])
def test_labels_are_cut_at_word_boundaries_keeping_the_key_noun(
    directory: Path, limit: int
) -> None:
    for entry in _library(directory).current.kb.entries.values():
        label = shorten(entry.title, limit)
        assert len(label) <= limit
        if label == entry.title:
            continue
        kept = [w for w in label.split() if w != "…"]
        assert _words(" ".join(kept)) <= _words(entry.title), (entry.title, label)
        assert label.count("„") == label.count("“"), label


@pytest.mark.parametrize(
    ("title", "limit", "label"),
    [
        (
            "Familienservice: Beratung und Unterstützung bei der Kinderbetreuung",
            60,
            "Familienservice: Beratung … Kinderbetreuung",
        ),
        (
            "„Plötzlich Pflege“ – Beratung, wenn Angehörige Pflege brauchen",
            60,
            "„Plötzlich Pflege“ – Beratung …",
        ),
        (
            "Handlungsleitfaden und Checkliste zum mobilen Arbeiten (Intranet)",
            60,
            "Handlungsleitfaden und Checkliste zum mobilen Arbeiten",
        ),
        (
            "„Eltern geworden – Was melde ich wo?“ – Beratung",
            45,
            "„Eltern geworden – Was melde ich wo?“ …",
        ),
        ("Gleitzeit ohne Kernarbeitszeit", 60, "Gleitzeit ohne Kernarbeitszeit"),
    ],
)
def test_shortened_labels_read_well(title: str, limit: int, label: str) -> None:
    assert shorten(title, limit) == label


def test_the_topic_list_shows_titles_without_numbers(koeln_library: Library) -> None:
    talk = Conversation(lambda: koeln_library.current)
    page = talk.topic("familienservice")
    kb = koeln_library.current.kb
    assert [b.label for b in buttons(page)][:-1] == [
        shorten(e.title, MAX_LABEL) for e in kb.in_topic("familienservice")
    ]


def _status_line(card: str) -> str:
    (line,) = [line for line in card.split("\n") if line.startswith("📌")]
    return line


@pytest.mark.parametrize("directory", BUNDLED, ids=["koeln", "herne"])
def test_the_status_is_said_once_per_card_and_invents_no_date(directory: Path) -> None:
    library = _library(directory)
    kb = library.current.kb
    talk = Conversation(lambda: library.current, RecordingLog())
    qid = secrets.token_urlsafe(8)
    for entry in kb.entries.values():
        card = talk.press(actions.encode("choice", qid, entry.id)).text
        if entry.status is None:
            assert "📌" not in card
            continue
        line = _status_line(card)
        assert line.count("Stand") == 1, line
        label = kb.entries[entry.id].status_label or ""
        assert line.count(label) == 1, line
        assert card.count("jährlichen Bericht") <= 1  # "Jahresbericht N" explained once
        assert set(YEAR.findall(card)) <= _years_in_the_data(kb, entry), (entry.id, card)


def _years_in_the_data(kb: KnowledgeBase, entry: Entry) -> set[str]:
    texts = [
        kb.organisation.as_of or "",
        kb.organisation.source,
        *map(str, entry.to_json().values()),
    ]
    texts += [str(c.to_json()) for c in kb.contacts_of(entry)]
    return {y for text in texts for y in YEAR.findall(text)}


STATUSES = """\
    massnahmen:
      - id: geplant-mit-termin
        titel: "Geplant mit Zieltermin"
        thema: arbeitszeit
        antwort: "Kommt bis zum zweiten Bericht."
        zielgruppe: "alle Beschäftigten"
        status: geplant
        umsetzung_bis: "Jahresbericht 2"
        zustaendig: [amt-personal]
      - id: verfuegbar
        titel: "Schon verfügbar"
        thema: arbeitszeit
        antwort: "Gibt es schon."
        zielgruppe: "alle Beschäftigten"
        status: verfuegbar
        zustaendig: [amt-personal]
      - id: geplant-ohne-termin
        titel: "Geplant ohne Zieltermin"
        thema: arbeitszeit
        antwort: "Kommt irgendwann."
        zielgruppe: "alle Beschäftigten"
        status: geplant
        zustaendig: [amt-personal]
    """


@pytest.fixture
def dated_kb(make_kb: Callable[..., Path]) -> KnowledgeBase:
    """A knowledge base dated by its source ("stand"), as the bundled ones are."""
    organisation = MINIMAL_KB["organisation"].replace(
        'quelle: "Testquelle"\n', 'quelle: "Testquelle"\n          stand: "2020"\n'
    )
    return load_knowledge(make_kb(organisation=organisation, massnahmen=STATUSES))


def test_jahresbericht_is_explained_in_the_words_of_the_document(dated_kb: KnowledgeBase) -> None:
    assert status_text(dated_kb, dated_kb.entries["geplant-mit-termin"]) == (
        "geplant, Umsetzung bis Jahresbericht 2, also bis zum 2. jährlichen Bericht nach der "
        "Vereinbarung von 2020 – ob es das heute schon gibt, bitte erfragen"
    )


def test_an_available_offer_is_simply_available(dated_kb: KnowledgeBase) -> None:
    assert status_text(dated_kb, dated_kb.entries["verfuegbar"]) == "verfügbar"
    planned = status_text(dated_kb, dated_kb.entries["geplant-ohne-termin"])
    assert planned == "geplant (laut Quelle von 2020) – ob es das heute schon gibt, bitte erfragen"
