"""Related offers on every card, next-best offers after 👎, and /kontakt as buttons."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from chatkit import RecordingLog, action_of, assert_telegram_html, buttons, labels

from bot.chat import actions
from bot.chat.cards import MAX_LABEL
from bot.chat.conversation import Conversation, Reply
from bot.config import DEFAULT_KB
from bot.knowledge.schema import KnowledgeBase
from bot.search.library import Library

USER = 4242
BUNDLED = [DEFAULT_KB, DEFAULT_KB.parent / "herne"]


@pytest.fixture
def log() -> RecordingLog:
    return RecordingLog()


@pytest.fixture
def talk(koeln_library: Library, log: RecordingLog) -> Conversation:
    return Conversation(lambda: koeln_library.current, log)


@pytest.fixture
def kb(koeln_library: Library) -> KnowledgeBase:
    return koeln_library.current.kb


def related_ids(reply: Reply, prefix: str = "Passt auch: ") -> list[str]:
    found = []
    for button in buttons(reply):
        if button.label.startswith(prefix):
            action = actions.decode(button.action)
            assert action is not None and action.verb == "related"
            found.append(action.args[0])
    return found


@pytest.mark.parametrize("directory", BUNDLED, ids=["koeln", "herne"])
def test_every_card_carries_one_to_three_related_offers(directory: Path) -> None:
    library, _ = Library.open(directory)
    assert library is not None
    kb = library.current.kb
    talk = Conversation(lambda: library.current, RecordingLog())
    qid = secrets.token_urlsafe(8)
    for entry in kb.entries.values():
        verb = "contact" if entry.kind == "contact" else "entry"
        cards = [talk.press(actions.encode(verb, entry.id), user_id=USER)]
        if entry.kind != "contact":
            cards.append(talk.press(actions.encode("choice", qid, entry.id), user_id=USER))
            cards.append(talk.press(actions.encode("related", entry.id), user_id=USER))
        for card in cards:
            prefix = "Zuständig für: " if entry.kind == "contact" else "Passt auch: "
            offers = related_ids(card, "Passt auch: ") + [
                actions.decode(b.action).args[0]  # type: ignore[union-attr]
                for b in buttons(card)
                if b.label.startswith("Zuständig für: ")
            ]
            assert 1 <= len(offers) <= 3, (entry.id, labels(card))
            assert entry.id not in offers
            assert all(kb.entries[o].kind != "contact" for o in offers)
            assert all(len(label) <= MAX_LABEL for label in labels(card))
            assert any(label.startswith(prefix) for label in labels(card))
            if entry.kind == "contact":
                assert all(entry.id in kb.entries[o].contacts for o in offers)


def test_the_service_and_its_measure_come_first(talk: Conversation) -> None:
    card = talk.press(actions.encode("entry", "familienservice-kinder"), user_id=USER)
    assert related_ids(card)[0] == "familienservice-kinderbetreuung"
    card = talk.press(actions.encode("entry", "familienservice-kinderbetreuung"), user_id=USER)
    assert related_ids(card)[0] == "familienservice-kinder"


def test_the_other_choices_are_offered_after_a_choice(talk: Conversation) -> None:
    (choices,) = talk.ask("Familienservice", user_id=USER)
    picked = [actions.decode(b.action) for b in buttons(choices) if b.label != "Nichts davon"]
    others = {a.args[1] for a in picked[1:] if a is not None}
    card = talk.press(buttons(choices)[0].action, user_id=USER)
    offered = set(related_ids(card))
    non_contacts = {o for o in others if o != "familienservice"}
    assert non_contacts <= offered


def test_a_related_offer_opens_as_a_new_message_and_becomes_the_context(
    talk: Conversation,
) -> None:
    (card,) = talk.ask("Spielekoffer", user_id=USER)
    offer = related_ids(card)[0]
    opened = talk.press(actions.encode("related", offer), user_id=USER)
    assert not opened.edit  # the answer above stays visible
    assert_telegram_html(opened.text)
    turn = talk.memory.recall(USER)
    assert turn is not None and turn.entry_id == offer


def test_thumbs_down_offers_the_next_best_and_the_way_to_a_person(
    talk: Conversation, kb: KnowledgeBase
) -> None:
    (card,) = talk.ask("Familienservice für Kinder", user_id=USER)
    sorry = talk.press(action_of(card, "👎"), user_id=USER)
    assert "👎 Danke für Ihre Rückmeldung" in sorry.text
    assert "Vielleicht passt eines der Angebote unten besser." in sorry.text
    assert f"Persönlich weiter hilft Ihnen: <b>{kb.counselling_contact.title}</b>" in sorry.text
    next_best = related_ids(sorry, "Vielleicht passt: ")
    assert 1 <= len(next_best) <= 3
    assert sorry.text.count("ℹ️") == 1  # the contact note once, not once per contact
    assert labels(sorry)[-1] == "📚 Themen"


def test_the_runner_ups_come_first_after_thumbs_down(talk: Conversation) -> None:
    (choices,) = talk.ask("Familienservice", user_id=USER)
    card = talk.press(action_of(choices, "Familienservice für Kinderbetreuung"), user_id=USER)
    sorry = talk.press(action_of(card, "👎"), user_id=USER)
    assert related_ids(sorry, "Vielleicht passt: ")[0] == "familienservice-pflege"


# --- /kontakt -------------------------------------------------------------------------------


def test_kontakt_is_one_button_per_contact(talk: Conversation, kb: KnowledgeBase) -> None:
    reply = talk.contacts()
    contacts = [kb.counselling_contact] + [
        c for c in kb.contacts() if c.id != kb.counselling_contact.id
    ]
    assert labels(reply) == [c.title for c in contacts] + ["📚 Themen"]
    assert len(reply.text) < 300 and "ℹ️" not in reply.text
    for button, contact in zip(buttons(reply), contacts, strict=False):
        assert actions.decode(button.action) == actions.Action("contact", (contact.id,))


def test_a_contact_button_opens_a_short_contact_card(talk: Conversation, kb: KnowledgeBase) -> None:
    listing = talk.contacts()
    contact = kb.entries["amt-50"]
    card = talk.press(action_of(listing, contact.title), user_id=USER)
    assert card.edit
    assert card.text.startswith(f"<b>{contact.title}</b>\n<i>Kontakt</i>")
    assert card.text.count("ℹ️") == 1
    assert labels(card)[-2:] == ["◀ Ansprechstellen", "📚 Themen"]
    back = talk.press(action_of(card, "◀ Ansprechstellen"), user_id=USER)
    assert back.edit and labels(back) == labels(listing)


def test_a_contact_button_with_a_measure_id_is_outdated(talk: Conversation) -> None:
    assert "veraltet" in talk.press(actions.encode("contact", "gleitzeit"), user_id=USER).text


@pytest.mark.parametrize("directory", BUNDLED, ids=["koeln", "herne"])
def test_the_contact_note_appears_at_most_once_per_message(directory: Path) -> None:
    library, _ = Library.open(directory)
    assert library is not None
    talk = Conversation(lambda: library.current, RecordingLog())
    kb = library.current.kb
    qid = secrets.token_urlsafe(8)
    replies = [talk.contacts(), *talk.ask("Reisepass beantragen", user_id=USER)]
    for entry in kb.entries.values():
        if entry.kind == "contact":
            replies.append(talk.press(actions.encode("contact", entry.id), user_id=USER))
            continue
        replies.append(talk.press(actions.encode("choice", qid, entry.id), user_id=USER))
        for helpful in "01":
            replies.append(
                talk.press(actions.encode("feedback", qid, entry.id, helpful), user_id=USER)
            )
        for question in ("wer ist da zuständig?", "für wen ist das?", "mehr dazu"):
            replies.extend(talk.ask(question, user_id=USER))
    for reply in replies:
        assert reply.text.count("ℹ️") <= 1, reply.text
        assert_telegram_html(reply.text)
