"""Team-only commands and the notices the team gets.

Membership is checked once, by the filters these handlers are registered with
(``bot.runtime.app.register_handlers``): a non-member's team command falls through to the
unknown-command reply, and a non-member's ignore button to the stale menu.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from html import escape

from telegram import Bot, Update
from telegram.error import TelegramError

from bot import report
from bot.chat import actions
from bot.chat.conversation import Button, Reply, reload_message
from bot.chat.services import Services
from bot.search.library import Reload, reload_knowledge
from handlers.context import BotContext
from handlers.keyboards import send

logger = logging.getLogger("vereinbar")


async def statistics(update: Update, context: BotContext) -> None:
    """/statistik: a short summary of the last 30 days and the weekly chart."""
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
    """Button under /luecken: hide a group from later reports."""
    query = update.callback_query
    action = actions.decode(query.data) if query else None
    if query is None or action is None:  # the handler's pattern lets only ignore actions in
        return
    await asyncio.to_thread(report.ignore_group, context.services.settings.database, action.args[0])
    await query.answer("Gruppe ausgeblendet")


async def reload(update: Update, context: BotContext) -> None:
    """/neuladen: validate and swap the knowledge base now."""
    outcome = await reload_and_tell(context.bot, context.services)
    if outcome.swapped:  # a broken one was already reported to the whole team
        await send(update, [Reply(reload_message(True, outcome.problems, outcome.version))])


async def reload_and_tell(bot: Bot, services: Services) -> Reload:
    """Reload the knowledge base; if it is broken, tell every team member what to fix."""
    outcome = await asyncio.to_thread(reload_knowledge, services.library)
    if not outcome.swapped:
        text = reload_message(False, outcome.problems, outcome.version)
        await notify_team(bot, services.settings.team_ids, text)
    return outcome


async def notify_team(bot: Bot, team_ids: Iterable[int], text: str) -> None:
    """Send one message to each team member; one unreachable member does not stop the rest."""
    for user_id in sorted(team_ids):
        try:
            await bot.send_message(user_id, text[:4096])
        except TelegramError as exc:
            logger.warning("Team-Nachricht nicht zustellbar: %s", type(exc).__name__)
