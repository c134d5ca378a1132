"""Free-text questions."""

from __future__ import annotations

import asyncio

from telegram import Update

from handlers.context import BotContext
from handlers.keyboards import send


async def question(update: Update, context: BotContext) -> None:
    """Answer a typed question with an answer card, choices or an honest 'I don't know'."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    user_id = update.effective_user.id if update.effective_user else None
    if context.conversation.slow_questions:
        # The semantic signal's embedding takes 10–70 ms of CPU: never on the event loop.
        await asyncio.to_thread(context.conversation.prepare, message.text)
    try:
        replies = context.conversation.ask(message.text, user_id)
    except Exception:
        # Logged here, not in the error handler: a question that was answered and logged but
        # whose sending failed must not be counted a second time.
        context.conversation.record_failure(message.text, user_id)
        raise
    await send(update, replies)
