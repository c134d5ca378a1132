"""HTTP transport cost: PTB's default HTTPXRequest against bot.runtime.transport.AiohttpRequest.

    python bench/transport.py                       # 2000 calls each, 4 concurrent, 3 rounds
    python bench/transport.py --calls 5000 --concurrency 16

The fake Bot API server runs in a child process, so the CPU time measured here is the bot's
side only: PTB plus the transport. Rounds alternate between the transports so that warm-up and
machine noise hit both alike; the table shows the median round.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fakebotapi import FakeBotApi  # noqa: E402
from telegram import Bot  # noqa: E402
from telegram.request import BaseRequest, HTTPXRequest, RequestData  # noqa: E402
from telegram.request._requestparameter import RequestParameter  # noqa: E402

from bot.runtime.transport import AiohttpRequest  # noqa: E402

CHAT_ID = 4711
TRANSPORTS: dict[str, Callable[[], BaseRequest]] = {
    "HTTPXRequest": HTTPXRequest,
    "AiohttpRequest": AiohttpRequest,
}


@dataclass(frozen=True)
class Round:
    calls_per_second: float
    cpu_us_per_call: float


def serve(conn: Connection) -> None:
    """Child process: run the fake server until the parent says stop."""

    async def main() -> None:
        async with FakeBotApi() as api:
            api.send_text(CHAT_ID, "Hallo")  # the bot may only write to chats it knows
            conn.send((api.token, api.base_url))
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)

    asyncio.run(main())


async def run_calls(
    call: Callable[[], object], count: int, concurrency: int
) -> tuple[float, float]:
    """Make ``count`` calls from ``concurrency`` tasks; return (wall seconds, CPU seconds)."""
    remaining = iter(range(count))

    async def worker() -> None:
        for _ in remaining:
            await call()  # type: ignore[misc]

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - wall, time.process_time() - cpu


async def measure(
    make_request: Callable[[], BaseRequest],
    token: str,
    base_url: str,
    calls: int,
    concurrency: int,
    raw: bool,
) -> Round:
    """One round: warm up, then time ``calls`` send_message calls (or bare transport posts)."""
    request = make_request()
    async with Bot(token, base_url=base_url, request=request) as bot:
        if raw:
            url = f"{base_url}{token}/sendMessage"

            def call() -> object:
                data = RequestData(
                    [
                        RequestParameter.from_input("chat_id", CHAT_ID),
                        RequestParameter.from_input("text", "Benchmark"),
                    ]
                )
                return request.post(url, data)
        else:

            def call() -> object:
                return bot.send_message(CHAT_ID, "Benchmark")

        await run_calls(call, min(200, calls), concurrency)
        wall, cpu = await run_calls(call, calls, concurrency)
    return Round(calls / wall, cpu / calls * 1e6)


async def bench(token: str, base_url: str, args: argparse.Namespace) -> None:
    for raw in (False, True):
        label = "request.post() only" if raw else "Bot.send_message"
        rounds: dict[str, list[Round]] = {name: [] for name in TRANSPORTS}
        for _ in range(args.rounds):
            for name, make_request in TRANSPORTS.items():
                rounds[name].append(
                    await measure(make_request, token, base_url, args.calls, args.concurrency, raw)
                )
        print(
            f"\n{label}: {args.calls} calls, {args.concurrency} concurrent, median of "
            f"{args.rounds} rounds"
        )
        print(f"{'transport':<16}{'calls/s':>10}{'CPU µs/call':>14}")
        medians = {}
        for name, results in rounds.items():
            rate = statistics.median(r.calls_per_second for r in results)
            cpu = statistics.median(r.cpu_us_per_call for r in results)
            medians[name] = (rate, cpu)
            print(f"{name:<16}{rate:>10.0f}{cpu:>14.0f}")
        (httpx_rate, httpx_cpu), (aio_rate, aio_cpu) = medians.values()
        print(
            f"AiohttpRequest: {aio_rate / httpx_rate:.2f}x the calls/s, "
            f"{(1 - aio_cpu / httpx_cpu) * 100:.0f}% less CPU per call"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=serve, args=(child,), daemon=True)
    server.start()
    try:
        token, base_url = parent.recv()
        print(f"Python {sys.version.split()[0]}, fake Bot API in process {server.pid}")
        asyncio.run(bench(token, base_url, args))
    finally:
        parent.send("stop")
        server.join(timeout=10)


if __name__ == "__main__":
    main()
