"""Follow-up questions about the last card: answered from its facts, per chat, for ten minutes."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pytest
import yaml
from chatkit import RecordingLog, action_of, assert_telegram_html, labels

from bot.chat import actions
from bot.chat.cards import inner_quotes, status_text
from bot.chat.context import ChatMemory, FollowupLexicon, Turn
from bot.chat.conversation import Conversation, Reply
from bot.chat.terminal import chat
from bot.config import DEFAULT_KB
from bot.knowledge.schema import KnowledgeBase
from bot.search.library import Library

USER = 4242
OTHER = 77


@dataclass
class Clock:
    """Time that passes only when a test says so."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def log() -> RecordingLog:
    return RecordingLog()


@pytest.fixture
def talk(koeln_library: Library, log: RecordingLog, clock: Clock) -> Conversation:
    return Conversation(lambda: koeln_library.current, log, memory=ChatMemory(clock=clock))


@pytest.fixture
def herne() -> Library:
    library, problems = Library.open(DEFAULT_KB.parent / "herne")
    assert library is not None, problems
    return library


@pytest.fixture
def kb(koeln_library: Library) -> KnowledgeBase:
    return koeln_library.current.kb


def say(talk: Conversation, text: str, user: int = USER) -> Reply:
    (reply,) = talk.ask(text, user_id=user)
    assert_telegram_html(reply.text)
    return reply


def card_of(talk: Conversation, question: str, entry_id: str, user: int = USER) -> Reply:
    reply = say(talk, question, user)
    assert talk.memory.recall(user) is not None
    turn = talk.memory.recall(user)
    assert turn is not None and turn.entry_id == entry_id, (question, reply.text[:80])
    return reply


# --- who is responsible ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "question", ["und wer ist da zuständig?", "Wie erreiche ich die?", "an wen wende ich mich?"]
)
def test_who_is_responsible_is_answered_from_the_last_card(
    talk: Conversation, kb: KnowledgeBase, question: str
) -> None:
    card_of(talk, "gibt es noch eine Kernarbeitszeit?", "gleitzeit")
    reply = say(talk, question)
    contact = kb.entries["amt-personal"]
    title = kb.entries["gleitzeit"].title
    assert reply.text.startswith(f"📞 <b>Zuständig für „{escape(inner_quotes(title))}“:</b>")
    assert f"• <b>{contact.title}</b>" in reply.text
    assert labels(reply) == [f"👤 {contact.title}", "📚 Themen"]
    assert reply.text.count("ℹ️") == 1
    opened = talk.press(action_of(reply, "👤"), user_id=USER)
    assert opened.text.startswith(f"<b>{contact.title}</b>")


def test_with_several_contacts_the_note_comes_once_below_all_of_them(
    talk: Conversation,
) -> None:
    card_of(talk, "Oma zieht zu uns und braucht Pflege", "familienservice-pflegeberatung")
    lines = say(talk, "und wer ist da zuständig?").text.split("\n")
    items = [i for i, line in enumerate(lines) if line.startswith("• ")]
    notes = [i for i, line in enumerate(lines) if line.startswith("ℹ️")]
    assert len(items) == 2 and len(notes) == 1 and notes[0] > items[-1]


def test_a_follow_up_is_logged_with_its_own_question_and_the_cards_entry(
    talk: Conversation, log: RecordingLog
) -> None:
    say(talk, "gibt es noch eine Kernarbeitszeit?")
    say(talk, "und wer ist da zuständig?")
    first, follow = log.records()
    assert (first["outcome"], first["entry_id"]) == ("answered", "gleitzeit")
    assert first["score"] is not None
    assert follow["question"] == "und wer ist da zuständig?"
    # Answered from the card, without a score, marked as a follow-up of its kind.
    assert (follow["outcome"], follow["entry_id"], follow["topic"], follow["score"]) == (
        "answered",
        "gleitzeit",
        "arbeitszeit",
        None,
    )
    assert (first["followup"], follow["followup"]) == (None, "contact")


def test_a_contacts_card_answers_how_to_reach_it(talk: Conversation, kb: KnowledgeBase) -> None:
    talk.press(actions.encode("contact", "beratungsstelle"), user_id=USER)
    reply = say(talk, "wie erreiche ich die?")
    contact = kb.counselling_contact
    assert reply.text.startswith(f"👤 <b>So erreichen Sie: {contact.title}</b>")
    assert f"ℹ️ {contact.note}" in reply.text


