"""How updates come in and answers go out: per-chat order, retries, and safe log lines.

Pieces PTB lets a bot plug in, kept apart from the wiring in ``bot.runtime.app``:
``ChatOrderedProcessor`` (``concurrent_updates``), ``DeliveryRetry`` (``rate_limiter``), and
for the process log ``PrivacyFilter`` (no message text or identifiers) and ``SafeFormatter``
(the token masked).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import traceback
from collections.abc import Callable
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
    ``done`` hears about each update whose handlers have finished (its answer is out), so that
    only then it is confirmed to Telegram and remembered as handled (``bot.runtime.polling``).
    An update whose handling was cancelled (shutdown) is not done: Telegram delivers it again.
    """

    def __init__(
        self, max_concurrent_updates: int, *, done: Callable[[int], None] | None = None
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        self._done = done

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        key = _chat_key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                try:
                    await coroutine
                except asyncio.CancelledError:
                    raise  # not done: Telegram delivers it again
                except Exception:
                    self._finished(update)
                    raise
                self._finished(update)
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:  # forget idle chats so memory stays flat
                del self._waiting[key]
                del self._locks[key]

    def _finished(self, update: object) -> None:
        if isinstance(update, Update) and self._done is not None:
            self._done(update.update_id)

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


OWN_LOGGERS = frozenset({"vereinbar", "bot", "handlers", "__main__"})
"""Loggers of this project: their lines are written with privacy in mind and kept as they are."""
SPEAKING_ERRORS = (TelegramError, OSError, sqlite3.Error, TimeoutError)
"""Exceptions whose message is kept: Telegram's own descriptions, file and database errors.
Any other exception's message may quote data (a KeyError names the key), so only its type is
logged, with the frames where it happened."""
HIDDEN = "‹…›"


class _Hidden:
    """Stands for a hidden value under %s and %r alike."""

    def __repr__(self) -> str:
        return HIDDEN

    __str__ = __repr__


_HIDDEN = _Hidden()


class PrivacyFilter(logging.Filter):
    """No log line carries message text or identifiers, whoever logs it.

    Attached to the handlers, so it sees every record, python-telegram-bot's, aiohttp's and
    asyncio's included (PTB logged whole batches of updates with texts, names and ids when one
    of them could not be parsed). Libraries' lines keep their format string (written by the
    library's authors), the first line only, with only numbers filled in; everything else
    shows as ``‹…›``. Exceptions keep their frames and type; the message only for
    ``SPEAKING_ERRORS``. Telegram errors become one line, as expected network trouble.
    The record is changed in place, so every handler and formatter gets the same safe line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        own = record.name.split(".")[0] in OWN_LOGGERS
        if not own:
            _library_message(record)
        elif record.args:
            record.args = _safe_args(record.args)
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            if isinstance(error, TelegramError):
                record.msg = f"{record.getMessage()} ({type(error).__name__})"
                record.args = ()
                record.exc_text = None
            else:
                record.exc_text = safe_traceback(error)
            record.exc_info = None
        return True


def _library_message(record: logging.LogRecord) -> None:
    template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
    template = template.split("\n", 1)[0]
    args = record.args
    if args:
        shown: Any = (
            {k: _shown(v) for k, v in args.items()}
            if isinstance(args, dict)
            else tuple(_shown(a) for a in args)
        )
        try:
            template = template % shown
        except (TypeError, ValueError, KeyError):
            template = f"{template} {HIDDEN}"
    record.msg = template
    record.args = ()


def _shown(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _HIDDEN
    return value


def _safe_args(args: Any) -> Any:
    def safe(value: object) -> object:
        if isinstance(value, BaseException):
            return describe(value)
        return value

    if isinstance(args, dict):
        return {k: safe(v) for k, v in args.items()}
    return tuple(safe(a) for a in args)


def describe(error: BaseException) -> str:
    """The exception for a log line: its type, and its message if that cannot quote data."""
    name = type(error).__name__
    if isinstance(error, SPEAKING_ERRORS):
        text = str(error)
        return f"{name}: {text}" if text else name
    return name


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def safe_traceback(error: BaseException) -> str:
    """A traceback as Python prints it, with ``describe`` in place of each message."""
    lines: list[str] = []
    seen: set[int] = set()

    def walk(exc: BaseException) -> None:
        seen.add(id(exc))
        if exc.__cause__ is not None and id(exc.__cause__) not in seen:
            walk(exc.__cause__)
            lines.append(_CAUSE)
        elif (
            exc.__context__ is not None
            and not exc.__suppress_context__
            and id(exc.__context__) not in seen
        ):
            walk(exc.__context__)
            lines.append(_CONTEXT)
        if exc.__traceback__ is not None:
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
        lines.append(describe(exc) + "\n")

    walk(error)
    return "".join(lines).rstrip("\n")


class SafeFormatter(logging.Formatter):
    """Log lines operators can read and nobody can misuse: the token is masked in everything,
    tracebacks included (libraries put request URLs and the token into exception messages).
    Paired with ``PrivacyFilter``, which removes texts and identifiers."""

    def __init__(self, token: str | None) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._token = token

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and isinstance(record.exc_info[1], TelegramError):
            error = record.exc_info[1]  # one line, also where no PrivacyFilter ran first
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
            record.msg = f"{record.getMessage()} ({type(error).__name__})"
            record.args = ()
        text = super().format(record)
        return text.replace(self._token, "<TOKEN>") if self._token else text
