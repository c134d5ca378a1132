"""The fake Bot API server, exercised through python-telegram-bot's real Application and Bot."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator

import pytest
from fakebotapi import BotMessage, FakeBotApi, polling, tiny_png
from harness import until
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

USER = 4711


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None
    await message.reply_text(message.text)


def echo_app(api: FakeBotApi, rate_limiter: AIORateLimiter | None = None) -> Application:
    builder = api.builder()
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return application


async def until_echo(api: FakeBotApi, text: str) -> list[BotMessage]:
    """The messages to USER up to the echo of ``text``."""
    await until(lambda: any(m.text == text for m in api.messages(USER)))
    messages = api.messages(USER)
    return messages[: [m.text for m in messages].index(text) + 1]


async def until_polling(api: FakeBotApi) -> None:
    """Until a long poll (timeout 5) waits in the server: its parameters are read, and the
    server's next step after reading them is to wait for updates."""
    await until(lambda: any(c.params.get("timeout") == 5 for c in api.calls("getUpdates")))


@pytest.fixture
async def bot(fake_api: FakeBotApi) -> AsyncIterator[Bot]:
    """A bare Bot for method-level checks, without polling."""
    async with Bot(
        fake_api.token, base_url=fake_api.base_url, base_file_url=fake_api.base_file_url
    ) as bot:
        yield bot


# ------------------------------------------------------------------ with a polling Application


async def test_echo_round_trip(fake_api: FakeBotApi) -> None:
    async with polling(echo_app(fake_api)):
        fake_api.send_text(USER, "Wie beantrage ich Elternzeit?", first_name="Erika")
        [reply] = await fake_api.wait_for_messages(USER, 1)

    assert reply.method == "sendMessage"
    assert reply.text == "Wie beantrage ich Elternzeit?"
    assert reply.message["chat"] == {"id": USER, "first_name": "Erika", "type": "private"}
    assert reply.message["from"]["is_bot"] is True
    assert reply.message_id == 2  # the user's message was 1: ids count per chat
    assert isinstance(reply.message["date"], int)
    assert [c.method for c in fake_api.calls()][:3] == ["getMe", "deleteWebhook", "getUpdates"]


async def test_commands_buttons_and_callbacks(fake_api: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Mehr", callback_data="more")]])
        await update.effective_message.reply_html(
            f"<b>Hallo</b> {' '.join(context.args or [])}", reply_markup=keyboard
        )

    async def more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"Sie wählten {query.data}")

    application = fake_api.builder().build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(more))
    async with polling(application):
        fake_api.send_text(USER, "/start kita")
        [greeting] = await fake_api.wait_for_messages(USER, 1)
        assert greeting.text == "Hallo kita"
        assert greeting.message["entities"] == [{"type": "bold", "offset": 0, "length": 5}]
        assert greeting.reply_markup == {
            "inline_keyboard": [[{"text": "Mehr", "callback_data": "more"}]]
        }

        fake_api.send_callback(USER, "more", greeting.message_id)
        edited = (await fake_api.wait_for_messages(USER, 2))[-1]

    assert edited.method == "editMessageText"
    assert edited.message_id == greeting.message_id
    assert edited.text == "Sie wählten more"
    assert edited.reply_markup is None  # editing without reply_markup drops the keyboard
    assert [c.status for c in fake_api.calls("answerCallbackQuery")] == [200]
    with pytest.raises(ValueError, match="no button"):
        fake_api.send_callback(USER, "more", greeting.message_id)


@pytest.fixture
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta periods; RetryAfter warns about the old int form otherwise."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.mark.usefixtures("ptb_timedelta")
async def test_flood_control_is_retried_by_rate_limiter(fake_api: FakeBotApi) -> None:
    fake_api.fail_next("sendMessage", error_code=429, retry_after=1)
    async with polling(echo_app(fake_api, rate_limiter=AIORateLimiter(max_retries=3))):
        fake_api.send_text(USER, "Hallo")
        await fake_api.wait_for_messages(USER, 1, timeout=5)
        # A barrier: the app handles updates one at a time, so a duplicate came before this.
        fake_api.send_text(USER, "Barriere")
        *before, barrier = await until_echo(fake_api, "Barriere")

    assert [m.text for m in before] == ["Hallo"]
    first, second, barrier_call = fake_api.calls("sendMessage")
    assert barrier_call.params["text"] == barrier.text
    assert first.status == 429
    assert first.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert second.status == 200
    assert second.time - first.time >= 1.0