# --- status ---------------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["gibt es das schon?", "ab wann?", "Seit wann gilt das?"])
def test_status_questions_get_the_cards_status_and_no_invented_date(
    talk: Conversation, kb: KnowledgeBase, question: str
) -> None:
    card_of(talk, "Spielekoffer", "spielekoffer")
    reply = say(talk, question)
    entry = kb.entries["spielekoffer"]
    assert reply.text.startswith(f"📌 <b>{escape(entry.title)}</b>")
    assert f"Stand: {status_text(kb, entry)}." in reply.text
    assert "Ein genaues Datum nennt das Dokument nicht." in reply.text
    assert set(re.findall(r"\b(?:19|20)\d\d\b", reply.text)) == {"2020"}  # the agreement's year
    assert f"Den aktuellen Stand kennt: {escape(kb.contacts_of(entry)[0].title)}" in reply.text


def test_an_available_offer_says_so_without_asking_to_check(herne: Library) -> None:
    talk = Conversation(lambda: herne.current, RecordingLog())
    card_of(talk, "Mentoring für Frauen", "mentoring-frauen")
    reply = say(talk, "gibt es das schon?")
    assert "Stand: verfügbar." in reply.text
    assert "Datum" not in reply.text and "erfragen" not in reply.text


# --- target group ---------------------------------------------------------------------------


def test_a_group_the_document_does_not_name_is_answered_honestly(
    talk: Conversation, log: RecordingLog, kb: KnowledgeBase
) -> None:
    card_of(talk, "gibt es noch eine Kernarbeitszeit?", "gleitzeit")
    entry = kb.entries["gleitzeit"]
    for question in ("und für Beamte?", "gilt das auch für beamtinnen?"):
        reply = say(talk, question)
        assert f"Zielgruppe laut Dokument: {escape(entry.target_group or '')}." in reply.text
        assert "❔ Beamtinnen und Beamte: nicht ausdrücklich genannt" in reply.text
        assert "Ausnahmen nennt das Dokument nicht" in reply.text
        assert f"Im Zweifel fragen Sie: {escape(kb.contacts_of(entry)[0].title)}." in reply.text
    # The team sees these as questions the document leaves open.
    assert [(r["outcome"], r["followup"]) for r in log.records()[1:]] == [
        ("unknown", "target"),
        ("unknown", "target"),
    ]


def test_a_group_the_target_group_names_is_confirmed(
    talk: Conversation, log: RecordingLog, kb: KnowledgeBase
) -> None:
    card_of(talk, "Karriere trotz Teilzeit", "teilzeitkarrieren")
    reply = say(talk, "gilt das für Teilzeitkräfte?")
    target = kb.entries["teilzeitkarrieren"].target_group
    assert f"Zielgruppe laut Dokument: {escape(target or '')}." in reply.text
    assert "✅ Teilzeitbeschäftigte: werden dort genannt." in reply.text
    assert "Im Zweifel" not in reply.text
    assert log.records()[-1]["outcome"] == "answered"


def test_a_specific_target_group_without_the_group_says_it_is_not_named(herne: Library) -> None:
    talk = Conversation(lambda: herne.current, RecordingLog())
    card_of(talk, "Workshop Chancengleichheit", "workshop-azubis")
    assert "✅ Auszubildende: werden dort genannt." in say(talk, "gilt das auch für Azubis?").text
    reply = say(talk, "und für Führungskräfte?")
    assert "❔ Führungskräfte: werden dort nicht genannt." in reply.text


def test_for_whom_without_a_group_gives_the_target_group(
    talk: Conversation, kb: KnowledgeBase
) -> None:
    card_of(talk, "Spielekoffer", "spielekoffer")
    reply = say(talk, "für wen ist das?")
    entry = kb.entries["spielekoffer"]
    assert reply.text == (
        f"👥 <b>{escape(entry.title)}</b>\n"
        f"Zielgruppe laut Dokument: {escape(entry.target_group or '')}."
    )


# --- more, difference -----------------------------------------------------------------------


