"""A way to a person: "Frage an die Beratungsstelle", end to end over the fake Bot API server.

An employee (private chat) and a counsellor (the counselling group) talk through the bot;
neither sees the other's Telegram identity, the ticket in between lives only as long as needed.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fakebotapi import BotMessage, FakeBotApi
from harness import USER, LiveBot, StartBot, button, buttons

from bot.chat import actions
from bot.chat.conversation import Conversation
from bot.chat.handoff import Handoff
from bot.chat.language import LanguageChoice
from bot.chat.terminal import dispatch, render
from bot.cli import cli
from bot.config import ConfigError, load_settings
from bot.log import MemoryRunner, QuestionLog, TicketStore, read_ticket_counts
from bot.log import schema as logschema
from bot.log.tickets import seal, unseal
from bot.search.library import Library

GROUP = -1009876543210
COUNSELLOR = 5555
OTHER = 4343
ASK = "💬 Frage an die Beratungsstelle"
QUESTION = "Wie geht Elternzeit?"


# --- helpers ---------------------------------------------------------------------------------


class Day:
    """The log's calendar, moved by the test (tickets expire by day)."""

    def __init__(self) -> None:
        self.today = date(2026, 3, 2)

    def __call__(self) -> date:
        return self.today

    def advance(self, days: int) -> None:
        self.today += timedelta(days=days)


@pytest.fixture
def day() -> Day:
    return Day()


@pytest.fixture
async def desk_bot(start_bot: StartBot, fake_api: FakeBotApi, day: Day) -> LiveBot:
    """The bot with a counselling group; the employee is Anna (@anna_k) in Telegram."""
    fake_api.add_group(GROUP, "Beratungsstelle Vereinbarkeit")
    bot = await start_bot({"today": day}, handoff_chat_id=GROUP)
    fake_api.send_text(USER, "/start", first_name="Anna", username="anna_k", last_name="K.")
    await fake_api.wait_for_messages(USER, 1, timeout=30)
    return bot


def group(api: FakeBotApi) -> list[BotMessage]:
    return api.messages(GROUP)


def counsel(api: FakeBotApi, to: BotMessage, text: str) -> int:
    """A counsellor (Berta, @berta_b) replies in the group to a bot message."""
    return api.send_text(
        COUNSELLOR,
        text,
        chat_type="supergroup",
        chat_id=GROUP,
        first_name="Berta",
        username="berta_b",
        reply_to_message_id=to.message_id,
    )


async def group_after(bot: LiveBot, before: int, pattern: str) -> BotMessage:
    return await bot.message_after(GROUP, before, pattern)


async def preview_of(bot: LiveBot, question: str = QUESTION) -> tuple[BotMessage, BotMessage]:
    """Ask, then tap "Frage an die Beratungsstelle" under the answer: (card, preview)."""
    card = await bot.ask(question)
    preview = await bot.click(card, button(card, ASK))
    return card, preview


async def send_request(bot: LiveBot, question: str = QUESTION) -> tuple[BotMessage, BotMessage]:
    """Ask, preview, "Senden": (the employee's confirmation, the request in the group)."""
    _, preview = await preview_of(bot, question)
    before = len(group(bot.api))
    sent = await bot.click(preview, button(preview, "✅ Senden"))
    request = await group_after(bot, before, r"^📨 Anfrage #\d+")
    return sent, request


def request_block(preview: BotMessage, heading: str = "📨 Anfrage #…") -> str:
    """The part of the preview that shows the request, line by line as the group gets it
    (in an English chat: the same lines in English, ``heading`` "📨 Request #…")."""
    text = preview.text or ""
    start = text.index(heading)
    return text[start : text.index("\n\n🔒", start)]


def number_of(message: BotMessage) -> int:
    found = re.search(r"Anfrage #(\d+)", message.text or "")
    assert found, message.text
    return int(found[1])


