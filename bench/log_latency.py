"""Benchmark: how long QuestionLog.record() blocks its caller while the retention purge runs.

    python bench/log_latency.py [--rows 100000] [--baseline REV]

Fills a database with ``--rows`` question rows past the retention period, then runs the purge
the way the maintenance loop does (``asyncio.to_thread(log.purge)``) while a "chat" coroutine on
the same event loop calls ``record()`` every millisecond. Printed per implementation: the
longest single ``record()`` call, the longest stall of the event loop (a 1 ms ticker that is
late) and how long the purge took. The baseline is the writer of git revision ``--baseline``
(default: the last one that wrote on the caller's thread), loaded from ``git show``; pass
``--baseline ''`` to measure only the working tree.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
import types
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.log import writer as current_writer  # noqa: E402

OLD_DAY = date(2025, 1, 6)
TODAY = date(2025, 7, 1)  # more than 90 days after the last: every filled row is past retention
BASELINE = "1a85137"  # bot/log/writer.py before the writer thread


@dataclass
class Figures:
    record_max_ms: float
    record_calls: int
    loop_stall_ms: float
    seconds: float  # how long the purge took (or the quiet phase lasted)
    old_rows_left: int


def fill(path: Path, rows: int, module: types.ModuleType) -> None:
    """Create the schema through the log itself, then insert old rows directly (fast)."""
    module.QuestionLog(path, b"b" * 32, today=lambda: OLD_DAY).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO questions (id, day, question, outcome, entry_id, topic, score, kb_version, "
        "channel, feedback, chosen_entry, gap, pseudonym) "
        "VALUES (?, ?, ?, 'answered', ?, ?, 0.8, 'v1', 'telegram', NULL, NULL, 0, ?)",
        (
            (
                secrets.token_urlsafe(8),
                date.fromordinal(OLD_DAY.toordinal() + i % 60).isoformat(),
                f"Wie beantrage ich Elternzeit und Teilzeit, Frage Nummer {i}?",
                f"e{i % 40}",
                f"t{i % 8}",
                secrets.token_hex(32),
            )
            for i in range(rows)
        ),
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


async def measure(path: Path, module: types.ModuleType, *, quiet: float | None = None) -> Figures:
    """Purge while chatting; with ``quiet`` seconds instead, chat without a purge (the noise
    floor of this machine: a shared or loaded machine stalls any event loop now and then)."""
    day = [OLD_DAY]
    log: Any = module.QuestionLog(path, b"b" * 32, today=lambda: day[0])
    log.flush()  # the start-up purge of the new writer runs in the background; let it finish
    longest_call = 0.0
    calls = 0
    stall = 0.0
    done = asyncio.Event()

    async def chat() -> None:
        nonlocal longest_call, calls
        while not done.is_set():
            started = time.perf_counter()
            log.record(
                question="Gibt es Gleitzeit?", outcome="answered", entry_id="gleitzeit",
                topic="arbeitszeit", score=0.9, kb_version="v1", channel="telegram", user_id=7,
            )  # fmt: skip
            longest_call = max(longest_call, time.perf_counter() - started)
            calls += 1
            await asyncio.sleep(0.001)

    async def ticker() -> None:
        nonlocal stall
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            stall = max(stall, time.perf_counter() - started - 0.001)

    tasks = [asyncio.create_task(ticker()), asyncio.create_task(chat())]
    await asyncio.sleep(0.05)  # both running before the day changes
    started = time.perf_counter()
    if quiet is None:
        day[0] = TODAY  # midnight: the next write or the maintenance loop applies the retention
        await asyncio.to_thread(log.purge)  # as bot/runtime/maintenance.py calls it
    else:
        await asyncio.sleep(quiet)
    seconds = time.perf_counter() - started
    done.set()
    await asyncio.gather(*tasks)
    await asyncio.to_thread(log.close)
    conn = sqlite3.connect(path)
    left = conn.execute("SELECT COUNT(*) FROM questions WHERE day < '2025-04-01'").fetchone()[0]
    conn.close()
    return Figures(longest_call * 1000, calls, stall * 1000, seconds, left)


def baseline_module(revision: str) -> types.ModuleType | None:
    try:
        source = subprocess.run(
            ["git", "show", f"{revision}:bot/log/writer.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"  (Vergleichsstand {revision} nicht lesbar: {exc})")
        return None
    spec = importlib.util.spec_from_loader(f"baseline_writer_{revision}", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, f"{revision}:bot/log/writer.py", "exec"), module.__dict__)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare against")
    args = parser.parse_args()
    candidates: list[tuple[str, types.ModuleType]] = []
    if args.baseline:
        module = baseline_module(args.baseline)
        if module is not None:
            candidates.append((f"vorher ({args.baseline})", module))
    candidates.append(("jetzt (Arbeitsstand)", current_writer))
    rows = f"{args.rows:,}".replace(",", ".")
    print(f"Aufbewahrungsfrist über {rows} alte Zeilen; record() alle 1 ms, Takt 1 ms")
    runs = [(label, module, None) for label, module in candidates]
    runs.append(("ohne Löschlauf (Rauschen)", current_writer, 2.0))
    for label, module, quiet in runs:
        with tempfile.TemporaryDirectory() as temp:
            path = Path(temp) / "fragen.db"
            fill(path, args.rows, module)
            figures = asyncio.run(measure(path, module, quiet=quiet))
        phase = "Dauer" if quiet else "Löschlauf"
        print(
            f"  {label:<26} record() max {figures.record_max_ms:8.2f} ms "
            f"({figures.record_calls:>4} Aufrufe)   Ereignisschleife max. "
            f"{figures.loop_stall_ms:8.2f} ms blockiert   {phase} {figures.seconds:5.2f} s"
            + ("" if quiet or figures.old_rows_left == 0 else f"   ({figures.old_rows_left} alt!)")
        )


if __name__ == "__main__":
    main()
