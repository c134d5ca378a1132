"""English for international staff: the reply language per chat, the English catalogue and
follow-up words, the English fields of the knowledge base, the log's language and the report.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

import pytest
import yaml
from chatkit import RecordingLog, assert_telegram_html, buttons, labels
from click.testing import CliRunner
from conftest import FIXTURE_KB
from fakebotapi import BotMessage
from harness import USER, LiveBot, button, read_rows

from bot import report
from bot.chat import actions, commands
from bot.chat.cards import MAX_LABEL, inner_quotes, is_note, shorten_glossed
from bot.chat.context import HERE as CHAT
from bot.chat.context import FollowupLexicon
from bot.chat.conversation import Conversation
from bot.chat.language import LanguageChoice, from_telegram
from bot.chat.texts import Texts
from bot.cli import cli
from bot.config import DEFAULT_KB
from bot.knowledge.schema import validate
from bot.log import schema as logschema
from bot.log.writer import QuestionLog
from bot.search.library import Library

HERNE = DEFAULT_KB.parent / "herne"
BUNDLED = [DEFAULT_KB, HERNE]
GERMAN = Texts.load("de")
ENGLISH = Texts.load("en")
SAME_IN_BOTH = {"terminal.bot", "button.english"}  # "Bot: ", and the offer an English reader taps
REF = re.compile(r"\b\d{1,2}\.\d{1,2}(\.\d{1,2})+\b")
YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def _library(directory: Path) -> Library:
    library, problems = Library.open(directory)
    assert library is not None, [str(p) for p in problems]
    return library


@pytest.fixture(scope="module")
def herne_library() -> Library:
    return _library(HERNE)


def english_talk(library: Library, log: RecordingLog | None = None) -> Conversation:
    return Conversation(
        lambda: library.current, log, channel="terminal", languages=LanguageChoice(default="en")
    )


# --- the Telegram client that speaks English -----------------------------------------------------


async def ask_en(bot: LiveBot, text: str) -> BotMessage:
    """A message from a user whose Telegram app is set to English (language_code "en-GB")."""
    before = len(bot.api.messages(USER))
    bot.api.send_text(USER, text, language_code="en-GB")
    return (await bot.api.wait_for_messages(USER, before + 1, timeout=30))[-1]


async def test_an_english_client_gets_english_everywhere_and_deutsch_switches_back(
    running: LiveBot,
) -> None:
    kb = running.services.library.current.kb.in_language("en")  # the wording, not the test's
    welcome = await ask_en(running, "/start")
    assert welcome.text and welcome.text.startswith("Welcome!")
    assert kb.organisation.name in welcome.text and "/deutsch" in welcome.text
    assert {t.title for t in kb.topics.values()} <= set(labels_of(welcome))

    # A question in English, answered from the English fields, then a follow-up about it.
    card = await ask_en(running, "My mother suddenly needs care, who can help me?")
    assert card.text and "Did this help?" in card.text
    (entry,) = [e for e in kb.entries.values() if card.text.startswith(e.title)]
    assert entry.answer_en is not None and entry.contacts
    who = await ask_en(running, "Who is responsible for that?")
    assert who.text and who.text.startswith(f"📞 Responsible for “{inner_quotes(entry.title)}”")
    assert all(c.title in who.text for c in kb.contacts_of(entry))

    # Feedback on the card: the toast and the edit are English.
    thanks = await running.click(card, button(card, "👍"))
    assert thanks.text and "Thank you for your feedback" in thanks.text
    assert running.api.calls("answerCallbackQuery")[-1].params.get("text") == "Thank you!"

    # Browse: menu, topic, entry, back.
    menu = await ask_en(running, "/topics")
    assert menu.text and menu.text.startswith("📚 Topics")
    family = kb.topics["familienservice"]
    topic = await running.click(menu, actions.encode("topic", family.id))
    assert topic.text and f"Field of action {family.number}: {family.title}" in topic.text
    offer = kb.in_topic(family.id)[0]
    opened = await running.click(topic, actions.encode("entry", offer.id))
    assert opened.text and opened.text.startswith(offer.title)
    assert "For whom:" in opened.text and "Status:" in opened.text
    back = await running.click(opened, button(opened, "◀ back"))
    assert back.text and family.title in back.text

    privacy = await ask_en(running, "/privacy")
    assert privacy.text and privacy.text.startswith("Privacy")
    assert "What is not stored: your name" in privacy.text

    confirm = await ask_en(running, "/vergessen")
    assert confirm.text == "Do you want to delete all your stored questions? This cannot be undone."
    done = await running.click(confirm, button(confirm, "🗑 Yes, delete"))
    assert done.text and done.text.startswith("Done: 2 stored questions of yours have been deleted")
    assert running.rows() == []

    # /deutsch wins over the app's language, for every later message and button.
    german = await ask_en(running, "/deutsch")
    assert german.text and german.text.startswith("✅ Ab jetzt antworte ich auf Deutsch")
    again = await ask_en(running, "/themen")
    assert again.text and again.text.startswith("📚 Themen")
    card = await ask_en(running, "Spielekoffer")
    assert card.text and "Hat das geholfen?" in card.text
    english = await ask_en(running, "/english")
    assert english.text and english.text.startswith("✅ From now on I'll answer in English")


async def test_the_log_records_the_language_and_never_the_person(running: LiveBot) -> None:
    await ask_en(running, "flexitime")
    await running.ask("Gleitzeit")  # a German app
    rows = running.rows()
    assert [(r["question"], r["language"]) for r in rows] == [
        ("flexitime", "en"),
        ("Gleitzeit", "de"),
    ]
    assert all(str(USER) not in str(value) for r in rows for value in r.values())


def labels_of(message: BotMessage) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


# --- the language choice --------------------------------------------------------------------------


def test_the_app_language_counts_until_a_command_chooses() -> None:
    choice = LanguageChoice()
    assert [from_telegram(c) for c in ("en", "en-GB", "EN-us", "de", "tr", None, "")] == [
        "en", "en", "en", None, None, None, None,
    ]  # fmt: skip
    assert choice.of(1) == "de"
    choice.hear(1, "en-US")
    assert choice.of(1) == "en" and choice.of(2) == "de"
    choice.choose(1, "de")
    assert choice.of(1) == "de"
    choice.hear(1, "en")
    assert choice.of(1) == "de", "/deutsch wins over the app's language"
    choice.hear(3, "en")
    choice.hear(3, "de")
    assert choice.of(3) == "de", "an app switched back to German"
    assert LanguageChoice(default="en").of(None) == "en"
    with pytest.raises(ValueError):
        choice.choose(1, "fr")


def test_the_memory_of_languages_is_bounded() -> None:
    choice = LanguageChoice(max_chats=2)
    for chat in (1, 2, 3):
        choice.choose(chat, "en")
    assert [choice.of(chat) for chat in (1, 2, 3)] == ["de", "en", "en"]


def test_the_language_commands_are_in_the_one_table() -> None:
    english = commands.by_name("english")
    deutsch = commands.by_name("deutsch")
    assert english is not None and english.language == "en"
    assert deutsch is not None and deutsch.language == "de"
    assert commands.typed("English please") is english and commands.typed("Deutsch") is deutsch
    assert commands.by_name("topics") is commands.by_name("themen")
    assert commands.by_name("forget") is commands.by_name("vergessen")


def test_english_chats_see_english_command_names(koeln_library: Library) -> None:
    talk = english_talk(koeln_library)
    menu = dict(talk.command_menu("en"))
    assert {"topics", "contact", "help", "privacy", "forget", "english", "deutsch"} <= set(menu)
    assert menu["topics"] == "Browse the offers by topic"
    help_text = talk.help().text
    assert "/topics – Browse the offers by topic" in help_text and "/themen" not in help_text
    assert dict(talk.command_menu("de"))["themen"] == "Angebote nach Themen durchstöbern"


def test_typed_english_switches_the_terminal_and_deutsch_back(koeln_library: Library) -> None:
    talk = Conversation(lambda: koeln_library.current, channel="terminal")
    assert talk.ask("english")[0].text.startswith("✅ From now on")
    assert talk.menu().text.startswith("📚 <b>Topics</b>")
    assert talk.run_command("deutsch")[0].text.startswith("✅ Ab jetzt")
    assert talk.menu().text.startswith("📚 <b>Themen</b>")


# --- the catalogues -----------------------------------------------------------------------------


def test_every_german_text_has_an_english_twin_with_the_same_fields() -> None:
    assert set(ENGLISH.messages) == set(GERMAN.messages)
    for key, german in GERMAN.messages.items():
        english = ENGLISH.messages[key]
        assert type(english) is type(german), key
        assert ENGLISH.fields(key) == GERMAN.fields(key), key
        forms = german.values() if isinstance(german, dict) else [german]
        prose = [re.sub(r"\{\w+\}|<[^>]+>", "", form) for form in forms]
        if any(re.search(r"[^\W\d_]{3,}", p) for p in prose) and key not in SAME_IN_BOTH:
            assert english != german, f"'{key}' is not translated"


def test_english_texts_are_valid_telegram_html() -> None:
    for key, template in ENGLISH.messages.items():
        forms = template.values() if isinstance(template, dict) else [template]
        for form in forms:
            fields = dict.fromkeys(ENGLISH.fields(key), "x")
            assert_telegram_html(form.format_map({**fields, "count": 2}))


def test_the_english_follow_up_words_have_the_german_structure() -> None:
    german = yaml.safe_load((CHAT / "followups.de.yaml").read_text(encoding="utf-8"))
    english = yaml.safe_load((CHAT / "followups.en.yaml").read_text(encoding="utf-8"))
    assert set(english) == set(german)
    assert set(english["arten"]) == set(german["arten"])
    assert set(english["gruppen"]) == set(german["gruppen"])
    lexicon = FollowupLexicon.load("en")
    for question, kind in [
        ("Who is responsible for that?", "contact"),
        ("How do I reach them?", "contact"),
        ("Since when?", "status"),
        ("Is it available yet?", "status"),
        ("Does this apply to civil servants?", "target"),
        ("and for part-time staff?", "target"),
        ("Tell me more", "more"),
        ("What is the difference to job sharing?", "difference"),
    ]:
        found = lexicon.detect(question)
        assert found is not None and found.kind == kind, question
    assert lexicon.detect("Can I work from home?") is None
    assert lexicon.detect("and for part-time staff?").rest == ""  # type: ignore[union-attr]


# --- the knowledge base -------------------------------------------------------------------------


@pytest.mark.parametrize("directory", BUNDLED, ids=["koeln", "herne"])
def test_every_bundled_entry_topic_and_organisation_has_english_fields(directory: Path) -> None:
    kb, problems = validate(directory)
    assert kb is not None, [str(p) for p in problems]
    assert kb.untranslated == ()
    assert kb.organisation.name_en
    for topic in kb.topics.values():
        assert topic.title_en, topic.id
        assert bool(topic.description_en) == bool(topic.description), topic.id
        assert bool(topic.note_en) == bool(topic.note), topic.id
    for entry in kb.entries.values():
        assert entry.title_en and entry.answer_en, entry.id
        assert bool(entry.target_group_en) == bool(entry.target_group), entry.id
        assert bool(entry.note_en) == bool(entry.note), entry.id


@pytest.mark.parametrize("directory", BUNDLED, ids=["koeln", "herne"])
def test_the_english_fields_invent_no_number_year_or_address(directory: Path) -> None:
    """What the translation may contain: the digits, years, web addresses of the German text."""
    kb = validate(directory)[0]
    assert kb is not None
    pairs = [(e.answer, e.answer_en) for e in kb.entries.values()]
    pairs += [(e.title, e.title_en) for e in kb.entries.values()]
    pairs += [(e.note or "", e.note_en or "") for e in kb.entries.values()]
    pairs += [(t.note or "", t.note_en or "") for t in kb.topics.values()]
    for german, english in pairs:
        assert set(re.findall(r"\d+", english or "")) <= set(re.findall(r"\d+", german)), english
        assert "@" not in (english or "")
        webs = set(re.findall(r"www\.\S+?(?=[\s,;)]|\.(?:\s|$))", english or ""))
        assert webs <= set(re.findall(r"www\.\S+?(?=[\s,;)]|\.(?:\s|$))", german)), english


def test_check_warns_about_missing_translations_and_still_passes(
    make_kb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = make_kb(
        massnahmen="""\
        massnahmen:
          - id: gleitzeit
            titel: "Gleitzeit ohne Kernzeit"
            titel_en: "Flexitime without core hours"
            thema: arbeitszeit
            antwort: "Sie können Beginn und Ende Ihres Arbeitstags frei wählen."
            antwort_en: "Sie können Beginn und Ende Ihres Arbeitstags frei wählen."
            zielgruppe: "alle Beschäftigten"
            status: geplant
            zustaendig: [amt-personal]
            quelle: "Zielvereinbarung 2020, Maßnahme 1.1.1"
        """,
        suche="""\
        themenfremd:
          - thema: Gehalt
            woerter: "gehalt lohn"
            hinweis: "Fragen zum Gehalt beantwortet Ihre Personalsachbearbeitung."
          - thema: Urlaub
            woerter: "urlaub"
            hinweis: "Urlaub regelt Ihre Dienststelle."
            hinweis_en: "Your department handles leave."
        """,
    )
    monkeypatch.chdir(directory.parent)
    result = CliRunner().invoke(cli, ["check", "--kb", "kb", "--ohne-selbsttest"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stdout.splitlines() if "Warnung" in line]
    assert (
        "kb/massnahmen.yaml, Zeile 2: Warnung: Eintrag 'gleitzeit': englische Übersetzung fehlt "
        "('zielgruppe_en', 'quelle_en') – wer auf Englisch fragt, sieht hier den deutschen Text"
    ) in warnings
    # The off-topic hints of suche.yaml too: the one without hinweis_en, not the other.
    assert (
        "kb/suche.yaml, Zeile 2: Warnung: themenfremd 'Gehalt': englische Übersetzung fehlt "
        "('hinweis_en') – wer auf Englisch fragt, sieht hier den deutschen Hinweis"
    ) in warnings
    assert not any("'Urlaub'" in w for w in warnings)
    assert (
        "kb/massnahmen.yaml, Zeile 7: Warnung: Eintrag 'gleitzeit': Feld 'antwort_en' ist "
        "wortgleich mit 'antwort' – noch nicht übersetzt?"
    ) in warnings
    assert any(
        "Thema 'arbeitszeit': englische Übersetzung fehlt ('titel_en')" in w for w in warnings
    )
    assert any(
        "Abschnitt 'organisation': englische Übersetzung fehlt ('name_en', 'quelle_en')" in w
        for w in warnings
    )
    assert any(
        "Eintrag 'beratung': englische Übersetzung fehlt ('name_en', 'antwort_en')" in w
        for w in warnings
    )
    # The load itself stays as it was: translations never block a knowledge base.
    kb, problems = validate(directory)
    assert kb is not None and problems == []


def test_english_fields_are_validated(make_kb: Any) -> None:
    directory = make_kb(
        massnahmen="""\
        massnahmen:
          - id: gleitzeit
            titel: "Gleitzeit"
            titel_en: ["Flexitime"]
            thema: arbeitszeit
            antwort: "Sie können Beginn und Ende frei wählen."
            zielgruppe: "alle Beschäftigten"
            hinweis_en: "Ask the HR office."
            status: geplant
            zustaendig: [amt-personal]
        """
    )
    _, problems = validate(directory)
    messages = [p.message for p in problems if p.severity == "fehler"]
    assert any("Feld 'titel_en' muss Text sein, nicht Liste" in m for m in messages), messages
    assert (
        "Eintrag 'gleitzeit': Feld 'hinweis_en' ohne 'hinweis'. Lösung: zuerst den deutschen Text"
        " in 'hinweis' eintragen – 'hinweis_en' ist seine englische Übersetzung."
    ) in messages


def test_an_entry_without_english_shows_the_german_card_with_one_english_line(
    make_kb: Any,
) -> None:
    library = _library(make_kb())
    talk = english_talk(library)
    qid = secrets.token_urlsafe(8)
    card = talk.press(actions.encode("choice", qid, "gleitzeit")).text
    assert card.startswith("<b>Gleitzeit ohne Kernzeit</b>\n<i>Measure 1.1.1</i>")
    assert card.count(str(ENGLISH("card.untranslated"))) == 1
    assert not is_note(ENGLISH("card.untranslated"), ENGLISH), "one_note would drop a real note"
    assert "Sie können Beginn und Ende Ihres Arbeitstags frei wählen." in card
    assert "👥 <b>For whom:</b> alle Beschäftigten" in card
    german = Conversation(lambda: library.current).press(actions.encode("choice", qid, "gleitzeit"))
    assert str(GERMAN("card.untranslated")) not in german.text


# --- the search and the answers -------------------------------------------------------------------


def test_an_english_question_gets_the_english_card(fixture_library: Library) -> None:
    """Which English questions find which entry is tests/test_search.py's; here: the card."""
    log = RecordingLog()
    [reply] = english_talk(fixture_library, log).ask("nursery places for my child")
    entry = fixture_library.current.kb.entries["kita-plaetze"]
    assert entry.title_en and entry.answer_en
    assert reply.text.startswith(f"<b>{entry.title_en}</b>\n<i>Measure {entry.ref}</i>")
    assert escape(entry.answer_en) in reply.text and escape(entry.answer) not in reply.text
    assert "<i>Did this help?</i>" in reply.text
    assert [r["language"] for r in log.records()] == ["en"]


