"""Welcome, browsing, help and contacts."""

from __future__ import annotations

from telegram import Update

from handlers.context import BotContext
from handlers.keyboards import send


async def start(update: Update, context: BotContext) -> None:
    """/start, optionally with a deep-link payload such as ``pflege``."""
    payload = context.args[0] if context.args else None
    user = update.effective_user
    await send(update, context.conversation.start(payload, user.id if user else None))


async def topics(update: Update, context: BotContext) -> None:
    """/themen: the topic menu."""
    await send(update, [context.conversation.menu()])


async def help_command(update: Update, context: BotContext) -> None:
    """/hilfe: how to ask, with examples."""
    await send(update, [context.conversation.help()])


async def contacts(update: Update, context: BotContext) -> None:
    """/kontakt: whom to reach."""
    await send(update, [context.conversation.contacts()])


async def unknown_command(update: Update, context: BotContext) -> None:
    """Any other /command, including team commands for non-members (reveals nothing)."""
    await send(update, [context.conversation.unknown_command()])
