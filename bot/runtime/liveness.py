"""What the running process knows about its own health, for the heartbeat and for stopping.

A bot that stays up without serving anyone is worse than one that is visibly dead: systemd
restarts a dead one, and monitoring sees it. ``Liveness`` collects what tells the two apart
(when polling last succeeded, failures in a row, 409 Conflict, a rejected token, when
maintenance last finished a round) and, for the states no restart of PTB's loop can cure, stops
the process with one German line (``stop``). It holds no personal data: times, counts and
error type names only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

logger = logging.getLogger("vereinbar")

TOKEN_REJECTED: Final = "Telegram lehnt das Token ab (TELEGRAM_BOT_TOKEN prüfen)."
CONFLICT: Final = (
    "Telegram meldet 409 Conflict: ein anderer Prozess fragt mit diesem Token Nachrichten ab "
    "(eine zweite Instanz, auf einem anderen Rechner oder mit einer anderen BOT_DATABASE?). "
    "Nur einer darf abfragen; dieser Bot versucht es weiter."
)
_CONFLICT_REPEAT_S: Final = 60.0


@dataclass
class Liveness:
    """The process's own view of whether it serves; wall-clock times for the heartbeat."""

    mode: str = "polling"  # or "webhook": no getUpdates to watch
    started_at: float = field(default_factory=time.time)
    polled_at: float | None = None  # last successful getUpdates
    poll_failures: int = 0  # failed getUpdates in a row
    poll_error: str | None = None  # type of the last failure
    poll_active_at: float = field(default_factory=time.monotonic)  # a getUpdates began or ended
    conflict_at: float | None = None
    conflicts: int = 0
    rejected: bool = False
    fatal: str | None = None  # why the process stops itself, in German
    maintenance_since: float | None = None  # a maintenance round runs since then
    maintained_at: float | None = None  # the last round ended then
    heartbeat_error: str | None = None
    knowledge_errors: tuple[str, ...] = ()  # the last hot reload's errors (old version serves)
    stopper: Callable[[], None] | None = None  # ends run_polling (set by run_bot only)
    _conflict_logged: float = 0.0

    def poll_started(self) -> None:
        self.poll_active_at = time.monotonic()

    def polled(self) -> None:
        self.poll_active_at = time.monotonic()
        self.polled_at = time.time()
        if self.poll_failures >= 3:
            logger.warning("Telegram wieder erreichbar")
        self.poll_failures = 0
        self.poll_error = None

    def poll_failed(self, reason: str) -> None:
        self.poll_active_at = time.monotonic()
        self.poll_failures += 1
        self.poll_error = reason
        if self.poll_failures == 3:
            logger.error("Telegram nicht erreichbar: drei Abfragen nacheinander gescheitert (%s)",
                         reason)  # fmt: skip

    def conflict(self) -> None:
        """409: another process polls with this token (Telegram ended one of the two polls)."""
        self.poll_active_at = time.monotonic()
        self.conflicts += 1
        self.conflict_at = time.time()
        if time.monotonic() - self._conflict_logged >= _CONFLICT_REPEAT_S or self.conflicts == 1:
            self._conflict_logged = time.monotonic()
            logger.error(CONFLICT)

    def token_rejected(self) -> None:
        """401 while running: the token was revoked. No retry can help; stop with one line."""
        self.rejected = True
        self.stop(TOKEN_REJECTED)

    def stop(self, reason: str) -> None:
        """End the process with ``reason`` as its last line (exit code 1); the first reason wins."""
        if self.fatal is not None:
            return
        self.fatal = reason
        if self.stopper is None:  # not under run_bot (tests drive the Application themselves)
            logger.error(reason)
            return
        self.stopper()

    def snapshot(self) -> dict[str, object]:
        """The heartbeat's view (JSON-ready)."""
        return {
            "mode": self.mode,
            "started_at": self.started_at,
            "polled_at": self.polled_at,
            "poll_failures": self.poll_failures,
            "poll_error": self.poll_error,
            "conflict_at": self.conflict_at,
            "token_rejected": self.rejected,
            "maintenance_since": self.maintenance_since,
            "maintained_at": self.maintained_at,
            "fatal": self.fatal,
        }