def test_more_says_where_it_comes_from_and_that_the_card_is_all(
    talk: Conversation, kb: KnowledgeBase
) -> None:
    card_of(talk, "Spielekoffer", "spielekoffer")
    reply = say(talk, "mehr dazu")
    entry = kb.entries["spielekoffer"]
    assert reply.text.startswith(f"ℹ️ <b>Mehr zu „{escape(inner_quotes(entry.title))}“</b>")
    assert f"Quelle: {escape(entry.source or '')}" in reply.text
    assert "Mehr als auf der Karte steht im Dokument dazu nicht." in reply.text
    assert any(label.startswith("Passt auch: ") for label in labels(reply))


def test_more_names_the_service_that_belongs_to_a_measure(
    talk: Conversation, kb: KnowledgeBase
) -> None:
    measure = kb.entries["familienservice-kinder"]
    (service,) = [e for e in kb.entries.values() if measure.ref in e.related_refs]
    talk.press(actions.encode("entry", measure.id), user_id=USER)
    reply = say(talk, "erzähl mehr")
    assert f"Gehört zusammen mit: {escape(service.title)}" in reply.text


def test_the_difference_to_a_named_offer_sets_both_side_by_side(
    talk: Conversation, kb: KnowledgeBase, log: RecordingLog
) -> None:
    talk.press(actions.encode("entry", "familienservice-kinder"), user_id=USER)
    reply = say(talk, "Was ist der Unterschied zu Familienservice für Pflegefragen?")
    kids = kb.entries["familienservice-kinder"]
    # The care measure 8.2.1 and the service implementing it are one offer for the search.
    cares = [kb.entries[i] for i in ("familienservice-pflege", "familienservice-pflegeberatung")]
    care = next(e for e in cares if f"<b>{e.title}</b>" in reply.text)
    assert reply.text.startswith("⚖️ <b>Der Unterschied</b>")
    for entry in (kids, care):
        source = f" – <i>Maßnahme {entry.ref}</i>" if entry.ref else ""
        assert f"<b>{entry.title}</b>{source}" in reply.text
        assert f"👥 <b>Für wen:</b> {entry.target_group}" in reply.text
    assert [b.action for row in reply.buttons for b in row] == [
        actions.encode("related", care.id),
        actions.encode("menu"),
    ]
    assert log.records()[-1]["outcome"] == "answered"


def test_a_difference_without_the_other_offer_compares_with_the_next_best(
    talk: Conversation, kb: KnowledgeBase
) -> None:
    talk.press(actions.encode("entry", "familienservice-kinder"), user_id=USER)
    reply = say(talk, "was ist der Unterschied?")
    assert reply.text.count("</b> – <i>") == 2  # two offers side by side
    assert escape(kb.entries["familienservice-kinder"].title) in reply.text


# --- when it is not a follow-up -------------------------------------------------------------


def test_a_new_subject_starts_over(
    talk: Conversation, log: RecordingLog, kb: KnowledgeBase
) -> None:
    card_of(talk, "gibt es noch eine Kernarbeitszeit?", "gleitzeit")
    reply = say(talk, "Wer ist für die Elternzeit-Beratung zuständig?")
    assert reply.text.startswith(f"<b>{escape(kb.entries['beratung-elternzeit'].title)}</b>")
    record = log.records()[-1]
    assert record["entry_id"] == "beratung-elternzeit" and record["score"] is not None
    turn = talk.memory.recall(USER)
    assert turn is not None and turn.entry_id == "beratung-elternzeit"
    contact = kb.contacts_of(kb.entries["beratung-elternzeit"])[0]
    assert escape(contact.title) in say(talk, "und wer ist da zuständig?").text


