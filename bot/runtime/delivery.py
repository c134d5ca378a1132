"""How updates come in and answers go out: per-chat order, retries, and safe log lines.

Three pieces PTB lets a bot plug in, kept apart from the wiring in ``bot.runtime.app``:
``ChatOrderedProcessor`` (``concurrent_updates``), ``DeliveryRetry`` (``rate_limiter``) and
``SafeFormatter`` (the logging formatter that masks the token).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import Update
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, BaseUpdateProcessor

logger = logging.getLogger("vereinbar")

# Answers ride out a short Telegram outage instead of being lost (see DeliveryRetry).
DELIVERY_ENDPOINTS = frozenset(
    {"sendMessage", "sendPhoto", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery"}
)
DELIVERY_RETRY_SECONDS = 20.0


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Handle updates concurrently across chats, but one at a time within a chat.

    One slow answer never holds up other users, and a user's own messages keep their order.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        key = _chat_key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:  # forget idle chats so memory stays flat
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _chat_key(update: object) -> int:
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return 0


class DeliveryRetry(AIORateLimiter):
    """The rate limiter, plus bounded retries when an answer cannot reach Telegram.

    PTB keeps polling through an outage, but a send that hits a refused or dropped connection
    fails at once, and by then the update is already confirmed to Telegram: the answer would be
    lost. Answers are therefore retried for up to ``DELIVERY_RETRY_SECONDS``, with growing
    pauses. ``BadRequest`` is final. Trade-off: if Telegram did receive a request whose
    response was lost, the retry can deliver that answer twice – better than not at all.
    """

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DELIVERY_RETRY_SECONDS
        pause = 0.5
        while True:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except BadRequest:
                raise
            except NetworkError as exc:
                if endpoint not in DELIVERY_ENDPOINTS or loop.time() + pause > deadline:
                    raise
                logger.warning(
                    "Telegram nicht erreichbar (%s bei %s), neuer Versuch in %.1f s",
                    type(exc).__name__,
                    endpoint,
                    pause,
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 4.0)


class SafeFormatter(logging.Formatter):
    """Log lines operators can read and nobody can misuse.

    The token is masked in everything, tracebacks included (libraries put request URLs and
    the token into exception messages), and expected network trouble is logged as one line
    instead of a traceback.
    """

    def __init__(self, token: str | None) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._token = token

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and isinstance(record.exc_info[1], TelegramError):
            error = record.exc_info[1]
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
            record.msg = f"{record.getMessage()} ({type(error).__name__})"
            record.args = ()
        text = super().format(record)
        return text.replace(self._token, "<TOKEN>") if self._token else text
