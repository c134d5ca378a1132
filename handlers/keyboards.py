"""From conversation replies to Telegram messages: inline keyboards, splitting, editing."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.chat.conversation import Reply, split_message

logger = logging.getLogger(__name__)


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(b.label, callback_data=b.action)
                for b in row
            ]
            for row in reply.buttons
        ]
    )


async def send(update: Update, replies: list[Reply]) -> None:
    """Send replies to the chat of the update; long texts go out in parts, buttons last."""
    message = update.effective_message
    if message is None:
        return
    for reply in replies:
        await _send_one(message, reply)


async def _send_one(message: Message, reply: Reply) -> None:
    parts = split_message(reply.text)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        await message.get_bot().send_message(
            message.chat_id, part, reply_markup=markup(reply) if last else None
        )


async def show(query: CallbackQuery, reply: Reply) -> None:
    """Answer a button click: edit the clicked message in place, or send anew if it can't be."""
    # CallbackQueries need to be answered, even if no notification to the user is needed.
    await query.answer(reply.notice)
    message = query.message
    if not isinstance(message, Message):
        return  # the message is too old to be accessible; nothing to edit
    parts = split_message(reply.text)
    if reply.edit and len(parts) == 1:
        try:
            await query.edit_message_text(parts[0], reply_markup=markup(reply))
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            logger.info("Nachricht nicht editierbar, sende neu (%s)", type(exc).__name__)
    await _send_one(message, reply)