@pytest.mark.parametrize("directory", BUNDLED, ids=["koeln", "herne"])
def test_english_cards_and_labels_are_complete_short_and_invent_no_year(directory: Path) -> None:
    library = _library(directory)
    kb = library.current.kb
    talk = english_talk(library, RecordingLog())
    qid = secrets.token_urlsafe(8)
    replies = [talk.menu(), talk.contacts(), *(talk.topic(t) for t in kb.topics)]
    for entry in kb.entries.values():
        reply = talk.press(actions.encode("choice", qid, entry.id))
        replies.append(reply)
        assert str(ENGLISH("card.untranslated")) not in reply.text
        if entry.kind != "contact":
            (status,) = [line for line in reply.text.split("\n") if line.startswith("📌")]
            assert status.count("Status") == 1, status
        years = set(YEAR.findall(reply.text))
        known = {y for e in (entry, *kb.contacts_of(entry)) for y in YEAR.findall(str(e.to_json()))}
        assert years <= known | set(YEAR.findall(kb.organisation.as_of or "")), (entry.id, years)
    for reply in replies:
        assert_telegram_html(reply.text)
        for b in buttons(reply):
            assert not REF.search(b.label) and len(b.label) <= MAX_LABEL, b.label
    german_titles = {e.title for e in kb.entries.values()} - {
        e.title_en for e in kb.entries.values()
    }
    assert not set(labels(talk.topic(next(iter(kb.topics))))) & german_titles


