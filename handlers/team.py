"""Team-only commands; everyone else gets the same reply as for an unknown command."""

from __future__ import annotations

import asyncio
from html import escape

from telegram import Update

from bot.chat import actions
from bot.chat.conversation import Button, Reply
from handlers.context import BotContext
from handlers.keyboards import send, show


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
    from bot.report import build as report

    services = context.services
    summary, chart = await asyncio.to_thread(
        report.team_summary,
        services.settings.database,
        30,
        titles=services.library.current.kb.titles(),
    )
    message = update.effective_message
    if message is None:
        return
    await send(update, [Reply(f"<pre>{escape(summary)}</pre>")])
    await message.reply_photo(chart, caption="Fragen je Kalenderwoche nach Ergebnis")


async def gaps(update: Update, context: BotContext) -> None:
    """/luecken: the most frequent unanswered question groups, each with a hide button."""
    if not _is_team(update, context):
        await _refuse(update, context)
        return
    from bot.report import build as report

    services = context.services
    snapshot = services.library.current
    text, groups = await asyncio.to_thread(
        report.gap_groups,
        services.settings.database,
        10,
        search_index=snapshot.index,
        titles=snapshot.kb.titles(),
    )
    rows = tuple(
        (Button(f"🙈 ausblenden: {wording[:40]}", actions.encode("ignore", group_id)),)
        for group_id, wording in groups
    )
    await send(update, [Reply(f"<pre>{escape(text)}</pre>", rows)])


async def ignore_group(update: Update, context: BotContext) -> None:
    """Button under /luecken: hide a group from later reports (team only)."""
    query = update.callback_query
    if query is None:
        return
    action = actions.decode(query.data)
    if not _is_team(update, context) or action is None:
        await show(query, context.conversation.press(None))
        return
    from bot.report import build as report

    await asyncio.to_thread(report.ignore_group, context.services.settings.database, action.args[0])
    await query.answer("Gruppe ausgeblendet")


async def reload(update: Update, context: BotContext) -> None:
    """/neuladen: validate and swap the knowledge base now."""
    if not _is_team(update, context):
        await _refuse(update, context)
        return
    from bot.runtime.maintenance import reload_knowledge, reload_message

    swapped, _ = await reload_knowledge(context.application, context.services, notify_ok=False)
    kb = context.services.library.current.kb
    if swapped:
        await send(update, [Reply(reload_message(True, [], kb.version))])
