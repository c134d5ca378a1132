"""The conversation: what the bot says to a question or a button, for Telegram and terminal alike.

Replies are Telegram HTML, so everything that comes from the user or the knowledge base must
arrive escaped, and no input – however odd – may crash a reply.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import pytest
from chatkit import RecordingLog, action_of, assert_telegram_html, buttons, labels

from bot.chat import actions
from bot.chat.actions import Action
from bot.chat.cards import card
from bot.chat.conversation import (
    MAX_MESSAGE,
    STALE,
    Conversation,
    Reply,
    split_message,
    status_text,
)
from bot.chat.smalltalk import KINDS
from bot.chat.texts import Texts
from bot.config import DEFAULT_KB
from bot.knowledge.schema import KnowledgeBase
from bot.search.library import Library

# --- helpers ------------------------------------------------------------------------------------

TEXTS = Texts.load()
REPLIES = {kind: TEXTS(f"smalltalk.{kind}") for kind in KINDS}


@pytest.fixture
def kb(koeln_library: Library) -> KnowledgeBase:
    return koeln_library.current.kb


@pytest.fixture
def log() -> RecordingLog:
    return RecordingLog()


@pytest.fixture
def talk(koeln_library: Library, log: RecordingLog) -> Conversation:
    return Conversation(lambda: koeln_library.current, log, channel="test")


def ask_one(talk: Conversation, text: str) -> Reply:
    (reply,) = talk.ask(text, user_id=4242)
    assert_telegram_html(reply.text)
    return reply


# --- small talk ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("hallo", "greeting"),
        ("Hallo! 👋", "greeting"),
        ("Moin moin", "greeting"),
        ("danke", "thanks"),
        ("Vielen Dank!", "thanks"),
        ("tschüss", "bye"),
        ("Tschüß", "bye"),
        ("Hallo, danke!", "thanks"),
        ("wer bist du?", "who"),
    ],
)
def test_small_talk_gets_a_friendly_reply_and_no_knowledge_answer(
    talk: Conversation, log: RecordingLog, message: str, kind: str
) -> None:
    reply = ask_one(talk, message)
    assert reply.text == REPLIES[kind]
    assert reply.buttons == ()
    assert [(r["outcome"], r["entry_id"]) for r in log.records()] == [("smalltalk", None)]


def test_a_greeting_with_a_question_is_a_question(talk: Conversation, log: RecordingLog) -> None:
    reply = ask_one(talk, "Hallo, wie beantrage ich Elternzeit?")
    assert reply.text not in REPLIES.values()
    assert log.records()[0]["outcome"] == "answered"
    assert log.records()[0]["entry_id"] == "beratung-elternzeit"


# --- answers, choices, unknown ------------------------------------------------------------------


def test_answer_card_shows_what_for_whom_status_and_contact(
    talk: Conversation, log: RecordingLog, kb: KnowledgeBase
) -> None:
    reply = ask_one(talk, "gibt es noch eine Kernarbeitszeit?")
    entry = kb.entries["gleitzeit"]
    (record,) = log.records()
    assert (record["outcome"], record["entry_id"], record["topic"]) == (
        "answered",
        "gleitzeit",
        "arbeitszeit",
    )
    assert record["kb_version"] == kb.version and record["channel"] == "test"
    assert reply.text.startswith(f"<b>{escape(entry.title)}</b>\n<i>Maßnahme {entry.ref}</i>")
    assert escape(entry.answer) in reply.text
    assert f"👥 <b>Für wen:</b> {escape(entry.target_group or '')}" in reply.text
    assert f"📌 <b>Stand:</b> {escape(status_text(kb, entry) or '')}" in reply.text
    assert entry.status_label and entry.status_label in reply.text
    contact = kb.entries["amt-personal"]
    assert f"📞 <b>Ansprechpartner:</b> {escape(contact.title)}" in reply.text
    assert [b.label for b in reply.buttons[0]] == ["👍 Hat geholfen", "👎 Nicht geholfen"]
    helpful = actions.decode(action_of(reply, "👍"))
    unhelpful = actions.decode(action_of(reply, "👎"))
    assert helpful == Action("feedback", (record["id"], "gleitzeit", "1"))
    assert unhelpful == Action("feedback", (record["id"], "gleitzeit", "0"))


def test_feedback_buttons_are_recorded_and_thanked(
    talk: Conversation, log: RecordingLog, kb: KnowledgeBase
) -> None:
    reply = ask_one(talk, "Spielekoffer")
    question_id = log.records()[0]["id"]
    thanked = talk.press(action_of(reply, "👍"))
    assert thanked.edit and thanked.notice == "Danke!"
    assert "👍 Danke für Ihre Rückmeldung!" in thanked.text
    regretted = talk.press(action_of(reply, "👎"))
    assert escape(kb.counselling_contact.title) in regretted.text
    assert log.calls[-2:] == [
        ("feedback", {"id": question_id, "helpful": True}),
        ("feedback", {"id": question_id, "helpful": False}),
    ]


@pytest.mark.parametrize(
    "directory", [DEFAULT_KB, DEFAULT_KB.parent / "herne"], ids=["koeln", "herne"]
)
def test_every_button_of_every_answer_card_fits_telegrams_64_bytes(directory: Path) -> None:
    library, _ = Library.open(directory)
    assert library is not None
    talk = Conversation(lambda: library.current, RecordingLog())
    question_id = secrets.token_urlsafe(8)
    for entry in library.current.kb.entries.values():
        card = talk.press(actions.encode("choice", question_id, entry.id))
        assert f"<b>{escape(entry.title)}</b>" in card.text
        assert_telegram_html(card.text)
        for button in buttons(card):
            assert button.action is not None
            assert len(button.action.encode()) <= 64, button.action
            assert actions.decode(button.action) is not None


def test_ambiguous_question_asks_back_with_choices_and_nothing_of_these(
    talk: Conversation, log: RecordingLog, kb: KnowledgeBase
) -> None:
    reply = ask_one(talk, "checkliste")
    assert reply.text.startswith("Meinten Sie")
    assert labels(reply)[-1] == "Nichts davon"
    choices = [actions.decode(b.action) for b in buttons(reply)[:-1]]
    assert 2 <= len(choices) <= 3
    question_id = log.records()[0]["id"]
    assert all(c is not None and c.verb == "choice" and c.args[0] == question_id for c in choices)
    picked = choices[0]
    assert picked is not None
    card = talk.press(actions.encode("choice", *picked.args))
    assert card.edit
    assert f"<b>{escape(kb.entries[picked.args[1]].title)}</b>" in card.text
    assert log.calls[-1] == ("choice", {"id": question_id, "entry_id": picked.args[1]})


def test_nothing_of_these_is_recorded_and_names_the_counselling_office(
    talk: Conversation, log: RecordingLog, kb: KnowledgeBase
) -> None:
    reply = ask_one(talk, "checkliste")
    answer = talk.press(action_of(reply, "Nichts davon"))
    assert escape(kb.counselling_contact.title) in answer.text
    assert log.calls[-1] == ("choice", {"id": log.records()[0]["id"], "entry_id": None})


def test_unknown_question_names_the_counselling_contact(
    talk: Conversation, log: RecordingLog, kb: KnowledgeBase
) -> None:
    reply = ask_one(talk, "Wie hoch ist der Kölner Dom")
    contact = kb.counselling_contact
    assert reply.text.startswith("Dazu weiß ich leider nichts.")
    assert f"<b>{escape(contact.title)}</b>" in reply.text
    assert escape(contact.note or "") in reply.text
    assert labels(reply) == ["📚 Themen"]
    assert log.records()[0]["outcome"] == "unknown"


# --- escaping -----------------------------------------------------------------------------------

HOSTILE = [
    "<b>&</b>",
    "Elternzeit <script>alert(1)</script>",
    "Kita & Hort <3",
    "</i></b><a href='x'>",
    "&amp; &lt; &#60;",
    "Gleitzeit <i>bitte</i> & Kernzeit",
]


@pytest.mark.parametrize("question", HOSTILE)
def test_markup_in_a_question_never_comes_back_as_markup(talk: Conversation, question: str) -> None:
    for reply in talk.ask(question):
        assert_telegram_html(reply.text)
        assert "<b>&</b>" not in reply.text and "<script>" not in reply.text


@pytest.mark.parametrize("payload", HOSTILE)
def test_markup_in_a_start_link_never_comes_back_as_markup(
    talk: Conversation, payload: str
) -> None:
    for reply in talk.start(payload):
        assert_telegram_html(reply.text)


def test_markup_in_the_knowledge_base_is_shown_as_text(make_kb: Callable[..., Path]) -> None:
    directory = make_kb(
        massnahmen="""\
        massnahmen:
          - id: kita-hort
            titel: "Kita & Hort <b>neu</b>"
            thema: familie
            antwort: "Betreuung <i>ab</i> 7 Uhr & länger – siehe <a href='x'>hier</a>."
            zielgruppe: "Eltern <3"
            status: verfuegbar
            zustaendig: [beratung]
            stichworte: ["Kita", "Hort"]
        """
    )
    library, problems = Library.open(directory)
    assert library is not None, problems
    talk = Conversation(lambda: library.current)
    (card,) = talk.ask("Hort")
    assert_telegram_html(card.text)
    assert card.text.startswith("<b>Kita &amp; Hort &lt;b&gt;neu&lt;/b&gt;</b>")
    assert "Betreuung &lt;i&gt;ab&lt;/i&gt; 7 Uhr &amp; länger" in card.text
    assert "👥 <b>Für wen:</b> Eltern &lt;3" in card.text
    for reply in (talk.menu(), talk.contacts(), talk.help(), talk.topic("familie"), *talk.start()):
        assert_telegram_html(reply.text)


def test_the_real_menu_escapes_its_ampersands(talk: Conversation, kb: KnowledgeBase) -> None:
    topic = next(t for t in kb.topics.values() if "&" in t.title)
    reply = talk.topic(topic.id)
    assert escape(topic.title) in reply.text
    assert_telegram_html(reply.text)
    assert_telegram_html(talk.contacts().text)


# --- odd input never crashes --------------------------------------------------------------------

ODD = [
    "",
    " ",
    "\n\n\t",
    "\x00\x01\x07\x1b[31m",
    "Eltern\x00zeit",
    "\u200b\u200b",
    "Gleit\u200bzeit",
    "\u202eGleitzeit\u202c",
    "\u2067مرحبا\u2069",
    "שלום",
    "😀😀😀",
    "👍",
    "🧑‍🍼",
    "\ufeff",
    "\ud800",
    "a" * 4096,
    "Elternzeit " * 500,
    "x y " * 2500,
    "?" * 4096,
    "0" * 4096,
    "Maßnahme " + "1." * 3000,
    "/start",
    "<" * 5000,
    "&" * 5000,
]


@pytest.mark.parametrize("text", ODD, ids=range(len(ODD)))
def test_odd_input_never_crashes_and_gets_a_reply(talk: Conversation, text: str) -> None:
    replies = talk.ask(text, user_id=1)
    assert replies
    for reply in replies:
        assert reply.text.strip()
        assert len(reply.text) <= MAX_MESSAGE
        assert_telegram_html(reply.text)


def test_invisible_and_control_characters_are_dropped_before_searching_and_logging(
    talk: Conversation, log: RecordingLog
) -> None:
    ask_one(talk, "\u202eEltern\u200bzeit\x00 be\u00adantragen\u202c")
    (record,) = log.records()
    assert record["question"] == "Elternzeit beantragen"
    assert record["entry_id"] == "beratung-elternzeit"


def test_empty_and_emoji_only_input_is_asked_for_words_and_not_logged(
    talk: Conversation, log: RecordingLog
) -> None:
    for text in ("", "   ", "😀😀", "👍"):
        reply = ask_one(talk, text)
        assert "in Worten" in reply.text
    assert log.records() == []


def test_an_overlong_question_is_cut_to_one_telegram_message(
    talk: Conversation, log: RecordingLog
) -> None:
    ask_one(talk, "Elternzeit " * 1000)
    assert len(log.records()[0]["question"]) <= MAX_MESSAGE


# --- split_message ------------------------------------------------------------------------------


def _no_text_lost(text: str, parts: list[str]) -> bool:
    """Splitting may only drop the whitespace it splits at."""
    return "".join(text.split()) == "".join("".join(parts).split())


def test_a_short_message_stays_whole() -> None:
    assert split_message("Hallo\nWelt") == ["Hallo\nWelt"]


def test_a_long_message_is_split_at_line_breaks(talk: Conversation, kb: KnowledgeBase) -> None:
    text = "\n\n".join(card(kb, e, TEXTS) for e in kb.entries.values())
    assert len(text) > 3 * MAX_MESSAGE
    parts = split_message(text)
    assert len(parts) >= 2
    assert all(len(p) <= MAX_MESSAGE for p in parts)
    assert _no_text_lost(text, parts)
    for part in parts:
        assert_telegram_html(part)


def test_a_word_longer_than_the_limit_is_cut_hard() -> None:
    parts = split_message("x" * 10_000)
    assert [len(p) for p in parts] == [4096, 4096, 1808]


def test_split_message_never_exceeds_the_limit_and_loses_no_text() -> None:
    rng = random.Random(20240611)
    alphabet = "abcdefghijklmnopqrstuvwxyzäöüß&<>😀"
    for _ in range(300):
        limit = rng.randint(5, 120)
        pieces = []
        for _ in range(rng.randint(0, 80)):
            length = rng.randint(1, rng.choice([6, 30, 300]))
            pieces.append("".join(rng.choice(alphabet) for _ in range(length)))
            pieces.append(rng.choice([" ", " ", "  ", "\n", "\n\n", "\t", " \n "]))
        text = "".join(pieces)
        parts = split_message(text, limit)
        assert all(len(p) <= limit for p in parts), (text, limit)
        assert all(p.strip() for p in parts) or not text.strip()
        assert _no_text_lost(text, parts), (text, limit)


# --- buttons: stale, forged, round trip ---------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "garbage",
        "e|gibt-es-nicht",
        "t|kein-thema",
        "c|abc|gibt-es-nicht",
        "f|abc|gleitzeit|2",
        "f|abc|gleitzeit",
        "m|zu|viel",
        "e|gleitzeit|x",
        "e|" + "a" * 41,
        "t|arbeitszeit\n",
        "e|../../etc",
        "e|gleit zeit",
        "x" * 65,
        "ü" * 40,
        "|||",
        "e|",
        "f|a|b|1|",
        "\x00",
        "t|ARBEITSZEIT",
    ],
)
def test_forged_or_stale_button_gets_the_outdated_menu(
    talk: Conversation, data: str | None
) -> None:
    reply = talk.press(data)
    assert reply.text == STALE
    assert "veraltet" in reply.text
    assert reply.edit and reply.notice == "Menü veraltet"
    assert labels(reply)[-1] == "👤 Ansprechstellen"


def test_a_button_of_an_entry_removed_by_a_reload_is_outdated(koeln_copy: Path) -> None:
    library, _ = Library.open(koeln_copy)
    assert library is not None
    talk = Conversation(lambda: library.current)
    menu = talk.topic("familienservice")
    old_button = action_of(menu, "Spielekoffer")
    assert "Spielekoffer" in talk.press(old_button).text

    path = koeln_copy / "massnahmen.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "  - id: spielekoffer\n", "  - id: spielekoffer-buero\n"
        ),
        encoding="utf-8",
    )
    swapped, problems = library.reload()
    assert swapped, problems
    assert talk.press(old_button).text == STALE
    fresh = action_of(talk.topic("familienservice"), "Spielekoffer")
    assert "Spielekoffer" in talk.press(fresh).text


def test_topic_buttons_lead_to_the_topic_and_its_entries(
    talk: Conversation, kb: KnowledgeBase
) -> None:
    (welcome,) = talk.start()
    topic_titles = [t.title for t in kb.topics.values()]
    assert labels(welcome) == [*topic_titles, "👤 Ansprechstellen"]
    page = talk.press(action_of(welcome, topic_titles[0]))
    first_topic = next(iter(kb.topics.values()))
    assert f"Handlungsfeld {first_topic.number}: {escape(first_topic.title)}" in page.text
    entries = kb.in_topic(first_topic.id)
    assert len(buttons(page)) == len(entries) + 1
    card = talk.press(buttons(page)[0].action)
    assert card.text.startswith(f"<b>{escape(entries[0].title)}</b>")


def test_start_with_a_topic_deep_link_opens_the_topic(
    talk: Conversation, kb: KnowledgeBase
) -> None:
    (reply,) = talk.start("familienservice")
    assert escape(kb.topics["familienservice"].title) in reply.text
    assert [b.label for b in buttons(reply)][-1] == "◀ Alle Themen"


VERB_ARGS: dict[actions.Verb, tuple[str, ...]] = {
    "menu": (),
    "contacts": (),
    "topic": ("arbeitszeit",),
    "entry": ("gleitzeit",),
    "choice": ("AbC-12_x", "gleitzeit"),
    "none": ("AbC-12_x",),
    "feedback": ("AbC-12_x", "gleitzeit", "1"),
    "contact": ("amt-personal",),
    "related": ("gleitzeit",),
    "forget": ("1",),
    "ignore": ("page",),
}


@pytest.mark.parametrize("verb", VERB_ARGS)
def test_encode_and_decode_round_trip(verb: actions.Verb) -> None:
    data = actions.encode(verb, *VERB_ARGS[verb])
    assert len(data.encode()) <= actions.MAX_BYTES
    assert actions.decode(data) == Action(verb, VERB_ARGS[verb])


def test_round_trip_with_the_longest_ids_of_the_bundled_knowledge_bases(kb: KnowledgeBase) -> None:
    longest = max(kb.entries, key=len)
    question_id = secrets.token_urlsafe(8)
    cases: list[tuple[actions.Verb, tuple[str, ...]]] = [
        ("entry", (longest,)),
        ("choice", (question_id, longest)),
        ("feedback", (question_id, longest, "0")),
    ]
    for verb, args in cases:
        assert actions.decode(actions.encode(verb, *args)) == Action(verb, args)


@pytest.mark.parametrize(
    ("verb", "args"),
    [
        ("topic", ()),
        ("topic", ("a", "b")),
        ("entry", ("mit|strich",)),
        ("entry", ("",)),
        ("entry", ("ä",)),
        ("entry", ("a" * 41,)),
        ("entry", ("zeile\n",)),
        ("feedback", ("q" * 40, "e" * 40, "1")),
    ],
)
def test_encode_refuses_what_would_not_round_trip(
    verb: actions.Verb, args: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError):
        actions.encode(verb, *args)


def test_decode_refuses_a_trailing_line_break() -> None:
    assert actions.decode("t|arbeitszeit") == Action("topic", ("arbeitszeit",))
    assert actions.decode("t|arbeitszeit\n") is None


def test_decode_never_raises_on_arbitrary_strings() -> None:
    rng = random.Random(64)
    alphabet = "emtcnfkx|0123456789abcAZ_-\n\x00äß😀 \ud800"
    samples: list[str] = []
    for _ in range(500):
        length = rng.randint(0, rng.choice([5, 20, 80]))
        samples.append("".join(rng.choice(alphabet) for _ in range(length)))
    samples += [
        "|".join(rng.choice(["e", "f", "c", "1", "", "|"]) for _ in range(n)) for n in range(20)
    ]
    accepted = 0
    for data in samples:
        action = actions.decode(data)
        if action is not None:
            accepted += 1
            assert actions.encode(action.verb, *action.args) == data
    assert accepted < len(samples)


def test_vergessen_asks_first_and_deletes_only_on_confirmation(
    talk: Conversation, log: RecordingLog
) -> None:
    log.forgettable = 3
    question = talk.forget(4242)
    assert question.text.startswith("Möchten Sie alle Ihre gespeicherten Fragen löschen?")
    assert labels(question) == ["🗑 Ja, löschen", "Nein, behalten"]
    assert log.calls == []  # nothing deleted by asking
    kept = talk.press(action_of(question, "Nein"), user_id=4242)
    assert kept.edit and "nichts gelöscht" in kept.text and log.calls == []
    done = talk.press(action_of(question, "🗑"), user_id=4242)
    assert log.calls == [("forget", {"user_id": 4242})]
    assert done.edit and done.notice == "Gelöscht"
    assert done.text.startswith("Erledigt: 3 gespeicherte Fragen von Ihnen wurden gelöscht")
    assert "älter als 90 Tage" in done.text  # says honestly what is not in its power any more
    assert_telegram_html(done.text)


@pytest.mark.parametrize(
    ("count", "wording"),
    [
        (1, "Erledigt: 1 gespeicherte Frage von Ihnen wurde gelöscht"),
        (2, "Erledigt: 2 gespeicherte Fragen von Ihnen wurden gelöscht"),
        (0, "Es waren keine Fragen von Ihnen gespeichert – gelöscht wurde daher nichts."),
    ],
)
def test_vergessen_counts_in_words_that_agree(
    talk: Conversation, log: RecordingLog, count: int, wording: str
) -> None:
    log.forgettable = count
    done = talk.press(actions.encode("forget", "1"), user_id=4242)
    assert done.text.startswith(wording)


def test_vergessen_also_forgets_the_follow_up_memory_and_says_so(
    talk: Conversation, log: RecordingLog
) -> None:
    ask_one(talk, "Spielekoffer")
    assert talk.memory.recall(4242) is not None
    done = talk.press(actions.encode("forget", "1"), user_id=4242)
    assert talk.memory.recall(4242) is None
    assert "Auch Ihre letzte Antwort, die ich mir für Folgefragen gemerkt hatte" in done.text
    again = talk.press(actions.encode("forget", "1"), user_id=4242)
    assert "Folgefragen" not in again.text  # only said when there was something to forget


def test_vergessen_without_a_log_or_user_has_nothing_to_ask(koeln_library: Library) -> None:
    talk = Conversation(lambda: koeln_library.current)
    assert talk.forget(4242).text == "Es sind keine Fragen von Ihnen gespeichert."
    assert talk.forget(None).buttons == ()
    assert talk.press("v|2", user_id=1).text == STALE


def test_conversation_without_a_log_still_answers(koeln_library: Library) -> None:
    talk = Conversation(lambda: koeln_library.current)
    (reply,) = talk.ask("Spielekoffer")
    assert actions.decode(action_of(reply, "👍")) is not None


@pytest.mark.parametrize(
    ("typed", "heading"),
    [
        ("Hilfe", "So fragen Sie mich"),
        ("themen", "Themen"),
        ("Kontakt?", "Ansprechstellen"),
        ("datenschutz", "Datenschutz"),
    ],
)
def test_a_command_typed_without_slash_does_what_the_command_does(
    talk: Conversation, log: RecordingLog, typed: str, heading: str
) -> None:
    [reply] = talk.ask(typed, user_id=1)
    assert heading in reply.text.split("\n")[0]
    assert log.calls == []  # navigation, not a question


# --- one knowledge base snapshot per update -----------------------------------------------------


@dataclass
class Reloading:
    """A snapshot source that a hot reload swaps right after the first read of each call."""

    before: Any
    after: Any
    reads: int = 0

    def __call__(self) -> Any:
        self.reads += 1
        return self.before if self.reads == 1 else self.after


@pytest.fixture
def reloading(koeln_library: Library, make_kb: Callable[..., Path]) -> Reloading:
    small, problems = Library.open(make_kb())  # no topic "familienservice", no "spielekoffer"
    assert small is not None, problems
    return Reloading(koeln_library.current, small.current)


def test_a_reload_between_two_reads_cannot_break_a_button(reloading: Reloading) -> None:
    talk = Conversation(reloading, RecordingLog())
    qid = secrets.token_urlsafe(8)
    presses = {
        "topic": actions.encode("topic", "familienservice"),
        "entry": actions.encode("entry", "spielekoffer"),
        "choice": actions.encode("choice", qid, "spielekoffer"),
        "feedback": actions.encode("feedback", qid, "spielekoffer", "0"),
        "menu": actions.encode("menu"),
        "contacts": actions.encode("contacts"),
        "none": actions.encode("none", qid),
    }
    for verb, data in presses.items():
        reloading.reads = 0
        reply = talk.press(data, user_id=1)
        assert reloading.reads == 1, verb
        assert reply.text != STALE, verb  # answered from the snapshot of the click
        assert_telegram_html(reply.text)


def test_every_public_call_reads_the_snapshot_at_most_once(reloading: Reloading) -> None:
    talk = Conversation(reloading, RecordingLog())
    calls: dict[str, Callable[[], object]] = {
        "start": lambda: talk.start(),
        "start topic": lambda: talk.start("familienservice"),
        "start question": lambda: talk.start("spielekoffer"),
        "ask": lambda: talk.ask("Spielekoffer", 1),
        "ask typed command": lambda: talk.ask("Themen", 1),
        "menu": talk.menu,
        "help": talk.help,
        "contacts": talk.contacts,
        "topic": lambda: talk.topic("familienservice"),
        "failure": talk.failure,
        "record_failure": lambda: talk.record_failure("x", 1),
        "run_command": lambda: talk.run_command("start", "familienservice"),
    }
    for name, call in calls.items():
        reloading.reads = 0
        call()
        assert reloading.reads <= 1, name
    reloading.reads = 0
    (card,) = talk.ask("Spielekoffer", 1)
    assert "Spielekoffer" in card.text


@pytest.mark.parametrize("directory", [DEFAULT_KB, DEFAULT_KB.parent / "herne"])
def test_a_deep_link_with_an_entry_id_opens_exactly_that_entry(directory: Path) -> None:
    """The portal's "Im Chat fragen" links are t.me/<bot>?start=<entry id>: every id opens its
    own card (or contact card), never a search that may land elsewhere."""
    library, _ = Library.open(directory)
    assert library is not None
    talk = Conversation(lambda: library.current)
    for entry in library.current.kb.entries.values():
        if entry.id in library.current.kb.topics:
            continue  # a topic of the same id wins: /start familienservice opens topic 8
        [reply] = talk.start(entry.id, 4711)
        assert escape(entry.title) in reply.text, entry.id


def test_an_off_topic_subject_gets_the_redirect_of_suche_yaml(
    talk: Conversation, log: RecordingLog
) -> None:
    """Urlaub, Gehalt, Reisepass: the organisation's suche.yaml says who is responsible."""
    reply = ask_one(talk, "wie viele urlaubstage habe ich noch")
    assert reply.text.startswith("Dazu gibt es hier kein Angebot zur Vereinbarkeit.")
    assert "Personalsachbearbeitung" in reply.text
    assert log.records()[0]["outcome"] == "unknown"


def test_entries_near_the_floor_are_offered_as_maybe_choices(kb: KnowledgeBase) -> None:
    """When nothing is sure enough even for choices, near misses still get buttons."""
    from bot.knowledge.lexicon import load_lexicon
    from bot.search.config import SearchConfig
    from bot.search.index import SearchIndex
    from bot.search.library import Snapshot

    lexicon, _ = load_lexicon(DEFAULT_KB)
    timid = SearchConfig(answer_probability=1.1, choice_floor=1.1, suggest_floor=0.0)
    snapshot = Snapshot(kb, SearchIndex(kb, lexicon, config=timid))
    reply = ask_one(Conversation(lambda: snapshot), "Spielekoffer")
    assert reply.text.startswith("Da bin ich mir nicht sicher. Vielleicht meinten Sie")
    assert labels(reply)[-1] == "Nichts davon"
    assert any("Spielekoffer" in label for label in labels(reply))
