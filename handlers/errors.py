"""The error handler: log without personal data, apologise to the user."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError

from handlers.context import BotContext
from handlers.keyboards import send

logger = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure (type and place only, no message text or user ids) and apologise."""
    error = context.error
    if update is None and isinstance(error, Conflict | InvalidToken):
        # Polling said 409 or 401: bot.runtime.liveness has logged it in German already
        # (another instance polls with this token / the token was revoked).
        return
    if update is None and isinstance(error, NetworkError):
        logger.warning("Abfrage bei Telegram fehlgeschlagen (%s); neuer Versuch folgt",
                       type(error).__name__)  # fmt: skip
        return
    logger.error(
        "Fehler bei der Verarbeitung: %s in %s",
        type(error).__name__,
        where(error),
        exc_info=(type(error), error, error.__traceback__) if error else None,
    )
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    # A question that failed is logged as 'failed' by handlers.questions, which knows whether
    # it was logged already.
    try:
        user = update.effective_user
        await send(update, [context.services.conversation.failure(user.id if user else None)])
    except Exception as exc:  # the apology itself failed (e.g. network): nothing more to do
        logger.warning("Entschuldigung nicht zustellbar: %s", type(exc).__name__)


def where(error: BaseException | None) -> str:
    """The innermost frame of the traceback, where the error was raised (not PTB's dispatcher).

    Function, file name and line only: never local variables, which may hold message text.
    """
    frames = list(traceback.walk_tb(error.__traceback__ if error else None))
    if not frames:
        return "?"
    frame, line = frames[-1]
    return f"{frame.f_code.co_name} ({Path(frame.f_code.co_filename).name}:{line})"
