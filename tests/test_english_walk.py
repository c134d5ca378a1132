"""Issue 13, done when: an employee with an English Telegram client can do everything a
German-speaking one can — ask, browse, follow up, reach a counsellor, read the privacy notice,
delete their data — end to end over the fake Bot API server, for Köln and Herne.

Every reply, button label and toast the employee gets is checked for German of the bot's own:
no fragment of the German catalogue that the English one lacks, and no German function word
outside the knowledge base's official names (German names with an English gloss are content,
and stay).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fakebotapi import BotMessage, FakeBotApi
from harness import USER, LiveBot, StartBot, button, buttons

from bot.chat import actions
from bot.chat.cards import inner_quotes
from bot.chat.texts import Texts
from bot.config import DEFAULT_KB
from bot.knowledge.schema import KnowledgeBase
from bot.search.index import SearchIndex
from bot.search.library import Library

GROUP = -1009876543210
OTHER_GROUP = -1001
COUNSELLOR = 5555
BREAKS = "Sollbruchstelle"  # a question with this word crashes the search (monkeypatched)
STICKER = {
    "file_id": "x",
    "file_unique_id": "y",
    "width": 1,
    "height": 1,
    "is_animated": False,
    "is_video": False,
    "type": "regular",
}
APP = "en-GB"  # the language of the employee's Telegram app
ANSWER = "Gern, rufen Sie uns an."  # the counsellor writes German; relayed as written

# Said in German on purpose in the English catalogue: the way back to German.
BILINGUAL = ("Antworten auf Deutsch", "Auf Deutsch")
GERMAN_WORDS = re.compile(
    r"\b(?:und|oder|nicht|Sie|Ihre?|Ihnen|der|die|das|dem|den|des|ein|eine|einen|ist|sind|"
    r"wird|werden|wurde|bitte|Bitte|kein|keine|dazu|hier|mit|für|auf|bei|von|zum|zur|noch|"
    r"nur|auch|gibt|kann|können)\b"
)
EMOJI_AND_PUNCTUATION = (
    " \t–-:.,;!?()/…„“\"'👍👎📚◀👤➡️✅✖️✏️🔁↩️🗑💬📝📨🔒🇩🇪🖥️⚠️📌📞👥ℹ️⚖️🌐✉️☎️🏢🙈✓👋🇬🇧✍️🤔❔"
)


def _forms(texts: Texts) -> Iterator[str]:
    for value in texts.messages.values():
        yield from value.values() if isinstance(value, dict) else [value]


def german_fragments() -> frozenset[str]:
    """The German catalogue's own words, piece by piece (between fields, tags and lines),
    where the English catalogue does not say the same."""
    english = "\n".join(_forms(Texts.load("en")))
    found = set()
    for form in _forms(Texts.load("de")):
        for chunk in re.split(r"\{\w+\}|<[^>]+>|\n", form):
            chunk = chunk.strip(EMOJI_AND_PUNCTUATION)
            if len(chunk) >= 5 and re.search(r"[a-zäöüß]{3}", chunk) and chunk not in english:
                found.add(chunk)
    return frozenset(found)


FRAGMENTS = german_fragments()


def official_names(kb: KnowledgeBase) -> list[str]:
    """The German names the English wording keeps (longest first, so none is cut in half)."""
    names = {e.title for e in kb.entries.values()} | {t.title for t in kb.topics.values()}
    return sorted(names | {kb.organisation.name}, key=len, reverse=True)


def german_in(text: str, names: list[str]) -> list[str]:
    """What reads as German UI in ``text``: catalogue fragments, and German function words
    outside official names, „quoted“ names and (parenthesised) asides."""
    hits = [fragment for fragment in FRAGMENTS if fragment in text]
    rest = text
    for name in (*names, *BILINGUAL):
        rest = rest.replace(name, "")
    rest = re.sub(r"„[^“]*“", "", rest)
    rest = re.sub(r"\([^()]*\)", "", rest)
    return hits + GERMAN_WORDS.findall(rest)


def test_the_detector_finds_the_german_catalogue_and_spares_the_english_content() -> None:
    names = official_names(_kb(DEFAULT_KB))
    assert german_in("📚 Themen", names) == ["Themen"]
    assert german_in("Source: Zielvereinbarung 2020, Maßnahme 1.1.1", names) == ["Maßnahme"]
    assert "nicht" in german_in("Das geht leider nicht.", names)
    # Content: German official names with an English gloss, and the way back to German.
    assert (
        german_in("Amt für Personal und Verwaltungsmanagement (HR office) is in charge.", names)
        == []
    )
    assert german_in("„Elternzeit – wie geht's?“ (parental leave – how does it work?)", []) == []
    assert german_in("/deutsch – Answers in German – Antworten auf Deutsch", []) == []
    for directory in (DEFAULT_KB, DEFAULT_KB.parent / "herne"):
        kb = _kb(directory)
        english = kb.in_language("en")
        fields = [
            text
            for e in english.entries.values()
            for text in (e.title, e.answer, e.target_group, e.note, e.source)
            if text
        ]
        fields += [
            t for topic in english.topics.values() for t in (topic.title, topic.description) if t
        ]
        assert [f for f in fields if german_in(f, official_names(kb))] == [], directory.name


def _kb(directory: Path) -> KnowledgeBase:
    library, problems = Library.open(directory)
    assert library is not None, problems
    return library.current.kb


# --- the walk ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Walk:
    """What to do in one organisation's knowledge base (the steps are the same)."""

    directory: Path
    topic: str  # a topic to browse into, and an entry of it
    entry: str
    question: str  # answered outright
    answer_title: str  # the English title of the card it gets
    off_topic: str  # answered with the English hint of suche.yaml
    redirect: str