async def test_every_update_is_delivered_once(fake_api: FakeBotApi) -> None:
    seen: list[int] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)
        await echo(update, context)

    application = fake_api.builder().build()
    application.add_handler(MessageHandler(filters.TEXT, record))
    async with polling(application):
        ids = [fake_api.send_text(USER, f"Frage {n}") for n in range(5)]
        await fake_api.wait_for_messages(USER, 5)
        ids.append(fake_api.send_text(USER, "Noch eine"))
        await fake_api.wait_for_messages(USER, 6)

    assert seen == ids
    assert [fake_api.delivery_count(i) for i in ids] == [1] * 6
    assert fake_api.pending_updates == []  # PTB confirmed the last batch on shutdown
    offsets = [c.params.get("offset") for c in fake_api.calls("getUpdates")]
    assert ids[-1] + 1 in offsets


async def test_polling_recovers_after_outage(fake_api: FakeBotApi) -> None:
    errors: list[TelegramError] = []
    async with polling(echo_app(fake_api), error_callback=errors.append):
        fake_api.send_text(USER, "vorher")
        await fake_api.wait_for_messages(USER, 1)

        await fake_api.stop_http()
        fake_api.send_text(USER, "während der Störung")
        await until(lambda: errors)  # the poller ran into the outage
        assert fake_api.messages(USER)[-1].text == "vorher"
        await fake_api.start_http()

        replies = await fake_api.wait_for_messages(USER, 2, timeout=10)

    assert [m.text for m in replies] == ["vorher", "während der Störung"]
    assert errors and all(isinstance(e, NetworkError) for e in errors)


async def test_unknown_update_kinds_reach_handlers(fake_api: FakeBotApi) -> None:
    """Stickers in group chats, edits etc. go through send_update; the bot may answer them."""
    received: list[Update] = []

    async def on_sticker(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        received.append(update)
        assert update.effective_message is not None
        await update.effective_message.reply_text("Danke für den Sticker")

    application = fake_api.builder().build()
    application.add_handler(MessageHandler(filters.Sticker.ALL, on_sticker))
    group = {"id": -100555, "title": "Team Vereinbarkeit", "type": "supergroup"}
    async with polling(application):
        fake_api.send_update(
            {
                "message": {
                    "message_id": 77,
                    "from": {"id": USER, "is_bot": False, "first_name": "Erika"},
                    "chat": group,
                    "date": int(time.time()),
                    "sticker": {
                        "file_id": "CAACAgIAAxkBAAIBsticker",
                        "file_unique_id": "AgADsticker",
                        "type": "regular",
                        "width": 512,
                        "height": 512,
                        "is_animated": False,
                        "is_video": False,
                    },
                }
            }
        )
        [reply] = await fake_api.wait_for_messages(-100555, 1)

    assert received[0].effective_chat is not None
    assert received[0].effective_chat.type == "supergroup"
    assert reply.message_id == 78


# ------------------------------------------------------------------ method-level behaviour


async def test_get_updates_offset_limit_and_long_polling(fake_api: FakeBotApi, bot: Bot) -> None:
    ids = [fake_api.send_text(USER, f"m{n}") for n in range(3)]

    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates()] == ids  # nothing confirmed yet
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert fake_api.pending_updates[0]["update_id"] == ids[1]  # ids[0] is gone for good
    assert await bot.get_updates(offset=ids[-1] + 1) == ()

    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(offset=ids[-1] + 1, timeout=5))
    await until_polling(fake_api)
    new_id = fake_api.send_text(USER, "jetzt")
    assert [u.update_id for u in await poll] == [new_id]
    assert time.monotonic() - started < 2

    started = time.monotonic()
    assert await bot.get_updates(offset=new_id + 1, timeout=1) == ()
    assert time.monotonic() - started >= 0.9


async def test_negative_offset_keeps_only_the_newest(fake_api: FakeBotApi, bot: Bot) -> None:
    ids = [fake_api.send_text(USER, f"m{n}") for n in range(4)]
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[-1:]
    assert [u["update_id"] for u in fake_api.pending_updates] == ids[-1:]


