"""The fake Bot API server of ``bench/e2e.py``, run as a process of its own.

    python bench/fakeserver.py            # prints one JSON line with the ports, then serves

It serves ``tests/fakebotapi.py`` unchanged on 127.0.0.1 and adds a control listener (a second
port on 127.0.0.1, same process and event loop) for the load generator:

* ``POST /_control/inject`` with ``{"messages": [[user_id, text], ...]}`` queues one private text
  message per pair, in order, and answers with the counters of ``GET /_control/stats``.
* ``GET /_control/stats``: updates injected, ``sendMessage`` calls answered, updates still queued
  in the server, arrival time of the first ``getUpdates``, getUpdates batch sizes, API errors.
* ``GET /_control/log``: per chat, the time each message was queued and, in arrival order, the
  time and a digest of the text of each ``sendMessage`` to that chat; the first API errors with
  the time they were answered.
* ``POST /_control/stop``: shut down (as do SIGTERM, SIGINT and the parent closing our stdin).

All times are ``time.monotonic()``, which on Linux is one clock for every process, so the load
generator can compare them with its own. getUpdates keeps the fake's Telegram behaviour: batches
of at most ``limit`` (100) updates, long polling while nothing is queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import json
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakebotapi import FakeBotApi  # noqa: E402

# Arrival time of the API request being handled (each aiohttp request has its own context).
_ARRIVAL: contextvars.ContextVar[float] = contextvars.ContextVar("arrival", default=0.0)
# The fake keeps every call and outgoing message for test assertions; the benchmark reads its
# own records instead, so those inspection lists are cut back to keep the server's memory flat.
_KEEP_INSPECTION = 1000
_MAX_INJECT = 10_000  # messages per inject request


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class BenchBotApi(FakeBotApi):
    """FakeBotApi plus per-message timestamps and a control listener."""

    def __init__(self) -> None:
        super().__init__()
        self.queued: dict[int, list[float]] = {}
        self.answers: dict[int, list[tuple[float, str]]] = {}
        self.injected = 0
        self.answered = 0
        self.first_get_updates: float | None = None
        self.get_updates_calls = 0
        self.updates_delivered = 0
        self.max_batch = 0
        self.errors: Counter[str] = Counter()
        self.error_log: list[tuple[float, str]] = []  # the first ones, with their answer time
        self.stopping = asyncio.Event()
        self._control: web.AppRunner | None = None
        self.control_port = 0

    # -- Bot API side ----------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        arrival = time.monotonic()
        _ARRIVAL.set(arrival)
        method = request.match_info["method"].lower()
        if method == "getupdates" and self.first_get_updates is None:
            self.first_get_updates = arrival
        response = await super()._handle_api(request)
        if response.status != 200:
            key = f"{method} {response.status}"
            self.errors[key] += 1
            if len(self.error_log) < _KEEP_INSPECTION:
                self.error_log.append((time.monotonic(), key))
        if len(self._calls) > _KEEP_INSPECTION:
            del self._calls[: -_KEEP_INSPECTION // 2]
        if len(self._outgoing) > _KEEP_INSPECTION:
            del self._outgoing[: -_KEEP_INSPECTION // 2]
        return response

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        batch = await super()._get_updates(params)
        self.get_updates_calls += 1
        self.updates_delivered += len(batch)
        self.max_batch = max(self.max_batch, len(batch))
        return batch

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        message = await super()._send_message(params)
        chat_id = message["chat"]["id"]
        self.answers.setdefault(chat_id, []).append((_ARRIVAL.get(), digest(message["text"])))
        self.answered += 1
        return message

    # -- control side ----------------------------------------------------------------------

    async def start_control(self) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/_control/inject", self._inject)
        app.router.add_get("/_control/stats", self._stats)
        app.router.add_get("/_control/log", self._log)
        app.router.add_post("/_control/stop", self._stop)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.05)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._control = runner
        self.control_port = runner.addresses[0][1]

    async def stop_control(self) -> None:
        runner, self._control = self._control, None
        if runner is not None:
            await runner.cleanup()

    def stats(self) -> dict[str, Any]:
        return {
            "injected": self.injected,
            "answered": self.answered,
            "pending": len(self._updates),
            "first_get_updates": self.first_get_updates,
            "get_updates_calls": self.get_updates_calls,
            "updates_delivered": self.updates_delivered,
            "max_batch": self.max_batch,
            "errors": dict(self.errors),
            "now": time.monotonic(),
        }

    async def _inject(self, request: web.Request) -> web.Response:
        body = await request.json()
        messages = body.get("messages", [])
        if not isinstance(messages, list) or len(messages) > _MAX_INJECT:
            raise web.HTTPBadRequest(text="messages: list of at most 10000 [user_id, text]")
        for user_id, text in messages:
            user_id = int(user_id)
            self.queued.setdefault(user_id, []).append(time.monotonic())
            self.send_text(user_id, str(text))
            self.injected += 1
        return web.json_response(self.stats())

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _log(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "queued": {str(chat): times for chat, times in self.queued.items()},
                "answers": {str(chat): answers for chat, answers in self.answers.items()},
                "errors": self.error_log,
            }
        )

    async def _stop(self, request: web.Request) -> web.Response:
        self.stopping.set()
        return web.json_response({"ok": True})


def _watch_parent(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stop when stdin reaches EOF: the parent closed it or died."""
    with contextlib.suppress(OSError, ValueError):
        while sys.stdin.buffer.read(4096):
            pass
    with contextlib.suppress(RuntimeError):  # the loop may be closed already
        loop.call_soon_threadsafe(stop.set)


async def main() -> None:
    api = BenchBotApi()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, api.stopping.set)
    await api.start()
    try:
        await api.start_control()
        print(
            json.dumps(
                {
                    "api_port": api.port,
                    "control_port": api.control_port,
                    "token": api.token,
                    "base_url": api.base_url,
                }
            ),
            flush=True,
        )
        threading.Thread(target=_watch_parent, args=(loop, api.stopping), daemon=True).start()
        await api.stopping.wait()
    finally:
        await api.stop_control()
        await api.stop()


if __name__ == "__main__":
    asyncio.run(main())