@pytest.mark.parametrize(
    ("title", "limit", "shown"),
    [
        (  # fits: unchanged, gloss and all
            "Bewerbercenter (applicant centre)",
            60,
            "Bewerbercenter (applicant centre)",
        ),
        (  # a German name in quotes gives way to its gloss
            "„Plötzlich Pflege“ (suddenly caring) – advice when relatives need care",
            50,
            "Suddenly caring – advice when relatives need care",
        ),
        (  # in the middle of an English title, without the key-noun logic of German
            "Setting up the Beratungsstelle Vereinbarkeit (advice centre)",
            43,
            "Setting up the advice centre",
        ),
        (  # an office's name with German links ("für", "und"); only the first comma part
            "Amt für Personal und Verwaltungsmanagement (HR and administrative management office)",
            58,
            "HR and administrative management office",
        ),
        (
            "Beratungsstelle Vereinbarkeit (work-life balance advice centre, Bündnis BerufLeben)",
            40,
            "Work-life balance advice centre",
        ),
        (  # a German aside is no gloss: dropped
            "Informing the heads of offices (Amtsleitungstag 2020)",
            43,
            "Informing the heads of offices",
        ),
        (  # cut after a word, never after "with"
            "Familienservice (family service): advice and support with childcare",
            40,
            "Family service: advice and support …",
        ),
    ],
)
def test_english_labels_keep_the_gloss_of_a_german_name(title: str, limit: int, shown: str) -> None:
    assert shorten_glossed(title, limit) == shown
    assert len(shown) <= limit