WALKS = {
    "koeln": Walk(
        DEFAULT_KB,
        topic="familienservice",
        entry="spielekoffer",
        question="My mother suddenly needs care, who can help me?",
        answer_title="„Plötzlich Pflege“ (suddenly caring) – advice when relatives need care",
        off_topic="How much holiday do I get?",
        redirect="Leave, sick notes and business trips are handled by your HR case worker",
    ),
    "herne": Walk(
        DEFAULT_KB.parent / "herne",
        topic="beratung",
        entry="beratung-alleinerziehende",
        question="I am a single parent, is there advice?",
        answer_title="Advice for single parents",
        off_topic="What is my salary?",
        redirect="Questions about pay, civil-servant salary and payslips are answered by",
    ),
}


class EnglishEmployee:
    """The employee, in a Telegram app set to English; remembers every reply and toast."""

    def __init__(self, bot: LiveBot) -> None:
        self.bot = bot
        self.api: FakeBotApi = bot.api

    async def say(self, text: str) -> BotMessage:
        before = len(self.api.messages(USER))
        self.api.send_text(USER, text, language_code=APP, first_name="Anna", username="anna_k")
        return (await self.api.wait_for_messages(USER, before + 1, timeout=30))[-1]

    async def send(self, content: dict[str, object]) -> BotMessage:
        """A message that is not text (``content``: e.g. a sticker), from the English app."""
        before = len(self.api.messages(USER))
        sender = {"id": USER, "is_bot": False, "first_name": "Anna", "language_code": APP}
        chat = {"id": USER, "type": "private"}
        message = {"message_id": 90_000, "date": 0, "chat": chat, "from": sender, **content}
        self.api.send_update({"message": message})
        return (await self.api.wait_for_messages(USER, before + 1, timeout=30))[-1]

    async def tap(self, message: BotMessage, label: str) -> BotMessage:
        """Tap the first button whose label starts with ``label``."""
        return await self.bot.click(message, button(message, label))

    async def press(self, message: BotMessage, data: str) -> BotMessage:
        return await self.bot.click(message, data)

    def seen(self) -> list[str]:
        """Everything the employee read: texts, button labels, toasts."""
        shown = []
        for message in self.api.messages(USER):
            shown.append(message.text or message.caption or "")
            shown += [label for label, _ in buttons(message)]
        shown += [str(c.params.get("text") or "") for c in self.api.calls("answerCallbackQuery")]
        return [s for s in shown if s]


