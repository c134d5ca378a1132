"""Background upkeep of a running bot: hot reload, retention, log flushing, heartbeat.

Kept out of bot/runtime/app.py so the wiring stays readable; everything here is started by
``post_init`` and cancelled by ``post_stop``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from html import escape
from typing import Any

from telegram.error import TelegramError
from telegram.ext import Application

from bot.chat.services import Services
from bot.knowledge.schema import Problem
from bot.runtime.ops import write_heartbeat
from bot.search.library import Library, fingerprint

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
                await reload_knowledge(application, services, notify_ok=False)
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


async def reload_knowledge(
    application: Application[Any, Any, Any, Any, Any, Any], services: Services, *, notify_ok: bool
) -> tuple[bool, list[Problem]]:
    """Validate and swap; on errors keep serving the last good version and tell the team."""
    swapped, problems = await asyncio.to_thread(services.library.reload)
    kb = services.library.current.kb
    if swapped:
        logger.info(
            "Wissensbasis neu geladen: Version %s, %d Einträge", kb.version, len(kb.entries)
        )
        if notify_ok:
            await notify_team(application, services, reload_message(True, problems, kb.version))
        return True, problems
    logger.error("Wissensbasis fehlerhaft, Version %s bleibt aktiv", kb.version)
    await notify_team(application, services, reload_message(False, problems, kb.version))
    return False, problems


def reload_message(swapped: bool, problems: list[Problem], version: str) -> str:
    errors_ = [str(p) for p in problems if p.severity == "fehler"]
    if swapped:
        return f"✅ Wissensbasis neu geladen (Version {escape(version)})."
    shown = "\n".join(f"• {escape(e)}" for e in errors_[:15])
    more = f"\n… und {len(errors_) - 15} weitere" if len(errors_) > 15 else ""
    return (
        f"⚠️ <b>Wissensbasis fehlerhaft</b> – es antwortet weiter die letzte gültige Version "
        f"({escape(version)}).\n{shown}{more}"
    )


async def notify_team(
    application: Application[Any, Any, Any, Any, Any, Any], services: Services, text: str
) -> None:
    for user_id in sorted(services.settings.team_ids):
        try:
            await application.bot.send_message(user_id, text[:4096])
        except TelegramError as exc:
            logger.warning("Team-Nachricht nicht zustellbar: %s", type(exc).__name__)
