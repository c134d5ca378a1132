"""Messages the bot cannot read, group chats, floods and redeliveries."""

from __future__ import annotations

import time

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from handlers.context import BotContext
from handlers.keyboards import send


async def non_text(update: Update, context: BotContext) -> None:
    """Stickers, photos, voice, locations, documents: explain that only text works."""
    user = update.effective_user
    await send(update, [context.conversation.only_text(user.id if user else None)])


async def group_hint(update: Update, context: BotContext) -> None:
    """In groups the bot only points to the private chat and logs nothing."""
    user = update.effective_user
    await send(update, [context.conversation.group_hint(user.id if user else None)])


async def gatekeeper(update: Update, context: BotContext) -> None:
    """Runs before every handler: drop redelivered updates, slow down floods."""
    services = context.services
    if not services.seen.first_time(update.update_id):
        raise ApplicationHandlerStop
    # Marked as handled once its answer is out (bot.runtime.polling.UpdateFlow), not here: a
    # mark written before the answer would hide the update after a crash in between.
    services.updates_handled += 1
    services.last_update_at = time.time()
    user = update.effective_user
    if user is not None:  # the language of the user's app, for replies in English
        context.conversation.hear_language(user.id, user.language_code)
    if update.message is None or user is None:
        return
    verdict = services.rate.check(user.id)
    if verdict == "warn":
        await send(update, [context.conversation.slow_down(user.id)])
    if verdict != "ok":
        raise ApplicationHandlerStop
