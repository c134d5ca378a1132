"""The one place that wires the Telegram Application: builder, handlers, lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import secrets
import sys
import time
from collections.abc import Callable, Collection, Coroutine
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, LinkPreviewOptions, MessageEntity, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.chat import actions
from bot.chat.commands import COMMANDS
from bot.chat.conversation import Conversation
from bot.chat.handoff import CLOSE_COMMAND, Handoff
from bot.chat.services import SeenUpdates, Services, UserRateLimit
from bot.config import Settings
from bot.log.tickets import MemoryRunner, TicketStore
from bot.log.writer import QuestionLog, load_or_create_secret
from bot.runtime.delivery import ChatOrderedProcessor, DeliveryRetry, PrivacyFilter, SafeFormatter
from bot.runtime.liveness import TOKEN_REJECTED, Liveness
from bot.runtime.maintenance import heartbeat, maintain, watch
from bot.runtime.ops import AlreadyRunning, InstanceLock, write_heartbeat
from bot.runtime.polling import PollingRequest, UpdateFlow, WatchedRequest
from bot.search.library import Library
from handlers import buttons, errors, handoff, other, privacy, questions, start
from handlers import team as team_handlers
from handlers.context import SERVICES_KEY, BotContext

logger = logging.getLogger("vereinbar")

ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]


def configure_logging(token: str | None) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    # httpx logs every request URL at INFO, and the URL contains the token.
    for noisy in ("httpx", "httpcore", "aiohttp.access", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(SafeFormatter(token))
        handler.addFilter(PrivacyFilter())  # on the handler: it sees every library's records


def open_log(settings: Settings) -> QuestionLog | None:
    """The question log is essential but not vital: without it the bot still answers."""
    if not settings.question_log:
        logger.info("Frageprotokoll abgeschaltet (BOT_QUESTION_LOG=0)")
        return None
    try:
        settings.database.parent.mkdir(parents=True, exist_ok=True)
        secret = load_or_create_secret(settings.database, settings.log_secret)
        return QuestionLog(settings.database, secret, retention_days=settings.retention_days)
    except Exception as exc:
        logger.error("Frageprotokoll nicht verfügbar: %s", exc)
        return None


def build_application(
    settings: Settings, library: Library, log: QuestionLog | None
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Build the Application with its services; nothing is started here."""
    if not settings.token:
        raise ValueError("token required")
    conversation = Conversation(
        lambda: library.current,
        log,
        channel="telegram",
        retention_days=settings.retention_days,
        handoff=open_handoff(settings, log),
    )
    seen = SeenUpdates(handled=log.handled_updates() if log is not None else ())
    services = Services(
        settings, library, conversation, log, UserRateLimit(settings.user_rate), seen
    )
    rate = settings.rate_limit
    liveness = Liveness()
    # An update counts as handled (and is confirmed to Telegram) once its answer is out.
    flow = UpdateFlow(on_finished=log.mark_handled if log is not None else None)
    requests = (
        WatchedRequest(liveness, connection_pool_size=64, proxy=settings.proxy),
        PollingRequest(flow, liveness, connection_pool_size=2, proxy=settings.proxy),
    )
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .context_types(ContextTypes(context=BotContext))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
            )
        )
        .rate_limiter(
            DeliveryRetry(
                overall_max_rate=rate,
                overall_time_period=1,
                group_max_rate=0 if rate == 0 else 20,
                max_retries=5,
            )
        )
        .concurrent_updates(ChatOrderedProcessor(256, done=flow.finished))
        .request(requests[0])
        .get_updates_request(requests[1])
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    if settings.base_url:
        base = settings.base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")
    application = builder.build()
    application.bot_data[SERVICES_KEY] = services
    application.bot_data["requests"] = requests
    application.bot_data["liveness"] = liveness
    application.bot_data["flow"] = flow
    register_handlers(
        application, team_ids=settings.team_ids, handoff_chat=settings.handoff_chat_id
    )
    team_handlers.schedule_weekly(application)
    return application


def open_handoff(settings: Settings, log: QuestionLog | None) -> Handoff | None:
    """The way to the counselling group, if one is configured. Its tickets live in the question
    log's file; without a log, in memory only (a restart forgets them)."""
    if settings.handoff_chat_id is None:
        return None
    store = TicketStore(
        log if log is not None else MemoryRunner(),
        group_chat=settings.handoff_chat_id,
        keep_days=settings.handoff_days,
    )
    return Handoff(store=store)


