""" "I want to talk to a person": recognised from the ``gespraech`` data, answered at once with
the way to the counselling office, never searched; small talk read from the same data.

Real YAML (the bundled language file, temp copies to break), real Conversation and search.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from chatkit import RecordingLog, assert_telegram_html
from click.testing import CliRunner

from bot.chat import smalltalk
from bot.chat.conversation import Conversation, Reply
from bot.chat.handoff import Handoff
from bot.chat.language import LanguageChoice
from bot.chat.texts import Texts
from bot.cli import cli
from bot.config import DEFAULT_KB
from bot.knowledge.lexicon import BUNDLED_LANGUAGE, PERSON, TALK_KINDS, load_lexicon
from bot.search.library import Library

GERMAN = Texts.load("de")
ENGLISH = Texts.load("en")
ASK = "💬 Frage an die Beratungsstelle"

# The five questions that went to the search before (measured in the terminal chat), and more.
ASKED_IN_GERMAN = [
    "kann ich mit jemandem sprechen?",
    "ich möchte mit einem Menschen reden",
    "ich brauche jemanden zum reden",
    "Kann ich bitte einen echten Menschen sprechen?",
    "Mit wem kann ich reden?",
    "Hallo, ich würde gerne mit einer Beraterin sprechen. Danke!",
    "ich möchte persönlich beraten werden",
    "KANN ICH MIT JEMANDEM SPRECHEN",
    "Gibt es hier einen echten Menschen?",
    # a word for a person with a word for contact, a machine refused, a bare "Mensch!"
    "Kann mich bitte jemand zurückrufen?",
    "Wo bekomme ich eine persönliche Beratung?",
    "ich will nicht mit einer Maschine schreiben",
    "Menschlicher Kontakt wäre mir lieber",
    "Mensch bitte!",
    "kann ich mit jemadnem sprehcen",  # typos: one slip per word, two in long words
]
ASKED_IN_ENGLISH = [
    "can I talk to a person?",
    "I need to speak to a counsellor",
    "I would like to talk to someone, please",
    "Is there someone I can talk to?",
    "hi, can I speak with a human?",
    "human pls",
    "Could somebody call me back?",
    "I don't want to chat with a bot",
    "can i talk to a persn",
]


def conversation(
    library: Library,
    log: RecordingLog | None = None,
    *,
    handoff: Handoff | None = None,
    languages: LanguageChoice | None = None,
) -> Conversation:
    return Conversation(
        lambda: library.current,
        log,
        channel="test",
        handoff=handoff,
        languages=languages or LanguageChoice(),
    )


def ask_one(talk: Conversation, text: str) -> Reply:
    (reply,) = talk.ask(text, user_id=4242)
    assert_telegram_html(reply.text)
    return reply


def labels(reply: Reply) -> list[str]:
    return [b.label for row in reply.buttons for b in row]


@pytest.mark.parametrize("message", ASKED_IN_GERMAN)
def test_asking_for_a_person_gets_the_counselling_office_at_once(
    koeln_library: Library, message: str
) -> None:
    log = RecordingLog()
    reply = ask_one(conversation(koeln_library, log), message)
    counselling = koeln_library.current.kb.counselling_contact
    assert reply.text.startswith(str(GERMAN("person.intro")))
    assert str(GERMAN("counselling.person", name=counselling.title)) in reply.text
    assert labels(reply) == ["👤 Ansprechstellen", "📚 Themen"]
    # Recorded as a request for a person (a figure for the team), never searched.
    assert [(r["outcome"], r["entry_id"], r["score"]) for r in log.records()] == [
        ("person", None, None)
    ]


@pytest.mark.parametrize("message", ASKED_IN_ENGLISH)
def test_asking_for_a_person_in_english_is_answered_in_english(
    koeln_library: Library, message: str
) -> None:
    talk = conversation(koeln_library, languages=LanguageChoice(default="en"))
    reply = ask_one(talk, message)
    counselling = koeln_library.current.kb.in_language("en").counselling_contact
    assert reply.text.startswith(str(ENGLISH("person.intro")))
    assert str(ENGLISH("counselling.person", name=counselling.title)) in reply.text
    assert labels(reply) == ["👤 Contacts", "📚 Topics"]


@pytest.mark.parametrize(
    "message",
    [
        "ich möchte mit jemandem über Pflege sprechen",
        "Ich möchte mit jemandem über die Pflege meiner Mutter sprechen",
        "Mit wem kann ich über Elternzeit reden?",
        "I need to speak to someone about parental leave",
        # through a compound and a typo: "Telearbeitsantrag" names Telearbeit
        "Ich möchte persönlich mit jemandem über meinen Telearbeitsantrag reden",
        "kann ich mit jemandem über gleitzeitt sprechen?",
        # an ordinary question with a word for a person in it
        "Wer ist Ansprechpartner für Telearbeit?",
        "Gibt es ein Netzwerk für Menschen, die Angehörige pflegen?",
    ],
)
def test_naming_a_subject_too_is_a_question_for_the_search(
    koeln_library: Library, message: str
) -> None:
    log = RecordingLog()
    reply = ask_one(conversation(koeln_library, log), message)
    assert not reply.text.startswith((str(GERMAN("person.intro")), str(ENGLISH("person.intro"))))
    (record,) = log.records()
    assert record["outcome"] not in ("smalltalk", "person")
    if "Pflege" in message:  # the search's answer, or its "Meinten Sie …?" between offers
        assert record["outcome"] in ("answered", "ambiguous")
        assert "pflege" in (record["entry_id"] or "")


def test_with_a_counselling_group_the_reply_offers_to_write_to_it(koeln_library: Library) -> None:
    talk = conversation(koeln_library, RecordingLog(), handoff=Handoff())
    reply = ask_one(talk, "kann ich mit jemandem sprechen?")
    assert str(GERMAN("person.write_here")) in reply.text
    assert labels(reply) == [ASK, "👤 Ansprechstellen", "📚 Themen"]
    # The button asks for the question itself: "kann ich mit jemandem sprechen?" would tell
    # the counsellors nothing.
    button = next(b for row in reply.buttons for b in row if b.label == ASK)
    prompt = talk.press(button.action, user_id=4242)
    assert prompt.text == GERMAN("handoff.prompt")
    (preview,) = talk.ask("Ich pflege meinen Vater und weiß nicht weiter.", user_id=4242)
    assert "Ich pflege meinen Vater und weiß nicht weiter." in preview.text


def test_without_a_counselling_group_the_reply_says_nothing_about_writing(
    koeln_library: Library,
) -> None:
    reply = ask_one(conversation(koeln_library), "can I talk to a person?")
    assert str(GERMAN("person.write_here")) not in reply.text
    assert ASK not in labels(reply)


def test_the_terminal_chat_shows_the_way_to_a_person(tmp_path: Path) -> None:
    env = {"BOT_DATABASE": str(tmp_path / "f.db"), "BOT_HANDOFF_CHAT_ID": ""}
    typed = "kann ich mit jemandem sprechen?\nexit\n"
    result = CliRunner().invoke(cli, ["chat"], input=typed, env=env)
    assert result.exit_code == 0, result.output
    assert "Gern – dafür sind Menschen da." in result.output
    assert "Persönlich weiter hilft Ihnen: Beratungsstelle Vereinbarkeit" in result.output
    assert "[1] 👤 Ansprechstellen" in result.output


# --- small talk, now from data: unchanged ---------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("hallooo", "greeting"),
        ("Halloo!", "greeting"),
        ("hiii", "greeting"),
        ("Heyyy", "greeting"),
        ("Guten Morgen", "greeting"),
        ("jaaa", "yes"),
        ("ja danke", "yes"),
        ("Danke, hat geholfen", "yes"),
        ("vielen Dank", "thanks"),
        ("danke schön", "thanks"),
        ("Dankeschön!", "thanks"),
        ("Danke sehr, auch nochmal", "thanks"),
        ("super, danke", "thanks"),
        ("Tschüs", "bye"),
        ("bis später", "bye"),
        ("wie geht's?", "howareyou"),
        ("bist du ein Mensch?", "who"),
        ("are you a human?", "who"),
        ("nee", "no"),
        ("not really", "no"),
        ("no", "no"),
    ],
)
def test_small_talk_is_read_from_the_language_file(
    koeln_library: Library, message: str, kind: str
) -> None:
    log = RecordingLog()
    reply = ask_one(conversation(koeln_library, log), message)
    assert reply.text == GERMAN(f"smalltalk.{kind}")
    assert reply.buttons == ()
    assert [r["outcome"] for r in log.records()] == ["smalltalk"]


@pytest.mark.parametrize(
    "message", ["Hallo, wie beantrage ich Elternzeit?", "danke für die Info zur Kita", "und"]
)
def test_a_phrase_with_more_is_not_small_talk(koeln_library: Library, message: str) -> None:
    talk = koeln_library.current.index.lexicon.talk
    assert smalltalk.classify(message, talk) is None


@pytest.mark.parametrize(
    ("word", "meant"),
    [
        ("sprehcen", "sprechen"),  # two letters swapped
        ("persn", "person"),  # one missing
        ("jemadnem", "jemandem"),
        ("dann", "dann"),  # short words stay: no "danke"
        ("talks", "talks"),  # an ending added: another word, no slip
        ("programme", "programme"),
        ("elternzeit", "elternzeit"),  # nothing near
    ],
)
def test_a_slip_in_a_word_of_the_lists_is_read_as_that_word(
    koeln_library: Library, word: str, meant: str
) -> None:
    assert smalltalk.spelled(word, koeln_library.current.index.lexicon.talk) == meant


def test_a_question_with_words_near_the_lists_stays_a_question(koeln_library: Library) -> None:
    lexicon = koeln_library.current.index.lexicon
    index = koeln_library.current.index
    question = "Does the mentoring programme include one-on-one talks with a mentor?"
    assert not smalltalk.asks_for_person(question, lexicon, index.names_subject)
    assert smalltalk.classify("und dann?", lexicon.talk) is None


def test_every_kind_of_the_language_file_has_its_reply() -> None:
    lexicon, problems = load_lexicon(Path("/nonexistent"), language=BUNDLED_LANGUAGE)
    assert lexicon is not None, [str(p) for p in problems]
    assert set(TALK_KINDS.values()) == {*smalltalk.KINDS, PERSON}
    found = set(lexicon.talk.phrases.values())
    assert found == set(smalltalk.KINDS)
    assert lexicon.talk.person
    assert not [p for p in problems if "gespraech" in p.message]


def test_a_language_file_without_the_section_keeps_the_bundled_small_talk(
    fixture_copy: Path,
) -> None:
    library, problems = Library.open(fixture_copy)
    assert library is not None, [str(p) for p in problems]
    lexicon = library.current.index.lexicon
    assert smalltalk.classify("hallo", lexicon.talk) == "greeting"
    assert smalltalk.asks_for_person("kann ich mit jemandem sprechen", lexicon)


def test_an_edited_section_is_picked_up_by_reload(fixture_copy: Path) -> None:
    library, problems = Library.open(fixture_copy)
    assert library is not None, [str(p) for p in problems]
    lexicon = library.current.index.lexicon
    assert smalltalk.classify("grüß dich", lexicon.talk) is None
    language = fixture_copy.parent / "sprache" / "de.yaml"
    language.write_text(
        language.read_text(encoding="utf-8")
        + "\ngespraech:\n  gruss:\n    - grüß dich\n  mensch:\n    - mit einem kollegen reden\n",
        encoding="utf-8",
    )
    stat = language.stat()
    os.utime(language, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert library.changed()
    swapped, problems = library.reload()
    assert swapped, [str(p) for p in problems]
    lexicon = library.current.index.lexicon
    assert smalltalk.classify("Grüß dich!", lexicon.talk) == "greeting"
    assert smalltalk.classify("hallo", lexicon.talk) is None  # the section replaces the bundled
    assert smalltalk.asks_for_person("Kann ich mit einem Kollegen reden?", lexicon)
    assert not smalltalk.asks_for_person("kann ich mit jemandem sprechen", lexicon)


def test_a_broken_section_is_a_german_check_error_with_file_and_line(tmp_path: Path) -> None:
    kb = Path(shutil.copytree(DEFAULT_KB, tmp_path / "koeln"))
    language = Path(shutil.copytree(BUNDLED_LANGUAGE.parent, tmp_path / "sprache")) / "de.yaml"
    text = language.read_text(encoding="utf-8")
    assert text.count("  abschied:\n") == 1 and text.count('    - "no"\n') == 1
    text = text.replace("  abschied:\n", "  abschiet:\n").replace('    - "no"\n', "    - no\n")
    text += "\n" if text.endswith("\n") else "\n\n"
    language.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    kind_line = lines.index("  abschiet:") + 1
    no_line = lines.index("    - no") + 1
    result = CliRunner().invoke(cli, ["check", "--kb", str(kb), "--ohne-selbsttest"])
    assert result.exit_code == 1, result.output
    assert f"de.yaml, Zeile {kind_line}: gespraech: unbekannte Art 'abschiet'" in result.output
    assert "meinten Sie 'abschied'?" in result.output
    assert f"de.yaml, Zeile {no_line}: gespraech.nein: YAML liest hier einen Ja/Nein-Wert" in (
        result.output
    )


def test_a_misspelt_word_list_is_a_german_check_error_with_a_suggestion(tmp_path: Path) -> None:
    kb = Path(shutil.copytree(DEFAULT_KB, tmp_path / "koeln"))
    language = Path(shutil.copytree(BUNDLED_LANGUAGE.parent, tmp_path / "sprache")) / "de.yaml"
    text = language.read_text(encoding="utf-8")
    assert text.count("  botwoerter:") == 1
    language.write_text(text.replace("  botwoerter:", "  botwoerte:"), encoding="utf-8")
    line = text.splitlines().index("  botwoerter: >-") + 1
    result = CliRunner().invoke(cli, ["check", "--kb", str(kb), "--ohne-selbsttest"])
    assert result.exit_code == 1, result.output
    assert f"de.yaml, Zeile {line}: gespraech: unbekannte Art 'botwoerte'" in result.output
    assert "meinten Sie 'botwoerter'?" in result.output


def test_a_phrase_under_two_kinds_is_warned_about_with_both_lines(tmp_path: Path) -> None:
    language = tmp_path / "de.yaml"
    language.write_text(
        "sprache: de\ngespraech:\n  gruss:\n    - moin\n  abschied:\n    - Moin\n  mensch: hallo\n",
        encoding="utf-8",
    )
    lexicon, problems = load_lexicon(tmp_path / "kb", language=language)
    messages = [str(p) for p in problems]
    assert lexicon is None
    assert any("Zeile 6" in m and "steht schon unter gruss (Zeile 4)" in m for m in messages)
    assert any("Zeile 7" in m and "gespraech.mensch: erwartet eine Liste" in m for m in messages)