def test_an_english_follow_up_after_a_herne_card(herne_library: Library) -> None:
    kb = herne_library.current.kb.in_language("en")
    mentoring, flexible = kb.entries["mentoring-frauen"], kb.entries["flexible-arbeitszeit"]
    talk = english_talk(herne_library, RecordingLog())
    [card] = talk.ask("mentoring programme for women")
    assert card.text.startswith(f"<b>{escape(mentoring.title)}</b>")
    [target] = talk.ask("Does this apply to men?")
    group = escape(mentoring.target_group or "")
    assert f"Target group according to the document: {group}." in target.text
    assert "❔ Men: are not named there." in target.text
    [women] = talk.ask("and for women?")
    assert "✅ Women: are named there." in women.text
    [own] = talk.ask("Can I work flexible hours?")
    assert own.text.startswith(f"<b>{escape(flexible.title)}</b>")


# --- log and report -------------------------------------------------------------------------------


def test_a_version_2_log_gains_the_language_column(tmp_path: Path) -> None:
    database = tmp_path / "fragen.db"
    db = logschema.connect(database, busy_timeout_ms=100)
    logschema._migrate_v1(db)
    logschema._migrate_v2(db)
    db.conn.execute("PRAGMA user_version=2")
    db.conn.execute(
        "INSERT INTO questions (id, day, question, outcome, kb_version, channel, gap) "
        "VALUES ('old', ?, 'Gleitzeit', 'answered', 'v', 'telegram', 0)",
        (date.today().isoformat(),),
    )
    db.close()
    log = QuestionLog(database, b"k" * 32)
    log.record(question="flexitime", outcome="answered", entry_id="gleitzeit",
               topic="arbeitszeit", score=0.9, kb_version="v", channel="telegram", user_id=USER,
               language="en")  # fmt: skip
    log.close()
    assert [(r["question"], r["language"]) for r in read_rows(database)] == [
        ("Gleitzeit", "de"),
        ("flexitime", "en"),
    ]
    conn = sqlite3.connect(database)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == logschema.SCHEMA_VERSION
    conn.close()


