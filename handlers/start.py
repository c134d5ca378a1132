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
    await send(update, [context.conversation.menu(user_id=user_of(update))])


async def help_command(update: Update, context: BotContext) -> None:
    """/hilfe: how to ask, with examples."""
    await send(update, [context.conversation.help(user_of(update))])


async def contacts(update: Update, context: BotContext) -> None:
    """/kontakt: whom to reach."""
    await send(update, [context.conversation.contacts(user_id=user_of(update))])


async def language(update: Update, context: BotContext) -> None:
    """/english and /deutsch: answer this chat in that language from now on."""
    message = update.effective_message
    # "/english@vereinbar_bot" names the command the table knows as "english".
    name = (message.text or "").split()[0].lstrip("/").split("@")[0] if message else ""
    await send(update, context.conversation.run_command(name, None, user_of(update)))


async def unknown_command(update: Update, context: BotContext) -> None:
    """Any other /command, including team commands for non-members (reveals nothing)."""
    await send(update, [context.conversation.unknown_command(user_of(update))])


def user_of(update: Update) -> int | None:
    """The user id that keys the chat's memory and language (never stored in clear)."""
    return update.effective_user.id if update.effective_user else None