def table(database: Path, name: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(database)
    try:
        return list(conn.execute(f"SELECT * FROM {name}"))
    finally:
        conn.close()


def all_values(database: Path) -> list[object]:
    """Every value in every table of the log file."""
    conn = sqlite3.connect(database)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [
            value
            for name in names
            for row in conn.execute(f"SELECT * FROM {name}")
            for value in row
        ]
    finally:
        conn.close()


# --- the whole exchange ----------------------------------------------------------------------


async def test_a_counsellor_and_an_employee_complete_a_handoff_exchange(
    desk_bot: LiveBot, fake_api: FakeBotApi
) -> None:
    bot = desk_bot
    card, preview = await preview_of(bot)
    assert ASK in [label for label, _ in buttons(card)]
    assert preview.method == "sendMessage"  # the card stays as it was
    assert (preview.text or "").startswith("📝 So käme Ihre Anfrage bei der Beratungsstelle an:")
    assert "Frage: Wie geht Elternzeit?" in request_block(preview)
    assert "Der Bot hatte dazu gezeigt: „Elternzeit – wie geht's?“" in request_block(preview)
    assert [label for label, _ in buttons(preview)] == [
        "✅ Senden",
        "👤 Vornamen hinzufügen",
        "✏️ Anders formulieren",
        "✖️ Nicht senden",
    ]

    before = len(group(fake_api))
    sent = await bot.click(preview, button(preview, "✅ Senden"))
    request = await group_after(bot, before, r"^📨 Anfrage #\d+")
    number = number_of(request)
    assert sent.method == "editMessageText" and sent.message_id == preview.message_id
    assert f"Gesendet als Anfrage #{number}." in (sent.text or "")
    # Exactly what the preview showed, with the number filled in; nobody's identity.
    assert request.text == request_block(preview).replace("Anfrage #…", f"Anfrage #{number}")
    assert not re.search(r"Anna|anna_k|K\.|4242", request.text or "")
    assert "forward_from" not in request.message and "forward_origin" not in request.message
    # The open ticket holds no user id in clear anywhere in the file.
    assert USER not in all_values(bot.database) and str(USER) not in all_values(bot.database)

    # The counsellor replies to the request: the employee reads the answer, not who wrote it.
    before_user, before_group = len(fake_api.messages(USER)), len(group(fake_api))
    counsel(fake_api, request, "Gern! Wir beraten Sie persönlich, melden Sie sich.")
    answer = await bot.message_after(USER, before_user, "^💬 Antwort der Beratungsstelle")
    assert answer.text == (
        f"💬 Antwort der Beratungsstelle (Anfrage #{number}):\n\n"
        "Gern! Wir beraten Sie persönlich, melden Sie sich.\n\n"
        "Ihre Antwort geht ohne Ihren Namen an die Beratungsstelle: „↩️ Antworten“ tippen oder "
        "direkt auf diese Nachricht antworten."
    )
    assert not re.search(r"Berta|berta_b|5555", str(answer.message))
    assert [label for label, _ in buttons(answer)] == ["↩️ Antworten", "✅ Erledigt, danke"]
    delivered = await group_after(bot, before_group, "^✓ Zugestellt")
    assert delivered.text == f"✓ Zugestellt (Anfrage #{number})."

    # "Antworten", then the next message goes to the group, as a reply to the request.
    prompt = await bot.click(answer, button(answer, "↩️"))
    assert f"Nachricht an die Beratungsstelle (Anfrage #{number})" in (prompt.text or "")
    before_group = len(group(fake_api))
    forwarded = await bot.ask("Danke! Passt Dienstag?")
    assert forwarded.text == f"✅ An die Beratungsstelle weitergeleitet (Anfrage #{number})."
    relayed = await group_after(bot, before_group, "Nachricht der anfragenden Person")
    assert relayed.text == (
        f"💬 Anfrage #{number} – Nachricht der anfragenden Person:\n\nDanke! Passt Dienstag?"
    )
    assert relayed.message["reply_to_message"]["message_id"] == request.message_id

    # A Telegram reply to the relayed answer continues the thread as well.
    before_group = len(group(fake_api))
    fake_api.send_text(USER, "Oder Mittwoch?", reply_to_message_id=answer.message_id)
    also = await group_after(bot, before_group, "Oder Mittwoch")
    assert (
        also.text == f"💬 Anfrage #{number} – Nachricht der anfragenden Person:\n\nOder Mittwoch?"
    )

    # The counsellor may reply to any bot message of the request: here the relayed one.
    before_user = len(fake_api.messages(USER))
    counsel(fake_api, also, "Mittwoch, gern.")
    second = await bot.message_after(USER, before_user, "Mittwoch, gern")
    assert f"Anfrage #{number}" in (second.text or "")

    # /erledigt as a reply closes it; both sides hear of it and the mapping is gone.
    before_user, before_group = len(fake_api.messages(USER)), len(group(fake_api))
    counsel(fake_api, request, "/erledigt")
    closed = await bot.message_after(USER, before_user, "als erledigt markiert")
    assert closed.text == (
        f"✅ Die Beratungsstelle hat Ihre Anfrage #{number} als erledigt markiert. "
        "Haben Sie eine neue Frage, schreiben Sie sie einfach."
    )
    notice = await group_after(bot, before_group, "ist erledigt")
    assert notice.text.startswith(
        f"✅ Anfrage #{number} ist erledigt; die Person wurde benachrichtigt."
    )
    assert table(bot.database, "tickets") == [] and table(bot.database, "ticket_messages") == []

    # Only the question for the bot is in the question log, none of the messages to a person.
    assert [r["question"] for r in bot.rows()] == [QUESTION]
    counts = await asyncio.to_thread(read_ticket_counts, bot.database)
    assert (counts.opened, counts.answered, counts.to_employee, counts.to_group) == (1, 1, 2, 2)
    assert (counts.closed, counts.open_now, counts.undelivered) == (1, 0, 0)


async def test_consent_declined_sends_nothing(desk_bot: LiveBot, fake_api: FakeBotApi) -> None:
    _, preview = await preview_of(desk_bot)
    declined = await desk_bot.click(preview, button(preview, "✖️ Nicht senden"))
    assert declined.text == "In Ordnung – es wurde nichts gesendet."
    assert buttons(declined) == []
    await desk_bot.barrier()
    assert group(fake_api) == []
    assert table(desk_bot.database, "tickets") == []
    assert (await asyncio.to_thread(read_ticket_counts, desk_bot.database)).opened == 0


async def test_a_double_tap_on_senden_sends_once(desk_bot: LiveBot, fake_api: FakeBotApi) -> None:
    _, preview = await preview_of(desk_bot)
    data = button(preview, "✅ Senden")
    fake_api.send_callback(USER, data, preview.message_id)  # both taps before the first edit
    fake_api.send_callback(USER, data, preview.message_id)
    await desk_bot.barrier()
    assert [number_of(m) for m in group(fake_api)] == [1]
    edits = [m for m in fake_api.messages(USER) if m.message_id == preview.message_id]
    assert "Gesendet als Anfrage #1." in (edits[-1].text or "")


async def test_the_first_name_goes_only_when_the_employee_adds_it(
    desk_bot: LiveBot, fake_api: FakeBotApi
) -> None:
    _, preview = await preview_of(desk_bot)
    assert "Anna" not in (preview.text or "")
    named = await desk_bot.click(preview, button(preview, "👤 Vornamen hinzufügen"))
    assert named.message_id == preview.message_id
    assert "Vorname: Anna" in request_block(named)
    assert "👤 Vornamen wieder entfernen" in [label for label, _ in buttons(named)]
    unnamed = await desk_bot.click(named, button(named, "👤 Vornamen wieder entfernen"))
    assert "Anna" not in (unnamed.text or "")
    named = await desk_bot.click(unnamed, button(unnamed, "👤 Vornamen hinzufügen"))

    before = len(group(fake_api))
    await desk_bot.click(named, button(named, "✅ Senden"))
    request = await group_after(desk_bot, before, r"^📨 Anfrage")
    assert "Vorname: Anna" in (request.text or "")
    assert not re.search(r"anna_k|K\.|4242", request.text or "")  # the first name, nothing else
    assert request.text == request_block(named).replace("#…", f"#{number_of(request)}")


async def test_a_browsed_card_asks_for_the_question_first(
    desk_bot: LiveBot, fake_api: FakeBotApi
) -> None:
    listing = await desk_bot.ask("/kontakt")
    prompt = await desk_bot.click(listing, button(listing, ASK))
    assert (prompt.text or "").startswith("✍️ Schreiben Sie mir Ihre Frage an die Beratungsstelle")
    preview = await desk_bot.ask("Kann ich als Beamtin in Teilzeit gehen?")
    assert "Frage: Kann ich als Beamtin in Teilzeit gehen?" in request_block(preview)
    assert "Der Bot hatte dazu keine passende Antwort." in request_block(preview)
    rewrite = await desk_bot.click(preview, button(preview, "✏️"))
    assert (rewrite.text or "").startswith("✍️")
    again = await desk_bot.ask("Teilzeit als Beamtin: wie beantrage ich das?")
    assert "Frage: Teilzeit als Beamtin: wie beantrage ich das?" in request_block(again)
    # What was typed for the counselling office is not a question for the bot's log.
    assert [r["question"] for r in desk_bot.rows()] == []
    await desk_bot.barrier()
    assert group(fake_api) == []


# --- how long a ticket lives -----------------------------------------------------------------


async def test_a_ticket_expires_after_the_set_days_of_silence(
    start_bot: StartBot, fake_api: FakeBotApi, day: Day
) -> None:
    fake_api.add_group(GROUP)
    bot = await start_bot({"today": day}, handoff_chat_id=GROUP, handoff_days=3)
    _, request = await send_request(bot)
    day.advance(2)
    before_user = len(fake_api.messages(USER))
    counsel(fake_api, request, "Noch da?")  # a message two days later: three days from now
    answer = await bot.message_after(USER, before_user, "Noch da")

    day.advance(3)
    before_user, before_group = len(fake_api.messages(USER)), len(group(fake_api))
    counsel(fake_api, request, "Und jetzt?")
    unknown = await group_after(bot, before_group, "keine offene Anfrage")
    assert unknown.text == (
        "Zu dieser Nachricht gibt es keine offene Anfrage (mehr): erledigt, von der Person "
        "gelöscht oder nach 3 Tagen ohne Nachricht abgelaufen. Ihre Antwort wurde nicht "
        "weitergeleitet."
    )
    assert len(fake_api.messages(USER)) == before_user  # the lookup comes before any relaying
    assert table(bot.database, "tickets") == []

    # The employee's "Antworten" on the old answer says so, and offers a new request.
    gone = await bot.click(answer, button(answer, "↩️"))
    assert gone.text == (
        "Diese Anfrage ist erledigt oder abgelaufen – die Beratungsstelle bekommt dazu nichts mehr."
    )
    assert [label for label, _ in buttons(gone)] == [ASK]
    # A reply to the old answer is offered as a new request, shown first.
    before = len(fake_api.messages(USER))
    fake_api.send_text(USER, "Ich habe noch eine Frage.", reply_to_message_id=answer.message_id)
    offer = (await fake_api.wait_for_messages(USER, before + 1, timeout=30))[-1]
    assert (offer.text or "").startswith("Diese Anfrage ist erledigt oder abgelaufen")
    assert "Als neue Anfrage käme Ihre Nachricht so an:" in (offer.text or "")
    assert "Frage: Ich habe noch eine Frage." in request_block(offer)

    counts = await asyncio.to_thread(read_ticket_counts, bot.database)
    assert (counts.opened, counts.expired, counts.open_now) == (1, 1, 0)


async def test_the_daily_purge_deletes_expired_tickets_without_any_lookup(
    start_bot: StartBot, fake_api: FakeBotApi, day: Day
) -> None:
    fake_api.add_group(GROUP)
    bot = await start_bot({"today": day}, handoff_chat_id=GROUP, handoff_days=3)
    await send_request(bot)
    assert len(table(bot.database, "tickets")) == 1
    day.advance(3)
    await asyncio.to_thread(bot.log.purge)
    assert table(bot.database, "tickets") == [] and table(bot.database, "ticket_messages") == []
    assert ("2026-03-05", "expired", 1) in table(bot.database, "ticket_counts")


async def test_vergessen_removes_the_tickets_too(desk_bot: LiveBot, fake_api: FakeBotApi) -> None:
    _, request = await send_request(desk_bot)
    question = await desk_bot.ask("/vergessen")
    assert "Auch Ihre offenen Anfragen an die Beratungsstelle werden gelöscht" in (
        question.text or ""
    )
    done = await desk_bot.click(question, button(question, "🗑"))
    assert (
        "1 offene Anfrage an die Beratungsstelle wurde gelöscht; Antworten darauf erreichen Sie "
        "nicht mehr." in (done.text or "")
    )
    assert table(desk_bot.database, "tickets") == []

    before_user, before_group = len(fake_api.messages(USER)), len(group(fake_api))
    counsel(fake_api, request, "Hallo?")
    await group_after(desk_bot, before_group, "keine offene Anfrage")
    assert len(fake_api.messages(USER)) == before_user
    counts = await asyncio.to_thread(read_ticket_counts, desk_bot.database)
    assert (counts.opened, counts.forgotten) == (1, 1)


# --- when relaying fails ---------------------------------------------------------------------


async def test_a_request_the_group_does_not_get_is_kept_for_a_retry(
    desk_bot: LiveBot, fake_api: FakeBotApi
) -> None:
    _, preview = await preview_of(desk_bot)
    fake_api.remove_bot(GROUP)
    failed = await desk_bot.click(preview, button(preview, "✅ Senden"))
    assert "Das hat gerade nicht geklappt" in (failed.text or "")
    assert "gespeichert wurde nichts" in (failed.text or "")
    assert "Frage: Wie geht Elternzeit?" in (failed.text or "")  # the text is still there
    assert table(desk_bot.database, "tickets") == []

    fake_api.remove_bot(GROUP, removed=False)
    before = len(group(fake_api))
    sent = await desk_bot.click(failed, button(failed, "🔁 Erneut senden"))
    request = await group_after(desk_bot, before, r"^📨 Anfrage")
    assert f"Gesendet als Anfrage #{number_of(request)}." in (sent.text or "")
    counts = await asyncio.to_thread(read_ticket_counts, desk_bot.database)
    assert (counts.undelivered, counts.opened, counts.open_now) == (1, 1, 1)


async def test_an_answer_the_employee_cannot_get_is_reported_to_the_group(
    desk_bot: LiveBot, fake_api: FakeBotApi
) -> None:
    _, request = await send_request(desk_bot)
    number = number_of(request)
    fake_api.block_bot(USER)
    before = len(group(fake_api))
    counsel(fake_api, request, "Unsere Antwort")
    warning = await group_after(desk_bot, before, "nicht zugestellt")
    assert warning.text == (
        f"⚠️ Anfrage #{number}: Ihre Antwort wurde nicht zugestellt – die Person hat den Bot "
        "blockiert oder den Chat gelöscht. Sie bleibt hier in der Gruppe erhalten."
    )
    # Once the person can be reached again, a reply to the warning goes through.
    fake_api.block_bot(USER, blocked=False)
    before_user = len(fake_api.messages(USER))
    counsel(fake_api, warning, "Unsere Antwort, noch einmal")
    await desk_bot.message_after(USER, before_user, "Unsere Antwort, noch einmal")


async def test_a_message_the_group_does_not_get_is_kept_for_a_retry(
    desk_bot: LiveBot, fake_api: FakeBotApi
) -> None:
    _, request = await send_request(desk_bot)
    before_user = len(fake_api.messages(USER))
    counsel(fake_api, request, "Worum geht es genau?")
    answer = await desk_bot.message_after(USER, before_user, "Worum geht es genau")
    await desk_bot.click(answer, button(answer, "↩️"))
    fake_api.remove_bot(GROUP)
    failed = await desk_bot.ask("Um die Elternzeit meines Mannes.")
    assert (failed.text or "").startswith(
        "⚠️ Ihre Nachricht ist gerade nicht bei der Beratungsstelle"
    )
    fake_api.remove_bot(GROUP, removed=False)
    before = len(group(fake_api))
    forwarded = await desk_bot.click(failed, button(failed, "🔁 Erneut senden"))
    assert "weitergeleitet" in (forwarded.text or "")
    relayed = await group_after(desk_bot, before, "Elternzeit meines Mannes")
    assert relayed.message["reply_to_message"]["message_id"] == request.message_id


async def test_after_antworten_another_command_or_button_ends_the_wait(
    desk_bot: LiveBot, fake_api: FakeBotApi
) -> None:
    _, request = await send_request(desk_bot)
    before_user = len(fake_api.messages(USER))
    counsel(fake_api, request, "Wie können wir helfen?")
    answer = await desk_bot.message_after(USER, before_user, "Wie können wir helfen")
    before_group = len(group(fake_api))

    await desk_bot.click(answer, button(answer, "↩️"))
    menu = await desk_bot.ask("/themen")
    # An entry's own title: answered with that card whatever else the knowledge base holds.
    title = desk_bot.services.library.current.kb.entries["arbeitszeitkonten"].title
    card = await desk_bot.ask(title)  # a question for the bot, not for the office
    assert (card.text or "").startswith(title)

    await desk_bot.click(answer, button(answer, "↩️"))
    await desk_bot.click(menu, buttons(menu)[0][1])  # a topic button
    card = await desk_bot.ask(title)
    assert (card.text or "").startswith(title)
    await desk_bot.barrier()
    assert len(group(fake_api)) == before_group
    assert [r["question"] for r in desk_bot.rows()][-2:] == [title, title]


# --- the group's side ------------------------------------------------------------------------


async def test_the_group_learns_how_to_answer_and_what_cannot_be_relayed(
    desk_bot: LiveBot, fake_api: FakeBotApi
) -> None:
    _, request = await send_request(desk_bot)
    before = len(group(fake_api))
    fake_api.send_text(COUNSELLOR, "/hilfe", chat_type="supergroup", chat_id=GROUP)
    help_text = await group_after(desk_bot, before, "Anfragen an die Beratungsstelle")
    assert "/erledigt als Antwort" in (help_text.text or "")

    before = len(group(fake_api))
    fake_api.send_text(COUNSELLOR, "/erledigt", chat_type="supergroup", chat_id=GROUP)
    how = await group_after(desk_bot, before, "als Antwort auf eine Nachricht der Anfrage")
    assert how.text == "Senden Sie /erledigt bitte als Antwort auf eine Nachricht der Anfrage."

    before = len(group(fake_api))
    counsel(fake_api, help_text, "Das hier ist keine Anfrage")
    await group_after(desk_bot, before, "keine offene Anfrage")

    before = len(group(fake_api))
    fake_api.send_update(
        {
            "message": {
                "message_id": 900_001,
                "date": 0,
                "chat": {"id": GROUP, "type": "supergroup", "title": "Beratungsstelle"},
                "from": {"id": COUNSELLOR, "is_bot": False, "first_name": "Berta"},
                "photo": [{"file_id": "p", "file_unique_id": "q", "width": 9, "height": 9}],
                "reply_to_message": request.message,
            }
        }
    )
    await group_after(desk_bot, before, "^Weiterleiten kann ich nur Text")
    # Counsellors talking among themselves (no reply to the bot) hear nothing from it: the
    # group's updates are handled in order, so by the help's reply the chat was ignored.
    before = len(group(fake_api))
    fake_api.send_text(COUNSELLOR, "Wer übernimmt #1?", chat_type="supergroup", chat_id=GROUP)
    fake_api.send_text(COUNSELLOR, "/hilfe", chat_type="supergroup", chat_id=GROUP)
    await group_after(desk_bot, before, "^👋 Anfragen an die Beratungsstelle")
    assert [(m.text or "")[:1] for m in group(fake_api)[before:]] == ["👋"]


async def test_buttons_of_someone_elses_ticket_do_nothing(
    desk_bot: LiveBot, fake_api: FakeBotApi
) -> None:
    _, request = await send_request(desk_bot)
    number = number_of(request)
    mine = await desk_bot.ask("Sabbatical", user=OTHER)
    before_group = len(group(fake_api))
    for verb in ("respond", "resolve"):
        before = len(fake_api.messages(OTHER))
        fake_api.send_callback(
            OTHER, actions.encode(verb, str(number)), mine.message_id, check_button=False
        )
        forged = (await fake_api.wait_for_messages(OTHER, before + 1, timeout=30))[-1]
        assert (forged.text or "").startswith("Diese Anfrage ist erledigt oder abgelaufen")
    await desk_bot.barrier(OTHER)
    assert len(group(fake_api)) == before_group
    assert len(table(desk_bot.database, "tickets")) == 1


async def test_the_employee_can_close_the_request(desk_bot: LiveBot, fake_api: FakeBotApi) -> None:
    _, request = await send_request(desk_bot)
    number = number_of(request)
    before_user = len(fake_api.messages(USER))
    counsel(fake_api, request, "Reicht Ihnen das?")
    answer = await desk_bot.message_after(USER, before_user, "Reicht Ihnen das")
    before = len(group(fake_api))
    done = await desk_bot.click(answer, button(answer, "✅ Erledigt"))
    assert done.text == (
        f"✅ Anfrage #{number} ist erledigt – der Bot hat vergessen, zu welchem Chat sie gehörte. "
        "Danke!"
    )
    told = await group_after(desk_bot, before, "als erledigt markiert")
    assert told.message["reply_to_message"]["message_id"] == request.message_id
    assert table(desk_bot.database, "tickets") == []


# --- without a counselling group -------------------------------------------------------------


async def test_without_a_counselling_group_there_is_no_button(running: LiveBot) -> None:
    card = await running.ask(QUESTION)
    unknown = await running.ask("Wann wird das Gehalt überwiesen?")
    listing = await running.ask("/kontakt")
    for message in (card, unknown, listing):
        assert ASK not in [label for label, _ in buttons(message)]
    privacy = await running.ask("/datenschutz")
    assert "Beratungsstelle: Nur wenn Sie zustimmen" not in (privacy.text or "")


async def test_with_a_counselling_group_fallbacks_and_privacy_say_so(desk_bot: LiveBot) -> None:
    unknown = await desk_bot.ask("Wann wird das Gehalt überwiesen?")
    assert ASK in [label for label, _ in buttons(unknown)]
    preview = await desk_bot.click(unknown, button(unknown, ASK))
    assert "Frage: Wann wird das Gehalt überwiesen?" in request_block(preview)
    assert "Der Bot hatte dazu keine passende Antwort." in request_block(preview)
    card = await desk_bot.ask(QUESTION)
    sorry = await desk_bot.click(card, button(card, "👎"))
    assert ASK in [label for label, _ in buttons(sorry)]
    privacy = await desk_bot.ask("/datenschutz")
    assert "Anfragen an die Beratungsstelle: Nur wenn Sie zustimmen" in (privacy.text or "")
    assert "höchstens 30 Tage nach der letzten Nachricht" in (privacy.text or "")


# --- the terminal ----------------------------------------------------------------------------


def _press(
    conversation: Conversation, reply_buttons: list[Any], prefix: str, *, user: int = 1
) -> list[Any]:
    index = next(i for i, b in enumerate(reply_buttons, 1) if b.label.startswith(prefix))
    return dispatch(conversation, str(index), reply_buttons, user)


def test_the_terminal_shows_what_would_be_sent_and_sends_nothing(koeln_library: Library) -> None:
    conversation = Conversation(
        lambda: koeln_library.current, None, channel="terminal", handoff=Handoff()
    )
    [card] = conversation.ask(QUESTION, 1)
    [preview] = _press(conversation, render(card)[1], ASK)
    text, shown = render(preview)
    assert "📨 Anfrage #…\nFrage: Wie geht Elternzeit?" in text
    assert [b.label for b in shown] == ["✅ Senden", "✏️ Anders formulieren", "✖️ Nicht senden"]
    [sent] = _press(conversation, shown, "✅ Senden")
    assert render(sent)[0].endswith(
        "🖥️ Im Terminal gibt es keine Beratungsgruppe – gesendet wurde nichts. In Telegram "
        "ginge genau diese Nachricht an die Beratungsstelle."
    )
    assert "📨 Anfrage #…\nFrage: Wie geht Elternzeit?" in render(sent)[0]


def test_python_m_bot_chat_offers_the_way_only_with_a_counselling_group(
    koeln_library: Library, tmp_path: Path
) -> None:
    # The button numbers the terminal will show, from the same knowledge base.
    conversation = Conversation(lambda: koeln_library.current, None, handoff=Handoff())
    [card] = conversation.ask(QUESTION, 1)
    ask = next(i for i, b in enumerate(render(card)[1], 1) if b.label == ASK)
    typed = f"{QUESTION}\n{ask}\n1\nexit\n"
    env = {"BOT_DATABASE": str(tmp_path / "f.db"), "BOT_HANDOFF_CHAT_ID": str(GROUP)}
    result = CliRunner().invoke(cli, ["chat"], input=typed, env=env)
    assert result.exit_code == 0, result.output
    assert f"[{ask}] {ASK}" in result.output
    assert "Im Terminal gibt es keine Beratungsgruppe" in result.output
    env["BOT_HANDOFF_CHAT_ID"] = ""
    plain = CliRunner().invoke(cli, ["chat"], input=f"{QUESTION}\nexit\n", env=env)
    assert plain.exit_code == 0 and ASK not in plain.output


# --- an employee who reads English -----------------------------------------------------------

ASK_EN = "💬 Ask the advice centre"
QUESTION_EN = "How does parental leave work?"
GERMAN_CARD_LINE = (
    "Der Bot hatte dazu gezeigt: „Elternzeit – wie geht's?“ – Beratung (Beratungsangebot)"
)
ENGLISH_CARD_LINE = (
    "The bot had shown: „Elternzeit – wie geht's?“ (parental leave – how does it work?) – "
    "advice (Advice service)"
)
PREVIEW_EN = "📝 This is what your request to the advice centre would contain:"
IN_GERMAN = (
    "🇩🇪 The advice centre works in German: it gets these lines in German, with your question "
    "exactly as you wrote it."
)
REQUEST_EN = "📨 Request #…"


async def ask_en(bot: LiveBot, text: str, *, reply_to: int | None = None) -> BotMessage:
    """A message from the employee whose Telegram app is set to English ("en-GB")."""
    before = len(bot.api.messages(USER))
    bot.api.send_text(USER, text, language_code="en-GB", reply_to_message_id=reply_to)
    return (await bot.api.wait_for_messages(USER, before + 1, timeout=30))[-1]


async def english_preview(bot: LiveBot) -> BotMessage:
    card = await ask_en(bot, QUESTION_EN)
    assert (card.text or "").endswith("Did this help?")
    return await bot.click(card, button(card, ASK_EN))


async def test_an_english_employee_gets_the_handoff_in_english_and_the_group_in_german(
    desk_bot: LiveBot, fake_api: FakeBotApi
) -> None:
    bot = desk_bot
    preview = await english_preview(bot)
    assert (preview.text or "").startswith(f"{PREVIEW_EN}\n{IN_GERMAN}\n\n")
    # The request line by line in English: the question as typed, the card it followed (the
    # English card the employee saw); one line says that the group gets these in German.
    block = request_block(preview, REQUEST_EN)
    assert block.startswith(f"{REQUEST_EN}\nQuestion: How does parental leave work?\n")
    assert ENGLISH_CARD_LINE in block
    assert "Anfrage" not in (preview.text or "") and "Frage:" not in (preview.text or "")
    assert "🔒 Without your name, your username and your Telegram ID" in (preview.text or "")
    assert [label for label, _ in buttons(preview)] == [
        "✅ Send",
        "👤 Add my first name",
        "✏️ Rephrase",
        "✖️ Don't send",
    ]
    named = await bot.click(preview, button(preview, "👤 Add my first name"))
    assert "👤 Your first name is in the request because you added it." in (named.text or "")
    assert "First name: Anna" in request_block(named, REQUEST_EN)
    assert "👤 Remove my first name" in [label for label, _ in buttons(named)]

    before = len(group(fake_api))
    sent = await bot.click(named, button(named, "✅ Send"))
    request = await group_after(bot, before, r"^📨 Anfrage #\d+")
    number = number_of(request)
    # The group gets the same lines in German, the question exactly as typed.
    german = (request.text or "").split("\n")
    english = request_block(named, REQUEST_EN).split("\n")
    assert len(german) == len(english)
    assert german[:2] == [f"📨 Anfrage #{number}", "Frage: How does parental leave work?"]
    assert GERMAN_CARD_LINE in german and "Vorname: Anna" in german
    assert (sent.text or "").startswith(f"📨 Request #{number}\nQuestion: How does parental")
    assert (sent.text or "").endswith(
        f"✅ Sent as request #{number}. The advice centre's answer will arrive here in the chat."
    )

    # The counsellor answers in the group; the employee reads the frame in English.
    before_user, before_group = len(fake_api.messages(USER)), len(group(fake_api))
    counsel(fake_api, request, "Gern! Wir beraten Sie auch auf Englisch.")
    answer = await bot.message_after(USER, before_user, "^💬 Answer from the advice centre")
    assert answer.text == (
        f"💬 Answer from the advice centre (request #{number}):\n\n"
        "Gern! Wir beraten Sie auch auf Englisch.\n\n"
        "Your reply goes to the advice centre without your name: tap “↩️ Reply” or reply "
        "directly to this message."
    )
    assert [label for label, _ in buttons(answer)] == ["↩️ Reply", "✅ Done, thank you"]
    delivered = await group_after(bot, before_group, "^✓ Zugestellt")
    assert delivered.text == f"✓ Zugestellt (Anfrage #{number})."

    # "Reply", then a message: English for the employee, German around it in the group.
    prompt = await bot.click(answer, button(answer, "↩️ Reply"))
    assert prompt.text == (
        f"✍️ Now write your message to the advice centre (request #{number}). It goes "
        "there without your name."
    )
    assert [label for label, _ in buttons(prompt)] == ["✖️ Cancel"]
    before_group = len(group(fake_api))
    forwarded = await ask_en(bot, "Thank you! Is Tuesday fine?")
    assert forwarded.text == f"✅ Forwarded to the advice centre (request #{number})."
    relayed = await group_after(bot, before_group, "Tuesday")
    assert relayed.text == (
        f"💬 Anfrage #{number} – Nachricht der anfragenden Person:\n\nThank you! Is Tuesday fine?"
    )
    before_group = len(group(fake_api))
    await ask_en(bot, "Or Wednesday?", reply_to=answer.message_id)  # a Telegram reply
    await group_after(bot, before_group, "Or Wednesday")

    # /erledigt closes it: the employee is told in English, the group in German.
    before_user, before_group = len(fake_api.messages(USER)), len(group(fake_api))
    counsel(fake_api, request, "/erledigt")
    closed = await bot.message_after(USER, before_user, "marked your request")
    assert closed.text == (
        f"✅ The advice centre has marked your request #{number} as done. If you have a new "
        "question, just write it."
    )
    notice = await group_after(bot, before_group, "ist erledigt")
    assert (notice.text or "").startswith(
        f"✅ Anfrage #{number} ist erledigt; die Person wurde benachrichtigt."
    )
    # Nothing English ever reached the group, apart from what the employee wrote.
    for message in group(fake_api):
        text = message.text or ""
        assert not re.search(r"[Rr]equest|advice|Question:|First name|shown", text), text

    # A German colleague asking at the same time still gets everything in German.
    card = await bot.ask(QUESTION, user=OTHER)
    german = await bot.click(card, button(card, ASK), user=OTHER)
    assert (german.text or "").startswith("📝 So käme Ihre Anfrage bei der Beratungsstelle an:\n\n")
    assert IN_GERMAN not in (german.text or "")


async def test_english_failures_and_forgetting_are_in_english(
    desk_bot: LiveBot, fake_api: FakeBotApi
) -> None:
    preview = await english_preview(desk_bot)
    fake_api.remove_bot(GROUP)
    failed = await desk_bot.click(preview, button(preview, "✅ Send"))
    assert (failed.text or "").endswith(
        "⚠️ That did not work just now: the request has not reached the advice centre, and "
        "nothing was stored. Your text is not lost – please try again in a moment."
    )
    assert "Question: How does parental leave work?" in (failed.text or "")
    assert [label for label, _ in buttons(failed)] == ["🔁 Send again", "✖️ Don't send"]
    fake_api.remove_bot(GROUP, removed=False)
    before = len(group(fake_api))
    sent = await desk_bot.click(failed, button(failed, "🔁 Send again"))
    request = await group_after(desk_bot, before, r"^📨 Anfrage #\d+")
    assert f"Sent as request #{number_of(request)}." in (sent.text or "")

    # An answer the employee cannot get: the group reads why, in German.
    fake_api.block_bot(USER)
    before = len(group(fake_api))
    counsel(fake_api, request, "Unsere Antwort")
    warning = await group_after(desk_bot, before, "nicht zugestellt")
    assert "die Person hat den Bot blockiert oder den Chat gelöscht" in (warning.text or "")
    fake_api.block_bot(USER, blocked=False)

    privacy = await ask_en(desk_bot, "/privacy")
    assert "Requests to the advice centre: a question goes to the advice centre only " in (
        privacy.text or ""
    )
    assert "at most 30 days after the last message" in (privacy.text or "")
    question = await ask_en(desk_bot, "/forget")
    assert (question.text or "").endswith(
        "Your open requests to the advice centre will be deleted too; answers to them will "
        "no longer reach you afterwards."
    )
    done = await desk_bot.click(question, button(question, "🗑 Yes, delete"))
    assert (
        "1 open request to the advice centre has been deleted; answers to it will no longer "
        "reach you." in (done.text or "")
    )
    assert table(desk_bot.database, "tickets") == []


def test_the_terminal_in_english_previews_the_request_in_english(koeln_library: Library) -> None:
    conversation = Conversation(
        lambda: koeln_library.current,
        None,
        channel="terminal",
        handoff=Handoff(),
        languages=LanguageChoice(default="en"),
    )
    [card] = conversation.ask(QUESTION_EN, 1)
    [preview] = _press(conversation, render(card)[1], ASK_EN)
    text, shown = render(preview)
    assert text.startswith(f"{PREVIEW_EN}\n{IN_GERMAN}")
    assert f"{REQUEST_EN}\nQuestion: {QUESTION_EN}\n{ENGLISH_CARD_LINE}" in text
    assert [b.label for b in shown] == ["✅ Send", "✏️ Rephrase", "✖️ Don't send"]
    [sent] = _press(conversation, shown, "✅ Send")
    assert render(sent)[0].endswith(
        "🖥️ The terminal is not connected to the advice centre – nothing was sent. In Telegram, "
        "this request would go to the advice centre."
    )
    # A German chat of the same conversation still reads German.
    conversation.run_command("deutsch", None, 2)
    [card] = conversation.ask(QUESTION, 2)
    [preview] = _press(conversation, render(card)[1], ASK, user=2)
    assert render(preview)[0].startswith("📝 So käme Ihre Anfrage bei der Beratungsstelle an:\n\n")


# --- settings, storage ----------------------------------------------------------------------


def test_settings_for_the_counselling_group() -> None:
    assert load_settings({}, dotenv=None).handoff_chat_id is None
    assert load_settings({}, dotenv=None).handoff_days == 30
    settings = load_settings({"BOT_HANDOFF_CHAT_ID": str(GROUP), "BOT_HANDOFF_DAYS": "7"}, None)
    assert (settings.handoff_chat_id, settings.handoff_days) == (GROUP, 7)
    with pytest.raises(ConfigError, match="keine Gruppen-ID"):
        load_settings({"BOT_HANDOFF_CHAT_ID": "4242"}, dotenv=None)  # one person's chat
    with pytest.raises(ConfigError, match="BOT_HANDOFF_DAYS"):
        load_settings({"BOT_HANDOFF_DAYS": "0"}, dotenv=None)


def test_the_chat_id_is_sealed_and_opens_only_with_the_key() -> None:
    key, other = b"k" * 32, b"x" * 32
    sealed = {seal(key, USER) for _ in range(5)}
    assert len(sealed) == 5  # a fresh nonce every time: equal ids do not look equal
    assert all(str(USER) not in s for s in sealed)
    assert {unseal(key, s) for s in sealed} == {USER}
    assert {unseal(other, s) for s in sealed} != {USER}
    assert unseal(key, "zz") is None and unseal(key, "00") is None


def test_a_version_2_log_gets_the_ticket_tables_in_place(tmp_path: Path) -> None:
    database = tmp_path / "fragen.db"
    db = logschema.connect(database, busy_timeout_ms=100)
    logschema._migrate_v1(db)
    logschema._migrate_v2(db)
    db.conn.execute("PRAGMA user_version=2")
    db.close()
    log = QuestionLog(database, b"k" * 32)
    store = TicketStore(log, group_chat=GROUP)
    number = store.open(USER)
    store.delivered(number, 17)
    assert store.by_message(17) is not None and store.by_message(17).chat_id == USER  # type: ignore[union-attr]
    log.close()
    assert table(database, "sqlite_sequence") == [("tickets", 1)]
    conn = sqlite3.connect(database)
    assert conn.execute("PRAGMA user_version").fetchone()[0] >= 3
    conn.close()


def test_without_a_question_log_tickets_live_in_memory() -> None:
    runner = MemoryRunner()
    store = TicketStore(runner, group_chat=GROUP, keep_days=2)
    number = store.open(USER)
    store.delivered(number, 5)
    found = store.by_message(5)
    assert found is not None and (found.number, found.chat_id, found.thread) == (number, USER, 5)
    assert store.of_user(number, OTHER) is None
    assert store.forget(USER) == 1 and store.by_message(5) is None
    runner.close()


def test_counts_of_a_missing_log_are_zero(tmp_path: Path) -> None:
    counts = read_ticket_counts(tmp_path / "nichts.db")
    assert counts.opened == counts.open_now == 0
    assert not (tmp_path / "nichts.db").exists()


def test_expiry_in_the_store_is_by_day(tmp_path: Path) -> None:
    today = Day()
    log = QuestionLog(tmp_path / "f.db", b"k" * 32, today=today)
    store = TicketStore(log, group_chat=GROUP, keep_days=1)
    number = store.open(USER)
    store.delivered(number, 1)
    assert store.expire() == 0 and store.open_tickets() == 1
    today.advance(1)
    assert store.expire() == 1 and store.open_tickets() == 0
    log.close()