def test_the_report_shows_the_share_of_english_questions_before_and_after_the_purge(
    tmp_path: Path,
) -> None:
    database = tmp_path / "fragen.db"
    today = date(2025, 3, 3)
    log = QuestionLog(database, b"k" * 32, today=lambda: today, retention_days=30)
    for i in range(12):
        log.record(question=f"Frage {i}", outcome="answered", entry_id="gleitzeit",
                   topic="arbeitszeit", score=0.9, kb_version="v", channel="telegram",
                   user_id=USER, language="en" if i < 6 else "de")  # fmt: skip
    log.close()
    text = report.build_report(database, today=today)
    assert "  Auf Englisch:     6 (50 %)" in text.splitlines()
    summary, _chart = report.team_summary(database, 30, today=today)
    assert "Auf Englisch: 6 (50 %)" in summary.splitlines()
    assert "ueberblick;;;anteil_englisch;50 %" in report.build_report(
        database, fmt="csv", today=today
    )
    # After the retention period only the daily counts remain; they keep the English share.
    later = date(2025, 6, 3)
    purged = QuestionLog(database, b"k" * 32, today=lambda: later, retention_days=30)
    purged.purge()
    purged.close()
    assert read_rows(database) == []
    assert "  Auf Englisch:     6 (50 %)" in report.build_report(database, today=later).splitlines()


