"""Long polling that confirms an update only once it is answered, and skips what PTB cannot read.

Telegram keeps an update until a ``getUpdates`` call with a higher offset confirms it.
python-telegram-bot's updater confirms a batch as soon as it has queued it, with its next poll:
seconds before the answers go out when they wait in the 30 msg/s send queue. A ``kill -9`` in
that window lost them, since Telegram had already forgotten the updates. ``PollingRequest``
(PTB's ``get_updates_request``) therefore sends the offset of the oldest update still in hand
(``UpdateFlow``), so Telegram keeps every update whose answer is not out yet and delivers it
again to a restarted bot.

Privacy: nothing is kept for this beyond update ids in memory. The unanswered update waits at
Telegram, which holds every unconfirmed update anyway (for at most 24 hours); the bot only
confirms it a few seconds later. No chat id, name or text goes into a file for it.

Two more duties of the one place that sees Telegram's raw answer:

* An update PTB cannot parse would make the whole batch fail, forever: the offset never moved and
  PTB logged every batch with other users' texts and names at CRITICAL. Such an update is
  replaced by a bare ``Update(update_id=N)`` (handled as "nothing to do", then confirmed) and
  one line with its id is logged.
* Each answer feeds ``Liveness``: when polling last succeeded, consecutive failures, 409
  Conflict (another process polls with this token) and 401 (token revoked).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.runtime.liveness import Liveness
from bot.runtime.transport import AiohttpRequest

if TYPE_CHECKING:
    from bot.runtime.ptbcompat import ODVInput

logger = logging.getLogger("vereinbar")

HOLD_LIMIT_S: Final = 60.0
"""An update in hand for longer (a hung handler) no longer holds back the others' confirmation."""
HELD_POLL_S: Final = 1.0
"""While updates are held back, ask again at least this often, for new messages."""
MIN_GAP_S: Final = 0.05
"""...and never more often than this."""
FULL_STEP: Final = 10
"""When Telegram's answer was 100 updates all in hand, only a moved offset can show new ones:
ask again once it moved this far, or moved at all and a quarter of ``HELD_POLL_S`` passed (each
such answer repeats up to 100 updates, so asking at every finished one would waste bandwidth;
bench/e2e.py chose the values: capacity and the capped rate as before, a third of the updates
repeated when asking at every finished one)."""
_LIMIT: Final = 100  # Telegram's largest getUpdates batch, PTB's default

_EMPTY: Final = b'{"ok":true,"result":[]}'


