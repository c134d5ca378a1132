"""The handoff to the counselling office on Telegram: its buttons, an employee's messages to a
request, and the counselling group (replies, /erledigt, /hilfe).

Every decision and every word is in bot/chat/handoff.py. Here Telegram is adapted: a sender
that turns Telegram's errors into ``Undelivered``, and replies shown where the update came from.
An employee gets the desk of their chat's language (``Conversation.for_chat``); the group's
side hands in ``texts_for``, so the employee reads a counsellor's answer in that language too.
The group handlers are registered only for ``BOT_HANDOFF_CHAT_ID`` (bot.runtime.app).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from telegram import Bot, CallbackQuery, Message, ReplyParameters, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.chat import actions
from bot.chat.conversation import Reply, Rows, split_message
from bot.chat.handoff import Handoff, Reason, Sender, Undelivered
from handlers import questions
from handlers.context import BotContext
from handlers.keyboards import markup, send

logger = logging.getLogger("vereinbar")


def sender(bot: Bot) -> Sender:
    """Send through ``bot``: long texts in parts, buttons under the last, the first part as a
    reply when asked (still sent if that message is gone)."""

    async def deliver(
        chat_id: int, text: str, *, buttons: Rows = (), reply_to: int | None = None
    ) -> int:
        parts = split_message(text)
        message_id = 0
        try:
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                replying = reply_to is not None and i == 0
                message = await bot.send_message(
                    chat_id,
                    part,
                    reply_markup=markup(Reply(part, buttons)) if last else None,
                    reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)
                    if replying and reply_to is not None
                    else None,
                )
                message_id = message.message_id
        except Forbidden as exc:
            raise _undelivered(chat_id, exc, "blocked") from exc
        except BadRequest as exc:
            raise _undelivered(chat_id, exc, "refused") from exc
        except (NetworkError, RetryAfter) as exc:  # after the delivery retries gave up
            raise _undelivered(chat_id, exc, "network") from exc
        except TelegramError as exc:
            raise _undelivered(chat_id, exc, "refused") from exc
        return message_id

    return deliver


def _undelivered(chat_id: int, exc: TelegramError, reason: Reason) -> Undelivered:
    """Log for the operator (which side, Telegram's words; no ids), then hand the reason on."""
    side = "Beratungsgruppe" if chat_id < 0 else "anfragende Person"
    logger.warning("Nachricht an die %s nicht zustellbar: %s (%s)", side, type(exc).__name__, exc)
    return Undelivered(reason)


def _desk(context: BotContext, user_id: int | None = None) -> Handoff | None:
    """The handoff desk; for an employee (``user_id``), the one speaking their language."""
    conversation = context.conversation
    return conversation.handoff if user_id is None else conversation.for_chat(user_id).handoff


def _from_bot(message: Message, context: BotContext) -> bool:
    return message.from_user is not None and message.from_user.id == context.bot.id


def _button_data(message: Message) -> Iterator[str | None]:
    keyboard = message.reply_markup.inline_keyboard if message.reply_markup else ()
    for row in keyboard:
        for button in row:
            yield button.callback_data if isinstance(button.callback_data, str) else None


async def button(update: Update, context: BotContext) -> None:
    """A handoff button: preview, first name, "Senden", "Antworten", "Erledigt, danke"."""
    query = update.callback_query
    desk = _desk(context, query.from_user.id) if query else None
    action = actions.decode(query.data) if query else None
    if query is None or action is None or desk is None:
        return
    # Answered at once: sending to the group may take a moment, and the client shows a spinner.
    await query.answer()
    reply = await desk.button(
        context.services.library.current.kb,
        action,
        query.from_user.id,
        first_name=query.from_user.first_name,
        send=sender(context.bot),
    )
    await _put(query, reply)


async def _put(query: CallbackQuery, reply: Reply) -> None:
    """Edit the clicked message into the reply, or send the reply below it."""
    message = query.message
    if not isinstance(message, Message):
        return
    if reply.edit and len(split_message(reply.text)) == 1:
        try:
            await query.edit_message_text(reply.text, reply_markup=markup(reply))
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
    for i, part in enumerate(parts := split_message(reply.text)):
        last = i == len(parts) - 1
        await message.get_bot().send_message(
            message.chat_id, part, reply_markup=markup(reply) if last else None
        )


async def private_text(update: Update, context: BotContext) -> None:
    """Text in a private chat: after "Antworten", or as a reply to a relayed answer, it goes to
    the counselling group; everything else is a question for the bot."""
    message = update.effective_message
    user = update.effective_user
    desk = _desk(context, user.id) if user else None
    if message is None or message.text is None or user is None or desk is None:
        await questions.question(update, context)
        return
    replied = message.reply_to_message
    thread = None
    if replied is not None and _from_bot(replied, context):
        thread = desk.thread_of(_button_data(replied))
    if thread is None and not desk.awaits_message(user.id):
        await questions.question(update, context)
        return
    reply = await desk.message(user.id, message.text, thread=thread, send=sender(context.bot))
    if reply is None:
        await questions.question(update, context)
        return
    await send(update, [reply])


async def interrupt(update: Update, context: BotContext) -> None:
    """After any command in a private chat, the next text is no message to the counselling
    office (runs after the command's own handler)."""
    desk = _desk(context)
    if desk is not None and update.effective_user is not None:
        desk.interrupt(update.effective_user.id)


async def group_reply(update: Update, context: BotContext) -> None:
    """A reply in the counselling group to one of the bot's messages: relayed to the employee.

    With Telegram's privacy mode on (the default) the bot sees only such replies and commands,
    never the counsellors' other messages.
    """
    message = update.effective_message
    desk = _desk(context)
    replied = message.reply_to_message if message else None
    if message is None or desk is None or replied is None or not _from_bot(replied, context):
        return
    await desk.counsellor(
        replied_to=replied.message_id,
        message_id=message.message_id,
        text=message.text,
        send=sender(context.bot),
        texts_for=context.conversation.texts_for,
    )


async def close(update: Update, context: BotContext) -> None:
    """/erledigt in the counselling group, as a reply to a message of the request."""
    message = update.effective_message
    desk = _desk(context)
    if message is None or desk is None:
        return
    replied = message.reply_to_message
    await desk.close(
        replied_to=replied.message_id if replied and _from_bot(replied, context) else None,
        message_id=message.message_id,
        send=sender(context.bot),
        texts_for=context.conversation.texts_for,
    )


async def group_help(update: Update, context: BotContext) -> None:
    """/hilfe, other commands and mentions in the counselling group: how answering works."""
    desk = _desk(context)
    if desk is not None:
        await send(update, [desk.group_help()])
