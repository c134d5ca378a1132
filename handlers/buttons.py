"""Inline button clicks: menus, choices and feedback."""

from __future__ import annotations

from telegram import Update

from handlers.context import BotContext
from handlers.keyboards import show


async def button(update: Update, context: BotContext) -> None:
    """Route a click; outdated or forged data gets a friendly fresh menu."""
    query = update.callback_query
    if query is None:
        return
    # The user id keys the in-memory follow-up context and /vergessen's confirmation.
    await show(query, context.conversation.press(query.data, query.from_user.id))