def test_a_question_of_its_own_after_a_card_is_searched_as_usual(
    talk: Conversation, log: RecordingLog
) -> None:
    card_of(talk, "gibt es noch eine Kernarbeitszeit?", "gleitzeit")
    reply = say(talk, "Gibt es einen Spielekoffer?")
    assert reply.text.startswith("<b>Spielekoffer")
    assert log.records()[-1]["score"] is not None


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("bis wann soll das stehen", "status"),  # "stehen" names nothing
        ("wer macht das?", "contact"),  # who, about the card: the people behind it
        ("wer ist dafür verantwortlich?", "contact"),
        ("ist das schon umgesetzt oder noch in Planung?", "status"),
        ("who decides that?", "contact"),
        ("who would handle that?", "contact"),
        ("Wie funktioniert das genau?", "more"),  # what it holds in detail
        ("was heißt das konkret?", "more"),
        ("bis welches Alter geht das?", "target"),  # age: whom it is for
        ("what age range is it meant for?", "target"),
        ("Läuft das aktuell noch?", "status"),
        ("is it still running?", "status"),
        ("kostet das was?", "more"),  # a detail the card may lack: the reply says so
        ("how often does it happen?", "more"),
        ("Wo finde ich das?", "contact"),
    ],
)
def test_words_that_name_no_subject_leave_it_a_follow_up(
    talk: Conversation, log: RecordingLog, question: str, kind: str
) -> None:
    card_of(talk, "gibt es noch eine Kernarbeitszeit?", "gleitzeit")
    say(talk, question)
    record = log.records()[-1]
    assert (record["followup"], record["entry_id"]) == (kind, "gleitzeit")


def test_a_follow_up_whose_words_find_the_card_itself_is_one(
    talk: Conversation, log: RecordingLog, koeln_library: Library
) -> None:
    """Too many extra words to be read as a follow-up at first sight, but the whole question
    finds the card on screen: the card again would not say who is responsible."""
    card_of(talk, "Väternetzwerk", "vaeternetzwerk")
    question = "Wer ist für das Väternetzwerk (z. B. Mittags-Stammtisch für Väter) zuständig?"
    follow = talk.followups.detect(question)
    assert follow is not None and follow.refers
    found = koeln_library.current.index.search(question)
    assert (found.outcome, found.matches[0].entry.id) == ("answered", "vaeternetzwerk")
    assert say(talk, question).text.startswith("📞")
    assert (log.records()[-1]["followup"], log.records()[-1]["entry_id"]) == (
        "contact",
        "vaeternetzwerk",
    )


def test_a_group_the_card_is_named_after_names_the_offer_not_whom_it_is_for(
    talk: Conversation, log: RecordingLog
) -> None:
    card_of(talk, "Väternetzwerk", "vaeternetzwerk")
    say(talk, "Gibt es den Stammtisch für Väter schon?")
    assert log.records()[-1]["followup"] == "status"
    say(talk, "und für Väter?")  # nothing else asked: whom it is for
    assert log.records()[-1]["followup"] == "target"


def test_a_follow_up_in_the_region_s_dialect_is_one(
    talk: Conversation, log: RecordingLog, koeln_library: Library
) -> None:
    """Kölsch function words are in knowledge/koeln/suche.yaml (mundart), not in code."""
    lexicon = koeln_library.current.index.lexicon
    assert {"dat", "och", "for"} <= lexicon.regional_words  # "för", folded
    assert lexicon.standard_reading("Jilt dat och för Beamte?") == "jilt das auch fur beamte"
    assert lexicon.standard_reading("Gilt das für Beamte?") == "Gilt das für Beamte?"
    card_of(talk, "gibt es noch eine Kernarbeitszeit?", "gleitzeit")
    reply = say(talk, "Jilt dat och för Beamte?")
    assert reply.text.startswith("👥")
    assert (log.records()[-1]["followup"], log.records()[-1]["entry_id"]) == ("target", "gleitzeit")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("und wer ist da zuständig?", "contact"),
        ("how does it work?", "more"),  # English cues in a German chat, for English questions
        ("Jilt dat och för Beamte?", "target"),  # the region's words
        ("Wie beantrage ich Elternzeit?", None),
    ],
)
def test_reads_followup_tells_what_the_conversation_would_read(
    talk: Conversation, question: str, kind: str | None
) -> None:
    """bench/e2e.py sends such questions from chats of their own; it asks this."""
    found = talk.reads_followup(question)
    assert (found.kind if found else None) == kind


def test_a_noun_no_entry_knows_starts_over(talk: Conversation, log: RecordingLog) -> None:
    card_of(talk, "gibt es noch eine Kernarbeitszeit?", "gleitzeit")
    reply = say(talk, "wann kommt eigentlich die Müllabfuhr?")
    assert log.records()[-1]["followup"] is None
    assert not reply.text.startswith("📌")