# --- the terminal ------------------------------------------------------------------------------


def test_the_terminal_chat_speaks_english_with_lang_en(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["chat", "--kb", str(FIXTURE_KB), "--lang", "en", "--db", str(tmp_path / "log.db")],
        input="flexitime\nexit\n",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Welcome! I answer your questions")
    assert "You: " in result.stdout or "Type a question" in result.stdout
    assert "Flexitime without core hours" in result.stdout  # the fixture's titel_en
    assert "Did this help?" in result.stdout


def test_ask_answers_in_english_with_lang_en() -> None:
    result = CliRunner().invoke(
        cli, ["ask", "--kb", str(FIXTURE_KB), "--lang", "en", "day care for my kid"]
    )
    assert result.exit_code == 0, result.output
    # choices or, less sure, suggestions: either way English, with the English title
    assert "mean one of these offers?" in result.stdout.splitlines()[0]
    assert "Reserved nursery places" in result.stdout  # the fixture's titel_en
    assert "None of these" in result.stdout


def test_a_follow_up_in_the_other_language_still_refers_to_the_last_card(
    koeln_library: Library,
) -> None:
    """People fall back into their first language: "und wer ist zuständig?" in an English chat
    (and "who is responsible?" in a German one) is a follow-up, not a new search."""
    english = english_talk(koeln_library)
    (card,) = english.ask("My mother suddenly needs care, who can help me?", user_id=11)
    assert "Did this help?" in card.text
    (who,) = english.ask("und wer ist da zuständig?", user_id=11)
    assert who.text.startswith("📞 <b>Responsible for")
    german = Conversation(lambda: koeln_library.current, None, channel="terminal")
    (karte,) = german.ask("Meine Mutter braucht plötzlich Pflege", user_id=12)
    assert "Hat das geholfen?" in karte.text
    (wer,) = german.ask("who is responsible for that?", user_id=12)
    assert wer.text.startswith("📞 <b>Zuständig für")


def test_english_follow_up_words_never_read_into_a_german_question(
    koeln_library: Library,
) -> None:
    """ "X vs. Y" is an English way to ask for a difference; in a German question it is just
    part of the question, so the search answers it (found by bench/e2e.py under load)."""
    german = Conversation(lambda: koeln_library.current, None, channel="terminal")
    german.ask("Spielekoffer", user_id=13)
    (reply,) = german.ask("servicezeiten für die kunden vs. gleitzeit – wie passt das", user_id=13)
    title = koeln_library.current.kb.entries["gleitzeit"].title
    assert reply.text.startswith(f"<b>{escape(title)}</b>"), reply.text[:80]
