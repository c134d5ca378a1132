"""A subject the organisation has no offer for (``fehlende_themen``) is said plainly: not the
bare "Dazu weiß ich leider nichts", and never an offer that merely resembles it as the answer.

Fixture knowledge base and lexicon (tests/data/fixture: "sabbatical" and "jobsharing" are
missing there), real Conversation and search.
"""

from __future__ import annotations

import pytest
from chatkit import assert_telegram_html

from bot.chat.conversation import Conversation, Reply
from bot.chat.language import LanguageChoice
from bot.chat.texts import Texts
from bot.search.library import Library

GERMAN = Texts.load("de")
ENGLISH = Texts.load("en")


def ask_one(library: Library, text: str, language: str = "de") -> Reply:
    languages = LanguageChoice(default=language)
    talk = Conversation(lambda: library.current, None, channel="test", languages=languages)
    (reply,) = talk.ask(text, user_id=7)
    assert_telegram_html(reply.text)
    return reply


@pytest.mark.parametrize("question", ["Sabbatical", "Gibt es ein Sabbatical?", "jobsharing"])
def test_a_missing_subject_is_said_plainly(fixture_library: Library, question: str) -> None:
    result = fixture_library.current.index.search(question)
    assert result.missing and result.outcome != "answered"
    reply = ask_one(fixture_library, question)
    assert reply.text.startswith(GERMAN.plain("unknown.missing"))
    assert GERMAN.plain("unknown.intro") not in reply.text


def test_a_missing_subject_is_said_in_english_too(fixture_library: Library) -> None:
    reply = ask_one(fixture_library, "Is there a sabbatical?", "en")
    assert reply.text.startswith(ENGLISH.plain("unknown.missing"))


def test_a_question_without_a_missing_subject_keeps_the_plain_unknown(
    fixture_library: Library,
) -> None:
    reply = ask_one(fixture_library, "Xylophon Quantenphysik")
    assert reply.text.startswith(GERMAN.plain("unknown.intro"))