def test_after_an_unknown_question_the_card_is_still_referred_to(
    talk: Conversation, log: RecordingLog, kb: KnowledgeBase
) -> None:
    card_of(talk, "gibt es noch eine Kernarbeitszeit?", "gleitzeit")
    assert log.records()[-1]["outcome"] == "answered"
    say(talk, "und wie ist das mit dem Kaffeeautomaten im dritten Stock")
    assert log.records()[-1]["outcome"] == "unknown"
    reply = say(talk, "wer ist da zuständig?")
    assert reply.text.startswith(f"📞 <b>Zuständig für „{escape(kb.entries['gleitzeit'].title)}")


def test_after_a_redirect_the_card_is_not_referred_to(talk: Conversation) -> None:
    card_of(talk, "gibt es noch eine Kernarbeitszeit?", "gleitzeit")
    say(talk, "Wie viel Gehalt bekomme ich?")
    assert talk.memory.recall(USER) is None


@pytest.mark.parametrize(
    "text",
    [
        "danke für die Info",
        "ok danke, dann frag ich mal nach",
        "Got it, thanks",
        "alright, thanks anyway",
    ],
)
def test_thanks_with_a_few_words_is_small_talk(
    talk: Conversation, log: RecordingLog, text: str
) -> None:
    card_of(talk, "Spielekoffer", "spielekoffer")
    assert say(talk, text).text == talk.texts("smalltalk.thanks")
    assert log.records()[-1]["outcome"] == "smalltalk"


@pytest.mark.parametrize(
    "text", ["Danke! Und wer ist zuständig?", "danke, wie beantrage ich Elternzeit"]
)
def test_thanks_with_a_question_is_no_small_talk(talk: Conversation, text: str) -> None:
    card_of(talk, "Spielekoffer", "spielekoffer")
    assert say(talk, text).text != talk.texts("smalltalk.thanks")


def test_small_talk_after_a_card_keeps_the_context(talk: Conversation) -> None:
    card_of(talk, "Spielekoffer", "spielekoffer")
    say(talk, "danke")
    assert say(talk, "wer ist da zuständig?").text.startswith("📞")


def test_the_memory_expires_after_ten_minutes(
    talk: Conversation, clock: Clock, log: RecordingLog
) -> None:
    card_of(talk, "Spielekoffer", "spielekoffer")
    clock.now += 9 * 60
    assert say(talk, "wer ist da zuständig?").text.startswith("📞")
    clock.now += 9 * 60  # still within ten minutes of the last follow-up
    assert say(talk, "gibt es das schon?").text.startswith("📌")
    clock.now += 10 * 60 + 1
    reply = say(talk, "wer ist da zuständig?")
    assert reply.text.startswith("Worauf bezieht sich Ihre Frage?")
    assert "10 Minuten" in reply.text
    assert log.records()[-1]["outcome"] == "unknown"


def test_each_chat_has_its_own_memory(talk: Conversation, kb: KnowledgeBase) -> None:
    card_of(talk, "Spielekoffer", "spielekoffer", user=USER)
    assert say(talk, "wer ist da zuständig?", user=OTHER).text.startswith("Worauf bezieht")
    card_of(talk, "gibt es noch eine Kernarbeitszeit?", "gleitzeit", user=OTHER)
    assert escape(kb.entries["spielekoffer"].title) in say(talk, "wer ist da zuständig?").text
    assert escape(kb.entries["gleitzeit"].title) in say(talk, "wer ist da zuständig?", OTHER).text


def test_after_a_choice_the_follow_up_refers_to_the_chosen_offer(
    talk: Conversation, kb: KnowledgeBase
) -> None:
    choices = say(talk, "checkliste")
    assert choices.text.startswith("Meinten Sie")
    # asked under the choices: which of them? The same offers again, to tap
    which = say(talk, "wer ist da zuständig?")
    assert which.text == talk.texts("followup.which")
    assert _choice_ids(which) == _choice_ids(choices)
    choices = say(talk, "checkliste")
    picked = actions.decode(choices.buttons[0][0].action)
    assert picked is not None
    talk.press(choices.buttons[0][0].action, user_id=USER)
    entry = kb.entries[picked.args[1]]
    assert say(talk, "wer ist da zuständig?").text.startswith(
        f"📞 <b>Zuständig für „{inner_quotes(entry.title)}"
    )