class TeamCallbackQueryHandler(CallbackQueryHandler[BotContext, None]):
    """A CallbackQueryHandler for the team only; everyone else's click goes on to the next one.

    PTB's ``filters.User`` looks at messages, and a button click is no message, so the same
    filter object is asked about the clicking user here.
    """

    def __init__(
        self,
        callback: Callable[[Update, BotContext], Coroutine[Any, Any, None]],
        *,
        pattern: Callable[[object], bool],
        team: filters.User,
    ) -> None:
        super().__init__(callback, pattern=pattern)
        self.team = team

    def check_update(self, update: object) -> bool | object | None:
        user = update.effective_user if isinstance(update, Update) else None
        if user is None or user.id not in self.team.user_ids:
            return None
        return super().check_update(update)


def is_action(*verbs: actions.Verb) -> Callable[[object], bool]:
    """A callback-data pattern that accepts exactly the well-formed buttons of these kinds."""

    def matches(data: object) -> bool:
        action = actions.decode(data) if isinstance(data, str) else None
        return action is not None and action.verb in verbs

    return matches


def register_handlers(
    application: Application[Any, Any, Any, Any, Any, Any],
    *,
    team_ids: Collection[int],
    handoff_chat: int | None = None,
) -> None:
    """All handlers in one place; the first matching handler of a group wins."""
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    team = filters.User(user_id=team_ids)
    application.add_handler(TypeHandler(Update, other.gatekeeper), group=-1)
    callbacks = {
        "start": start.start,
        "menu": start.topics,
        "help": start.help_command,
        "contacts": start.contacts,
        "privacy": privacy.privacy,
        "forget": privacy.forget,
        "language": start.language,
        "statistics": team_handlers.statistics,
        "gaps": team_handlers.gaps,
        "report": team_handlers.full_report,
        "reload": team_handlers.reload,
    }
    help_names = next(c.names for c in COMMANDS if c.action == "help")
    # Team members' /hilfe also lists the team commands; first match wins, so it goes first.
    application.add_handler(
        CommandHandler(help_names, team_handlers.team_help, filters=private & team)
    )
    for command in COMMANDS:  # the one command table of bot/chat/commands.py
        gate = private & team if command.team else private
        for name in command.names:
            application.add_handler(CommandHandler(name, callbacks[command.action], filters=gate))
    # Everything else that looks like a command, team commands from non-members included.
    application.add_handler(MessageHandler(private & filters.COMMAND, start.unknown_command))
    # With a counselling group, text may continue a request (handlers.handoff hands the rest on).
    text = questions.question if handoff_chat is None else handoff.private_text
    application.add_handler(MessageHandler(private & filters.TEXT, text))
    application.add_handler(MessageHandler(private & ~filters.TEXT, other.non_text))
    application.add_handler(
        TeamCallbackQueryHandler(team_handlers.ignore_group, pattern=is_action("ignore"), team=team)
    )
    if handoff_chat is not None:
        application.add_handler(
            CallbackQueryHandler(handoff.button, pattern=is_action(*actions.HANDOFF))
        )
    application.add_handler(CallbackQueryHandler(buttons.button))
    group_mention = filters.COMMAND | filters.Entity(MessageEntity.MENTION)
    if handoff_chat is not None:  # the counselling group: replies are relayed, not pointed away
        counselling = filters.Chat(chat_id=handoff_chat) & filters.UpdateType.MESSAGE
        application.add_handler(CommandHandler(CLOSE_COMMAND, handoff.close, filters=counselling))
        application.add_handler(
            MessageHandler(counselling & filters.REPLY & ~filters.COMMAND, handoff.group_reply)
        )
        application.add_handler(MessageHandler(counselling & group_mention, handoff.group_help))
        # A second pass for commands: after /themen & co., text is no message to a request.
        application.add_handler(
            MessageHandler(private & filters.COMMAND, handoff.interrupt), group=1
        )
    application.add_handler(
        MessageHandler(
            filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & group_mention, other.group_hint
        )
    )
    application.add_error_handler(errors.on_error)


