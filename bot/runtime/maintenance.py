"""Background upkeep of a running bot, and the watchdog that keeps an eye on it and on polling.

Kept out of bot/runtime/app.py so the wiring stays readable; both loops are started by
``post_init`` and cancelled by ``post_stop``:

* ``maintain``: hot reload of the knowledge base, daily retention, log flushing, and the team
  notices nobody should miss (entries gone after a reload, a question log created anew).
* ``watch``: the heartbeat every ``HEARTBEAT_SECONDS`` (also while a maintenance round hangs),
  the instance lock, and the process's own liveness: polling that stopped asking Telegram ends
  the process (systemd restarts it), a maintenance round that hangs is logged and shown by
  ``python -m bot status``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import date
from typing import Any, Final

from telegram.ext import Application

from bot.chat.services import Services
from bot.chat.texts import Html
from bot.runtime.liveness import Liveness
from bot.runtime.ops import HEARTBEAT_SECONDS, InstanceLock, write_heartbeat
from bot.runtime.polling import UpdateFlow
from bot.search.library import Library, fingerprint, reload_knowledge
from handlers.team import notify_team, reload_and_tell

logger = logging.getLogger("vereinbar")

WATCH_SECONDS = 2.0
SETTLE_SECONDS = 1.0
MAINTENANCE_STALE_S: Final = 60.0
"""A maintenance round (reload, purge, flush) running longer than this hangs."""
RETRY_UNREADABLE_S: Final = 60.0
"""A knowledge folder that could not be read is tried again this often, even unchanged (a
permission fixed on a parent folder leaves the files' own fingerprint alone)."""
POLL_STALL_S: Final = 120.0
"""No getUpdates began or ended for this long: PTB's polling loop is gone (its pauses between
failed attempts are at most 30 s, a long poll lasts 10 s plus the read timeout)."""

MAX_LISTED = 15


async def maintain(
    application: Application[Any, Any, Any, Any, Any, Any],
    services: Services,
    liveness: Liveness,
) -> None:
    """Hot reload of the knowledge base, daily retention and team notices, in one loop."""
    last_purge: date | None = None
    known = _entries(services.library)
    recreated = 0
    broken_while: object = None  # the snapshot that kept serving when the folder was broken
    tried_at = 0.0
    while True:
        liveness.maintenance_since = time.time()
        try:
            if services.log is not None and last_purge != date.today():
                removed = await asyncio.to_thread(services.log.purge)
                last_purge = date.today()
                logger.info("Aufbewahrungsfrist angewendet: %d Fragetexte gelöscht", removed)
            if services.library.changed() and await _settled(services.library):
                outcome = await reload_and_tell(application.bot, services)
                errors = [str(p) for p in outcome.problems if p.severity == "fehler"]
                liveness.knowledge_errors = () if outcome.swapped else tuple(errors)
                broken_while = None if outcome.swapped else services.library.current
                tried_at = time.monotonic()
            elif _unreadable(liveness) and time.monotonic() - tried_at > RETRY_UNREADABLE_S:
                tried_at = time.monotonic()
                retried = await asyncio.to_thread(reload_knowledge, services.library)
                if retried.swapped:  # readable again: quietly back to normal
                    liveness.knowledge_errors = ()
                    broken_while = None
            if broken_while is not None and services.library.current is not broken_while:
                liveness.knowledge_errors = ()  # /neuladen swapped a good version in
                broken_while = None
            known = await _announce_removed(application, services, known)
            recreated = await _announce_recreated(application, services, recreated)
            if services.log is not None and services.log.pending:
                await asyncio.to_thread(services.log.flush)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the loop must survive anything a single round hits
            logger.error("Wartung fehlgeschlagen: %s", type(exc).__name__)
        liveness.maintenance_since = None
        liveness.maintained_at = time.time()
        await asyncio.sleep(WATCH_SECONDS)


async def _settled(library: Library) -> bool:
    """Wait until an edit has come to rest, so a save in several steps is checked once."""
    before = fingerprint(library.directory)
    await asyncio.sleep(SETTLE_SECONDS)
    return fingerprint(library.directory) == before


def _unreadable(liveness: Liveness) -> bool:
    return any("nicht lesbar" in error for error in liveness.knowledge_errors)


def _entries(library: Library) -> dict[str, str]:
    return {e.id: e.title for e in library.current.kb.entries.values()}


async def _announce_removed(
    application: Application[Any, Any, Any, Any, Any, Any],
    services: Services,
    known: dict[str, str],
) -> dict[str, str]:
    """Tell the team when a knowledge base now in service lacks entries the last one had
    (hot reload or /neuladen alike): a deleted file is a valid knowledge base, too."""
    current = _entries(services.library)
    gone = [(ident, title) for ident, title in known.items() if ident not in current]
    if gone:
        t = services.team_texts
        lines = [t("team.removed_item", title=title, id=ident) for ident, title in gone]
        if len(gone) > MAX_LISTED:
            lines = [*lines[:MAX_LISTED], t.plural("team.removed_more", len(gone) - MAX_LISTED)]
        version = services.library.current.kb.version
        text = t.plural("team.removed", len(gone), version=version, entries=Html("\n".join(lines)))
        logger.warning("Wissensbasis neu geladen: %d Einträge sind weggefallen", len(gone))
        await notify_team(application.bot, services.settings.team_ids, text)
    return current


async def _announce_recreated(
    application: Application[Any, Any, Any, Any, Any, Any], services: Services, seen: int
) -> int:
    """Tell the team once per time the question log's file vanished under the running bot."""
    if services.log is None:
        return seen
    health = services.log.health()
    if health.recreated > seen:
        name = services.settings.database.name
        text = services.team_texts.plural("team.recreated", health.vanished_rows, name=name)
        await notify_team(application.bot, services.settings.team_ids, text)
    return health.recreated


async def watch(
    services: Services,
    liveness: Liveness,
    flow: UpdateFlow,
    *,
    lock: InstanceLock | None,
) -> None:
    """The heartbeat, the lock and the process's own liveness, every ``HEARTBEAT_SECONDS``."""
    hang_reported = False
    while True:
        try:
            write_heartbeat(services.settings.database, **heartbeat(services, liveness, flow))
        except OSError as exc:
            if liveness.heartbeat_error is None:
                logger.error(
                    "Lebenszeichen %s.status.json nicht schreibbar (%s); "
                    "python -m bot status meldet den Bot als gestört",
                    services.settings.database.name,
                    type(exc).__name__,
                )
            liveness.heartbeat_error = type(exc).__name__
        else:
            if liveness.heartbeat_error is not None:
                logger.warning("Lebenszeichen wieder schreibbar")
            liveness.heartbeat_error = None
        if lock is not None:
            reason = lock.verify()
            if reason is not None:
                liveness.stop(reason)
        idle = time.monotonic() - liveness.poll_active_at
        if liveness.mode == "polling" and idle > POLL_STALL_S:
            liveness.stop(
                f"Die Abfrage neuer Nachrichten steht seit {idle:.0f} s still; der Bot beendet "
                "sich, damit er neu gestartet wird."
            )
        since = liveness.maintenance_since
        if since is not None and time.time() - since > MAINTENANCE_STALE_S:
            if not hang_reported:
                logger.error(
                    "Wartung hängt seit %.0f s (Neuladen, Aufbewahrungsfrist oder Protokoll)",
                    time.time() - since,
                )
            hang_reported = True
        else:
            hang_reported = False
        await asyncio.sleep(HEARTBEAT_SECONDS)


def heartbeat(services: Services, liveness: Liveness, flow: UpdateFlow | None) -> dict[str, object]:
    """What the heartbeat says: times, counts and error types, never anything personal."""
    kb = services.library.current.kb
    log = services.log
    health = log.health() if log is not None else None
    fields: dict[str, object] = {
        "kb_version": kb.version,
        "entries": len(kb.entries),
        "knowledge_errors": list(liveness.knowledge_errors[:5]),
        "updates_handled": services.updates_handled,
        "updates_in_hand": flow.in_hand if flow is not None else 0,
        "last_update_at": services.last_update_at,
        "log_available": log is not None or not services.settings.question_log,
        **liveness.snapshot(),
    }
    if health is not None:
        fields.update(
            log_pending=health.pending,
            log_dropped=health.dropped,
            log_recreated=health.recreated,
            log_vanished_rows=health.vanished_rows,
            log_writable=health.writable,
            log_error=health.last_error,
            log_wipe_pending=health.wipe_pending,
        )
    return fields
