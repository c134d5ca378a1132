"""Conversations end to end: the real Application against the fake Bot API server."""

from __future__ import annotations

from harness import USER, button, buttons
from harness import LiveBot as RunningBot

from bot.chat.cards import inner_quotes, label
from bot.chat.texts import Texts

OTHER = 5151


async def test_a_three_turn_conversation_follows_up_on_the_card(running: RunningBot) -> None:
    kb = running.services.library.current.kb
    entry = kb.entries["gleitzeit"]
    card = await running.ask("gibt es noch eine Kernarbeitszeit?")
    assert (card.text or "").startswith(entry.title)
    offers = [label for label, _ in buttons(card) if label.startswith("Passt auch: ")]
    assert 1 <= len(offers) <= 3

    who = await running.ask("und wer ist da zuständig?")
    assert (who.text or "").startswith(f"📞 Zuständig für „{inner_quotes(entry.title)}“:")
    assert all(c.title in (who.text or "") for c in kb.contacts_of(entry))

    whom = await running.ask("und für Beamte?")
    assert "Beamtinnen und Beamte: nicht ausdrücklich genannt" in (whom.text or "")

    # Another chat has no context of its own: the same question is not answered from that card.
    stranger = await running.ask("und wer ist da zuständig?", user=OTHER)
    assert (stranger.text or "").startswith("Worauf bezieht sich Ihre Frage?")

    chats: dict[str, list[dict[str, object]]] = {}
    for row in running.rows():
        chats.setdefault(str(row["pseudonym"]), []).append(row)
    (ours,) = [rows for rows in chats.values() if len(rows) == 3]
    logged = {str(r["question"]): (r["outcome"], r["entry_id"], r["score"]) for r in ours}
    first = logged.pop("gibt es noch eine Kernarbeitszeit?")
    assert first[:2] == ("answered", "gleitzeit") and first[2] is not None
    # Follow-ups: the card's entry, no score; 'unknown' where the document does not say.
    assert logged == {
        "und wer ist da zuständig?": ("answered", "gleitzeit", None),
        "und für Beamte?": ("unknown", "gleitzeit", None),
    }


async def test_a_related_offer_opens_below_the_answer(running: RunningBot) -> None:
    card = await running.ask("Spielekoffer")
    offer = await running.click(card, button(card, "Passt auch: "))
    assert offer.method == "sendMessage"  # the answer above stays as it was
    assert offer.message_id != card.message_id
    follow = await running.ask("wer ist da zuständig?")
    assert (offer.text or "").split("\n")[0] in (follow.text or "")


async def test_thumbs_down_brings_the_next_best_offers(running: RunningBot) -> None:
    card = await running.ask("Familienservice für Kinder")
    sorry = await running.click(card, button(card, "👎"))
    assert sorry.method == "editMessageText"
    assert any(label.startswith("Vielleicht passt: ") for label, _ in buttons(sorry))
    assert (sorry.text or "").count("ℹ️") == 1


async def test_kontakt_lists_buttons_that_open_contact_cards(running: RunningBot) -> None:
    kb = running.services.library.current.kb
    listing = await running.ask("/kontakt")
    labels = [text for text, _ in buttons(listing)]
    assert labels[0] == label(kb.counselling_contact, Texts.load())  # the first stop first
    assert labels[-1] == "📚 Themen" and "ℹ️" not in (listing.text or "")
    contact = kb.contacts()[-1]
    card = await running.click(listing, button(listing, label(contact, Texts.load())))
    assert card.method == "editMessageText" and card.message_id == listing.message_id
    assert (card.text or "").startswith(f"{contact.title}\nKontakt")
    back = await running.click(card, button(card, "◀ Ansprechstellen"))
    assert [label for label, _ in buttons(back)] == labels


async def test_vergessen_asks_first_then_deletes_and_says_what(running: RunningBot) -> None:
    await running.ask("Spielekoffer")
    await running.ask("wer ist da zuständig?")
    question = await running.ask("/vergessen")
    assert (question.text or "").startswith("Möchten Sie alle Ihre gespeicherten Fragen löschen?")
    assert len(running.rows()) == 2  # asking deletes nothing
    kept = await running.click(question, button(question, "Nein"))
    assert "nichts gelöscht" in (kept.text or "") and len(running.rows()) == 2

    question = await running.ask("/vergessen")
    done = await running.click(question, button(question, "🗑"))
    assert done.method == "editMessageText"
    text = done.text or ""
    assert text.startswith("Erledigt: 2 gespeicherte Fragen von Ihnen wurden gelöscht")
    assert "Auch Ihre letzte Antwort, die ich mir für Folgefragen gemerkt hatte" in text
    assert running.rows() == []
    after = await running.ask("wer ist da zuständig?", user=USER)
    assert (after.text or "").startswith("Worauf bezieht sich Ihre Frage?")