class UpdateFlow:
    """Which updates are in hand, and the offset that confirms exactly the finished ones.

    ``dispatched`` when an update is handed to PTB, ``finished`` when its handlers are done
    (answer sent); ``on_finished`` then remembers it as handled (the question log's
    ``mark_handled``), which recognises a redelivery after a restart.
    """

    def __init__(
        self,
        *,
        on_finished: Callable[[int], None] | None = None,
        hold_limit: float = HOLD_LIMIT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.on_finished = on_finished
        self._hold_limit = hold_limit
        self._clock = clock
        self._in_hand: dict[int, float] = {}  # update id -> when it was handed to PTB
        self._finished: set[int] = set()  # finished but not confirmed yet (above the offset)
        self._given_up: set[int] = set()
        self._high: int | None = None  # highest id handed to PTB
        self._progress = asyncio.Event()
        self._version = 0

    @property
    def in_hand(self) -> int:
        return len(self._in_hand)

    def dispatched(self, update_ids: Iterable[int]) -> None:
        now = self._clock()
        for update_id in update_ids:
            self._in_hand[update_id] = now
            self._high = update_id if self._high is None else max(self._high, update_id)

    def finished(self, update_id: int) -> None:
        if self.on_finished is not None:
            self.on_finished(update_id)
        if self._in_hand.pop(update_id, None) is not None:
            self._finished.add(update_id)
            self._given_up.discard(update_id)
        self._version += 1
        self._progress.set()

    def known(self, update_id: int) -> bool:
        """In hand or finished but not yet confirmed: PTB must not get it again."""
        return update_id in self._in_hand or update_id in self._finished

    def holding(self) -> bool:
        """Some update is held back, so Telegram answers at once instead of long polling."""
        return bool(self._held())

    def offset(self, wanted: int | None) -> int | None:
        """The offset to send instead of PTB's ``wanted``: past every finished update, never
        past one in hand."""
        floor = None if self._high is None else self._high + 1
        candidates = [o for o in (wanted, floor) if o is not None]
        offset = max(candidates) if candidates else None
        held = self._held()
        if held:
            offset = min(held) if offset is None else min(offset, min(held))
        if offset is not None:
            self._finished = {u for u in self._finished if u >= offset}
        return offset

    @property
    def version(self) -> int:
        """Counts finished updates; ``progress(since=version)`` misses none."""
        return self._version

    async def progress(self, timeout: float, *, since: int) -> None:
        """Until an update finished after ``since`` (its confirmation can go out), at most
        ``timeout`` seconds."""
        if self._version != since:
            return
        self._progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progress.wait(), timeout)

    def _held(self) -> list[int]:
        now = self._clock()
        held = []
        for update_id, since in self._in_hand.items():
            if now - since <= self._hold_limit:
                held.append(update_id)
            elif update_id not in self._given_up:
                self._given_up.add(update_id)
                logger.warning(
                    "Update %d ist seit %.0f s in Arbeit; es wird bestätigt, damit neue "
                    "Nachrichten nicht warten (nach einem Absturz jetzt nicht mehr zugestellt)",
                    update_id,
                    now - since,
                )
        return held


class WatchedRequest(AiohttpRequest):
    """The transport of every other call: a 401 there means the token is gone, too."""

    __slots__ = ("_liveness",)

    def __init__(self, liveness: Liveness, **options: Any) -> None:
        super().__init__(**options)
        self._liveness = liveness

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        status, body = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status == 401 and not url.endswith("/getMe"):  # getMe at start: run_bot says it
            self._liveness.token_rejected()
        return status, body