def test_an_entry_removed_by_a_reload_is_no_context(koeln_copy: Path) -> None:
    library, _ = Library.open(koeln_copy)
    assert library is not None
    talk = Conversation(lambda: library.current, RecordingLog())
    card_of(talk, "Spielekoffer", "spielekoffer")
    path = koeln_copy / "massnahmen.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  - id: spielekoffer\n", "  - id: koffer\n"), encoding="utf-8")
    assert library.reload()[0]
    assert say(talk, "wer ist da zuständig?").text.startswith("Worauf bezieht")


# --- memory and language data ---------------------------------------------------------------


def test_the_memory_is_bounded_and_holds_no_text() -> None:
    memory = ChatMemory(max_chats=3)
    for chat_id in range(5):
        memory.remember(chat_id, Turn("gleitzeit", ("spielekoffer",)))
    assert len(memory) == 3
    assert memory.recall(0) is None and memory.recall(4) == Turn("gleitzeit", ("spielekoffer",))
    assert set(Turn.__slots__) == {"entry_id", "runner_ups", "card"}  # ids only, no question
    memory.forget(4)
    assert memory.recall(4) is None


def test_the_follow_up_words_are_data(tmp_path: Path, koeln_library: Library) -> None:
    source = (Path(__file__).parents[1] / "bot" / "chat" / "followups.de.yaml").read_text(
        encoding="utf-8"
    )
    custom = source.replace("  kontakt:\n", "  kontakt:\n    - durchwahl\n", 1)
    (tmp_path / "followups.de.yaml").write_text(custom, encoding="utf-8")
    standard, changed = FollowupLexicon.load(), FollowupLexicon.load(directory=tmp_path)
    assert standard.detect("und die Durchwahl?") is None
    detected = changed.detect("und die Durchwahl?")
    assert detected is not None and detected.kind == "contact"
    talk = Conversation(lambda: koeln_library.current, followups=changed)
    say(talk, "Spielekoffer")
    assert say(talk, "und die Durchwahl?").text.startswith("📞")


@pytest.mark.parametrize(
    ("question", "kind", "groups", "rest"),
    [
        ("und wer ist da zuständig?", "contact", [], ""),
        ("gibt es das schon?", "status", [], ""),
        ("ab wann?", "status", [], ""),
        ("und für Beamte?", "target", ["beamte"], ""),
        ("gilt das auch für beamtinnen?", "target", ["beamte"], ""),
        ("Kann ich das auch in Teilzeit machen?", "target", ["teilzeit"], ""),
        ("mehr dazu", "more", [], ""),
        ("Unterschied zu Familienservice?", "difference", [], "familienservice"),
        ("wer ist für Elternzeit zuständig", "contact", [], "elternzeit"),
        ("Gibt es Angebote für Teilzeitkräfte?", None, [], ""),  # nothing points back
        ("Meine Mutter braucht Pflege", None, [], ""),
        ("Wie beantrage ich Elternzeit?", None, [], ""),
    ],
)
def test_detection(question: str, kind: str | None, groups: list[str], rest: str) -> None:
    found = FollowupLexicon.load().detect(question)
    if kind is None:
        assert found is None
        return
    assert found is not None
    assert (found.kind, [g.id for g in found.groups], found.rest) == (kind, groups, rest)


# --- the terminal chat ----------------------------------------------------------------------


def test_the_terminal_chat_follows_up_the_same_way(koeln_library: Library) -> None:
    talk = Conversation(lambda: koeln_library.current, channel="terminal")
    out: list[str] = []
    lines = ["gibt es noch eine Kernarbeitszeit?", "und wer ist da zuständig?", "und für Beamte?"]
    chat(talk, lines=lines, write=out.append)
    card, who, whom = out[2], out[3], out[4]
    entry = koeln_library.current.kb.entries["gleitzeit"]
    assert card.startswith(f"\nBot: {entry.title}")
    assert "Passt auch: " in card
    assert who.startswith(f"\nBot: 📞 Zuständig für „{inner_quotes(entry.title)}“:")
    contact = koeln_library.current.kb.contacts_of(entry)[0]
    assert f"  [1] 👤 {contact.title}" in who.splitlines()
    assert "❔ Beamtinnen und Beamte: nicht ausdrücklich genannt" in whom
    assert "<b>" not in "".join(out)