@pytest.fixture(params=sorted(WALKS))
def walk(request: pytest.FixtureRequest) -> Walk:
    return WALKS[request.param]


@pytest.fixture
async def english_bot(
    start_bot: StartBot, fake_api: FakeBotApi, tmp_path: Path, walk: Walk
) -> LiveBot:
    """The bot with a counselling group, on a private copy of the walk's knowledge base."""
    shutil.copytree(walk.directory, tmp_path / "kb")
    fake_api.add_group(GROUP, "Beratung")
    return await start_bot(handoff_chat_id=GROUP)


async def test_an_english_employee_does_everything_in_english(
    english_bot: LiveBot, fake_api: FakeBotApi, walk: Walk, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = english_bot
    search = SearchIndex.search

    def breaking(self: SearchIndex, question: str, *args: Any, **kwargs: Any) -> Any:
        if BREAKS in question:
            raise RuntimeError("simulated bug")
        return search(self, question, *args, **kwargs)

    monkeypatch.setattr(SearchIndex, "search", breaking)
    me = EnglishEmployee(bot)
    kb = bot.services.library.current.kb
    english = kb.in_language("en")
    counselling = english.counselling_contact

    # Start: the welcome, the topics, the contacts.
    welcome = await me.say("/start")
    assert (welcome.text or "").startswith("Welcome! I answer your questions")
    assert [label for label, _ in buttons(welcome)][:-1] == [
        t.title for t in english.topics.values()
    ]
    assert buttons(welcome)[-1][0] == "👤 Contacts"

    # Browse: a topic, an entry of it, back, the contacts, a contact card and its offers.
    topic = await me.press(welcome, actions.encode("topic", walk.topic))
    assert english.topics[walk.topic].title in (topic.text or "")
    entry = await me.press(topic, actions.encode("entry", walk.entry))
    assert (entry.text or "").startswith(english.entries[walk.entry].title)
    assert "👥 For whom:" in (entry.text or "") and "📌 Status:" in (entry.text or "")
    back = await me.tap(entry, "◀ back")
    assert english.topics[walk.topic].title in (back.text or "")
    # The intranet portal's "Im Chat fragen" links: t.me/<bot>?start=<entry or topic id>.
    linked = await me.say(f"/start {walk.entry}")
    assert (linked.text or "").startswith(english.entries[walk.entry].title)
    linked = await me.say(f"/start {walk.topic}")
    assert english.topics[walk.topic].title in (linked.text or "")
    contacts = await me.say("/contact")
    assert (contacts.text or "").startswith("👤 Contacts")
    card = await me.press(contacts, actions.encode("contact", counselling.id))
    assert (card.text or "").startswith(counselling.title)
    offer = await me.tap(card, "Responsible for: ")
    assert (offer.text or "").split("\n")[0] in {e.title for e in english.entries.values()}

    # A question, answered in English, and follow-ups about its card.
    answer = await me.say(walk.question)
    assert (answer.text or "").startswith(walk.answer_title), answer.text
    assert (answer.text or "").endswith("Did this help?")
    who = await me.say("and who is responsible?")
    assert (who.text or "").startswith(f"📞 Responsible for “{inner_quotes(walk.answer_title)}”:")
    assert counselling.title in (who.text or "")
    since = await me.say("Since when does it exist?")
    assert (since.text or "").startswith("📌 ")
    more = await me.say("Tell me more")
    assert "Source: " in (more.text or "")

    # 👎, then the way to a person: the preview, consent, the counsellor's answer.
    sorry = await me.tap(answer, "👎")
    assert "👎 Thank you for your feedback" in (sorry.text or "")
    preview = await me.tap(sorry, "💬 Ask the advice centre")
    assert (preview.text or "").startswith(
        "📝 This is what your request to the advice centre would contain:\n🇩🇪 The advice centre "
        "works in German"
    )
    assert f"Question: {walk.question}" in (preview.text or "")
    before = len(fake_api.messages(GROUP))
    sent = await me.tap(preview, "✅ Send")
    request = await bot.message_after(GROUP, before, r"^📨 Anfrage #\d+")
    number = int(re.findall(r"#(\d+)", request.text or "")[0])
    assert f"Frage: {walk.question}" in (request.text or "")  # German for the group
    assert (sent.text or "").endswith(
        f"✅ Sent as request #{number}. The advice centre's answer will arrive here in the chat."
    )
    before = len(fake_api.messages(USER))
    fake_api.send_text(
        COUNSELLOR, ANSWER, chat_type="supergroup", chat_id=GROUP,
        reply_to_message_id=request.message_id,
    )  # fmt: skip
    relayed = await bot.message_after(USER, before, "^💬 Answer from the advice centre")
    assert [label for label, _ in buttons(relayed)] == ["↩️ Reply", "✅ Done, thank you"]
    done = await me.tap(relayed, "✅ Done, thank you")
    assert (done.text or "").startswith(f"✅ Request #{number} is done")

    # Where the bot has nothing: a subject handled elsewhere, a question it cannot answer.
    elsewhere = await me.say(walk.off_topic)
    assert (elsewhere.text or "").startswith("There is no work-life-balance offer here for this.")
    assert walk.redirect in (elsewhere.text or "")
    unknown = await me.say("xyzzy qwertz plugh")
    assert (unknown.text or "").startswith("Sorry, I don't know anything about that.")
    assert "💬 Ask the advice centre" in [label for label, _ in buttons(unknown)]
    assert (
        await me.say("/frobnicate")
    ).text == "I don't know this command. /help shows what I can do."
    helped = await me.say("/help")
    assert (helped.text or "").startswith("How to ask me")
    menu = await me.tap(helped, "📚 Topics")
    assert (menu.text or "").startswith("📚 Topics")

    # What the bot cannot read, a question that breaks it, a group chat: in English too.
    sticker = await me.send({"sticker": STICKER})
    assert (sticker.text or "").startswith("Sorry, I can only read text messages.")
    broken = await me.say(f"{BREAKS} flexitime")
    assert (broken.text or "").startswith("Sorry, something went wrong on my side.")
    fake_api.send_text(USER, "/start", chat_type="group", chat_id=OTHER_GROUP, language_code=APP)
    [hint] = await fake_api.wait_for_messages(OTHER_GROUP, 1, timeout=30)
    assert (hint.text or "").startswith("I only answer questions in a private chat")
    assert german_in(hint.text or "", []) == []

    # The privacy notice and deleting one's data, with the English and the German command.
    privacy = await me.say("/privacy")
    assert (privacy.text or "").startswith("Privacy\nWhat is stored:")
    assert "Requests to the advice centre:" in (privacy.text or "")
    kept = await me.tap(await me.say("/vergessen"), "No, keep")
    assert kept.text == "All right – nothing has been deleted."
    confirm = await me.say("/forget")
    assert (confirm.text or "").startswith("Do you want to delete all your stored questions?")
    deleted = await me.tap(confirm, "🗑 Yes, delete")
    assert re.match(r"Done: \d+ stored questions of yours have been deleted", deleted.text or "")
    assert bot.rows() == []

    # Not one German sentence of the bot's own in anything the employee read (the
    # counsellor's answer is relayed as written).
    names = official_names(kb)
    seen = [shown.replace(ANSWER, "") for shown in me.seen()]
    german = {shown: found for shown in seen if (found := german_in(shown, names))}
    assert german == {}
    # And the group read German only, apart from the employee's own words.
    for message in fake_api.messages(GROUP):
        text = (message.text or "").replace(walk.question, "")
        assert not re.search(r"\b(?:Request|Question|advice centre|the)\b", text), text
