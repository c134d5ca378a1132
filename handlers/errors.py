"""The error handler: log without personal data, apologise to the user."""

from __future__ import annotations

import logging

from telegram import Update

from handlers.context import BotContext
from handlers.keyboards import send

logger = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure (type and place only, no message text or user ids) and apologise."""
    error = context.error
    where = error.__traceback__.tb_frame.f_code.co_name if error and error.__traceback__ else "?"
    logger.error("Fehler bei der Verarbeitung: %s in %s", type(error).__name__, where,
                 exc_info=(type(error), error, error.__traceback__) if error else None)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    services = context.services
    message = update.message
    if message is not None and message.text and not message.text.startswith("/"):
        user = update.effective_user
        services.conversation.record_failure(message.text, user.id if user else None)
    try:
        await send(update, [services.conversation.failure()])
    except Exception as exc:  # the apology itself failed (e.g. network): nothing more to do
        logger.warning("Entschuldigung nicht zustellbar: %s", type(exc).__name__)