class PollingRequest(AiohttpRequest):
    """The transport of ``getUpdates``: confirmation after the answer, unreadable updates
    skipped, and every answer reported to ``Liveness``. Everything else passes unchanged."""

    __slots__ = ("_flow", "_liveness")

    def __init__(self, flow: UpdateFlow, liveness: Liveness, **options: Any) -> None:
        super().__init__(**options)
        self._flow = flow
        self._liveness = liveness

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        timeouts = {
            "read_timeout": read_timeout,
            "write_timeout": write_timeout,
            "connect_timeout": connect_timeout,
            "pool_timeout": pool_timeout,
        }
        if not url.endswith("/getUpdates") or request_data is None or request_data.contains_files:
            return await super().do_request(url, method, request_data, **timeouts)
        return await self._get_updates(url, dict(request_data.json_parameters), timeouts)

    async def _get_updates(
        self, url: str, fields: dict[str, str], timeouts: dict[str, Any]
    ) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        wanted = _number(fields.get("offset"))
        limit = _number(fields.get("limit")) or _LIMIT
        deadline = loop.time() + (_number(fields.get("timeout")) or 0)
        asked: tuple[float, int | None, bool] | None = None  # when, offset, answer full
        while True:
            if self._flow.holding() and deadline > loop.time():
                # Telegram answers at once with the updates still in hand (it does not
                # long-poll while it holds some): first wait until asking can show more.
                await self._until_worth_asking(asked, wanted, deadline)
            remaining = deadline - loop.time()
            holding = self._flow.holding()
            offset = self._flow.offset(wanted)
            if offset is not None:
                fields["offset"] = str(offset)
            fields["timeout"] = str(max(math.ceil(remaining), 0))  # whole seconds for Telegram
            asked_at = loop.time()
            status, body = await self._ask(url, fields, timeouts)
            if status != 200:
                return status, body
            updates = _result(body)
            if updates is None:
                return status, body  # not the JSON Telegram sends: PTB says what is wrong
            fresh = [u for u in updates if not self._flow.known(_update_id(u))]
            if fresh or not holding or remaining <= 0:
                screened, changed = screen(fresh)
                self._flow.dispatched(_update_id(u) for u in screened)
                if len(fresh) == len(updates) and not changed:
                    return status, body
                return status, json.dumps({"ok": True, "result": screened}).encode()
            asked = (asked_at, offset, len(updates) >= limit)

    async def _until_worth_asking(
        self, asked: tuple[float, int | None, bool] | None, wanted: int | None, deadline: float
    ) -> None:
        """Wait until an update in hand finished (the first time), or until asking again can
        confirm finished ones or show new messages (``FULL_STEP``, ``HELD_POLL_S``)."""
        loop = asyncio.get_running_loop()
        if asked is None:
            await self._flow.progress(
                min(HELD_POLL_S, deadline - loop.time()), since=self._flow.version
            )
            return
        when, last_offset, full = asked
        while self._flow.holding() and loop.time() < deadline:
            moved = (self._flow.offset(wanted) or 0) - (last_offset or 0)
            waited = loop.time() - when
            if full:
                worth = moved >= FULL_STEP or (moved > 0 and waited >= HELD_POLL_S / 4)
            else:
                worth = moved > 0 or waited >= HELD_POLL_S
            if worth:
                break
            await self._flow.progress(
                min(HELD_POLL_S / 4, deadline - loop.time()), since=self._flow.version
            )
        await asyncio.sleep(max(when + MIN_GAP_S - loop.time(), 0.0))

    async def _ask(
        self, url: str, fields: dict[str, str], timeouts: dict[str, Any]
    ) -> tuple[int, bytes]:
        # The parameters go into the query string (the Bot API reads them from there as well
        # as from the body), so the body stays empty and AiohttpRequest encodes nothing.
        self._liveness.poll_started()
        try:
            status, body = await super().do_request(
                f"{url}?{urlencode(fields)}", "POST", None, **timeouts
            )
        except Exception as exc:
            self._liveness.poll_failed(type(exc).__name__)
            raise
        if status == 200:
            self._liveness.polled()
        elif status == 401:
            # PTB would end its polling task with InvalidToken and surface it as a traceback
            # at shutdown, while the process stays up answering nobody. The bot stops itself
            # instead (Liveness says why) and tells PTB, until then, that nothing came.
            self._liveness.token_rejected()
            await asyncio.sleep(1.0)
            return 200, _EMPTY
        elif status == 409:
            self._liveness.conflict()
        else:
            self._liveness.poll_failed(f"HTTP {status}")
        return status, body


def screen(updates: list[Any]) -> tuple[list[Any], bool]:
    """The updates PTB can read, and whether any had to change: each one it cannot read becomes
    ``{"update_id": N}`` (logged with its id only: its content belongs to a user), entries
    without an id are dropped."""
    screened = []
    changed = False
    for raw in updates:
        update_id = _update_id(raw)
        if update_id < 0:
            logger.error("Update ohne gültige Kennung verworfen")
            changed = True
            continue
        try:
            Update.de_json(raw, None)
        except Exception as exc:  # whatever PTB's parser raises on malformed data
            logger.error(
                "Update %d übersprungen: python-telegram-bot kann es nicht lesen (%s)",
                update_id,
                type(exc).__name__,
            )
            raw = {"update_id": update_id}
            changed = True
        screened.append(raw)
    return screened, changed


def _result(body: bytes) -> list[Any] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    result = data.get("result") if isinstance(data, dict) else None
    return result if isinstance(result, list) else None


def _update_id(raw: Any) -> int:
    value = raw.get("update_id") if isinstance(raw, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _number(value: str | None) -> int | None:
    try:
        return None if value is None else int(float(value))
    except ValueError:
        return None


__all__ = ["PollingRequest", "UpdateFlow", "WatchedRequest", "screen"]