def _services(application: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    return application.bot_data[SERVICES_KEY]  # type: ignore[no-any-return]


async def _post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    try:
        conversation = _services(application).conversation
        menu = conversation.command_menu()
        await application.bot.set_my_commands([BotCommand(n, d) for n, d in menu])
        # Telegram shows this one to users whose app speaks English.
        english = conversation.command_menu("en")
        await application.bot.set_my_commands(
            [BotCommand(n, d) for n, d in english], language_code="en"
        )
    except TelegramError as exc:
        logger.warning("Befehlsmenü nicht gesetzt: %s", type(exc).__name__)
    services = _services(application)
    await team_handlers.announce(application.bot, services)
    liveness: Liveness = application.bot_data["liveness"]
    application.bot_data["maintenance"] = asyncio.create_task(
        maintain(application, services, liveness)
    )
    application.bot_data["watch"] = asyncio.create_task(
        watch(
            services,
            liveness,
            application.bot_data["flow"],
            lock=application.bot_data.get("lock"),
        )
    )


async def _post_stop(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    for name in ("maintenance", "watch"):
        task = application.bot_data.pop(name, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    await _confirm_finished(application)


async def _confirm_finished(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Confirm to Telegram the updates answered since the updater's last poll (the updater
    stops before the updates in hand are done); the unfinished ones come again after a start."""
    liveness: Liveness = application.bot_data["liveness"]
    flow: UpdateFlow = application.bot_data["flow"]
    offset = flow.offset(None)
    if liveness.mode != "polling" or liveness.rejected or offset is None:
        return
    try:
        await application.bot.get_updates(offset=offset, limit=1, timeout=0)
    except TelegramError as exc:
        logger.warning(
            "Erledigte Updates nicht bestätigt (%s); Telegram stellt sie nach dem nächsten "
            "Start erneut zu, sie werden dann als erledigt erkannt",
            type(exc).__name__,
        )


async def _post_shutdown(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    # A start that failed (bad token, no network) never initialised the bot, so
    # Application.shutdown skipped the HTTP sessions; close them here (idempotent).
    for request in application.bot_data.get("requests", ()):
        await request.shutdown()
    services = _services(application)
    if services.log is not None:
        await asyncio.to_thread(services.log.close)
    # The last heartbeat says the bot stopped, and why, with the log's final state.
    liveness: Liveness = application.bot_data["liveness"]
    served = liveness.polled_at is not None or liveness.mode != "polling"
    fields = heartbeat(services, liveness, application.bot_data.get("flow"))
    with contextlib.suppress(OSError):
        write_heartbeat(
            services.settings.database,
            **fields,
            stopped=True,
            stopped_at=time.time(),
            stop_reason=liveness.fatal or ("regulär beendet" if served else "Start abgebrochen"),
        )


def run_bot(
    settings: Settings,
    library: Library,
    *,
    webhook_url: str | None = None,
    listen: tuple[str, int] | None = None,
) -> None:
    """Long polling (or a webhook) until SIGINT/SIGTERM; pending updates are kept.

    Exits with one German line (code 1) when the bot cannot serve: another instance holds the
    database, Telegram rejects the token (also when it is revoked while running), or polling
    stopped for good.
    """
    configure_logging(settings.token)
    lock = InstanceLock(settings.database, side_file=not settings.question_log)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        raise SystemExit(str(exc)) from exc
    except OSError as exc:
        raise SystemExit(
            f"Datenbank {settings.database} kann nicht angelegt oder gesperrt werden "
            f"({exc.strerror or exc})."
        ) from exc
    try:
        log = open_log(settings)
        application = build_application(settings, library, log)
        liveness: Liveness = application.bot_data["liveness"]
        liveness.stopper = application.stop_running
        application.bot_data["lock"] = lock
        if webhook_url:
            liveness.mode = "webhook"
            host, port = listen or ("127.0.0.1", 8443)
            path = urlsplit(webhook_url).path.lstrip("/")
            application.run_webhook(
                listen=host,
                port=port,
                url_path=path,
                webhook_url=webhook_url,
                secret_token=settings.webhook_secret or secrets.token_urlsafe(32),
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
                bootstrap_retries=3,
            )
        else:
            application.run_polling(
                allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False, bootstrap_retries=3
            )
    except InvalidToken as exc:
        raise SystemExit(TOKEN_REJECTED) from exc
    except NetworkError as exc:
        raise SystemExit(f"Telegram nicht erreichbar: {type(exc).__name__}.") from exc
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE or not webhook_url:
            raise
        host, port = listen or ("127.0.0.1", 8443)
        raise SystemExit(
            f"Webhook: {host}:{port} ist schon belegt ({exc.strerror}) – "
            "einen freien Port mit --listen wählen."
        ) from exc
    finally:
        lock.release()
    if liveness.fatal is not None:
        raise SystemExit(liveness.fatal)
