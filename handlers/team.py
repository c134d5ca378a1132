"""Team-only commands and the notices the team gets.

Membership is checked once, by the filters these handlers are registered with
(``bot.runtime.app.register_handlers``): a non-member's team command falls through to the
unknown-command reply, and a non-member's ignore button to the stale menu.

Team texts come from the chat's catalogue ("team" in bot/chat/texts.de.yaml, read through
``Services.team_texts``: German, like the reports) and are HTML: every text from the log or
the knowledge base is escaped line by line before it is measured and split
(``bot.report.text.html_messages``), so no message can outgrow Telegram's limit through
escaping or be cut inside a tag.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ContextTypes

from bot import report
from bot.chat import actions, commands
from bot.chat.conversation import reload_message
from bot.chat.language import ENGLISH
from bot.chat.services import Services
from bot.chat.texts import Texts
from bot.report.text import html_messages
from bot.search.library import Reload, reload_knowledge
from handlers.context import SERVICES_KEY, BotContext
from handlers.keyboards import markup

logger = logging.getLogger("vereinbar")

GAPS_LISTED = 10
CAPTION_LIMIT = 1024
WEEKLY_JOB = "wochenbericht"


async def statistics(update: Update, context: BotContext) -> None:
    """/statistik: a short summary of the last 30 days and the weekly chart."""
    services = context.services
    summary, chart = await asyncio.to_thread(
        report.team_summary,
        services.settings.database,
        30,
        knowledge=services.library.current.kb,
        lexicon=services.library.current.index.lexicon,
    )
    message = update.effective_message
    if message is None:
        return
    await _send_html(message, summary)
    await message.reply_photo(chart, caption=services.team_texts.plain("team.chart"))


async def gaps(update: Update, context: BotContext) -> None:
    """/luecken: the open gaps, most people first, each with a hide button."""
    message = update.effective_message
    if message is None:
        return
    text, groups = await _gap_list(context.services)
    await _send_html(message, text, _ignore_markup(groups, context.services.team_texts))


async def ignore_group(update: Update, context: BotContext) -> None:
    """Button under /luecken: hide a group from later reports and update the list in place."""
    query = update.callback_query
    action = actions.decode(query.data) if query else None
    if query is None or action is None:  # the handler's pattern lets only ignore actions in
        return
    services = context.services
    await asyncio.to_thread(
        report.ignore_group,
        services.settings.database,
        action.args[0],
        lexicon=services.library.current.index.lexicon,
    )
    # CallbackQueries need to be answered, even if no notification to the user is needed.
    t = services.team_texts
    await query.answer(t.plain("team.hidden"))
    text, groups = await _gap_list(services)
    parts = html_messages(text)
    try:
        if len(parts) == 1:
            await query.edit_message_text(parts[0], reply_markup=_ignore_markup(groups, t))
        else:  # the list spans messages: drop the pressed button, keep the text
            await query.edit_message_reply_markup(_ignore_markup(groups, t))
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            logger.info("Lückenliste nicht aktualisiert (%s)", type(exc).__name__)


async def full_report(update: Update, context: BotContext) -> None:
    """/bericht: the complete HTML report as a file, its first screen as the caption."""
    message = update.effective_message
    if message is None:
        return
    services = context.services
    snapshot = services.library.current
    summary, html = await asyncio.to_thread(
        report.first_screen_and_html,
        services.settings.database,
        search_index=snapshot.index,
        knowledge=snapshot.kb,
    )
    name = services.team_texts.plain("team.report_file", date=date.today().isoformat())
    await message.reply_document(
        InputFile(html.encode("utf-8"), filename=name), caption=_caption(summary)
    )


async def team_help(update: Update, context: BotContext) -> None:
    """/hilfe for team members: the usual help, then the team commands."""
    message = update.effective_message
    if message is None:
        return
    reply = context.conversation.help()
    t = context.services.team_texts
    lines = [t("team.help")] + [
        t("help.command", name=name, description=description) for name, description in team_menu(t)
    ]
    await message.reply_text(f"{reply.text}\n\n" + "\n".join(lines), reply_markup=markup(reply))


def team_menu(texts: Texts) -> list[tuple[str, str]]:
    """(name, description) of every team command, in the order of the command table."""
    return [(c.name, texts.plain(f"team.command.{c.name}")) for c in commands.COMMANDS if c.team]


async def announce(bot: Bot, services: Services) -> None:
    """At start-up: the bot's description for everyone (German, and English for English
    apps), the team's own command menu.

    Telegram shows the description in an empty chat before /start and the short description
    on the bot's profile; the team menu is set per member's private chat
    (``BotCommandScopeChat``), so nobody else ever sees the team commands.
    """
    try:
        description, short = services.conversation.about()
        await bot.set_my_description(description)
        await bot.set_my_short_description(short)
        # Telegram shows these to users whose app speaks English.
        description, short = services.conversation.about(ENGLISH)
        await bot.set_my_description(description, language_code=ENGLISH)
        await bot.set_my_short_description(short, language_code=ENGLISH)
    except TelegramError as exc:
        logger.warning("Bot-Beschreibung nicht gesetzt: %s", type(exc).__name__)
    menu = [BotCommand(n, d) for n, d in services.conversation.command_menu()]
    menu += [BotCommand(n, d) for n, d in team_menu(services.team_texts)]
    for user_id in sorted(services.settings.team_ids):
        try:
            await bot.set_my_commands(menu, scope=BotCommandScopeChat(user_id))
        except TelegramError as exc:  # e.g. a member who has never started the bot
            logger.warning("Team-Befehlsmenü nicht gesetzt: %s", type(exc).__name__)


def schedule_weekly(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register the weekly summary (BOT_WEEKLY_REPORT) with the JobQueue, if it is set."""
    services: Services = application.bot_data[SERVICES_KEY]
    weekly = services.settings.weekly_report
    if weekly is None:
        return
    if application.job_queue is None:
        logger.warning("Wochenbericht aus: python-telegram-bot[job-queue] ist nicht installiert")
        return
    weekday, at = weekly
    local = at.replace(tzinfo=datetime.now().astimezone().tzinfo)
    # PTB counts weekdays from Sunday (0) like cron; Python's weekday() from Monday.
    application.job_queue.run_daily(
        weekly_report, local, days=((weekday + 1) % 7,), name=WEEKLY_JOB
    )


