"""Free-text questions."""

from __future__ import annotations

from telegram import Update

from handlers.context import BotContext
from handlers.keyboards import send


async def question(update: Update, context: BotContext) -> None:
    """Answer a typed question with an answer card, choices or an honest 'I don't know'."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    user = update.effective_user
    await send(update, context.conversation.ask(message.text, user.id if user else None))
