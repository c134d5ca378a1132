"""Everything a handler needs, built once at start-up and passed along (no module state)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.chat.conversation import Conversation
from bot.chat.language import GERMAN
from bot.chat.texts import Texts
from bot.config import Settings
from bot.log.writer import QuestionLog
from bot.search.library import Library


class UserRateLimit:
    """Sliding one-minute window per user, kept in memory only (never written anywhere)."""

    def __init__(self, per_minute: int, max_users: int = 50_000) -> None:
        self.per_minute = per_minute
        self._hits: OrderedDict[int, deque[float]] = OrderedDict()
        self._warned: set[int] = set()
        self._max_users = max_users

    def check(self, user_id: int, now: float | None = None) -> str:
        """'ok', 'warn' (first message over the limit) or 'drop' (further ones)."""
        now = time.monotonic() if now is None else now
        hits = self._hits.pop(user_id, None) or deque()
        while hits and now - hits[0] > 60:
            hits.popleft()
        hits.append(now)
        self._hits[user_id] = hits
        if len(self._hits) > self._max_users:
            self._hits.popitem(last=False)
        if len(hits) <= self.per_minute:
            self._warned.discard(user_id)
            return "ok"
        if user_id in self._warned:
            return "drop"
        self._warned.add(user_id)
        return "warn"


class SeenUpdates:
    """Remembers recent update ids so a redelivered update is not answered twice."""

    def __init__(self, size: int = 10_000, handled: Iterable[int] = ()) -> None:
        self._ids: OrderedDict[int, None] = OrderedDict()
        self._size = size
        for update_id in handled:  # ids handled before a restart, read from the question log
            self.first_time(update_id)

    def first_time(self, update_id: int) -> bool:
        if update_id in self._ids:
            return False
        self._ids[update_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True


@dataclass
class Services:
    settings: Settings
    library: Library
    conversation: Conversation
    log: QuestionLog | None
    rate: UserRateLimit
    seen: SeenUpdates = field(default_factory=SeenUpdates)
    updates_handled: int = 0
    last_update_at: float | None = None  # wall clock, for the monitoring heartbeat
    kb_broken: bool = False  # the team was told of a broken edit; the next good one clears it
    # What the project team reads: German, like the reports (texts.de.yaml, section "team").
    team_texts: Texts = field(default_factory=lambda: Texts.load(GERMAN))