async def weekly_report(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue job: last week's summary and the full report to every team member."""
    services: Services = context.application.bot_data[SERVICES_KEY]
    snapshot = services.library.current
    summary, html = await asyncio.to_thread(
        report.weekly_summary,
        services.settings.database,
        search_index=snapshot.index,
        knowledge=snapshot.kb,
    )
    name = services.team_texts.plain("team.weekly_file", date=date.today().isoformat())
    for user_id in sorted(services.settings.team_ids):
        try:
            for part in html_messages(summary):
                await context.bot.send_message(user_id, part)
            await context.bot.send_document(user_id, InputFile(html.encode("utf-8"), filename=name))
        except TelegramError as exc:
            logger.warning("Wochenbericht nicht zustellbar: %s", type(exc).__name__)


async def reload(update: Update, context: BotContext) -> None:
    """/neuladen: validate and swap the knowledge base now."""
    was_broken = context.services.kb_broken
    outcome = await reload_and_tell(context.bot, context.services)
    if outcome.swapped and not was_broken:  # a broken one, or the all-clear, went to the team
        message = update.effective_message
        if message is not None:
            await message.reply_text(reload_message(True, outcome.problems, outcome.version))


async def reload_and_tell(bot: Bot, services: Services) -> Reload:
    """Reload the knowledge base; tell every team member what to fix when it is broken,
    and that all is well again once a fixed version is in service."""
    outcome = await asyncio.to_thread(reload_knowledge, services.library)
    if not outcome.swapped:
        text = reload_message(False, outcome.problems, outcome.version)
        services.kb_broken = True
        await notify_team(bot, services.settings.team_ids, text)
    elif services.kb_broken:
        services.kb_broken = False
        all_clear = services.team_texts("team.all_clear")
        text = f"{reload_message(True, outcome.problems, outcome.version)}\n{all_clear}"
        await notify_team(bot, services.settings.team_ids, text)
    return outcome


async def notify_team(bot: Bot, team_ids: Iterable[int], text: str) -> None:
    """Send one message to each team member; one unreachable member does not stop the rest."""
    for user_id in sorted(team_ids):
        try:
            await bot.send_message(user_id, text[:4096])
        except TelegramError as exc:
            logger.warning("Team-Nachricht nicht zustellbar: %s", type(exc).__name__)


async def _gap_list(services: Services) -> tuple[str, list[tuple[str, str]]]:
    snapshot = services.library.current
    return await asyncio.to_thread(
        report.gap_groups,
        services.settings.database,
        GAPS_LISTED,
        search_index=snapshot.index,
        knowledge=snapshot.kb,
    )


def _ignore_markup(groups: Sequence[tuple[str, str]], texts: Texts) -> InlineKeyboardMarkup | None:
    if not groups:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.plain("team.hide", wording=wording[:40]),
                    callback_data=actions.encode("ignore", group_id),
                )
            ]
            for group_id, wording in groups
        ]
    )


async def _send_html(
    message: Message, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """A plain report text as HTML messages; buttons go under the last one."""
    parts = html_messages(text)
    for number, part in enumerate(parts):
        last = number == len(parts) - 1
        await message.get_bot().send_message(
            message.chat_id, part, reply_markup=markup if last else None
        )


def _caption(summary: str) -> str:
    """The first screen as a caption, cut at a line so the HTML stays whole."""
    parts = html_messages(summary, limit=CAPTION_LIMIT)
    return parts[0] if parts else ""