async def test_second_poller_terminates_the_first(fake_api: FakeBotApi, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await until_polling(fake_api)
    async with Bot(fake_api.token, base_url=fake_api.base_url) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates request"):
        await first


async def test_webhook_and_commands(fake_api: FakeBotApi, bot: Bot) -> None:
    fake_api.send_text(USER, "alt")
    with pytest.raises(BadRequest, match=r"(?i)HTTPS URL"):
        await bot.set_webhook("http://example.org/hook")
    assert await bot.set_webhook("https://example.org/hook", max_connections=5)
    assert fake_api.webhook_url == "https://example.org/hook"
    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert fake_api.webhook_url is None
    assert await bot.get_updates() == ()

    commands = [BotCommand("start", "Begrüßung"), BotCommand("hilfe", "Was kann ich fragen?")]
    assert await bot.set_my_commands(commands)
    assert fake_api.calls("setMyCommands")[-1].params["commands"] == [
        {"command": "start", "description": "Begrüßung"},
        {"command": "hilfe", "description": "Was kann ich fragen?"},
    ]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Hilfe!", "ungültig")])


@pytest.mark.usefixtures("ptb_timedelta")
async def test_telegram_style_errors(fake_api: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "Hallo")

    fake_api.send_text(USER, "Hallo")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER, " ")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "x" * 4097)
    with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "br"'):
        await bot.send_message(USER, "Zeile 1<br>Zeile 2", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER, "Kosten < 5 €", parse_mode=ParseMode.HTML)

    sent = await bot.send_message(USER, "a &lt; b", parse_mode=ParseMode.HTML)
    assert sent.text == "a < b"
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await sent.edit_text("a < b")
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("x", chat_id=USER, message_id=1)  # the user's message
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("12345")

    fake_api.block_bot(USER)
    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await bot.send_message(USER, "Hallo?")
    fake_api.block_bot(USER, blocked=False)

    fake_api.fail_next("sendChatAction", error_code=500)
    with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
        await bot.send_chat_action(USER, "typing")
    assert await bot.send_chat_action(USER, "typing")

    fake_api.fail_next("sendMessage", error_code=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "zu schnell")
    assert caught.value.retry_after == dt.timedelta(seconds=7)

    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendCarrierPigeon", api_kwargs={"chat_id": USER})
    assert fake_api.calls("sendCarrierPigeon")[0].status == 404


async def test_wrong_and_revoked_token(fake_api: FakeBotApi) -> None:
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with Bot("123456:wrong", base_url=fake_api.base_url):
            pass
    assert fake_api.calls("getMe")[-1].response == {
        "ok": False,
        "error_code": 401,
        "description": "Unauthorized",
    }

    old = fake_api.token
    new = fake_api.revoke_token()
    with pytest.raises(InvalidToken):
        async with Bot(old, base_url=fake_api.base_url):
            pass
    async with Bot(new, base_url=fake_api.base_url) as bot:
        assert (await bot.get_me()).username == "vereinbar_test_bot"


async def test_photo_and_document_upload(fake_api: FakeBotApi, bot: Bot) -> None:
    fake_api.send_text(USER, "Bild bitte")
    image = tiny_png(1600, 1200)
    message = await bot.send_photo(USER, image, caption="<i>Aushang</i>", parse_mode="HTML")

    assert message.caption == "Aushang"
    assert [(p.width, p.height) for p in message.photo] == [
        (90, 68),
        (320, 240),
        (800, 600),
        (1280, 960),
        (1600, 1200),
    ]
    upload = fake_api.calls("sendPhoto")[0].params["photo"]
    assert upload.data == image
    file = await bot.get_file(message.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == image

    again = await bot.send_photo(USER, message.photo[-1].file_id)  # re-send by file_id
    assert again.photo[-1].file_id == message.photo[-1].file_id
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(USER, b"not an image")

    document = await bot.send_document(USER, b"Name;Tage\n", filename="urlaub.csv")
    assert document.document is not None
    assert document.document.file_name == "urlaub.csv"
    assert fake_api.file_bytes(document.document.file_id) == b"Name;Tage\n"
    assert [m.method for m in fake_api.messages(USER)] == ["sendPhoto", "sendPhoto", "sendDocument"]


async def test_entities_of_user_messages(fake_api: FakeBotApi) -> None:
    fake_api.send_text(
        USER, "/start@vereinbar_test_bot Mail an kita@stadt-koeln.de #elternzeit 👶 /hilfe"
    )
    message = fake_api.pending_updates[0]["message"]
    kinds = [(e["type"], e["offset"], e["length"]) for e in message["entities"]]
    assert kinds == [
        ("bot_command", 0, 25),
        ("email", 34, 19),
        ("hashtag", 54, 11),
        ("bot_command", 69, 6),  # the emoji counts as two UTF-16 code units
    ]
