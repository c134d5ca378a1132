"""Background upkeep of a running bot: hot reload, retention, log flushing, heartbeat.

Kept out of bot/runtime/app.py so the wiring stays readable; everything here is started by
``post_init`` and cancelled by ``post_stop``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Any

from telegram.ext import Application

from bot.chat.services import Services
from bot.runtime.ops import write_heartbeat
from bot.search.library import Library, fingerprint
from handlers.team import reload_and_tell

logger = logging.getLogger("vereinbar")

WATCH_SECONDS = 2.0
SETTLE_SECONDS = 1.0


async def maintain(
    application: Application[Any, Any, Any, Any, Any, Any], services: Services
) -> None:
    """Hot reload of the knowledge base and daily retention, in one background loop."""
    last_purge: date | None = None
    while True:
        try:
            if services.log is not None and last_purge != date.today():
                removed = await asyncio.to_thread(services.log.purge)
                last_purge = date.today()
                logger.info("Aufbewahrungsfrist angewendet: %d Fragetexte gelöscht", removed)
            if services.library.changed() and await _settled(services.library):
                await reload_and_tell(application.bot, services)
            if services.log is not None and services.log.pending:
                await asyncio.to_thread(services.log.flush)
            _heartbeat(services)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the loop must survive anything a single round hits
            logger.error("Wartung fehlgeschlagen: %s", type(exc).__name__)
        await asyncio.sleep(WATCH_SECONDS)


async def _settled(library: Library) -> bool:
    """Wait until an edit has come to rest, so a save in several steps is checked once."""
    before = fingerprint(library.directory)
    await asyncio.sleep(SETTLE_SECONDS)
    return fingerprint(library.directory) == before


def _heartbeat(services: Services) -> None:
    kb = services.library.current.kb
    log = services.log
    write_heartbeat(
        services.settings.database,
        kb_version=kb.version,
        entries=len(kb.entries),
        updates_handled=services.updates_handled,
        last_update_at=services.last_update_at,
        log_pending=log.pending if log else None,
        log_dropped=log.dropped if log else None,
        log_available=log is not None or not services.settings.question_log,
    )
