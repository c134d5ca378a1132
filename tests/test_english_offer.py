"""An English question in a chat whose Telegram app is not set to English: the German reply
offers "🇬🇧 In English", which re-renders that reply in English and keeps English on, like
/english. A chat that chose /deutsch is never asked again.

Real bot over HTTP to the fake Bot API server; real knowledge base, lexicon and search.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fakebotapi import BotMessage
from harness import USER, LiveBot, button, buttons

from bot.chat.cards import inner_quotes
from bot.chat.conversation import Conversation
from bot.chat.language import LanguageChoice, looks_english
from bot.knowledge.lexicon import load_lexicon
from bot.search.library import Library

OFFER = "🇬🇧 In English"


def labels(message: BotMessage) -> list[str]:
    return [label for label, _ in buttons(message)]


async def ask(bot: LiveBot, text: str) -> BotMessage:
    """A message from a user whose app sends no language (so German by default)."""
    before = len(bot.api.messages(USER))
    bot.api.send_text(USER, text)
    return (await bot.api.wait_for_messages(USER, before + 1, timeout=30))[-1]


async def test_an_english_question_gets_the_offer_and_one_tap_answers_in_english(
    running: LiveBot,
) -> None:
    card = await ask(running, "My mother suddenly needs care, who can help me?")
    assert card.text and "Hat das geholfen?" in card.text
    assert labels(card)[0] == OFFER
    kb = running.services.library.current.kb.in_language("en")
    english = await running.click(card, button(card, OFFER))
    assert english.message_id == card.message_id  # the same message, now in English
    assert english.text and "Did this help?" in english.text
    (entry,) = [e for e in kb.entries.values() if english.text.startswith(e.title)]
    assert entry.answer_en and entry.answer_en.split(".")[0] in english.text
    assert OFFER not in labels(english) and "👍 Helpful" in labels(english)
    # English from now on, for follow-ups and new questions alike, without asking again
    who = await ask(running, "Who is responsible for that?")
    assert who.text and who.text.startswith(f"📞 Responsible for “{inner_quotes(entry.title)}”")
    later = await ask(running, "Is there a play case for kids at the office?")
    assert later.text and "Did this help?" in later.text and OFFER not in labels(later)


async def test_german_questions_and_chats_that_chose_german_get_no_offer(
    running: LiveBot,
) -> None:
    german = await ask(running, "Meine Mutter braucht plötzlich Pflege, wer hilft mir?")
    assert german.text and OFFER not in labels(german)
    await ask(running, "/deutsch")
    chosen = await ask(running, "My mother suddenly needs care, who can help me?")
    assert chosen.text and "Hat das geholfen?" in chosen.text
    assert OFFER not in labels(chosen)


def test_choices_are_shown_again_in_english(koeln_library: Library) -> None:
    languages = LanguageChoice()
    talk = Conversation(lambda: koeln_library.current, None, channel="test", languages=languages)
    question = "Is there anything for parents?"
    (reply,) = talk.ask(question, user_id=5)
    assert reply.buttons and reply.buttons[0][0].label == OFFER
    choices = [b.label for row in reply.buttons[1:] for b in row]
    english = talk.press(reply.buttons[0][0].action, user_id=5)
    assert english.edit and languages.of(5) == "en"
    shown = [b.label for row in english.buttons for b in row]
    assert len(shown) == len(choices) and shown != choices  # the same offers, English labels


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("my mother needs care, who can help me?", True),
        ("Can I work part time as a manager?", True),
        ("Is there anything for parents?", True),
        ("Die Kita ist zu, was kann ich tun?", False),
        ("Ich will in Elternzeit gehen, wie geht das?", False),
        ("Wat is dat mit die Kernzeit, do muss ich jo sin?", False),  # Ruhrdeutsch/Kölsch
        ("Homeoffice", False),
        ("childcare", False),  # one word is not enough to switch a German chat's language
    ],
)
def test_english_is_told_from_german_and_dialect(text: str, english: bool) -> None:
    lexicon, problems = load_lexicon(Path(__file__).parents[1] / "knowledge" / "koeln")
    assert lexicon is not None, problems
    assert looks_english(text, lexicon.english_markers) is english