def test_the_privacy_notice_tells_about_the_short_memory(talk: Conversation) -> None:
    text = talk.privacy().text
    assert "10 Minuten lang, welche Antwort er Ihnen zuletzt gezeigt hat" in text
    assert "nie in einer Datei" in text


# --- measured over the bundled knowledge bases ----------------------------------------------

FOLLOW_UPS = [
    "und wer ist da zuständig?",
    "an wen kann ich mich wenden?",
    "wie erreiche ich die?",
    "und die Telefonnummer?",
    "wer kümmert sich darum?",
    "gibt es das schon?",
    "ab wann?",
    "wann kommt das?",
    "Wie ist da der Stand?",
    "und für Beamte?",
    "gilt das auch für mich als Azubi?",
    "Kann ich das als Beamtin nutzen?",
    "gibts das auch in Teilzeit?",
    "für wen ist das?",
    "mehr dazu",
    "genauer bitte",
    "was ist der Unterschied?",
]
FOLLOW_UP_REPLY = ("📞", "📌 <b>", "👥 <b>", "ℹ️ <b>Mehr", "⚖️", "Mit welchem")
BUNDLED = {"koeln": DEFAULT_KB, "herne": DEFAULT_KB.parent / "herne"}


@pytest.mark.parametrize("name", BUNDLED)
def test_follow_ups_are_understood_after_every_card(name: str) -> None:
    library, _ = Library.open(BUNDLED[name])
    assert library is not None
    talk = Conversation(lambda: library.current, RecordingLog())
    for entry in library.current.kb.entries.values():
        if entry.kind == "contact":
            continue
        for question in FOLLOW_UPS:
            talk.press(actions.encode("entry", entry.id), user_id=USER)
            reply = say(talk, question)
            assert reply.text.startswith(FOLLOW_UP_REPLY), (entry.id, question, reply.text[:60])


def _questions(path: Path) -> list[str]:
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "frage" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("name", BUNDLED)
def test_a_question_of_its_own_after_a_card_is_never_taken_for_a_follow_up(name: str) -> None:
    """The labelled questions are each a question of their own: asked right after another
    question's card, none may be answered as a follow-up about that card."""
    library, _ = Library.open(BUNDLED[name])
    assert library is not None
    data = Path(__file__).parent / "data"
    files = (
        ["questions_koeln.yaml", "holdout_koeln.yaml"]
        if name == "koeln"
        else ["questions_herne.yaml"]
    )
    questions = [q for f in files for q in _questions(data / f)]
    talk = Conversation(lambda: library.current, RecordingLog())
    rng = random.Random(10)
    after_a_card = 0
    for _ in range(400):
        first, second = rng.choice(questions), rng.choice(questions)
        talk.memory.forget(USER)
        talk.ask(first, user_id=USER)
        turn = talk.memory.recall(USER)
        if turn is None or turn.entry_id is None:
            continue
        after_a_card += 1
        (reply,) = talk.ask(second, user_id=USER)
        assert not reply.text.startswith(FOLLOW_UP_REPLY), (first, second, reply.text[:60])
    assert after_a_card > 200


def _choice_ids(reply: Reply) -> list[str]:
    ids = []
    for row in reply.buttons:
        for button in row:
            action = actions.decode(button.action)
            if action is not None and action.verb == "choice":
                ids.append(action.args[-1])
    return ids


def test_a_title_with_quotes_of_its_own_gets_single_ones_inside(
    talk: Conversation, kb: KnowledgeBase
) -> None:
    quoted = [e for e in kb.entries.values() if "„" in e.title]
    assert quoted  # the bundled content has such titles ("„Plötzlich Pflege“ – Beratung …")
    for entry in quoted:
        talk.memory.remember(USER, Turn(entry.id, ()))
        reply = say(talk, "wer ist da zuständig?")
        assert "„„" not in reply.text and "“:" not in reply.text.replace("“:</b>", ""), reply.text
        assert f"„{escape(inner_quotes(entry.title))}“" in reply.text
