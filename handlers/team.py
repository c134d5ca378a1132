"""Team-only commands; everyone else gets the same reply as for an unknown command."""

from __future__ import annotations

import asyncio
from html import escape

from telegram import Update

from handlers.context import BotContext
from handlers.keyboards import send


def _is_team(update: Update, context: BotContext) -> bool:
    user = update.effective_user
    return context.services.is_team(user.id if user else None)


async def _refuse(update: Update, context: BotContext) -> None:
    await send(update, [context.conversation.unknown_command()])


async def statistics(update: Update, context: BotContext) -> None:
    """/statistik: a short summary of the last 30 days and the weekly chart."""
    if not _is_team(update, context):
        await _refuse(update, context)
        return
    from bot import report

    database = context.services.settings.database
    summary, chart = await asyncio.to_thread(report.team_summary, database, 30)
    message = update.effective_message
    if message is None:
        return
    await message.reply_text(f"<pre>{escape(summary)}</pre>"[:4096])
    if chart:
        await message.reply_photo(chart, caption="Fragen je Woche nach Ergebnis")


async def gaps(update: Update, context: BotContext) -> None:
    """/luecken: the most frequent unanswered questions, grouped."""
    if not _is_team(update, context):
        await _refuse(update, context)
        return
    from bot import report

    services = context.services
    text = await asyncio.to_thread(report.gaps_text, services.settings.database,
                                   services.library.current.index, 10)
    message = update.effective_message
    if message is not None:
        await message.reply_text(f"<pre>{escape(text)}</pre>"[:4096])


async def reload(update: Update, context: BotContext) -> None:
    """/neuladen: validate and swap the knowledge base now."""
    if not _is_team(update, context):
        await _refuse(update, context)
        return
    from bot.app import reload_knowledge

    swapped, _ = await reload_knowledge(context.application, context.services, notify_ok=False)
    from bot.app import reload_message

    kb = context.services.library.current.kb
    message = update.effective_message
    if message is not None and swapped:
        await message.reply_text(reload_message(True, [], kb.version))
