"""Privacy information and deletion on request."""

from __future__ import annotations

import asyncio

from telegram import Update

from handlers.context import BotContext
from handlers.keyboards import send


async def privacy(update: Update, context: BotContext) -> None:
    """/datenschutz and /privacy (Telegram's bot terms require the latter)."""
    user = update.effective_user
    await send(update, [context.conversation.privacy(user.id if user else None)])


async def forget(update: Update, context: BotContext) -> None:
    """/vergessen: delete the caller's questions from the log."""
    user = update.effective_user
    # The deletion waits for the log's writer thread: off the event loop, like every wait on SQLite.
    reply = await asyncio.to_thread(context.conversation.forget, user.id if user else None)
    await send(update, [reply])
